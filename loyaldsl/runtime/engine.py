"""The engine: runs a ProgramSpec over events, one customer state at a time.

This is the single home of what a purchase does, step by step:
  1. settle the customer up to the event's time (expiry, monthly credits, tier
     reviews and demotions, birthdays);
  2. price the basket: which offers are eligible (on the basket as entered), which
     exclude each other, then discounts in program order, `best of` / `first of`
     groups choosing one member;
  3. redeem points as payment;
  4. earn points (tier and time multipliers), give stamps, issue coupons;
  5. move tiers, and keep what a refund will need to undo it all.
Both engines (the interpreter and a compiled module) call this same code.
"""

from __future__ import annotations

import bisect
import calendar
import copy
import datetime as _dt
import operator
from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from .bands import bands_in_order, marginal_amount_discount, rate_in_order, slab_rate
from .context import Context
from .currency import format_money, minor_unit, money_rounder
from .ledger import Ledger
from .model import CustomerEvent, Event, Purchase, Refund, event_kind
from .outcome import CustomerReport, Outcome, WalletReport
from .periods import (
    MONTH_UNITS,
    add_duration,
    add_months,
    at_midnight,
    month_key,
    start_of_month,
    start_of_next_month,
    steady_zone,
    surely_inside,
    whole_months_between,
    window_start,
)
from .pricing import Basket, units_made_free
from .spec import DurationSpec, EffectSpec, OfferSpec, ProgramSpec, ScaleSpec, StampCardSpec, WalletSpec, WindowSpec
from .state import CardState, CustomerState, Dated, Holding, LinePricing, PurchaseRecord, State, WindowSum, purchase_record, purchase_time

_ZERO = Decimal(0)
_ONE = Decimal(1)
_ALL = Fraction(1)  # the share of a purchase a whole return takes back (made once: a Fraction is slow to make)
# Memory per customer is bounded by time windows, never by the length of the stream:
# refund records live for the refund window (a year unless the program states one) and
# at least a month, event ids for a month (an older replay is caught anyway: it comes
# out of time order). A purchase's id is its record's key, not kept twice.
IDS_KEPT = _dt.timedelta(days=31)  # (also the purchase path's)
_MONTH = _dt.timedelta(days=31)
_INSTANT = _dt.timedelta(microseconds=1)  # the last instant before a boundary is boundary - _INSTANT
DEFAULT_REFUND_WINDOW = DurationSpec(365, "days")
_UNIT_DAYS = {"days": 1, "weeks": 7, "months": 31, "years": 366}
NOT_PURCHASE_EARNS = frozenset({"signup", "birthday", "action", "monthly"})  # earned by other events (codegen reads it too)
REVIEW_MONTHS = {"yearly": 12, "quarterly": 3, "monthly": 1}  # months in a review period (also the purchase path's)
_MIDNIGHT = _dt.time(0)


def _refund_reach(refund_window: DurationSpec) -> _dt.timedelta:
    """A day longer than the longest the refund window can be, so pruning never drops a
    record a refund could still reach."""
    return _dt.timedelta(days=refund_window.amount * _UNIT_DAYS[refund_window.unit] + 1)


def records_kept(refund_window: DurationSpec) -> _dt.timedelta:
    """How long a purchase's record is kept. It is also the proof that its event was
    processed (its id is not kept a second time in `seen`), so at least as long as an id."""
    return max(_refund_reach(refund_window), IDS_KEPT)


def free_item_waits(card: str) -> str:
    """The note of a full card whose reward is a free item (also the purchase path's,
    made once per card)."""
    return f"stamp card {card} full: a free item waits for the next purchase"


def _entry_time(entry: Dated) -> _dt.datetime:
    return entry[0]


def entries_total(entries: list[Dated]) -> Decimal:
    """The sum of dated entries' values (a tier or scale window, once pruned). map over
    itemgetter, not a generator: it runs on every purchase of a program with tiers."""
    return sum(map(_entry_value, entries), _ZERO)


_entry_value = operator.itemgetter(1)


def add_dated(entries: list[Dated], at: _dt.datetime, value: Decimal) -> None:
    """Add (at, value) to dated entries (tier and scale windows), keeping them in time
    order: a return counts at its purchase's date, before later entries, and in order a
    window's pruning drops a prefix (found by bisection) instead of testing every entry."""
    if entries and entries[-1][0] > at:
        bisect.insort_right(entries, (at, value), key=_entry_time)
    else:
        entries.append((at, value))


def add_to_window(entries: list[Dated], known: WindowSum | None, at: _dt.datetime, value: Decimal) -> WindowSum | None:
    """add_dated, and the window's running sum (see Engine.window_total) with the value
    added when it was known for this very list; else `known` as it was, which no longer
    matches the list's length."""
    add_dated(entries, at, value)
    if known is not None and known[0] is entries and known[1] == len(entries) - 1:
        return (entries, len(entries), known[2] + value)
    return known


def add_tier_entry(customer: CustomerState, at: _dt.datetime, value: Decimal) -> None:
    """add_dated on the customer's tier window, keeping its running sum when it is known
    (CustomerState.tier_sum): a purchase adds to the sum instead of the next upgrade
    summing the window again."""
    customer.tier_sum = add_to_window(customer.made("tier_entries"), customer.tier_sum, at, value)


# ------------------------------------------------------------------ the engine


class Engine:
    def __init__(self, spec: ProgramSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self.sources_by_name = {source.name: source for source in spec.sources}
        self.group_of: dict[str, tuple[str, tuple[str, ...]]] = {}
        for kind, members in spec.stacking:
            for member in members:
                self.group_of[member] = (kind, members)
        self.offer_codes = {s.name.casefold(): s for s in spec.sources if isinstance(s, OfferSpec) and s.kind == "code"}
        self.tier_names = tuple(t.name for t in spec.tiers.tiers) if spec.tiers else ()
        # (rank, threshold, inclusive) of the tiers that have a threshold, the last
        # listed first: `qualified` runs on every purchase of a program with tiers.
        self.tier_thresholds = tuple(reversed([(index, tier.threshold, tier.inclusive) for index, tier in enumerate(spec.tiers.tiers) if tier.threshold is not None])) if spec.tiers else ()
        self.redeemable = [w for w in spec.wallets if w.redeemable]
        self.refund_window = spec.refund_window or DEFAULT_REFUND_WINDOW
        refund_reach = _refund_reach(self.refund_window)
        self.keep_ledger_records = refund_reach + _MONTH  # a month more, for monthly credits
        # How far back an entry of each window is surely inside it (prune_entries).
        windows = [spec.tiers.window] if spec.tiers is not None else []
        windows += [source.window for source in spec.sources if isinstance(source, ScaleSpec) and source.window is not None]
        self.inside_spans = {(window.kind, window.amount): surely_inside(window.kind, window.amount) for window in windows}
        self.keep_records = records_kept(self.refund_window)
        self.round = money_rounder(spec.currency, spec.rounding)
        self.expiring_cards = [s for s in spec.sources if isinstance(s, StampCardSpec) and s.expiry is not None]
        self.monthly = [(w, e) for w in spec.wallets for e in w.earns if e.kind == "monthly" and w.worth is not None]
        # The steps a purchase takes, worked out once: a program without stamp cards,
        # scales or exclusions never pays for looking for them on every purchase.
        self.cards = [s for s in spec.sources if isinstance(s, StampCardSpec)]
        self.scales = [s for s in spec.sources if isinstance(s, ScaleSpec)]
        self.windowed_scales = [s for s in self.scales if s.window is not None]
        self.scale_steps = {s.name: bands_in_order(s.bands) for s in self.scales}
        self.money_step = Decimal(1).scaleb(-minor_unit(spec.currency))
        self.pricing = LinePricing(self.round, self.money_step)  # shared by the purchase records
        self.step_notes = {s.name: self._step_notes(s) for s in self.scales}
        self.point_quanta = {wallet.name: wallet.quantum for wallet in spec.wallets}  # WalletSpec.quantum makes a Decimal per call
        self._expiry_by_month: dict[tuple[Any, ...], _dt.datetime] = {}  # expiry_after_earning's memory
        self.has_exclusions = any(isinstance(s, OfferSpec) and s.exclusions for s in spec.sources)
        self.purchase_earns = [
            (wallet, any(m.items is not None for m in wallet.multipliers), [e for e in wallet.earns if e.kind not in NOT_PURCHASE_EARNS])
            for wallet in spec.wallets
        ]

    # ------------------------------------------------------------ public API
    def new_state(self) -> State:
        return State()

    def process(self, state: State, event: Event) -> Outcome:
        """Apply one event to `state` and say what happened. Never raises on bad
        business input: a refused code or an unknown purchase becomes a note."""
        at = event.at.astimezone(self.zone)
        customer = state.customers.get(event.customer)
        if customer is None:
            customer = state.customers[event.customer] = CustomerState(event.customer)
        kind = event_kind(event)
        out = Outcome(event.id, event.customer, kind, at)
        out.tier_before = out.tier_after = self.tier_name(customer.tier)
        if event.id in customer.seen or event.id in customer.purchases:
            out.status = "replay"
            out.notes.append(f"event {event.id} was already processed; nothing changed")
            return out
        if customer.last_event_at is not None and at < customer.last_event_at:
            out.status = "rejected"
            out.notes.append(
                f"event is dated {at.isoformat()}, before this customer's last event ({customer.last_event_at.isoformat()}); events of a customer must come in time order"
            )
            return out
        self.settle(customer, at, out)
        out.tier_before = self.tier_name(customer.tier)  # after time passed: demotions are not this event's doing
        if kind == "purchase":
            self.purchase(state, customer, event, at, out)  # type: ignore[arg-type]
        elif kind == "refund":
            self.refund(state, customer, event, at, out)  # type: ignore[arg-type]
        else:
            self.customer_event(customer, event, at, out)  # type: ignore[arg-type]
        # Even a refused event is done: replaying it must not run again. A purchase
        # whose record is kept is known by its record.
        if event.id not in customer.purchases:
            customer.made("seen")[event.id] = at
        customer.last_event_at = at
        out.tier_after = self.tier_name(customer.tier)
        return out

    def report(self, state: State, customer_id: str, as_of: _dt.datetime, in_place: bool = False) -> CustomerReport:
        """A customer's standing at `as_of`. A report reads: a copy of the customer is
        settled, so later events see the state as it was. `in_place` skips the copy for
        a state that is about to be thrown away (the closing balances of a run)."""
        as_of = as_of.astimezone(self.zone)
        known = state.customers.get(customer_id) or CustomerState(customer_id)
        customer = known if in_place else copy.deepcopy(known)
        scratch = Outcome("", customer_id, "report", as_of)
        if customer.last_event_at is None or as_of >= customer.last_event_at:
            self.settle(customer, as_of, scratch)
        wallets = []
        for wallet in self.spec.wallets:
            ledger = self.ledger(customer, wallet.name)
            wallets.append(WalletReport(wallet.name, ledger.available(as_of), ledger.pending(as_of), ledger.next_expiry(as_of)))
        cards = []
        for source in self.spec.sources:
            if isinstance(source, StampCardSpec):
                card = customer.cards.get(source.name) or CardState()
                cards.append((source.name, card.stamps, source.size, card.rewards))
        coupons = tuple((h.name, h.expires_at, h.uses_left) for h in customer.coupons)
        return CustomerReport(
            customer=customer_id,
            as_of=as_of,
            orders=customer.orders,
            spend=customer.spend,
            tier=self.tier_name(customer.tier),
            wallets=tuple(wallets),
            stamps=tuple(cards),
            coupons=coupons,
            next_tier=self.next_tier(customer, as_of),
        )

    # ------------------------------------------------------------ helpers
    def tier_name(self, rank: int) -> str | None:
        return self.tier_names[rank] if rank >= 0 else None

    def ledger(self, customer: CustomerState, wallet: str) -> Ledger:
        ledger = customer.wallets.get(wallet)
        if ledger is None:
            ledger = customer.made("wallets")[wallet] = Ledger()
        return ledger

    def quantize_points(self, wallet: WalletSpec, amount: Decimal) -> Decimal:
        """Points are floored to the wallet's precision: 105 RUB at 1 per 10 is 10."""
        return amount.quantize(self.point_quanta[wallet.name], ROUND_FLOOR) if amount > 0 else _ZERO  # positional: cheaper


    def add(self, at: _dt.datetime, duration: DurationSpec) -> _dt.datetime:
        return add_duration(at, duration.amount, duration.unit)

    def expiry_after_earning(self, wallet: WalletSpec, at: _dt.datetime) -> _dt.datetime | None:
        """When points of `wallet` earned at `at` expire (None: they do not)."""
        expiry = wallet.expiry
        if expiry is None or expiry.kind != "after-earned" or expiry.duration is None:
            return None
        if not expiry.end_of_month:
            return self.add(at, expiry.duration)
        # "N months, at the end of the month": every instant of a month gives the same
        # answer, but 00:00 on the 1st (N months on is then a month start itself), as
        # long as the zone keeps one offset (no wall time moved by a gap). Remembered per
        # month: points are earned on nearly every purchase.
        moved_by_months = expiry.duration.unit in MONTH_UNITS  # days would move the day
        if moved_by_months:
            key = (wallet.name, at.tzinfo, at.year, at.month, at.day == 1 and at.time() == _MIDNIGHT)
            known = self._expiry_by_month.get(key)
            if known is not None:
                return known
        moved = self.add(at, expiry.duration)
        expires_at = start_of_next_month(moved - _INSTANT)
        if moved_by_months and all(steady_zone(at.tzinfo, year) for year in (at.year, moved.year, expires_at.year)):
            self._expiry_by_month[key] = expires_at
        return expires_at

    def earn(self, customer: CustomerState, wallet: WalletSpec, amount: Decimal, at: _dt.datetime, source: str, reason: str, out: Outcome, pending: bool = True) -> None:
        amount = self.quantize_points(wallet, amount)
        if amount <= 0:
            return
        available_at = self.add(at, wallet.pending) if (pending and wallet.pending) else at
        expires_at = self.expiry_after_earning(wallet, at)
        # The engine's amounts are positive Decimals and its times aware: Ledger.earn's
        # checks are skipped (they were a third of what earning cost).
        self.ledger(customer, wallet.name).add_lot(amount, at, available_at, expires_at, source, reason)
        out.earned.append((wallet.name, amount, reason, available_at))

    # ------------------------------------------------------------ settling time
    def settle(self, customer: CustomerState, at: _dt.datetime, out: Outcome) -> None:
        """Bring a customer up to `at`: everything that happens by the passing of time.
        Expiry runs before and after monthly credits, so a credit that arrives at the
        instant an old one burns never hides the burn."""
        self.expire_wallets(customer, at, out)
        if self.monthly:
            self.monthly_credits(customer, at, out)
            self.expire_wallets(customer, at, out)
        if customer.birth_date is not None:
            self.birthday(customer, at, out, explicit=False)
        if self.spec.tiers is not None:
            self.review_tiers(customer, at)
        for card_spec in self.expiring_cards:
            card = customer.cards.get(card_spec.name)
            if card is not None and card.entries:
                self.lapse_stamps(card_spec, card, at)
        if customer.coupons:
            customer.coupons = [h for h in customer.coupons if h.expires_at is None or h.expires_at > at]
        self.forget(customer, at)

    def lapse_stamps(self, card_spec: StampCardSpec, card: CardState, at: _dt.datetime) -> None:
        """Drop the stamps whose time is up. A card's entries are in time order (stamps
        come with a customer's events, which are in time order; an entry put back by a
        return is only ever written on an empty card), so when the oldest has not
        lapsed none has, and that one look is all most purchases pay."""
        assert card_spec.expiry is not None
        floor = card.lapse_floor
        if floor is not None and at < floor:
            return
        first = self.add(card.entries[0][0], card_spec.expiry)
        if first > at:
            card.lapse_floor = first
            return
        card.entries = [e for e in card.entries if self.add(e[0], card_spec.expiry) > at]

    def forget(self, customer: CustomerState, at: _dt.datetime) -> None:
        """Drop what no later event can need: refund records past the refund window
        (and the ledger's records of them a month later, for monthly credits), event ids
        older than a month. Records are kept in time order (a customer's events come in
        time order), so dropping from the front stops at the first one kept.

        Refund records and event ids are made at the time of the event being processed,
        never earlier, so `customer.forget_due` (when the oldest of them, or the next one
        made, is first old enough to drop) lets most events skip looking at them. This
        runs on most purchases of a customer who buys every few weeks, so it makes no
        time it does not compare with: ids only when the customer has some."""
        if self.spec.wallets and customer.wallets:  # without points, the customer's (cold) dict is not read
            # ledger records may be dated earlier: looked at every time
            ledger_horizon = at - self.keep_ledger_records
            for ledger in customer.wallets.values():
                if ledger.sources and next(iter(ledger.sources.values())).at < ledger_horizon:
                    ledger.forget_before(ledger_horizon)
        due = customer.forget_due
        if due is not None and at <= due:
            return
        keep = self.keep_records
        horizon = at - keep
        purchases = customer.purchases
        last = customer.last_event_at  # every record and id is dated at or before it
        kept_at = at  # when the oldest record kept was made; else the next one is made at `at` or later
        if last is not None and last < horizon:  # every record is past the refund window (a customer back after weeks)
            purchases.clear()
        else:
            while purchases:  # oldest first: drop from the front until one is kept
                oldest = next(iter(purchases))
                made = purchase_time(purchases[oldest])
                if made >= horizon:
                    kept_at = made
                    break
                del purchases[oldest]
        # A record is dropped once `at` is past its time + keep_records; an id, past + IDS_KEPT.
        due = kept_at + keep
        seen = customer.seen
        if seen:  # else it may be the shared empty one
            since = at - IDS_KEPT
            if last is not None and last < since:  # every id is older than a month
                seen.clear()
            while seen:
                oldest = next(iter(seen))
                if seen[oldest] >= since:
                    break
                del seen[oldest]
        if seen:
            seen_due = seen[next(iter(seen))] + IDS_KEPT
            if seen_due < due:
                due = seen_due
        elif keep > IDS_KEPT:  # an id made next, at `at` or later, may be due before the oldest record
            due = min(due, at + IDS_KEPT)
        customer.forget_due = due

    def expire_wallets(self, customer: CustomerState, at: _dt.datetime, out: Outcome) -> None:
        for wallet in self.spec.wallets:
            ledger = customer.wallets.get(wallet.name)
            if ledger is None:
                continue
            expiry = wallet.expiry
            if expiry is not None and expiry.kind == "inactivity" and expiry.duration is not None:
                since = customer.last_visit or customer.signed_up
                if since is not None:
                    deadline = self.add(since, expiry.duration)
                    if deadline <= at:
                        ledger.expire_by(deadline)
            gone = ledger.expire(at)
            if gone:
                for index, (name, amount) in enumerate(out.expired):
                    if name == wallet.name:
                        out.expired[index] = (name, amount + gone)
                        break
                else:
                    out.expired.append((wallet.name, gone))

    def monthly_credits(self, customer: CustomerState, at: _dt.datetime, out: Outcome) -> None:
        """Credit each finished month's rate x spend at the start of the next month.
        Month totals are kept a year after, so a late refund can take its share back."""
        current = month_key(at)
        oldest = month_key(add_months(at, -12))
        for key in sorted(k for k in customer.months if k < current):
            spend = customer.months[key]
            if key < oldest:
                del customer.months[key]
                continue
            if key <= customer.credited_through:
                continue
            customer.credited_through = key
            year, month = (int(part) for part in key.split("-"))
            credited_at = start_of_next_month(at_midnight(_dt.date(year, month, 1), self.zone))
            for wallet, earn in self.monthly:
                points = self.monthly_points(wallet, earn.bands, spend)
                if points > 0:
                    self.earn(customer, wallet, points, credited_at, f"month:{key}", f"{earn.label} ({key})", out, pending=False)

    def monthly_points(self, wallet: WalletSpec, bands: tuple[Any, ...], spend: Decimal) -> Decimal:
        rate = slab_rate(bands, spend) if spend > 0 else None
        if not rate or wallet.worth is None:
            return _ZERO
        return self.quantize_points(wallet, spend * rate / wallet.worth)

    def refund_month(self, customer: CustomerState, key: str, value: Decimal, at: _dt.datetime, out: Outcome) -> None:
        """A refund lowers its month's total; once the month is credited, the credit is
        worked again on the lower total and the difference taken back."""
        if key not in customer.months:
            return
        before = customer.months[key]
        after = customer.months[key] = before - value
        if key > customer.credited_through:
            return
        for wallet, earn in self.monthly:
            ledger = customer.wallets.get(wallet.name)
            record = ledger.sources.get(f"month:{key}") if ledger else None
            if ledger is None or record is None or record.earned <= 0:
                continue
            drop = self.monthly_points(wallet, earn.bands, before) - self.monthly_points(wallet, earn.bands, after)
            if drop > 0:
                floor = None if wallet.allow_negative else _ZERO
                reversal = ledger.reverse_partial(f"month:{key}", Fraction(drop) / Fraction(record.earned), at, floor, wallet.quantum)
                taken = reversal.removed + reversal.clawed_back
                if taken:
                    out.taken_back.append((wallet.name, taken))

    def birthday(self, customer: CustomerState, at: _dt.datetime, out: Outcome, explicit: bool) -> None:
        """Birthday bonuses, once a year: on an explicit `birthday` event, or at 00:00 of
        the birthday (28 February for 29 February in other years) once time passes it,
        for every year since the last one given, even with no visit in between."""
        if explicit:
            if customer.birthday_year < at.year:
                self.give_birthday(customer, at, at.year, out)
                customer.birthday_year = at.year
            return
        if customer.birth_date is None or customer.birthday_year >= at.year:
            return
        first = customer.birthday_year + 1 if customer.birthday_year else (customer.signed_up or at).year
        for year in range(first, at.year + 1):
            month, day = customer.birth_date.month, customer.birth_date.day
            if (month, day) == (2, 29) and not calendar.isleap(year):
                day = 28
            when = at_midnight(_dt.date(year, month, day), self.zone)
            if when > at:
                break
            if customer.signed_up is not None and when < start_of_month(customer.signed_up):
                continue
            self.give_birthday(customer, when, year, out)
            customer.birthday_year = year

    def give_birthday(self, customer: CustomerState, when: _dt.datetime, year: int, out: Outcome) -> None:
        for wallet in self.spec.wallets:
            for earn in wallet.earns:
                if earn.kind == "birthday" and self.holds(earn.when, customer, when, None):
                    self.earn(customer, wallet, earn.points, when, f"birthday:{year}", earn.label, out, pending=False)

    def holds(self, cond: Any, customer: CustomerState, at: _dt.datetime, basket: Basket | None) -> bool:
        return cond is None or bool(cond(Context(self.spec.periods, customer, at, basket)))

    # ------------------------------------------------------------ tiers
    def metric_value(self, customer: CustomerState, at: _dt.datetime, before: bool = False) -> Decimal:
        tiers = self.spec.tiers
        assert tiers is not None
        start = self.window_start(tiers.window, at)
        total = _ZERO
        for entry_at, value in customer.tier_entries:
            if (start is None or entry_at >= start) and (entry_at < at if before else entry_at <= at):
                total += value
        return total

    def window_start(self, window: WindowSpec, at: _dt.datetime) -> _dt.datetime | None:
        return window_start(at, window.kind, window.amount)

    def qualified(self, value: Decimal) -> int:
        """The highest-listed tier whose threshold `value` meets (-1: none). Listed
        order, not the highest threshold: a program may list them out of order (a
        warning, not an error)."""
        for index, threshold, inclusive in self.tier_thresholds:  # the last listed first
            if value >= threshold if inclusive else value > threshold:
                return index
        return -1

    def tier_total(self, customer: CustomerState, at: _dt.datetime) -> Decimal:
        """What the tier metric counts at `at`: the entries pruned to the window, and
        their sum. The sum is kept between events (CustomerState.tier_sum) and lowered
        by what leaves the window: summing a customer's window on every purchase cost
        more than the rest of the upgrade, its entries being cold in memory by then."""
        tiers = self.spec.tiers
        assert tiers is not None
        kept, total = self.window_total(customer.tier_entries, customer.tier_sum, tiers.window, at)
        customer.tier_entries = kept
        customer.tier_sum = (kept, len(kept), total)
        return total

    def window_total(self, entries: list[Dated], known: WindowSum | None, window: WindowSpec, at: _dt.datetime) -> tuple[list[Dated], Decimal]:
        """`entries` pruned to `window` at `at`, and their sum: from `known`, the sum as
        last kept for this very list (WindowSum), less what has left the window, when it
        still matches; else summed anew."""
        kept = self.prune_entries(entries, window, at)
        if known is None or known[0] is not entries or known[1] != len(entries):
            total = entries_total(kept)
        elif kept is entries or window.kind == "lifetime":
            total = known[2]  # nothing left, or the entries folded into one of the same sum
        else:
            total = known[2] - entries_total(entries[: len(entries) - len(kept)])  # `kept` is what follows them
        return kept, total

    def upgrade(self, customer: CustomerState, at: _dt.datetime) -> None:
        tiers = self.spec.tiers
        assert tiers is not None
        rank = self.qualified(self.tier_total(customer, at))
        if rank > customer.tier:
            customer.tier = rank
            customer.tier_manual = False
            customer.demoted_steps = 0
        if customer.reviewed_at is None and customer.tier >= 0:
            customer.reviewed_at = at

    def prune_entries(self, entries: list[Dated], window: WindowSpec | None, at: _dt.datetime) -> list[Dated]:
        """Keep what a window can still count (memory stays bounded per customer)."""
        if window is None or window.kind == "lifetime":
            if len(entries) > 1:
                return [(entries[-1][0], entries_total(entries))]
            return entries
        if not entries:
            return entries
        span = self.inside_spans.get((window.kind, window.amount))
        if span is not None and entries[0][0] >= at - span:
            return entries  # the oldest entry is surely inside: no start worked out (periods.surely_inside)
        start = window_start(at, window.kind, window.amount)  # not Engine.window_start: a frame less on every purchase
        if start is None or entries[0][0] >= start:
            return entries  # the common case: nothing has left the window
        return entries[bisect.bisect_left(entries, start, key=_entry_time) :]

    def review_tiers(self, customer: CustomerState, at: _dt.datetime) -> None:
        tiers = self.spec.tiers
        assert tiers is not None
        if tiers.demote_monthly and customer.last_visit is not None and customer.tier > 0:
            due = whole_months_between(customer.last_visit, at) - customer.demoted_steps
            if due > 0:
                customer.demoted_steps += due
                customer.tier = max(0, customer.tier - due)
        reviewed = customer.reviewed_at
        if tiers.review is None or reviewed is None or customer.tier < 0:
            return
        step = REVIEW_MONTHS[tiers.review]
        if reviewed.tzinfo is self.zone and at.year == reviewed.year and (at.month - 1) // step == (reviewed.month - 1) // step:
            return  # still the review period of the last review (or first tier): none is due
        year, month = self.next_review_month(reviewed, step)
        if (at.year, at.month) < (year, month):
            return  # reviews fall at 00:00 on the first of a month: none is due yet
        boundary = self.next_review(reviewed, step)
        while boundary <= at:
            if not customer.tier_manual:
                rank = self.qualified(self.metric_value(customer, boundary - _INSTANT))
                if rank < customer.tier:
                    customer.tier = customer.tier - 1 if tiers.downgrade == "one step" else max(rank, 0)
            customer.reviewed_at = boundary
            boundary = self.next_review(boundary, step)

    def next_review(self, after: _dt.datetime, months: int) -> _dt.datetime:
        """The first review boundary strictly after `after`: 1 January, a quarter's or
        a month's first day, at 00:00 in the program's zone."""
        year, month = self.next_review_month(after, months)
        return at_midnight(_dt.date(year, month, 1), self.zone)

    def next_review_month(self, after: _dt.datetime, months: int) -> tuple[int, int]:
        """(year, month) of the first review boundary strictly after `after`."""
        local = after.astimezone(self.zone)
        first = (local.month - 1) // months * months  # the period `after` falls in
        year, month0 = divmod(first + months, 12)
        return local.year + year, month0 + 1

    def next_tier(self, customer: CustomerState, at: _dt.datetime) -> tuple[str, Decimal] | None:
        tiers = self.spec.tiers
        if tiers is None:
            return None
        value = self.metric_value(customer, at)
        for index, tier in enumerate(tiers.tiers):
            if index > customer.tier and tier.threshold is not None:
                need = tier.threshold - value
                if not tier.inclusive:  # `over`: the smallest step past the threshold
                    need += self.metric_step()
                return tier.name, max(need, _ZERO)
        return None

    def metric_step(self) -> Decimal:
        tiers = self.spec.tiers
        assert tiers is not None
        if tiers.metric == "spend":
            return self.money_step
        if tiers.metric == "points" and tiers.wallet is not None:
            return self.point_quanta[tiers.wallet]
        return _ONE

    # ------------------------------------------------------------ customer events
    def customer_event(self, customer: CustomerState, event: CustomerEvent, at: _dt.datetime, out: Outcome) -> None:
        if event.kind == "signup":
            if customer.signed_up is not None:
                out.notes.append("customer had already signed up; no signup bonus")
                return
            customer.signed_up = at
            if event.birth_date is not None:
                customer.birth_date = event.birth_date
            for wallet in self.spec.wallets:
                for earn in wallet.earns:
                    if earn.kind == "signup" and self.holds(earn.when, customer, at, None):
                        self.earn(customer, wallet, earn.points, at, event.id, earn.label, out, pending=False)
            if self.spec.tiers is not None:
                self.upgrade(customer, at)
            self.birthday(customer, at, out, explicit=False)
        elif event.kind == "birthday":
            if customer.birthday_year >= at.year:
                out.notes.append(f"birthday bonus for {at.year} already given")
            self.birthday(customer, at, out, explicit=True)
        elif event.kind == "tier":
            if event.tier not in self.tier_names:
                out.status = "rejected"
                out.notes.append(f"no tier called {event.tier!r}; tiers are {', '.join(self.tier_names) or 'not declared'}")
                return
            customer.tier = self.tier_names.index(event.tier)
            customer.tier_manual = True
            customer.reviewed_at = customer.reviewed_at or at
        elif event.kind == "action":
            given = False
            for wallet in self.spec.wallets:
                for earn in wallet.earns:
                    if earn.kind == "action" and earn.action == event.action and self.holds(earn.when, customer, at, None):
                        self.earn(customer, wallet, earn.points, at, event.id, earn.label, out)
                        given = True
            if not given:
                out.notes.append(f"no rule earns anything for action {event.action!r}")

    # ------------------------------------------------------------ purchases
    def purchase(self, state: State, customer: CustomerState, purchase: Purchase, at: _dt.datetime, out: Outcome) -> None:
        basket = Basket(purchase.lines, self.round, self.money_step)
        ctx = Context(self.spec.periods, customer, at, basket)
        out.subtotal = basket.subtotal
        eligible = self.eligible(state, customer, purchase, ctx, out)
        if self.has_exclusions and self.exclusions(eligible, out):
            out.status = "cancelled"
            out.total = out.paid = out.subtotal
            return
        applied, free_units = self.apply_offers(state, eligible, customer, basket, ctx, out)
        out.total = basket.total
        if self.scales:
            self.next_steps(eligible, customer, basket, ctx, out)
        self.redeem(customer, purchase, basket, ctx, at, out)
        out.paid = basket.total - ctx.redeemed
        first_purchase = customer.orders == 0
        spend = basket.total
        # The tier metric moves before earning so `upgrade immediately` earns at the
        # new tier; `customer.*` in conditions still sees the customer before it.
        tiers = self.spec.tiers
        if tiers is not None and tiers.metric in ("spend", "visits"):
            add_tier_entry(customer, at, spend if tiers.metric == "spend" else _ONE)
            if tiers.upgrade == "immediately":
                self.upgrade(customer, at)
        if self.monthly:
            key = month_key(at)
            customer.made("months")[key] = customer.months.get(key, _ZERO) + spend
        # A points metric counts what this purchase earns: the points earned before it.
        points_before = self.ledger_earned(out, tiers.wallet) if tiers is not None and tiers.metric == "points" else _ZERO
        self.earn_for_purchase(customer, purchase, basket, ctx, first_purchase, at, out)
        record = PurchaseRecord(
            at,
            basket.total,
            purchase.lines,
            basket.nets(),
            redeemed=ctx.redeemed,
            applied=tuple(source.name for source in applied if isinstance(source, OfferSpec)),
        )
        for source in applied:
            self.give(customer, source, purchase.id, at, out, record)
        if self.cards:
            self.stamp(customer, purchase.id, basket, ctx, free_units, at, out, record)
        for scale in self.windowed_scales:
            self.count_in_window(customer, scale, self.scale_value(scale, basket, ctx, gross=True), at, record)
        if tiers is not None:
            if tiers.metric == "points":
                earned = self.ledger_earned(out, tiers.wallet) - points_before
                record.points_metric = earned
                if earned:
                    add_tier_entry(customer, at, earned)
            if tiers.metric == "points" or tiers.upgrade != "immediately":
                self.upgrade(customer, at)
        customer.purchases[purchase.id] = record
        customer.orders += 1
        customer.spend += spend
        customer.last_visit = at
        customer.demoted_steps = 0

    def ledger_earned(self, out: Outcome, wallet: str | None) -> Decimal:
        return sum((p for w, p, _, _ in out.earned if w == wallet), _ZERO)

    # ---- step 2: offers
    def eligible(self, state: State, customer: CustomerState, purchase: Purchase, ctx: Context, out: Outcome) -> list[Any]:
        entered = self.read_codes(purchase.codes, out)
        found: list[Any] = []
        for source in self.spec.sources:
            if isinstance(source, OfferSpec):
                reason = self.offer_refusal(state, customer, source, ctx, entered)
                if reason is None and source.discounts and ctx.basket is not None and not any(self.applies_to(e, ctx.basket) for e in source.effects):
                    reason = "nothing in the basket it applies to"
                if reason is None:
                    found.append(source)
                elif source.kind == "code" and source.name.casefold() in entered:
                    self.refuse(out, source.name, reason, f"code {entered[source.name.casefold()]}")
            elif isinstance(source, ScaleSpec):
                if source.when is None or source.when(ctx):
                    found.append(source)
            elif isinstance(source, StampCardSpec):
                card = customer.cards.get(source.name)
                if source.reward_kind == "free-item" and card is not None and card.rewards > 0 and ctx.basket and ctx.basket.matching(source.reward_items):
                    found.append(source)
        return found

    def read_codes(self, codes: Sequence[str], out: Outcome) -> dict[str, str]:
        """The program's codes among those entered, by their folded name, each with its
        text as entered; an unknown code is refused and a repeated one noted."""
        entered: dict[str, str] = {}
        for code in codes:
            key = code.strip().casefold()
            if key in entered:
                out.notes.append(f"code {code} entered twice; counted once")
            elif key not in self.offer_codes:
                self.refuse(out, code, "no such code", f"code {code}")
            else:
                entered[key] = code
        return entered

    def applies_to(self, effect: EffectSpec, basket: Basket) -> bool:
        """Whether an effect has something to act on in this basket: a gift always does,
        a discount needs a matching line not yet free, a deal enough matching units."""
        if effect.kind in ("give-points", "give-coupon"):
            return True
        lines = [basket.lines[i] for i in basket.matching(effect.items)]
        if effect.kind == "multibuy":
            return sum(line.quantity for line in lines) >= effect.buy + effect.get
        return any(line.net > 0 for line in lines)

    def offer_refusal(self, state: State, customer: CustomerState, offer: OfferSpec, ctx: Context, entered: dict[str, str]) -> str | None:
        """Why an offer does not apply to this basket, or None when it does."""
        if offer.kind == "code" and offer.name.casefold() not in entered:
            return "not entered"
        if offer.kind == "coupon" and not any(h.name == offer.name for h in customer.coupons):
            return "not held"
        reason = self.use_refusal(state, customer, offer, ctx.at)
        if reason is None and offer.when is not None and not offer.when(ctx):
            reason = f"condition not met: {offer.when_text}"
        return reason

    def use_refusal(self, state: State, customer: CustomerState, offer: OfferSpec, at: _dt.datetime) -> str | None:
        """Why a code's dates or an offer's use limits refuse it at `at`, or None. (A
        compiled purchase path asks this too, and tests the condition itself.)"""
        if offer.kind == "code":
            day = at.date()
            if offer.valid_from is not None and day < offer.valid_from:
                return f"valid from {offer.valid_from.isoformat()}"
            if offer.valid_to is not None and day > offer.valid_to:
                return f"expired on {offer.valid_to.isoformat()}"
            used = customer.uses.get(offer.name, 0)
            if offer.limit_per_customer is not None and used >= offer.limit_per_customer:
                return f"already used {used} time{'s' if used != 1 else ''} by this customer (limit {offer.limit_per_customer})"
            if offer.limit_total is not None and state.code_uses.get(offer.name, 0) >= offer.limit_total:
                return f"used up ({offer.limit_total} uses in total)"
        if offer.once_per_customer and customer.uses.get(offer.name, 0) >= 1:
            return "already used once by this customer"
        return None

    def exclusions(self, eligible: list[Any], out: Outcome) -> bool:
        """Drop offers that are `not with` another eligible one; True = cancel order."""
        names = {source.name for source in eligible}
        dropped = set()
        for source in eligible:
            if not isinstance(source, OfferSpec):
                continue
            for other, cancel in source.exclusions:
                if other in names:
                    if cancel:
                        out.refused.append((source.name, f"order cancelled: not valid with {other}"))
                        out.notes.append(f"order cancelled: {source.name} is not valid with {other}")
                        return True
                    dropped.add(source.name)
                    self.refuse(out, source.name, f"not valid with {other}", f"code {source.name}" if source.kind == "code" else source.name)
                    break
        eligible[:] = [s for s in eligible if s.name not in dropped]
        return False

    def apply_offers(self, state: State, eligible: list[Any], customer: CustomerState, basket: Basket, ctx: Context, out: Outcome) -> tuple[list[Any], dict[str, list[int]]]:
        applied: list[Any] = []
        free_units: dict[str, list[int]] = {}
        by_name = {source.name: source for source in eligible}
        done: set[str] = set()
        for source in eligible:
            if source.name in done:
                continue
            group = self.group_of.get(source.name)
            chosen = source
            if group is not None:
                kind, members = group
                candidates = [by_name[m] for m in members if m in by_name and m not in done]
                if kind == "first":
                    chosen = candidates[0]
                else:
                    best_value = None
                    for candidate in candidates:
                        value = self.trial(candidate, customer, basket, ctx)
                        if best_value is None or value > best_value:
                            chosen, best_value = candidate, value
                for candidate in candidates:
                    done.add(candidate.name)
                    if candidate is not chosen:
                        what = f"code {candidate.name}" if isinstance(candidate, OfferSpec) and candidate.kind == "code" else candidate.name
                        rule = "gives more" if kind == "best" else "comes first"
                        self.refuse(out, candidate.name, f"{chosen.name} {rule} ({kind} of {', '.join(members)})", what, verb="not applied")
            done.add(chosen.name)
            amount = self.apply(chosen, customer, basket, ctx, free_units)
            if amount > 0:
                out.discounts.append((chosen.name, amount))
            applied.append(chosen)
            out.applied.append(chosen.name)
            if isinstance(chosen, OfferSpec):
                if chosen.counts_uses:
                    customer.made("uses")[chosen.name] = customer.uses.get(chosen.name, 0) + 1
                if chosen.kind == "code":
                    state.code_uses[chosen.name] = state.code_uses.get(chosen.name, 0) + 1
                    out.notes.append(f"code {chosen.name} applied")
                if chosen.kind == "coupon":
                    self.use_coupon(customer, chosen.name)
                    out.coupons_used.append(chosen.name)
        return applied, free_units

    def refuse(self, out: Outcome, name: str, reason: str, what: str, verb: str = "refused") -> None:
        """An offer that did not apply, said twice: as data and as a note for people."""
        out.refused.append((name, reason))
        out.notes.append(f"{what} {verb}: {reason}")

    def trial(self, source: Any, customer: CustomerState, basket: Basket, ctx: Context) -> Decimal:
        """The discount a source would give now, leaving the basket as it was."""
        saved = basket.nets()
        value = self.apply(source, customer, basket, ctx, {}, trial=True)
        basket.restore(saved)
        return value

    def apply(self, source: Any, customer: CustomerState, basket: Basket, ctx: Context, free_units: dict[str, list[int]], trial: bool = False) -> Decimal:
        if isinstance(source, OfferSpec):
            taken = _ZERO
            for effect in source.effects:
                taken += basket.apply(self.effect_lines(effect, basket, ctx))
            return taken
        if isinstance(source, ScaleSpec):
            return basket.apply(self.scale_lines(source, customer, basket, ctx))
        card = customer.cards[source.name]
        indexes = basket.matching(source.reward_items)
        units = sum(basket.lines[i].quantity for i in indexes)
        count = min(card.rewards, units)
        lines = basket.cheapest_units(_ONE, None, indexes, count)
        if not trial:
            card.rewards -= count
            free_units[source.name] = units_made_free(lines, basket.nets(), basket.quantities())
        return basket.apply(lines)

    def effect_lines(self, effect: EffectSpec, basket: Basket, ctx: Context) -> list[Decimal]:
        if effect.kind == "multibuy":
            assert effect.percent is not None
            return basket.multi_buy(effect.buy, effect.get, effect.percent, effect.repeating, basket.matching(effect.items))
        if effect.kind != "discount":
            return basket.zeros()
        indexes = basket.matching(effect.items)
        fraction = effect.percent
        amount = effect.amount(ctx) if effect.amount is not None else None
        target = effect.target
        if target == "order" or target == "items":
            if fraction is not None:
                lines = basket.percent_of_order(fraction, indexes) if target == "order" else basket.percent_of_lines(fraction, indexes)
            else:
                lines = basket.allocate(amount or _ZERO, indexes)
        elif target == "each":
            lines = basket.each_unit(fraction, amount, indexes)
        else:
            lines = basket.cheapest_units(fraction, amount, indexes, 1)
        if effect.cap is not None:
            cap = effect.cap(ctx)
            if sum(lines, _ZERO) > cap:
                lines = basket.allocate_by(cap, lines)
        return lines

    def scale_value(self, scale: ScaleSpec, basket: Basket, ctx: Context, gross: bool = False) -> Decimal:
        if scale.base_kind == "expr":
            assert scale.base is not None
            return Decimal(scale.base(ctx))
        indexes = basket.matching(scale.items)
        if scale.base_kind == "quantity":
            return Decimal(sum(basket.lines[i].quantity for i in indexes))
        return sum(((basket.lines[i].gross if gross else basket.lines[i].net) for i in indexes), _ZERO)

    def scale_prior(self, scale: ScaleSpec, customer: CustomerState, at: _dt.datetime) -> Decimal:
        """What a scale with a window counted before this purchase: the customer's
        entries inside the window at `at`. Those left of it are dropped now (a later
        window never reaches back), and the sum is kept between purchases
        (CustomerState.scale_sums), as tier_total keeps the tier's: summing the window
        of a keen trade customer's purchases, twice per purchase, was 29% of the
        general engine's time on a lamps stream."""
        assert scale.window is not None
        entries = customer.scale_entries.get(scale.name)
        if not entries:
            return _ZERO
        sums = customer.scale_sums
        if sums is None:
            sums = customer.scale_sums = {}
        kept, total = self.window_total(entries, sums.get(scale.name), scale.window, at)
        customer.made("scale_entries")[scale.name] = kept
        sums[scale.name] = (kept, len(kept), total)
        return total

    def count_in_window(self, customer: CustomerState, scale: ScaleSpec, value: Decimal, at: _dt.datetime, record: PurchaseRecord) -> None:
        """Keep what a purchase counts toward a scale with a window: for the purchases
        after it (the window pruned at `at` first, its sum kept), and in its record for a
        return to take back."""
        assert scale.window is not None
        record.scale_values[scale.name] = value
        self.scale_prior(scale, customer, at)
        sums = customer.scale_sums
        entries = customer.made("scale_entries").setdefault(scale.name, [])
        if sums is None:  # nothing counted yet: the next purchase sums its window
            add_dated(entries, at, value)
        else:
            known = add_to_window(entries, sums.get(scale.name), at, value)
            if known is not None:
                sums[scale.name] = known

    def scale_lines(self, scale: ScaleSpec, customer: CustomerState, basket: Basket, ctx: Context) -> list[Decimal]:
        value = self.scale_value(scale, basket, ctx)
        prior = self.scale_prior(scale, customer, ctx.at) if scale.window is not None else _ZERO
        indexes = basket.matching(scale.items)
        if scale.marginal:
            if scale.base_kind == "quantity":
                return basket.marginal_units(scale.bands, int(prior) + 1, indexes)
            return basket.allocate(self.round(marginal_amount_discount(scale.bands, prior, prior + value)), indexes)
        rate = rate_in_order(self.scale_steps[scale.name], prior + value)
        if not rate:
            return basket.zeros()
        if scale.base_kind == "quantity":
            return basket.percent_of_lines(rate, indexes)
        return basket.percent_of_order(rate, indexes)

    def next_steps(self, eligible: list[Any], customer: CustomerState, basket: Basket, ctx: Context, out: Outcome) -> None:
        """Tell the customer how far the next step of a scale is ("2,000.00 RUB more
        gets 10% off"), the nudge that makes a threshold work."""
        for scale in eligible:
            if not isinstance(scale, ScaleSpec):
                continue
            value = self.scale_value(scale, basket, ctx, gross=True)
            if value <= 0:  # nothing in this basket counts toward it
                continue
            if scale.window is not None:
                value += self.scale_prior(scale, customer, ctx.at)
            note = self.next_step_note(scale, value)
            if note is not None:
                out.notes.append(note)

    def next_step_note(self, scale: ScaleSpec, value: Decimal) -> str | None:
        """The nudge toward the first step of `scale` that `value` has not reached."""
        for threshold, inclusive, beyond, what in self.step_notes[scale.name]:
            if value >= threshold if inclusive else value > threshold:  # band_reached, written out
                continue
            need = threshold - value + beyond
            if scale.base_kind == "quantity":
                return f"{int(need)} more item{'s' if need != 1 else ''} {what}"
            return f"{format_money(need, self.spec.currency)} more {what}"
        return None

    def _step_notes(self, scale: ScaleSpec) -> list[tuple[Decimal, bool, Decimal, str]]:
        """Per step of `scale`, in order: its edge, whether the edge itself reaches it,
        how far past the edge counts as reaching it (0
        for `from`, one unit or item for `over`) and the note's words after the amount.
        Worked out once: a scale's note is written on every purchase it sees."""
        unit = _ONE if scale.base_kind == "quantity" else self.money_step
        notes = []
        for band in self.scale_steps[scale.name]:
            rate = f"{(band.rate * 100).normalize():f}%"
            what = f"the part above {band.threshold:,} gets {rate} off" if scale.marginal else f"gets {rate} off"
            notes.append((band.threshold, band.inclusive, _ZERO if band.inclusive else unit, f"{what} ({scale.name})"))
        return notes

    def use_coupon(self, customer: CustomerState, name: str) -> None:
        for holding in customer.coupons:
            if holding.name == name:
                if holding.uses_left is not None:
                    holding.uses_left -= 1
                    if holding.uses_left <= 0:
                        customer.coupons.remove(holding)
                return

    # ---- step 3: redemption
    def redeem(self, customer: CustomerState, purchase: Purchase, basket: Basket, ctx: Context, at: _dt.datetime, out: Outcome) -> None:
        def base(wallet: WalletSpec, redeemed: Decimal) -> Decimal:
            ctx.redeemed = redeemed  # `order.paid` in a redeem base sees what is paid so far
            return wallet.redeem_base(ctx) if wallet.redeem_base is not None else basket.total

        ctx.redeemed = self.redeem_points(customer, purchase, basket.total, base, at, out)

    def redeem_points(
        self, customer: CustomerState, purchase: Purchase, total: Decimal, base: Callable[[WalletSpec, Decimal], Decimal], at: _dt.datetime, out: Outcome
    ) -> Decimal:
        """Spend the points the purchase asks to pay with; returns the money they paid.
        `base(wallet, redeemed so far)` is what the wallet's "up to N% of" is taken of
        (a compiled module's purchase path passes its own, over its locals)."""
        redeemed = _ZERO
        for name, requested in purchase.redeem:
            if name == "":
                if len(self.redeemable) != 1:
                    out.notes.append("redeem: say which points to redeem; this program has " + (", ".join(w.name for w in self.redeemable) or "no redeemable points"))
                    continue
                wallet = self.redeemable[0]
            else:
                matches = [w for w in self.spec.wallets if w.name == name]
                if not matches:
                    out.notes.append(f"redeem: no points called {name}")
                    continue
                wallet = matches[0]
                if not wallet.redeemable:
                    out.notes.append(f"redeem: {name} cannot be spent as payment in this program")
                    continue
            assert wallet.worth is not None and wallet.redeem_cap is not None
            ledger = self.ledger(customer, wallet.name)
            spendable, available = ledger.spendable(at)  # ledger.available(at), with its lots
            # "up to 50%" never pays more than half: the cap is rounded down.
            cap_money = min((base(wallet, redeemed) * wallet.redeem_cap).quantize(self.money_step, rounding=ROUND_FLOOR), total - redeemed)
            cap_points = (cap_money / wallet.worth).quantize(self.point_quanta[wallet.name], rounding=ROUND_DOWN) if cap_money > 0 else _ZERO
            wanted = cap_points if requested is None else requested
            points = min(wanted, available, cap_points)
            if requested is not None and points < requested:
                why = f"only {available} available" if available < min(requested, cap_points) else f"at most {cap_points} on this order"
                out.notes.append(f"redeem: asked for {requested} {wallet.name}, used {points} ({why})")
            if points <= 0:
                continue
            ledger.burn_from(spendable, points, at, purchase.id)
            value = self.round(points * wallet.worth)
            redeemed += value
            out.redeemed.append((wallet.name, points, value))
        return redeemed

    # ---- step 4: earning, gifts, stamps
    def multiplier(self, wallet: WalletSpec, customer: CustomerState, ctx: Context, line: Any | None) -> Decimal:
        factors = []
        tiers = self.spec.tiers
        if tiers is not None and customer.tier >= 0:
            factor = tiers.tiers[customer.tier].multiplier
            if factor != _ONE:
                factors.append(factor)
        weekday = ctx.at.weekday()
        clock = ctx.order_time
        for m in wallet.multipliers:
            if m.items is not None and (line is None or not line.matches(m.items)):
                continue
            if m.weekdays and weekday not in m.weekdays:
                continue
            if m.start is not None and clock < m.start:
                continue
            if m.end is not None and clock >= m.end:
                continue
            if m.when is not None and not m.when(ctx):
                continue
            factors.append(m.factor)
        if not factors:
            return _ONE
        if wallet.combine == "best":
            return max(factors)
        result = _ONE
        for factor in factors:
            result *= factor
        return result

    def earn_for_purchase(self, customer: CustomerState, purchase: Purchase, basket: Basket, ctx: Context, first: bool, at: _dt.datetime, out: Outcome) -> None:
        for wallet, per_line, earns in self.purchase_earns:
            if not earns:
                continue
            order_factor = self.multiplier(wallet, customer, ctx, None)
            for earn in earns:
                if earn.kind == "first-purchase" and not first:
                    continue
                if earn.when is not None and not earn.when(ctx):
                    continue
                if earn.kind == "first-purchase":
                    amount = earn.points
                elif earn.kind == "per-visit":
                    amount = earn.points * order_factor
                elif earn.kind == "per-item":
                    amount = _ZERO
                    for line in basket.lines:
                        if line.matches(earn.items):
                            factor = self.multiplier(wallet, customer, ctx, line) if per_line else order_factor
                            amount += earn.points * line.quantity * factor
                else:
                    assert earn.base is not None
                    base = earn.base(ctx)
                    if earn.kind == "per-money":
                        assert earn.per is not None
                        per_unit = earn.points / earn.per
                    else:
                        assert earn.rate is not None and wallet.worth is not None
                        per_unit = earn.rate / wallet.worth
                    total = basket.total
                    if per_line and total > 0:
                        amount = _ZERO
                        for line in basket.lines:
                            amount += base * line.net / total * per_unit * self.multiplier(wallet, customer, ctx, line)
                    else:
                        amount = base * per_unit * order_factor
                self.earn(customer, wallet, amount, at, purchase.id, earn.label, out)

    def give(self, customer: CustomerState, source: Any, event_id: str, at: _dt.datetime, out: Outcome, record: PurchaseRecord) -> None:
        if not isinstance(source, OfferSpec):
            return
        for effect in source.effects:
            if effect.kind == "give-points" and effect.wallet is not None:
                self.earn(customer, self.spec.wallet(effect.wallet), effect.points, at, event_id, source.name, out)
            elif effect.kind == "give-coupon" and effect.coupon is not None:
                self.issue_coupon(customer, effect.coupon, event_id, at, out, record)

    def issue_coupon(self, customer: CustomerState, name: str, event_id: str, at: _dt.datetime, out: Outcome, record: PurchaseRecord | None) -> None:
        coupon = self.sources_by_name[name]
        expires = self.add(at, coupon.valid_for) if coupon.valid_for is not None else None
        customer.made("coupons").append(Holding(name, at, expires, coupon.uses, event_id))
        out.coupons_issued.append(name)
        if record is not None:
            record.coupons.append(name)

    def stamp(self, customer: CustomerState, event_id: str, basket: Basket, ctx: Context, free_units: dict[str, list[int]], at: _dt.datetime, out: Outcome, record: PurchaseRecord) -> None:
        for card_spec in self.cards:
            card = customer.made("cards").setdefault(card_spec.name, CardState())
            if card_spec.when is not None and not card_spec.when(ctx):
                continue
            free = free_units.get(card_spec.name, [0] * len(basket.lines))
            if card_spec.stamp_kind == "item":
                stamped = [line.quantity - free[i] if line.matches(card_spec.items) else 0 for i, line in enumerate(basket.lines)]
                given = sum(stamped) * card_spec.count
            elif card_spec.stamp_kind == "purchase":
                given = card_spec.count if basket.lines else 0
            else:
                assert card_spec.base is not None and card_spec.per is not None
                base = card_spec.base(ctx)
                amount = base + (card.remainder if card_spec.carry_remainder else _ZERO)
                steps = int((amount / card_spec.per).to_integral_value(rounding=ROUND_FLOOR)) if amount > 0 else 0
                if card_spec.carry_remainder:
                    card.remainder = amount - steps * card_spec.per
                given = steps * card_spec.count
            if given <= 0:
                continue  # the record keeps nothing of a card that gave nothing: no return reads it
            if card_spec.stamp_kind == "item":
                record.stamped[card_spec.name] = stamped
            elif card_spec.stamp_kind == "money":
                record.stamp_money[card_spec.name] = base
            card.add_stamps(at, given, event_id)
            record.stamps[card_spec.name] = given
            while card.stamps >= card_spec.size:
                self.reward(customer, card_spec, card, event_id, at, out, record)
                if card_spec.overflow == "reset":
                    card.entries = []
                    break
                self.remove_stamps(card, card_spec.size)
            out.stamps.append((card_spec.name, given, card.stamps))

    def remove_stamps(self, card: CardState, count: int) -> int:
        """Take stamps off the card, oldest first; returns how many were there."""
        removed = 0
        while card.entries and removed < count:
            entry_at, stamps, source = card.entries[0]
            take = min(stamps, count - removed)
            removed += take
            if take == stamps:
                card.entries.pop(0)
            else:
                card.entries[0] = (entry_at, stamps - take, source)
        card.counted_entries = None  # an entry changed in place: counted anew when read
        return removed

    def reward(self, customer: CustomerState, card_spec: StampCardSpec, card: CardState, event_id: str, at: _dt.datetime, out: Outcome, record: PurchaseRecord | None) -> None:
        """A full card's reward. `record` (None: a till tuple's purchase, whose cards
        reward with a free item) keeps a coupon it issues, for a return to withdraw."""
        if card_spec.reward_kind == "free-item":
            card.rewards += 1
            out.notes.append(free_item_waits(card_spec.name))
        elif card_spec.reward_kind == "coupon" and card_spec.reward_coupon is not None:
            self.issue_coupon(customer, card_spec.reward_coupon, event_id, at, out, record)
        elif card_spec.reward_wallet is not None:
            self.earn(customer, self.spec.wallet(card_spec.reward_wallet), card_spec.reward_points, at, event_id, f"stamp card {card_spec.name}", out)

    # ------------------------------------------------------------ refunds
    def refund(self, state: State, customer: CustomerState, refund: Refund, at: _dt.datetime, out: Outcome) -> None:
        record = purchase_record(customer.purchases, refund.purchase_id)
        if record is None:
            out.status = "rejected"
            out.notes.append(f"no purchase {refund.purchase_id} of this customer to refund (or it is past the refund window)")
            return
        if self.add(record.at, self.refund_window) < at:
            out.status = "rejected"
            out.notes.append(f"purchase {refund.purchase_id} is past the refund window")
            return
        value = _ZERO
        if not refund.lines:
            returned = record.return_everything()  # `value` is the total's rest: see `whole` below
        else:
            returned = [0] * len(record.lines)
            wanted: dict[str, int] = {}
            for unit in refund.lines:
                wanted[unit.product] = wanted.get(unit.product, 0) + unit.quantity
            for product, quantity in wanted.items():
                have = sum(ln[1] for ln in record.lines if ln[0] == product)
                if quantity > have:
                    out.status = "rejected"
                    out.notes.append(f"cannot refund {quantity} x {product}: {have} left on purchase {refund.purchase_id}")
                    return
            for product, quantity in wanted.items():
                for index, line in enumerate(record.lines):
                    if line[0] == product and quantity > 0:
                        take = min(quantity, line[1])
                        line[1] -= take
                        quantity -= take
                        returned[index] += take
                        value += take * line[2]
        value = self.round(value)
        whole = not refund.lines or all(ln[1] == 0 for ln in record.lines)
        # Nothing came back this time and nothing is left: returned before. (A purchase
        # that cost nothing, a free item alone, is returned once like any other.)
        if whole and not any(returned) and record.refunded >= record.total:
            out.status = "rejected"
            out.notes.append(f"purchase {refund.purchase_id} was already refunded in full")
            return
        fraction = _ALL if whole or record.total == 0 else Fraction(value) / Fraction(record.total)
        paid_in_money = record.total - record.redeemed
        if whole:
            value = record.total - record.refunded
            money = paid_in_money - record.refunded_money
            # A returned purchase gives back the uses it counted (`once per customer`, code limits).
            for name in record.applied:
                if customer.uses.get(name, 0) > 0:
                    customer.uses[name] -= 1
                if state.code_uses.get(name, 0) > 0:
                    state.code_uses[name] -= 1
        else:
            money = self.round(value * paid_in_money / record.total) if record.total else _ZERO
        record.refunded += value
        record.refunded_money += money
        # Money goes back as money; what was paid with points goes back as points.
        out.refunded = money
        for wallet in self.spec.wallets:
            ledger = customer.wallets.get(wallet.name)
            if ledger is None:
                continue
            floor = None if wallet.allow_negative else _ZERO
            if whole:
                reversal = ledger.reverse(refund.purchase_id, at, floor)
            else:
                already = ledger.sources.get(refund.purchase_id)
                share = fraction if already is None else min(Fraction(1) - already.fraction, fraction)
                reversal = ledger.reverse_partial(refund.purchase_id, share, at, floor, wallet.quantum)
            taken = reversal.removed + reversal.clawed_back
            if taken:
                out.taken_back.append((wallet.name, taken))
            if reversal.restored:
                out.given_back.append((wallet.name, reversal.restored))
            if reversal.shortfall:
                out.notes.append(f"{reversal.shortfall} {wallet.name} earned by this purchase were already spent and could not be taken back")
        # Metrics count the refund at the purchase's own date, so windows stay right.
        customer.spend -= value
        tiers = self.spec.tiers
        if tiers is not None and tiers.metric == "spend":
            add_tier_entry(customer, record.at, -value)
        elif tiers is not None and tiers.metric == "visits" and whole:
            add_tier_entry(customer, record.at, -_ONE)
        elif tiers is not None and tiers.metric == "points" and record.points_metric:
            taken = record.points_metric * Decimal(fraction.numerator) / Decimal(fraction.denominator)
            add_tier_entry(customer, record.at, -taken.quantize(self.metric_step(), rounding=ROUND_CEILING))
        if customer.months:
            self.refund_month(customer, month_key(record.at), value, at, out)
        if tiers is not None and tiers.returns_lower_at_once and not customer.tier_manual:
            # `returns lower the tier at once`: the tier the metric now earns, never higher.
            qualified = self.qualified(self.tier_total(customer, at))
            customer.tier = min(customer.tier, qualified)
        for name, base in record.scale_values.items():
            scale = self.sources_by_name[name]
            if scale.base_kind in ("quantity", "amount"):
                # The units returned that the scale counted, not a share of the money.
                counted = _ZERO
                for index, units in enumerate(returned):
                    if units and scale.items.matches(record.lines[index][0], record.categories[index]):
                        counted += Decimal(units) if scale.base_kind == "quantity" else units * record.lines[index][2]
            else:
                counted = base * Decimal(fraction.numerator) / Decimal(fraction.denominator)
            add_dated(customer.made("scale_entries").setdefault(name, []), record.at, -counted)
        if record.stamps:
            everything = fraction is _ALL or fraction == 1  # `is` first: comparing a Fraction is a Python call
            # The money's share, read by a card counting money on a part returned only.
            share = fraction if everything or not record.total else Fraction(value) / Fraction(record.total)
            for name in list(record.stamps):
                self.refund_stamps(customer, name, record, returned, everything, share, out)
        if whole:
            for name in record.coupons:
                for holding in list(customer.coupons):
                    if holding.name == name and holding.source == refund.purchase_id:
                        customer.coupons.remove(holding)
                        out.notes.append(f"coupon {name} issued by this purchase withdrawn")

    def refund_stamps(self, customer: CustomerState, name: str, record: PurchaseRecord, returned: list[int], whole: bool, share: Fraction, out: Outcome) -> None:
        """Take back the stamps the returned goods earned: per stamped unit returned; per
        purchase only when all of it is; per money, the steps the returned money had
        reached, spending a carried remainder first. Stamps already turned into a
        waiting free item take that item back (and put the card's other stamps back)."""
        card_spec = self.sources_by_name[name]
        card = customer.cards[name]
        if name in record.stamped:
            stamped = record.stamped[name]
            units = 0
            for index, count in enumerate(returned):
                take = min(count, stamped[index])
                stamped[index] -= take
                units += take
            back = units * card_spec.count
        elif name in record.stamp_money:
            assert card_spec.per is not None
            per = card_spec.per
            before = record.stamp_money[name]
            money = min(before, before if whole else Decimal(share.numerator) * before / Decimal(share.denominator))
            record.stamp_money[name] = after = before - money
            if card_spec.carry_remainder:
                if money <= card.remainder:
                    card.remainder -= money
                    steps = 0
                else:
                    over = money - card.remainder
                    steps = int((over / per).to_integral_value(rounding=ROUND_CEILING))
                    card.remainder = steps * per - over
            else:
                steps = int((before / per).to_integral_value(rounding=ROUND_FLOOR)) - int((after / per).to_integral_value(rounding=ROUND_FLOOR))
            back = steps * card_spec.count
        else:
            back = record.stamps[name] if whole else 0
        back = min(back, record.stamps[name])
        record.stamps[name] -= back
        if back <= 0:
            return
        removed = self.remove_stamps(card, back)
        missing = back - removed
        if missing > 0 and card_spec.reward_kind == "free-item" and card.rewards > 0:
            cards_back = min(card.rewards, -(-missing // card_spec.size))
            card.rewards -= cards_back
            restored = cards_back * card_spec.size - missing
            if restored > 0:
                card.add_stamps(record.at, restored, "restored")
                card.lapse_floor = None  # an older entry: it may lapse sooner
            out.notes.append(f"{cards_back} free item{'s' if cards_back != 1 else ''} on {name} taken back")
        out.stamps.append((name, -back, card.stamps))
