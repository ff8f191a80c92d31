"""The shop's own event records and money, calendar and memory helpers, as its checkout
code would define them (shared by the hand-written programs)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import deque
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

KOPECK = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Line:
    product: str
    category: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    customer: str
    at: dt.datetime  # aware
    lines: tuple[Line, ...]
    codes: tuple[str, ...] = ()
    redeem: Decimal | str | None = None  # None, "max", or a number of points


@dataclass(frozen=True, slots=True)
class Refund:
    """The customer sends a whole order back (the shop takes no partial returns here)."""

    id: str
    customer: str
    at: dt.datetime  # aware
    order_id: str


@dataclass(frozen=True, slots=True)
class Replay:
    """What the checkout answers to a repeated delivery of an event it has processed:
    nothing was done again."""

    event_id: str
    status: str = "replay"


def money(amount: Decimal) -> Decimal:
    return amount.quantize(KOPECK, rounding=ROUND_HALF_EVEN)


def add_months(t: dt.datetime, months: int) -> dt.datetime:
    """Same wall time `months` later, the day clamped to the month's length."""
    year, month0 = divmod(t.month - 1 + months, 12)
    year += t.year
    day = min(t.day, calendar.monthrange(year, month0 + 1)[1])
    return t.replace(year=year, month=month0 + 1, day=day)


class Recent(dict):
    """A dict of things the checkout keeps for a while (event ids, orders that may be
    returned): each entry is forgotten `keep` after the time it was added at. Events
    arrive in time order, so the entries leave in the order they came, and what is
    kept is bounded by that time, not by the length of the stream. Keys are never
    reused (event and order ids are unique)."""

    def __init__(self, keep: dt.timedelta) -> None:
        super().__init__()
        self.keep = keep
        self.queue: deque[tuple[dt.datetime, str]] = deque()  # (forget after, key), oldest first

    def add(self, key: str, at: dt.datetime, value: Any = None) -> None:
        self[key] = value
        self.queue.append((at + self.keep, key))

    def forget(self, now: dt.datetime) -> None:
        """Drop what was added more than `keep` before `now` (if still there)."""
        queue = self.queue
        while queue and queue[0][0] < now:
            self.pop(queue.popleft()[1], None)

    def first_delivery(self, event_id: str, at: dt.datetime) -> bool:
        """For the ids of processed events: False when `event_id` was processed lately
        (a retried delivery), else remember it and say True."""
        if event_id in self:
            return False
        self.forget(at)
        self.add(event_id, at)
        return True


# A retried delivery comes minutes or hours after the first; event ids are kept a month
# (as long as loyaldsl keeps them), after which they are forgotten.
EVENT_IDS_KEPT = dt.timedelta(days=31)
