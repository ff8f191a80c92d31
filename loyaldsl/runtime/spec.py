"""A program as plain data the engine runs: no AST, no lark.

The interpreter builds a ProgramSpec from a checked AST (conditions and amounts become
Python closures); the code generator writes the same ProgramSpec out as Python source
(conditions become generated functions). The engine cannot tell them apart, which is
what keeps the two engines equal on everything but expression evaluation.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .bands import Band

# A condition or an amount evaluated on one purchase (or customer event).
Cond = Callable[[Any], bool]
Value = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class ItemFilterSpec:
    kind: str  # "all" | "category" | "product"
    names: frozenset[str] = frozenset()

    def matches(self, product: str, category: str) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "category":
            return category in self.names
        return product in self.names


ALL_ITEMS = ItemFilterSpec("all")


@dataclass(frozen=True, slots=True)
class DurationSpec:
    amount: int
    unit: str  # days | weeks | months | years


@dataclass(frozen=True, slots=True)
class EarnSpec:
    kind: str  # per-money percent per-item per-visit signup birthday first-purchase action monthly
    points: Decimal = Decimal(0)
    per: Decimal | None = None
    rate: Decimal | None = None  # a fraction
    base: Value | None = None
    items: ItemFilterSpec = ALL_ITEMS
    action: str | None = None
    when: Cond | None = None
    bands: tuple[Band, ...] = ()
    label: str = ""  # the clause as written, shown as the reason for the points


@dataclass(frozen=True, slots=True)
class MultiplierSpec:
    factor: Decimal
    items: ItemFilterSpec | None = None
    weekdays: frozenset[int] = frozenset()  # 0 = Monday
    start: _dt.time | None = None
    end: _dt.time | None = None
    when: Cond | None = None


@dataclass(frozen=True, slots=True)
class ExpirySpec:
    kind: str  # after-earned | inactivity | never
    duration: DurationSpec | None = None
    end_of_month: bool = False


@dataclass(frozen=True, slots=True)
class WalletSpec:
    name: str
    worth: Decimal | None = None
    decimals: int = 0
    earns: tuple[EarnSpec, ...] = ()
    multipliers: tuple[MultiplierSpec, ...] = ()
    pending: DurationSpec | None = None
    expiry: ExpirySpec | None = None
    redeem_cap: Decimal | None = None  # a fraction of redeem_base
    redeem_base: Value | None = None
    allow_negative: bool = False
    combine: str = "compound"  # compound | best

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)

    @property
    def redeemable(self) -> bool:
        return self.worth is not None and self.redeem_cap is not None


@dataclass(frozen=True, slots=True)
class WindowSpec:
    kind: str  # rolling-days | rolling-months | calendar-year | calendar-month | lifetime
    amount: int = 0


@dataclass(frozen=True, slots=True)
class TierSpec:
    name: str
    threshold: Decimal | None  # None: granted by hand only
    inclusive: bool = True
    multiplier: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class TiersSpec:
    metric: str  # spend | visits | points
    wallet: str | None
    window: WindowSpec
    tiers: tuple[TierSpec, ...]
    upgrade: str = "immediately"  # immediately | next purchase
    review: str | None = None  # yearly | quarterly | monthly
    downgrade: str | None = None  # one step | to qualified
    demote_monthly: bool = False
    returns_lower_at_once: bool = False


@dataclass(frozen=True, slots=True)
class EffectSpec:
    kind: str  # discount | multibuy | give-points | give-coupon
    percent: Decimal | None = None  # a fraction
    amount: Value | None = None  # money, for fixed discounts
    target: str = "order"  # order | items | each | cheapest
    items: ItemFilterSpec = ALL_ITEMS
    cap: Value | None = None
    buy: int = 0
    get: int = 0
    repeating: bool = True
    wallet: str | None = None
    points: Decimal = Decimal(0)
    coupon: str | None = None


@dataclass(frozen=True, slots=True)
class OfferSpec:
    kind: str  # rule | code | coupon
    name: str
    when: Cond | None = None
    when_text: str = ""
    once_per_customer: bool = False
    effects: tuple[EffectSpec, ...] = ()
    valid_from: _dt.date | None = None
    valid_to: _dt.date | None = None
    valid_for: DurationSpec | None = None
    limit_per_customer: int | None = None
    limit_total: int | None = None
    exclusions: tuple[tuple[str, bool], ...] = ()  # (other, cancel order)
    uses: int | None = None  # coupons: None = unlimited

    @property
    def discounts(self) -> bool:
        return any(e.kind in ("discount", "multibuy") for e in self.effects)

    @property
    def counts_uses(self) -> bool:
        """Whether its uses are counted per customer (CustomerState.uses): only a limit
        reads the count, and counting every offer cost a dict write on every purchase."""
        return self.once_per_customer or (self.kind == "code" and self.limit_per_customer is not None)


@dataclass(frozen=True, slots=True)
class ScaleSpec:
    name: str
    base_kind: str  # expr | quantity | amount
    base: Value | None = None
    items: ItemFilterSpec = ALL_ITEMS
    window: WindowSpec | None = None
    marginal: bool = False
    bands: tuple[Band, ...] = ()
    when: Cond | None = None
    when_text: str = ""


@dataclass(frozen=True, slots=True)
class StampCardSpec:
    name: str
    size: int
    stamp_kind: str  # item | purchase | money
    count: int = 1
    items: ItemFilterSpec = ALL_ITEMS
    per: Decimal | None = None
    base: Value | None = None
    carry_remainder: bool = False
    when: Cond | None = None
    reward_kind: str = "free-item"  # free-item | coupon | points
    reward_items: ItemFilterSpec = ALL_ITEMS
    reward_coupon: str | None = None
    reward_wallet: str | None = None
    reward_points: Decimal = Decimal(0)
    overflow: str = "reset"  # reset | carry over
    expiry: DurationSpec | None = None


@dataclass(frozen=True, slots=True)
class ProgramSpec:
    name: str
    version: str | None
    source_hash: str
    currency: str
    rounding: str
    timezone: str
    wallets: tuple[WalletSpec, ...] = ()
    tiers: TiersSpec | None = None
    # Everything that can change a price or give something, in program order.
    sources: tuple[Any, ...] = ()  # OfferSpec | ScaleSpec | StampCardSpec
    stacking: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (best|first, members)
    periods: dict[str, tuple[_dt.date, _dt.date]] = field(default_factory=dict)
    refund_window: DurationSpec | None = None

    def wallet(self, name: str) -> WalletSpec:
        for wallet in self.wallets:
            if wallet.name == name:
                return wallet
        raise KeyError(name)
