"""A customer's state as the engine keeps it between events: plain records, so it
can be saved as JSON (persist.py) and loaded into either engine."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .ledger import Ledger

_STATE_ZERO = Decimal(0)


@dataclass(slots=True)
class CardState:
    entries: list[list[Any]] = field(default_factory=list)  # [at, stamps, source]
    remainder: Decimal = _STATE_ZERO  # money toward the next stamp, with "remainder carries over"
    rewards: int = 0  # full cards whose free item is not yet taken

    @property
    def stamps(self) -> int:
        return sum(entry[1] for entry in self.entries)


@dataclass(slots=True)
class Holding:
    """A coupon a customer holds."""

    name: str
    issued_at: _dt.datetime
    expires_at: _dt.datetime | None
    uses_left: int | None
    source: str


@dataclass(slots=True)
class PurchaseRecord:
    """What a refund needs: per line the units left and their net price, the money
    it counted toward metrics, and the stamps and coupons it gave."""

    at: _dt.datetime
    lines: list[list[Any]]  # [product, units left, net per unit]
    total: Decimal
    refunded: Decimal = _STATE_ZERO  # value of the goods returned so far
    redeemed: Decimal = _STATE_ZERO  # the part of the total paid with points
    refunded_money: Decimal = _STATE_ZERO
    applied: list[str] = field(default_factory=list)  # offers whose uses it counted
    categories: list[str] = field(default_factory=list)  # per line, for scale counts
    stamped: dict[str, list[int]] = field(default_factory=dict)  # card -> stamped units per line
    stamp_money: dict[str, Decimal] = field(default_factory=dict)  # card -> money counted toward stamps
    stamps: dict[str, int] = field(default_factory=dict)
    coupons: list[str] = field(default_factory=list)
    scale_values: dict[str, Decimal] = field(default_factory=dict)
    points_metric: Decimal = _STATE_ZERO


@dataclass(slots=True)
class CustomerState:
    id: str
    signed_up: _dt.datetime | None = None
    birth_date: _dt.date | None = None
    birthday_year: int = 0
    orders: int = 0
    spend: Decimal = _STATE_ZERO
    last_visit: _dt.datetime | None = None
    last_event_at: _dt.datetime | None = None
    seen: dict[str, _dt.datetime] = field(default_factory=dict)
    wallets: dict[str, Ledger] = field(default_factory=dict)
    tier: int = -1
    tier_manual: bool = False
    reviewed_at: _dt.datetime | None = None
    demoted_steps: int = 0
    tier_entries: list[list[Any]] = field(default_factory=list)  # [at, value]
    months: dict[str, Decimal] = field(default_factory=dict)
    credited_through: str = ""
    scale_entries: dict[str, list[list[Any]]] = field(default_factory=dict)
    cards: dict[str, CardState] = field(default_factory=dict)
    coupons: list[Holding] = field(default_factory=list)
    uses: dict[str, int] = field(default_factory=dict)
    purchases: dict[str, PurchaseRecord] = field(default_factory=dict)


@dataclass(slots=True)
class State:
    """All customers, plus what is counted across customers (code uses in total)."""

    customers: dict[str, CustomerState] = field(default_factory=dict)
    code_uses: dict[str, int] = field(default_factory=dict)
