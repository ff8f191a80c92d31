"""The shop's own order records and money and calendar helpers, as its checkout code
would define them (shared by the hand-written programs)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

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


def money(amount: Decimal) -> Decimal:
    return amount.quantize(KOPECK, rounding=ROUND_HALF_EVEN)


def add_months(t: dt.datetime, months: int) -> dt.datetime:
    """Same wall time `months` later, the day clamped to the month's length."""
    year, month0 = divmod(t.month - 1 + months, 12)
    year += t.year
    day = min(t.day, calendar.monthrange(year, month0 + 1)[1])
    return t.replace(year=year, month=month0 + 1, day=day)
