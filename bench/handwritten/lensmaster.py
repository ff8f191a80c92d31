"""Lensmaster lens card, written by hand (no loyaldsl): the rules of
programs/lensmaster.loyal as a shop's developer would code them at the checkout.

Rules implemented:
  - one stamp per pair of lenses bought (a pair is one unit of a `lenses` line);
    solutions and cases earn none;
  - ten stamps fill the card: the next basket with lenses gets its cheapest pair free
    (one free pair per full card), and a free pair earns no stamp; the card then
    starts again from zero (stamps above ten on the same receipt are dropped);
  - a stamp lapses 12 months after the visit that gave it (same wall time, the day
    clamped to the month's length);
  - money in Decimal, lines rounded to kopecks half-even;
  - a whole order returned within 30 days gives back the money paid and takes back
    the stamps it gave, oldest stamps on the card first. Stamps that are no longer
    on the card (they filled it) take back the free pair they became if it is still
    waiting, and the card then holds ten less the stamps still owed, dated at the
    order. A free pair already taken stays taken, and a free pair in the order is not
    given back (an order that cost nothing, only its free pair, returns 0.00). A return
    of an unknown or an already returned order, or after the 30 days, is refused and
    changes nothing.
    Orders are kept for returns for exactly the 30 days;
  - an event delivered again (the same id within 31 days: a retried delivery) changes
    nothing and is answered "replay"; event ids are kept for 31 days.

Not implemented, because the bench stream never has them: returns of some lines of an
order, out-of-order events, notes for the customer.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from .records import EVENT_IDS_KEPT, Order, Recent, Refund, Replay, add_months, money

SHOP_ZONE = ZoneInfo("Europe/Moscow")
ZERO = Decimal(0)
CARD_SIZE = 10
STAMPED = "lenses"
STAMP_MONTHS = 12
RETURN_WINDOW = dt.timedelta(days=30)  # Moscow has no DST: 30 days is 30 calendar days


@dataclass(slots=True)
class Card:
    stamps: deque[list] = field(default_factory=deque)  # [lapses at, stamps], oldest first
    count: int = 0
    free_waiting: int = 0


@dataclass(slots=True)
class Receipt:
    order_id: str
    status: str
    subtotal: Decimal
    free: Decimal  # value of the free pairs
    paid: Decimal
    stamps: int  # on the card after this order
    free_waiting: int


@dataclass(slots=True)
class RefundReceipt:
    refund_id: str
    status: str  # ok | rejected
    refunded: Decimal
    stamps: int  # on the card after the return
    free_waiting: int


@dataclass(slots=True)
class Sale:
    """An order as a return needs it, kept 30 days."""

    customer: str
    at: dt.datetime
    paid: Decimal
    stamps: int  # stamps it gave


class Checkout:
    def __init__(self) -> None:
        self.cards: dict[str, Card] = {}
        self.sales = Recent(RETURN_WINDOW)  # order id -> Sale, while it can be returned
        self.seen = Recent(EVENT_IDS_KEPT)  # ids of the events processed lately

    def process(self, event: Order | Refund) -> Receipt | RefundReceipt | Replay:
        at = event.at.astimezone(SHOP_ZONE)
        if not self.seen.first_delivery(event.id, at):  # delivered again: done already
            return Replay(event.id)
        self.sales.forget(at)
        card = self.cards.get(event.customer)
        if card is None:
            card = self.cards[event.customer] = Card()
        while card.stamps and card.stamps[0][0] <= at:
            card.count -= card.stamps.popleft()[1]
        if isinstance(event, Refund):
            return self.refund(card, event, at)
        return self.sell(card, event, at)

    def sell(self, card: Card, order: Order, at: dt.datetime) -> Receipt:
        subtotal = ZERO
        pair_prices: list[Decimal] = []
        for line in order.lines:
            subtotal += money(line.unit_price * line.quantity)
            if line.category == STAMPED:
                pair_prices.extend([line.unit_price] * line.quantity)

        free = ZERO
        free_pairs = 0
        if card.free_waiting and pair_prices:
            pair_prices.sort()
            free_pairs = min(card.free_waiting, len(pair_prices))
            free = sum((money(price) for price in pair_prices[:free_pairs]), ZERO)
            card.free_waiting -= free_pairs

        new_stamps = len(pair_prices) - free_pairs
        if new_stamps > 0:
            card.stamps.append([add_months(at, STAMP_MONTHS), new_stamps])
            card.count += new_stamps
            if card.count >= CARD_SIZE:
                card.free_waiting += 1
                card.stamps.clear()
                card.count = 0
        paid = subtotal - free
        self.sales.add(order.id, at, Sale(order.customer, at, paid, new_stamps))
        return Receipt(order.id, "ok", subtotal, free, paid, card.count, card.free_waiting)

    def refund(self, card: Card, refund: Refund, at: dt.datetime) -> RefundReceipt:
        """A whole order comes back: see the module docstring."""
        sale = self.sales.get(refund.order_id)
        if sale is None or sale.customer != refund.customer:
            return RefundReceipt(refund.id, "rejected", ZERO, card.count, card.free_waiting)
        self.sales.pop(refund.order_id)
        owed = sale.stamps
        stamps = card.stamps
        while owed and stamps:  # oldest stamps first
            entry = stamps[0]
            take = min(owed, entry[1])
            entry[1] -= take
            card.count -= take
            owed -= take
            if not entry[1]:
                stamps.popleft()
        if owed and card.free_waiting:  # the stamps became a free pair not yet taken
            cards = min(card.free_waiting, -(-owed // CARD_SIZE))
            card.free_waiting -= cards
            back = cards * CARD_SIZE - owed
            if back > 0:  # the card was empty: it is the only entry
                stamps.append([add_months(sale.at, STAMP_MONTHS), back])
                card.count += back
        return RefundReceipt(refund.id, "ok", sale.paid, card.count, card.free_waiting)
