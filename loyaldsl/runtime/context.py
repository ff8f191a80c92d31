"""What conditions and amounts see when they are evaluated: `order.*` and `customer.*`
of the language, as attributes the interpreter's closures and the compiled module's
functions both read."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from .pricing import Basket
from .state import CustomerState

_CONTEXT_ZERO = Decimal(0)
_CONTEXT_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Context:
    """What conditions and amounts see: `order.*` and `customer.*` of the language."""

    __slots__ = ("periods", "customer", "at", "basket", "redeemed")

    def __init__(self, periods: dict[str, tuple[_dt.date, _dt.date]], customer: CustomerState, at: _dt.datetime, basket: Basket | None) -> None:
        self.periods = periods
        self.customer = customer
        self.at = at
        self.basket = basket
        self.redeemed = _CONTEXT_ZERO

    @property
    def order_subtotal(self) -> Decimal:
        return self.basket.subtotal if self.basket else _CONTEXT_ZERO

    @property
    def order_total(self) -> Decimal:
        return self.basket.total if self.basket else _CONTEXT_ZERO

    @property
    def order_paid(self) -> Decimal:
        return self.order_total - self.redeemed

    @property
    def order_discount(self) -> Decimal:
        return self.order_subtotal - self.order_total

    @property
    def order_items(self) -> Decimal:
        return Decimal(self.basket.items) if self.basket else _CONTEXT_ZERO

    @property
    def order_day(self) -> str:
        return _CONTEXT_WEEKDAYS[self.at.weekday()]

    @property
    def order_time(self) -> _dt.time:
        return self.at.time().replace(tzinfo=None)

    @property
    def order_date(self) -> _dt.date:
        return self.at.date()

    @property
    def customer_orders(self) -> Decimal:
        return Decimal(self.customer.orders)

    @property
    def customer_visits(self) -> Decimal:
        return Decimal(self.customer.orders)

    @property
    def customer_spend(self) -> Decimal:
        return self.customer.spend

    @property
    def customer_tier(self) -> int:
        return self.customer.tier

    def customer_points(self, wallet: str) -> Decimal:
        ledger = self.customer.wallets.get(wallet)
        return ledger.available(self.at) if ledger else _CONTEXT_ZERO

    def during(self, period: str) -> bool:
        return during(self.periods, period, self.at)


def during(periods: dict[str, tuple[_dt.date, _dt.date]], period: str, at: _dt.datetime) -> bool:
    """Whether `at` falls in a named period of the program (both ends included)."""
    start, end = periods[period]
    return start <= at.date() <= end
