"""A customer's state as the engine keeps it between events: plain records, so it
can be saved as JSON (persist.py) and loaded into either engine."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .ledger import Ledger
from .pricing import spread_over, take_off

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
class LineDraft:
    """A purchase record's lines before they are worked out. Most records are dropped
    when the refund window closes without a return ever reading them, so the net
    price per unit (a division per line) and the spread over the lines of an order
    discount taken last wait until a return or a save asks for them."""

    sold: Sequence[Any]  # the purchase's lines (each with .product, .category and .quantity)
    nets: list[Decimal]  # each line's net, before `cut`
    cut: Decimal = _STATE_ZERO  # an order discount already off the total, spread over `cut_lines` on demand
    cut_lines: list[int] = field(default_factory=list)
    quantum: Decimal = _STATE_ZERO  # the currency's minor unit, for the spread

    def categories(self) -> list[str]:
        return [line.category for line in self.sold]

    def lines(self) -> list[list[Any]]:
        nets = self.nets
        if self.cut:
            nets = list(nets)
            take_off(nets, spread_over(self.cut, nets, self.cut_lines, self.quantum))
        return [[line.product, line.quantity, net / line.quantity] for line, net in zip(self.sold, nets, strict=True)]


_RECORD_CONTAINERS = {"stamped": dict, "stamp_money": dict, "stamps": dict, "coupons": list, "scale_values": dict}


@dataclass(slots=True)
class PurchaseRecord:
    """What a refund needs: per line the units left and their net price, the money
    it counted toward metrics, and the stamps and coupons it gave. A record is kept
    for every purchase in the refund window and most never see a return, so the
    dicts and lists only some programs fill are made on first use."""

    at: _dt.datetime
    line_data: list[list[Any]] | LineDraft  # read through `lines`
    total: Decimal
    refunded: Decimal = _STATE_ZERO  # value of the goods returned so far
    redeemed: Decimal = _STATE_ZERO  # the part of the total paid with points
    refunded_money: Decimal = _STATE_ZERO
    applied: list[str] = field(default_factory=list)  # offers whose uses it counted
    category_data: list[str] | None = None  # per line, for scale counts; read through `categories`
    points_metric: Decimal = _STATE_ZERO
    stamped: dict[str, list[int]] = field(init=False)  # card -> stamped units per line
    stamp_money: dict[str, Decimal] = field(init=False)  # card -> money counted toward stamps
    stamps: dict[str, int] = field(init=False)
    coupons: list[str] = field(init=False)
    scale_values: dict[str, Decimal] = field(init=False)

    def __getattr__(self, name: str) -> Any:
        """A container not yet used: make it now (only called when the slot is empty)."""
        make = _RECORD_CONTAINERS.get(name)
        if make is None:
            raise AttributeError(f"'PurchaseRecord' object has no attribute {name!r}")
        value = make()
        object.__setattr__(self, name, value)
        return value

    @property
    def lines(self) -> list[list[Any]]:
        """Per line [product, units left, net per unit], worked out on first use."""
        data = self.line_data
        if isinstance(data, LineDraft):
            if self.category_data is None:  # the sold lines go with the draft
                self.category_data = data.categories()
            data = self.line_data = data.lines()
        return data

    @property
    def categories(self) -> list[str]:
        """Per line, its category: taken from the sold lines on first use (a record
        made from a purchase), else as saved."""
        data = self.category_data
        if data is None:
            draft = self.line_data
            data = self.category_data = draft.categories() if isinstance(draft, LineDraft) else []
        return data


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
    tier_entries: list[list[Any]] = field(default_factory=list)  # [at, value], in time order (engine.add_dated)
    months: dict[str, Decimal] = field(default_factory=dict)
    credited_through: str = ""
    scale_entries: dict[str, list[list[Any]]] = field(default_factory=dict)  # each in time order, as tier_entries
    cards: dict[str, CardState] = field(default_factory=dict)
    coupons: list[Holding] = field(default_factory=list)
    uses: dict[str, int] = field(default_factory=dict)
    purchases: dict[str, PurchaseRecord] = field(default_factory=dict)
    # Not state: until this instant no refund record or event id is old enough to drop
    # (Engine.forget). Worked out again after a load; never saved or compared.
    forget_due: _dt.datetime | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class State:
    """All customers, plus what is counted across customers (code uses in total)."""

    customers: dict[str, CustomerState] = field(default_factory=dict)
    code_uses: dict[str, int] = field(default_factory=dict)
