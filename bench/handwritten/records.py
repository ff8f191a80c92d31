"""The shop's own order records, as its checkout code would define them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


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
