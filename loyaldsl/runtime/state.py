"""A customer's state as the engine keeps it between events: plain records, so it
can be saved as JSON (persist.py) and loaded into either engine."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from .lazy import made_on_first_use, set_slots
from .ledger import Ledger
from .pricing import spread_over, take_off

_STATE_ZERO = Decimal(0)

# Entries a customer keeps for months (tier and scale windows, stamps) are tuples of
# plain values, never lists: Python's garbage collector stops tracking such a tuple
# after its first collection, where it would walk every list again at each full one.
# An entry that changes is replaced.
Dated = tuple[_dt.datetime, Decimal]  # (at, value), in a tier or scale window
# A window's entries as last summed: (that very list, its length then, their sum). Not
# state: worked out again when the list is another or its length moved.
WindowSum = tuple[list[Dated], int, Decimal]
StampEntry = tuple[_dt.datetime, int, str]  # (at, stamps, the event or "restored")


@dataclass(slots=True)
class CardState:
    entries: list[StampEntry] = field(default_factory=list)
    remainder: Decimal = _STATE_ZERO  # money toward the next stamp, with "remainder carries over"
    rewards: int = 0  # full cards whose free item is not yet taken
    # Not state: no stamp on the card lapses before this instant (Engine.lapse_stamps),
    # so most purchases skip working out when the oldest lapses. Never saved or compared.
    lapse_floor: _dt.datetime | None = field(default=None, compare=False, repr=False)
    # Not state: the stamps on `counted_entries` when it held `counted_length` entries,
    # so a purchase adds its stamps to the count instead of reading every entry (each a
    # tuple made on another visit, cold in memory by now). Only ever appended to, but
    # by remove_stamps, which forgets the count; a new list is counted anew.
    counted_entries: list[StampEntry] | None = field(default=None, compare=False, repr=False)
    counted_length: int = field(default=0, compare=False, repr=False)
    counted_stamps: int = field(default=0, compare=False, repr=False)

    @property
    def stamps(self) -> int:
        entries = self.entries
        if self.counted_entries is entries and self.counted_length == len(entries):
            return self.counted_stamps
        stamps: int = sum(map(_STATE_STAMPS_OF, entries))
        self.counted_entries, self.counted_length, self.counted_stamps = entries, len(entries), stamps
        return stamps

    def add_stamps(self, at: _dt.datetime, given: int, source: str) -> int:
        """A new entry of `given` stamps; the stamps on the card after it."""
        before = self.stamps  # counts the entries now if the kept count is not theirs
        self.entries.append((at, given, source))
        self.counted_length += 1
        self.counted_stamps = before + given
        return self.counted_stamps


_STATE_STAMPS_OF = itemgetter(1)  # an entry's stamps


@dataclass(slots=True)
class Holding:
    """A coupon a customer holds."""

    name: str
    issued_at: _dt.datetime
    expires_at: _dt.datetime | None
    uses_left: int | None
    source: str


@dataclass(frozen=True, slots=True)
class LinePricing:
    """How a sold line's net is worked out when its record did not keep the nets: the
    program's rounding of price x quantity, and its minor unit for an order discount's
    spread. One per program (Engine.pricing), shared by its records."""

    round: Callable[[Decimal], Decimal]
    quantum: Decimal


# What a record's empty slots hold until first set: most records are dropped unread.
_RECORD_DEFAULTS: dict[str, Callable[[], Any]] = {
    "lines": list,
    "categories": list,
    "refunded": lambda: _STATE_ZERO,
    "refunded_money": lambda: _STATE_ZERO,
    "points_metric": lambda: _STATE_ZERO,
    "stamped": dict,
    "stamp_money": dict,
    "stamps": dict,
    "coupons": list,
    "scale_values": dict,
}


@dataclass(slots=True)
class PurchaseRecord:
    """What a refund needs: per line the units left and their net price, the money
    it counted toward metrics, and the stamps and coupons it gave.

    A record is kept for every purchase in the refund window, and most are dropped
    unread when it closes, long after they were made: then freeing the record is most
    of what it costs, one object at a time. So a record made at the till holds the
    purchase's own lines and works out its per-line data (the net per unit, an order
    discount's spread) only when a return or a save reads `lines` or `categories`, and
    what only some programs or returns fill is made on first use."""

    at: _dt.datetime
    total: Decimal
    # Worked out from `sold` when first read; declared before it so that a comparison,
    # which reads the fields in this order, sees them worked out on both sides.
    lines: list[list[Any]] = field(init=False)  # per line [product, units left, net per unit]
    categories: list[str] = field(init=False)  # per line, for scale counts
    sold: Sequence[Any] | None = None  # the purchase's lines, until `lines` works them out
    nets: list[Decimal] | None = None  # each sold line's net before `cut`; None: its rounded price x quantity
    cut: Decimal = _STATE_ZERO  # an order discount already off the total, spread over `cut_lines` when worked out
    cut_lines: Sequence[int] | None = None  # None: every line
    pricing: LinePricing | None = field(default=None, compare=False, repr=False)  # for nets not kept and the spread
    redeemed: Decimal = _STATE_ZERO  # the part of the total paid with points
    applied: tuple[str, ...] = ()  # offers it applied, whose counted uses a whole return gives back (a tuple: see Dated)
    refunded: Decimal = field(init=False)  # value of the goods returned so far
    refunded_money: Decimal = field(init=False)
    points_metric: Decimal = field(init=False)
    stamped: dict[str, list[int]] = field(init=False)  # card -> stamped units per line
    stamp_money: dict[str, Decimal] = field(init=False)  # card -> money counted toward stamps
    stamps: dict[str, int] = field(init=False)
    coupons: list[str] = field(init=False)
    scale_values: dict[str, Decimal] = field(init=False)
    # Every unit was returned before `lines` was worked out: they are worked out with none
    # left (return_everything). Says nothing `lines` does not say once worked out.
    returned_all: bool = field(default=False, init=False, compare=False, repr=False)

    def __getattr__(self, name: str) -> Any:
        """A slot not yet set: its default, kept (only called when the slot is empty)."""
        if name in ("lines", "categories") and self.sold is not None:  # name first: copy asks for names before any slot is set
            self.work_out()
            return object.__getattribute__(self, name)
        return made_on_first_use(self, name, _RECORD_DEFAULTS)

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        return set_slots(self)  # a copy leaves the original's lines unworked and its containers unmade

    def work_out(self) -> None:
        """The sold lines to `lines` and `categories`, once: the nets (worked out
        again if not kept) less the order discount's spread, per unit."""
        sold = self.sold
        assert sold is not None
        nets = self.nets
        if nets is None:
            assert self.pricing is not None
            rounder = self.pricing.round
            nets = [rounder(line.unit_price * line.quantity) for line in sold]
        if self.cut:
            assert self.pricing is not None
            indexes = self.cut_lines if self.cut_lines is not None else range(len(nets))
            take_off(nets, spread_over(self.cut, nets, indexes, self.pricing.quantum))
        kept = not self.returned_all  # every unit is left, or none (return_everything)
        self.lines = [[line.product, line.quantity if kept else 0, net / line.quantity] for line, net in zip(sold, nets, strict=True)]
        self.categories = [line.category for line in sold]
        self.sold = self.nets = None

    def return_everything(self) -> list[int]:
        """Take back every unit still kept; the units taken, per line. A whole return
        of a record never read leaves its lines to be worked out when read (if ever):
        the value it refunds is the record's total, not a sum over the lines."""
        if self.sold is not None:
            if self.returned_all:
                return [0] * len(self.sold)
            self.returned_all = True
            return [line.quantity for line in self.sold]
        lines = self.lines
        returned = [line[1] for line in lines]
        for line in lines:
            line[1] = 0
        return returned


# A purchase record as the till keeps it: PurchaseRecord's arguments, in its order, in a
# plain tuple, then the stamps it gave per card as (card, stamps, stamped units per
# line or None, money counted or None). The compiled purchase path keeps this when
# only a return or a save will read the record (it gives no gifts or coupons): most
# records are dropped unread when the refund window closes, and a tuple costs less to
# make, to keep and to free than the record's twenty-one slots and its dicts
# (measured: 10% of a thresholds purchase, 9% of a lensmaster one). `purchase_record`
# makes the record on first read. A state holding a till tuple and one holding the
# record it stands for save the same JSON; compare states by their JSON.
TillStamps = tuple[tuple[str, int, "tuple[int, ...] | None", "Decimal | None"], ...]
TillRecord = tuple[_dt.datetime, Decimal, Sequence[Any], "list[Decimal] | None", Decimal, "Sequence[int] | None", "LinePricing | None", Decimal, tuple[str, ...], TillStamps]


def as_record(kept: PurchaseRecord | TillRecord) -> PurchaseRecord:
    """A kept purchase as its record (made anew from a till tuple)."""
    if not isinstance(kept, tuple):
        return kept
    at, total, sold, nets, cut, cut_lines, pricing, redeemed, applied, stamps = kept
    record = PurchaseRecord(at, total, sold, nets, cut, cut_lines, pricing, redeemed, applied)
    # A kept tuple is made a record to be read, by a return or a save, which read these:
    # set now, not made on first use one call each.
    record.refunded = record.refunded_money = _STATE_ZERO
    record.stamps, record.scale_values, record.coupons = {}, {}, []
    for card, given, units, money in stamps:
        record.stamps[card] = given
        if units is not None:
            record.stamped[card] = list(units)  # a return takes units back from it
        if money is not None:
            record.stamp_money[card] = money
    return record


def purchase_record(purchases: dict[str, PurchaseRecord | TillRecord], purchase_id: str) -> PurchaseRecord | None:
    """The record of `purchase_id` (None: none is kept), made from the till's tuple,
    and kept in its place, on first read."""
    kept = purchases.get(purchase_id)
    if not isinstance(kept, tuple):
        return kept
    record = purchases[purchase_id] = as_record(kept)
    return record


def purchase_time(kept: PurchaseRecord | TillRecord) -> _dt.datetime:
    """When a kept purchase was made, in either form."""
    return kept[0] if isinstance(kept, tuple) else kept.at


class _SharedEmptyDict(dict[Any, Any]):
    """The one empty dict every customer holds, until it writes its own, for each
    container only some programs fill (points, tiers, cards, coupons...): a customer
    of a program without them does not carry seven empty containers, each allocated
    with it and walked by every full garbage collection for as long as it is kept.
    Reads see an empty dict; a write is refused (CustomerState.made gives the
    customer its own first), so a forgotten write fails instead of reaching every
    customer. A copy is this very object."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("the shared empty container of customers: write to CustomerState.made(name)")

    __setitem__ = __delitem__ = __ior__ = setdefault = pop = popitem = clear = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_shared_empty_dict, ())


class _SharedEmptyList(list[Any]):
    """The same for a list (see _SharedEmptyDict)."""

    _refuse = _SharedEmptyDict._refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = extend = insert = remove = pop = clear = sort = reverse = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_shared_empty_list, ())


_SHARED_EMPTY_DICT = _SharedEmptyDict()
_SHARED_EMPTY_LIST = _SharedEmptyList()


def _shared_empty_dict() -> dict[Any, Any]:
    return _SHARED_EMPTY_DICT


def _shared_empty_list() -> list[Any]:
    return _SHARED_EMPTY_LIST


@dataclass(slots=True)
class CustomerState:
    """Every container but `purchases` (which every purchase writes) starts as the
    shared empty one (_SharedEmptyDict): read it as it is, and write through
    `made(name)`. `seen` too: a purchase's record stands for its id, so only other
    events (returns, signups...) and cancelled orders write an id there."""

    id: str
    signed_up: _dt.datetime | None = None
    birth_date: _dt.date | None = None
    birthday_year: int = 0
    orders: int = 0
    spend: Decimal = _STATE_ZERO
    last_visit: _dt.datetime | None = None
    last_event_at: _dt.datetime | None = None
    seen: dict[str, _dt.datetime] = field(default_factory=_shared_empty_dict)
    wallets: dict[str, Ledger] = field(default_factory=_shared_empty_dict)
    tier: int = -1
    tier_manual: bool = False
    reviewed_at: _dt.datetime | None = None
    demoted_steps: int = 0
    tier_entries: list[Dated] = field(default_factory=_shared_empty_list)  # in time order (engine.add_tier_entry)
    months: dict[str, Decimal] = field(default_factory=_shared_empty_dict)
    credited_through: str = ""
    scale_entries: dict[str, list[Dated]] = field(default_factory=_shared_empty_dict)  # each in time order, as tier_entries
    cards: dict[str, CardState] = field(default_factory=_shared_empty_dict)
    coupons: list[Holding] = field(default_factory=_shared_empty_list)
    uses: dict[str, int] = field(default_factory=_shared_empty_dict)  # offers with a limit only (OfferSpec.counts_uses)
    purchases: dict[str, PurchaseRecord | TillRecord] = field(default_factory=dict)  # oldest first
    # Not state: until this instant no refund record or event id is old enough to drop
    # (Engine.forget). Worked out again after a load; never saved or compared.
    forget_due: _dt.datetime | None = field(default=None, compare=False, repr=False)
    # Not state: (tier_entries, how many, their sum) as last known (Engine.tier_total),
    # so a purchase adds its entry to the sum instead of summing the window again. Used
    # only while it is the same list with the same length; never saved or compared.
    tier_sum: WindowSum | None = field(default=None, compare=False, repr=False)
    # Not state: the same per scale with a window (Engine.scale_prior), made on first use.
    scale_sums: dict[str, WindowSum] | None = field(default=None, compare=False, repr=False)

    def made(self, name: str) -> Any:
        """The container `name`, the customer's own, for a write: an empty one of its
        own first if it still holds the shared one."""
        value = getattr(self, name)
        if value is _SHARED_EMPTY_DICT:
            value = {}
            setattr(self, name, value)
        elif value is _SHARED_EMPTY_LIST:
            value = []
            setattr(self, name, value)
        return value


@dataclass(slots=True)
class State:
    """All customers, plus what is counted across customers (code uses in total)."""

    customers: dict[str, CustomerState] = field(default_factory=dict)
    code_uses: dict[str, int] = field(default_factory=dict)
