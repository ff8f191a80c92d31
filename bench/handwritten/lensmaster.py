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
  - money in Decimal, lines rounded to kopecks half-even.

Not implemented, because the bench stream never exercises them: refunds (the stamps and
free pairs they take back), replayed or out-of-order events, notes for the customer.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from .records import Order, add_months, money

SHOP_ZONE = ZoneInfo("Europe/Moscow")
ZERO = Decimal(0)
CARD_SIZE = 10
STAMPED = "lenses"
STAMP_MONTHS = 12




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


class Checkout:
    def __init__(self) -> None:
        self.cards: dict[str, Card] = {}

    def process(self, order: Order) -> Receipt:
        at = order.at.astimezone(SHOP_ZONE)
        card = self.cards.get(order.customer)
        if card is None:
            card = self.cards[order.customer] = Card()
        while card.stamps and card.stamps[0][0] <= at:
            card.count -= card.stamps.popleft()[1]

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
        return Receipt(order.id, "ok", subtotal, free, subtotal - free, card.count, card.free_waiting)
