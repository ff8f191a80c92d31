"""Capsboutique coffee club, written by hand (no loyaldsl): the rules of
programs/capsboutique.loyal as a shop's developer would code them at the checkout.

Rules implemented:
  - money in Decimal, every line rounded to kopecks half-even;
  - returning customers (at least one earlier, not cancelled, order): 15% off each
    beans or capsules line, rounded per line;
  - 500 RUB off each coffee machine (never below 0 for a line);
  - the gift mug for 1 RUB: 599 RUB off each mug, 599 RUB at most per order;
  - whole-order discount on what is left after those: 5% from 10,000 RUB subtotal,
    10% from 20,000 RUB; or the code SKIDKA30 (30%, subtotal >= 10,000 RUB, codes
    matched case-insensitively) when it saves more; SKIDKA30 with a gift mug in the
    basket cancels the order (nothing is earned, spent or counted);
  - bonuses: 1 per full 10 RUB paid in money (floor), times 1.5 at Silver and 2 at
    Gold; spendable 14 days after the purchase; they burn at 00:00 on the first day of
    the month after the month 12 months after they were earned; spending takes the
    soonest-expiring first, at most half of the order total (after discounts),
    1 bonus = 1 RUB;
  - levels by the money spent (after discounts, before bonuses) over the last 12
    months: Bronze from the first purchase, Silver from 30,000 RUB, Gold from 80,000
    RUB; the order that crosses a step already earns at the new level; on 1 January
    a customer drops to the level the last 12 months' spend qualifies for.

Not implemented, because the bench stream never exercises them: refunds (and the
30-day purchase records they need), replayed or out-of-order events, signup and other
non-purchase events, notes for the customer.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from .records import KOPECK, Order, add_months, money

SHOP_ZONE = ZoneInfo("Europe/Moscow")
ZERO = Decimal(0)

RETURNING_DISCOUNT = Decimal("0.15")
RETURNING_CATEGORIES = frozenset({"beans", "capsules"})
MACHINE_DISCOUNT = Decimal(500)
MUG = "gift-mug"
MUG_DISCOUNT = Decimal(599)
VOLUME_STEPS = ((Decimal(20000), Decimal("0.10")), (Decimal(10000), Decimal("0.05")))
CODE = "skidka30"
CODE_MINIMUM = Decimal(10000)
CODE_DISCOUNT = Decimal("0.30")

BONUS_PER_RUB = Decimal("0.1")  # 1 bonus per 10 RUB paid
BONUS_PENDING = dt.timedelta(days=14)
REDEEM_SHARE = Decimal("0.5")

# (name, spend needed over the last 12 months, bonus multiplier), lowest first
LEVELS = (("Bronze", ZERO, Decimal(1)), ("Silver", Decimal(30000), Decimal("1.5")), ("Gold", Decimal(80000), Decimal(2)))




def burn_time(earned: dt.datetime) -> dt.datetime:
    """End of the month 12 months after `earned`: 00:00 on the next month's first day."""
    due = add_months(earned, 12)
    if due.day == 1 and due.time() == dt.time(0):  # earned exactly at a month's start
        return due
    year, month = (due.year + 1, 1) if due.month == 12 else (due.year, due.month + 1)
    return dt.datetime(year, month, 1, tzinfo=due.tzinfo)


def level_for(spend: Decimal) -> int:
    for rank in range(len(LEVELS) - 1, -1, -1):
        if spend >= LEVELS[rank][1]:
            return rank
    return -1


@dataclass(slots=True)
class Lot:
    """Bonuses earned by one order: spendable from `available_at`, gone at `burns_at`."""

    points: int
    available_at: dt.datetime
    burns_at: dt.datetime


@dataclass(slots=True)
class Member:
    orders: int = 0
    level: int = -1  # no level before the first order
    next_review: dt.datetime | None = None
    spend_log: deque[tuple[dt.datetime, Decimal]] = field(default_factory=deque)  # last 12 months
    lots: deque[Lot] = field(default_factory=deque)  # in earning order = burn order


@dataclass(slots=True)
class Receipt:
    order_id: str
    status: str  # ok | cancelled
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    redeemed: int
    paid: Decimal
    earned: int
    tier: str | None


class Checkout:
    def __init__(self) -> None:
        self.members: dict[str, Member] = {}

    def process(self, order: Order) -> Receipt:
        at = order.at.astimezone(SHOP_ZONE)
        member = self.members.get(order.customer)
        if member is None:
            member = self.members[order.customer] = Member()
        lots = member.lots
        while lots and lots[0].burns_at <= at:  # burn dates only grow along the deque
            lots.popleft()
        self.review(member, at)

        subtotal = ZERO
        line_discounts = ZERO
        mug_discount = ZERO
        has_mug = False
        returning = member.orders >= 1
        for line in order.lines:
            gross = money(line.unit_price * line.quantity)
            subtotal += gross
            if line.category in RETURNING_CATEGORIES:
                if returning:
                    line_discounts += money(gross * RETURNING_DISCOUNT)
            elif line.category == "machines":
                line_discounts += min(MACHINE_DISCOUNT * line.quantity, gross)
            elif line.product == MUG and gross > 0:
                has_mug = True
                mug_discount += min(MUG_DISCOUNT * line.quantity, gross)
        line_discounts += min(mug_discount, MUG_DISCOUNT)

        code = any(entered.strip().casefold() == CODE for entered in order.codes) and subtotal >= CODE_MINIMUM
        if code and has_mug:
            return Receipt(order.id, "cancelled", subtotal, ZERO, subtotal, 0, subtotal, 0, LEVELS[member.level][0] if member.level >= 0 else None)

        total = subtotal - line_discounts
        volume = next((money(total * rate) for step, rate in VOLUME_STEPS if subtotal >= step), ZERO)
        order_discount = max(volume, money(total * CODE_DISCOUNT)) if code else volume
        total -= order_discount

        redeemed = 0
        if order.redeem is not None:
            cap = int((total * REDEEM_SHARE).quantize(KOPECK, rounding=ROUND_FLOOR))  # never more than half; 1 bonus = 1 RUB, whole bonuses
            balance = 0
            for lot in lots:
                if lot.available_at > at:
                    break  # availability dates only grow along the deque
                balance += lot.points
            wanted = cap if order.redeem == "max" else int(order.redeem)
            redeemed = max(0, min(wanted, balance, cap))
            left = redeemed
            while left:
                lot = lots[0]
                take = min(left, lot.points)
                lot.points -= take
                left -= take
                if lot.points == 0:
                    lots.popleft()
        paid = total - redeemed

        # The level moves before earning: the order that crosses a step earns at the new level.
        log = member.spend_log
        log.append((at, total))
        since = add_months(at, -12)
        while log[0][0] < since:
            log.popleft()
        level = level_for(sum((amount for _, amount in log), ZERO))
        if level > member.level:
            member.level = level
        if member.next_review is None:
            member.next_review = dt.datetime(at.year + 1, 1, 1, tzinfo=SHOP_ZONE)

        earned = int((paid * BONUS_PER_RUB * LEVELS[member.level][2]).to_integral_value(rounding=ROUND_FLOOR)) if paid > 0 else 0
        if earned > 0:
            lots.append(Lot(earned, at + BONUS_PENDING, burn_time(at)))
        member.orders += 1
        return Receipt(order.id, "ok", subtotal, subtotal - total, total, redeemed, paid, earned, LEVELS[member.level][0])

    def review(self, member: Member, at: dt.datetime) -> None:
        """On 1 January a level falls to what the last 12 months' spend qualifies for."""
        while member.next_review is not None and member.next_review <= at:
            review = member.next_review
            since = add_months(review, -12)
            spend = sum((amount for when, amount in member.spend_log if since <= when < review), ZERO)
            member.level = min(member.level, max(level_for(spend), 0))
            member.next_review = review.replace(year=review.year + 1)
