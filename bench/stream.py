"""The bench's event stream, generated in memory, deterministically.

One *skeleton* (who buys and when) is drawn from `random.Random(seed)` and is the same
for every program; each program then fills the baskets (lines from its own shop's
catalog; for capsboutique also codes, the gift mug and points to redeem) with a second
generator seeded by (seed, program), so the three programs see the same customers at
the same instants. A third generator, seeded by (seed, "returns"), picks the purchases
that are returned and those delivered twice; it is the same for every program and
draws nothing from the other two, so a seed gives the same purchases as it did before
returns and retried deliveries were added.

Shape of the stream:
  - dates from 2025-05-15 to 2026-07-15 in Moscow time (427 days, about 14 months), so
    month ends, one year end (the yearly tier review on 1 January 2026), points expiry
    (capsboutique: points earned in May and June 2025 burn on 1 June / 1 July 2026) and
    stamp expiry (lensmaster: stamps older than 12 months) all happen;
  - every day gets its exact share of the events, at times between 08:00 and 22:59:59,
    in time order;
  - `customers` customers (10,000 by default), each making a first purchase within the
    first 90 days (so every customer appears when there are a few purchases per
    customer), the rest
    drawn with a log-normal weight: a few customers buy often (about three times a
    week, and reach Gold), most about once a month;
  - 1 to 6 lines drawn per basket (3 on average; 2.6 once a product drawn twice is
    merged into one line);
  - returns: about 2% of purchases (REFUND_SHARE) are returned whole, 1 to 20 days
    later, and never later than the program's refund window allows (thresholds takes
    returns for 14 days, so its returns come 1 to 14 days later). A return is an event
    of its own, placed in the stream at its time, so every customer's events stay in
    time order; a return that would fall after the stream's last day is left out;
  - retried deliveries: about 0.5% of purchases (DUPLICATE_SHARE) are delivered a
    second time right after the first, the same event with the same id, as a shop's
    checkout gets them when a delivery is retried.

`event_stream` yields (kind, event) pairs, kind being PURCHASE, REFUND or DUPLICATE; there
are exactly as many purchases as asked for, returns and repeats come on top. Events
are produced lazily (a generator; pending returns wait in a small heap), so the bench
never holds the whole stream: memory measured after a run is the engine's, not the
stream's.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Moscow")
FIRST_DAY = _dt.date(2025, 5, 15)
DAYS = 427  # through 2026-07-15
JOIN_DAYS = 90  # every customer's first purchase falls in the first 90 days
PROGRAMS = ("capsboutique", "lensmaster", "thresholds")

D = Decimal
# (product, category, unit price, weight, max quantity)
CATALOGS: dict[str, tuple[tuple[str, str, Decimal, int, int], ...]] = {
    "capsboutique": (
        ("ethiopia-250g", "beans", D("1200"), 100, 2),
        ("kenya-250g", "beans", D("1500"), 80, 2),
        ("colombia-1kg", "beans", D("4000"), 30, 1),
        ("brazil-1kg", "beans", D("3249.90"), 25, 1),
        ("lungo-x10", "capsules", D("600"), 120, 3),
        ("ristretto-x10", "capsules", D("649.90"), 80, 3),
        ("decaf-x10", "capsules", D("559.50"), 40, 3),
        ("delonghi-magnifica-promo", "machines", D("24990"), 2, 1),
        ("krups-essenza", "machines", D("12990"), 3, 1),
        ("jura-e8", "machines", D("89990"), 1, 1),
        ("hand-grinder", "accessories", D("7500"), 8, 1),
        ("milk-frother", "accessories", D("3490"), 15, 1),
        ("tamper", "accessories", D("1290.50"), 20, 1),
        ("cups-set", "accessories", D("1990"), 25, 2),
    ),
    "lensmaster": (
        ("acuvue-oasys", "lenses", D("1780"), 10, 3),
        ("dailies-total1", "lenses", D("2400"), 6, 4),
        ("biofinity", "lenses", D("1350.50"), 6, 3),
        ("air-optix", "lenses", D("1599"), 5, 2),
        ("opti-free-300ml", "solutions", D("450"), 8, 2),
        ("renu-360ml", "solutions", D("389.90"), 5, 2),
        ("lens-case", "cases", D("150"), 4, 2),
    ),
    "thresholds": (
        ("washing-machine", "appliances", D("32990"), 2, 1),
        ("blender", "appliances", D("6990"), 10, 1),
        ("kettle", "appliances", D("3010"), 15, 1),
        ("vacuum-cleaner", "appliances", D("10001"), 5, 1),
        ("microwave", "appliances", D("8490.50"), 8, 1),
        ("headphones", "electronics", D("12000"), 6, 1),
        ("tv-55", "electronics", D("45990"), 1, 1),
        ("phone", "electronics", D("29990"), 2, 1),
        ("speaker", "electronics", D("4990"), 10, 2),
        ("hdmi-cable", "accessories", D("590"), 30, 3),
        ("charger", "accessories", D("1290"), 25, 2),
        ("phone-case", "accessories", D("790.90"), 25, 2),
        ("usb-hub", "accessories", D("10000"), 2, 1),  # exactly 10,000: no discount alone
    ),
}
GIFT_MUG = ("gift-mug", "promo", D("600"))  # capsboutique's 1-ruble mug (list price 600)
END = _dt.datetime.combine(FIRST_DAY + _dt.timedelta(days=DAYS), _dt.time(0), tzinfo=ZONE)  # after the last day
LINE_COUNTS = (1, 2, 3, 4, 5, 6)
LINE_WEIGHTS = (15, 22, 25, 18, 12, 8)  # 3.0 lines drawn on average

# Returns and retried deliveries (drawn from their own generator).
REFUND_SHARE = 0.02  # purchases returned whole
DUPLICATE_SHARE = 0.005  # purchases delivered a second time
REFUND_AFTER_DAYS = (1, 20)  # a return comes this many days after its purchase ...
REFUND_WINDOW_DAYS = {"capsboutique": 30, "lensmaster": 30, "thresholds": 14}  # ... within `refunds within N days`

PURCHASE, REFUND, DUPLICATE = "purchase", "refund", "duplicate"

# What a purchase carries besides its lines: `codes` (a tuple of strings) and `redeem`
# (None: no points spent; "max": as many as allowed; or a Decimal number of points).
Line = tuple[str, str, int, Decimal]  # product, category, quantity, unit price
MakePurchase = Callable[[str, str, _dt.datetime, list[Line], tuple[str, ...], Any], Any]
MakeRefund = Callable[[str, str, _dt.datetime, str], Any]  # id, customer, at, id of the purchase returned


def customer_ids(count: int) -> list[str]:
    return [f"c{index:05d}" for index in range(count)]


def is_sample(index: int) -> bool:
    """Purchases whose results are compared across engines in a timed run: the first
    2,000 and every 50th after them (4,000 more at 200,000: every month of the stream).
    Every return and every repeated delivery is compared too (they are rare)."""
    return index < 2000 or index % 50 == 0


def skeleton(events: int, customers: int, seed: int) -> Iterator[tuple[int, str, _dt.datetime, float]]:
    """(index, customer, local time, a uniform draw for the basket) in time order."""
    rng = random.Random(seed)
    ids = customer_ids(customers)
    # Uneven activity: log-normal weights (median customer ~15 purchases in 14 months),
    # capped so the keenest buys about three times a week, not several times a day.
    cum: list[float] = []
    total = 0.0
    for _ in ids:
        total += min(rng.lognormvariate(0.0, 0.8), 10.0)
        cum.append(total)
    joins: dict[int, list[str]] = {}
    order = ids[:]
    rng.shuffle(order)
    for position, cid in enumerate(order):
        joins.setdefault(position * JOIN_DAYS // len(order), []).append(cid)
    index = 0
    for day in range(DAYS):
        count = events * (day + 1) // DAYS - events * day // DAYS
        newcomers = joins.get(day, [])[:count]
        chosen = newcomers + rng.choices(ids, cum_weights=cum, k=count - len(newcomers))
        seconds = [rng.randrange(8 * 3600, 23 * 3600) for _ in chosen]
        date = FIRST_DAY + _dt.timedelta(days=day)
        midnight = _dt.datetime(date.year, date.month, date.day, tzinfo=ZONE)
        for second, cid in sorted(zip(seconds, chosen, strict=True)):
            yield index, cid, midnight + _dt.timedelta(seconds=second), rng.random()
            index += 1


class Stream:
    """The events of one program, lazily, as (kind, event) pairs in time order. Counts
    what it has produced so far: after the last event, `purchases`, `refunds` and
    `duplicates` are the stream's totals."""

    def __init__(self, program: str, purchases: int, make: MakePurchase, make_refund: MakeRefund, customers: int, seed: int) -> None:
        self.purchases = self.refunds = self.duplicates = 0
        self._events = self._generate(program, purchases, make, make_refund, customers, seed)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return self

    def __next__(self) -> tuple[str, Any]:
        return next(self._events)

    def counts(self) -> dict[str, int]:
        return {"purchases": self.purchases, "refunds": self.refunds, "duplicates": self.duplicates}

    def _generate(self, program: str, events: int, make: MakePurchase, make_refund: MakeRefund, customers: int, seed: int) -> Iterator[tuple[str, Any]]:
        catalog = CATALOGS[program]
        items = [(product, category, price, top) for product, category, price, _, top in catalog]
        weights = [weight for *_, weight, _ in catalog]
        cum_items: list[int] = []
        running = 0
        for weight in weights:
            running += weight
            cum_items.append(running)
        rng = random.Random(f"{seed}:{program}")
        returns = random.Random(f"{seed}:returns")  # the same for every program
        first_day, last_day = REFUND_AFTER_DAYS
        last_day = min(last_day, REFUND_WINDOW_DAYS[program])
        day = _dt.timedelta(days=1).total_seconds()
        pending: list[tuple[_dt.datetime, int, Any]] = []  # returns not yet due: (at, purchase number, event)
        prefix = program[0]
        for index, cid, at, draw in skeleton(events, customers, seed):
            count = rng.choices(LINE_COUNTS, weights=LINE_WEIGHTS)[0]
            picked = rng.choices(items, cum_weights=cum_items, k=count)
            lines: list[Line] = []
            seen: set[str] = set()
            for product, category, price, top in picked:
                if product in seen:  # one line per product, as a till prints it
                    continue
                seen.add(product)
                lines.append((product, category, rng.randint(1, top), price))
            codes: tuple[str, ...] = ()
            redeem: Any = None
            if program == "capsboutique":
                if draw < 0.04:
                    lines.append((*GIFT_MUG[:2], 1, GIFT_MUG[2]))
                code_draw = rng.random()
                if code_draw < 0.06:
                    codes = ("SKIDKA30",)
                elif code_draw < 0.08:
                    codes = (" skidka30",)  # codes match case-insensitively, spaces trimmed
                elif code_draw < 0.09:
                    codes = ("WELCOME10",)  # no such code: refused, nothing changes
                redeem_draw = rng.random()
                if redeem_draw < 0.15:
                    redeem = "max"
                elif redeem_draw < 0.25:
                    redeem = Decimal(rng.choice((100, 250, 500, 1000, 3000)))
            while pending and pending[0][0] <= at:  # returns due by now come first
                self.refunds += 1
                yield REFUND, heapq.heappop(pending)[2]
            event_id = f"{prefix}{index}"
            purchase = make(event_id, cid, at, lines, codes, redeem)
            self.purchases += 1
            yield PURCHASE, purchase
            if returns.random() < DUPLICATE_SHARE:
                self.duplicates += 1
                yield DUPLICATE, purchase  # a retried delivery: the same event again
            if returns.random() < REFUND_SHARE:
                # Whole seconds from `first_day` to `last_day` days later (Moscow has no
                # DST, so these are calendar days too).
                delay = round(day * (first_day + (last_day - first_day) * returns.random()))
                when = at + _dt.timedelta(seconds=delay)
                if when < END:
                    heapq.heappush(pending, (when, index, make_refund(f"{prefix}r{index}", cid, when, event_id)))
        while pending:
            self.refunds += 1
            yield REFUND, heapq.heappop(pending)[2]


def event_stream(program: str, purchases: int, make: MakePurchase, make_refund: MakeRefund, customers: int = 10_000, seed: int = 2026) -> Stream:
    """`purchases` purchases for `program`, built by `make(id, customer, at, lines,
    codes, redeem)`, with the returns (built by `make_refund(id, customer, at,
    purchase id)`) and the repeated deliveries among them, into whatever records the
    engine under test takes."""
    return Stream(program, purchases, make, make_refund, customers, seed)
