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
    a customer drops to the level the last 12 months' spend qualifies for;
  - a whole order returned within 30 days gives back the money paid, and undoes what
    the order did to the bonuses: the bonuses it spent go back to the lots they were
    taken from, latest spent first, keeping those lots' burn dates (bonuses going back
    to a lot that has burned meanwhile are lost); then the bonuses it earned are taken
    back: what is left of them, and the part already spent from the member's other
    bonuses (soonest to burn first, spendable before pending), never below zero; what
    cannot be taken back is forgiven. When bonuses spent from a returned order's lot
    come back later (the order that spent them is returned too), they first make up
    what that return forgave, then go back to the lots it took them from. The order's
    spend leaves the 12-month level window (counted at the order's own date); the
    level itself only moves at the yearly review; a returned order still counts as an
    earlier order for the returning-customer discount. A return of an unknown, a
    cancelled or an already returned order, or after the 30 days, is refused and
    changes nothing. Orders are kept for returns for exactly the 30 days;
  - an event delivered again (the same id within 31 days: a retried delivery) changes
    nothing and is answered "replay"; event ids are kept for 31 days.

Not implemented, because the bench stream never has them: returns of some lines of an
order, out-of-order events, signup and other non-purchase events, notes for the
customer.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from operator import attrgetter
from zoneinfo import ZoneInfo

from .records import EVENT_IDS_KEPT, KOPECK, Order, Recent, Refund, Replay, add_months, money

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

RETURN_WINDOW = dt.timedelta(days=30)  # Moscow has no DST: 30 days is 30 calendar days


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


@dataclass(slots=True, eq=False)
class Lot:
    """Bonuses earned by one order: spendable from `available_at`, gone at `burns_at`."""

    number: int  # earning order, which is also the spending order
    points: int  # left to spend
    available_at: dt.datetime
    burns_at: dt.datetime
    returned: Clawback | None = None  # set when the order that earned it is returned


@dataclass(slots=True)
class Clawback:
    """What returning a lot's order took from elsewhere, because part of the lot had
    been spent: [lot, points] taken from the member's other bonuses, in the order
    taken, and what could not be taken at all (forgiven)."""

    taken: list[list]
    forgiven: int


@dataclass(slots=True)
class Member:
    orders: int = 0
    level: int = -1  # no level before the first order
    next_review: dt.datetime | None = None
    spend_log: deque[list] = field(default_factory=deque)  # [time, amount], last 12 months
    lots: deque[Lot] = field(default_factory=deque)  # with points left, in earning order = burn order

    def level_name(self) -> str | None:
        return LEVELS[self.level][0] if self.level >= 0 else None


@dataclass(slots=True)
class Sale:
    """An order as a return needs it, kept 30 days."""

    customer: str
    at: dt.datetime
    total: Decimal  # after discounts, before bonuses: what counted toward the level
    paid: Decimal  # money
    spend_entry: list  # its [time, amount] in the member's spend log
    spent: list[list] | None  # [lot, points] the bonuses it spent came from, in spending order
    lot: Lot | None  # the bonuses it earned
    earned: int


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


@dataclass(slots=True)
class RefundReceipt:
    refund_id: str
    status: str  # ok | rejected
    refunded: Decimal  # money given back
    taken_back: int  # bonuses taken back
    given_back: int  # bonuses the order spent, back in the balance
    tier: str | None


class Checkout:
    def __init__(self) -> None:
        self.members: dict[str, Member] = {}
        self.sales = Recent(RETURN_WINDOW)  # order id -> Sale, while it can be returned
        self.seen = Recent(EVENT_IDS_KEPT)  # ids of the events processed lately
        self.lot_numbers = itertools.count()

    def process(self, event: Order | Refund) -> Receipt | RefundReceipt | Replay:
        at = event.at.astimezone(SHOP_ZONE)
        if not self.seen.first_delivery(event.id, at):  # delivered again: done already
            return Replay(event.id)
        self.sales.forget(at)
        member = self.members.get(event.customer)
        if member is None:
            member = self.members[event.customer] = Member()
        lots = member.lots
        while lots and lots[0].burns_at <= at:  # burn dates only grow along the deque
            lots.popleft()
        self.review(member, at)
        if isinstance(event, Refund):
            return self.refund(member, event, at)
        return self.sell(member, event, at)

    def sell(self, member: Member, order: Order, at: dt.datetime) -> Receipt:
        lots = member.lots
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
            return Receipt(order.id, "cancelled", subtotal, ZERO, subtotal, 0, subtotal, 0, member.level_name())

        total = subtotal - line_discounts
        volume = next((money(total * rate) for step, rate in VOLUME_STEPS if subtotal >= step), ZERO)
        order_discount = max(volume, money(total * CODE_DISCOUNT)) if code else volume
        total -= order_discount

        redeemed = 0
        spent = None
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
            if left:
                spent = []
            while left:
                lot = lots[0]
                take = min(left, lot.points)
                lot.points -= take
                left -= take
                spent.append([lot, take])
                if lot.points == 0:
                    lots.popleft()
        paid = total - redeemed

        # The level moves before earning: the order that crosses a step earns at the new level.
        log = member.spend_log
        entry = [at, total]
        log.append(entry)
        since = add_months(at, -12)
        while log[0][0] < since:
            log.popleft()
        level = level_for(sum((amount for _, amount in log), ZERO))
        if level > member.level:
            member.level = level
        if member.next_review is None:
            member.next_review = dt.datetime(at.year + 1, 1, 1, tzinfo=SHOP_ZONE)

        earned = int((paid * BONUS_PER_RUB * LEVELS[member.level][2]).to_integral_value(rounding=ROUND_FLOOR)) if paid > 0 else 0
        lot = None
        if earned > 0:
            lot = Lot(next(self.lot_numbers), earned, at + BONUS_PENDING, burn_time(at))
            lots.append(lot)
        member.orders += 1
        self.sales.add(order.id, at, Sale(order.customer, at, total, paid, entry, spent, lot, earned))
        return Receipt(order.id, "ok", subtotal, subtotal - total, total, redeemed, paid, earned, LEVELS[member.level][0])

    def refund(self, member: Member, refund: Refund, at: dt.datetime) -> RefundReceipt:
        """A whole order comes back: see the module docstring."""
        sale = self.sales.get(refund.order_id)
        if sale is None or sale.customer != refund.customer:  # unknown, cancelled, returned, or past 30 days
            return RefundReceipt(refund.id, "rejected", ZERO, 0, 0, member.level_name())
        self.sales.pop(refund.order_id)
        given = 0
        if sale.spent:
            for lot, points in reversed(sale.spent):
                given += self.give_back(member, lot, points, at)
        taken = 0
        lot = sale.lot
        if lot is not None:
            taken = lot.points
            lot.points = 0
            missing = sale.earned - taken  # spent already: taken from the other bonuses
            clawed = []
            for other in member.lots:
                if not missing:
                    break
                take = min(missing, other.points)
                if take:
                    other.points -= take
                    missing -= take
                    taken += take
                    clawed.append([other, take])
            lot.returned = Clawback(clawed, missing)
            member.lots = deque(other for other in member.lots if other.points)
        sale.spend_entry[1] -= sale.total  # out of the level window, at the order's date
        return RefundReceipt(refund.id, "ok", sale.paid, taken, given, member.level_name())

    def give_back(self, member: Member, lot: Lot, points: int, at: dt.datetime) -> int:
        """Put `points` spent from `lot` back; returns how many reach the balance. If
        the lot's own order was returned, the points first make up what that return
        forgave, then go back to the lots it took from (which may lead further)."""
        back = 0
        todo = [(lot, points)]
        while todo:
            lot, points = todo.pop()
            clawback = lot.returned
            if clawback is not None:
                settled = min(points, clawback.forgiven)
                clawback.forgiven -= settled
                points -= settled
                for draw in reversed(clawback.taken):
                    if not points:
                        break
                    undo = min(points, draw[1])
                    if undo:
                        draw[1] -= undo
                        points -= undo
                        todo.append((draw[0], undo))
            if points and lot.burns_at > at:  # to a burned lot they are lost
                if not lot.points:
                    bisect.insort(member.lots, lot, key=attrgetter("number"))
                lot.points += points
                back += points
        return back

    def review(self, member: Member, at: dt.datetime) -> None:
        """On 1 January a level falls to what the last 12 months' spend qualifies for."""
        while member.next_review is not None and member.next_review <= at:
            review = member.next_review
            since = add_months(review, -12)
            spend = sum((amount for when, amount in member.spend_log if since <= when < review), ZERO)
            member.level = min(member.level, max(level_for(spend), 0))
            member.next_review = review.replace(year=review.year + 1)
