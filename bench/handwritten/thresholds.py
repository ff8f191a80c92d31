"""Big purchase discount, written by hand (no loyaldsl): the rule of
programs/thresholds.loyal as a shop's developer would code it at the checkout.

Rules implemented:
  - a purchase whose subtotal (before any discount) is MORE than 10,000 RUB gets 5%
    off the whole purchase, rounded once to kopecks half-even; lines are rounded to
    kopecks half-even. Purchases never add up, so there is no customer state at all;
  - a whole purchase returned within 14 days gives back the money paid. A return of
    an unknown or an already returned purchase, or after the 14 days, is refused.
    Purchases are kept for returns for exactly the 14 days;
  - an event delivered again (the same id within 31 days: a retried delivery) changes
    nothing and is answered "replay"; event ids are kept for 31 days.

Not implemented, because the bench stream never has them: returns of some lines of a
purchase, out-of-order events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from .records import EVENT_IDS_KEPT, Order, Recent, Refund, Replay, money

ZERO = Decimal(0)
THRESHOLD = Decimal(10000)
RATE = Decimal("0.05")
RETURN_WINDOW = dt.timedelta(days=14)  # Moscow has no DST: 14 days is 14 calendar days


@dataclass(slots=True)
class Receipt:
    order_id: str
    status: str
    subtotal: Decimal
    discount: Decimal
    paid: Decimal


@dataclass(slots=True)
class RefundReceipt:
    refund_id: str
    status: str  # ok | rejected
    refunded: Decimal


class Checkout:
    def __init__(self) -> None:
        self.sales = Recent(RETURN_WINDOW)  # order id -> (customer, paid), while it can be returned
        self.seen = Recent(EVENT_IDS_KEPT)  # ids of the events processed lately

    def process(self, event: Order | Refund) -> Receipt | RefundReceipt | Replay:
        at = event.at
        if not self.seen.first_delivery(event.id, at):  # delivered again: done already
            return Replay(event.id)
        self.sales.forget(at)
        if isinstance(event, Refund):
            sale = self.sales.get(event.order_id)
            if sale is None or sale[0] != event.customer:
                return RefundReceipt(event.id, "rejected", ZERO)
            self.sales.pop(event.order_id)
            return RefundReceipt(event.id, "ok", sale[1])
        subtotal = sum((money(line.unit_price * line.quantity) for line in event.lines), ZERO)
        discount = money(subtotal * RATE) if subtotal > THRESHOLD else ZERO
        paid = subtotal - discount
        self.sales.add(event.id, at, (event.customer, paid))
        return Receipt(event.id, "ok", subtotal, discount, paid)
