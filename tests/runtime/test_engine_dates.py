"""The engine's own shortcuts on time (a month's expiry remembered, a customer's
records looked at only when one is due to go) give what the plain way gives."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaldsl.check import check_file
from loyaldsl.codegen.loader import load_compiled
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.engine import Engine
from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund
from loyaldsl.runtime.periods import add_duration, start_of_next_month
from loyaldsl.runtime.spec import DurationSpec, ExpirySpec, ProgramSpec, WalletSpec
from loyaldsl.runtime.state import CustomerState, PurchaseRecord

MSK = ZoneInfo("Europe/Moscow")
NYC = ZoneInfo("America/New_York")


def engine_for(zone: str, *durations: DurationSpec) -> Engine:
    wallets = tuple(
        WalletSpec(f"w{index}", expiry=ExpirySpec("after-earned", duration, end_of_month=True))
        for index, duration in enumerate(durations)
    )
    return Engine(ProgramSpec("dates", None, "", "RUB", "half-even", zone, wallets=wallets))


DURATIONS = (DurationSpec(12, "months"), DurationSpec(1, "year"), DurationSpec(45, "days"), DurationSpec(2, "weeks"))
ENGINES = {zone: engine_for(zone, *DURATIONS) for zone in ("Europe/Moscow", "America/New_York")}

# Times that land on the edges the month memory must keep apart: the first instant of a
# month, the last instant before it, and ordinary times, in a zone with one offset and
# in one with daylight saving time.
edges = st.sampled_from([(1, 0, 0, 0), (1, 0, 0, 1), (1, 0, 1, 0), (28, 23, 59, 59), (31, 23, 59, 59), (15, 12, 0, 0), (1, 2, 30, 0)])


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(sorted(ENGINES)),
    year=st.integers(2020, 2030),
    month=st.integers(1, 12),
    edge=edges,
    index=st.integers(0, len(DURATIONS) - 1),
    microsecond=st.sampled_from([0, 1, 999_999]),
)
def test_expiry_at_the_end_of_the_month_matches_the_calendar(
    zone: str, year: int, month: int, edge: tuple[int, int, int, int], index: int, microsecond: int
) -> None:
    engine = ENGINES[zone]
    day, hour, minute, second = edge
    try:
        at = datetime(year, month, day, hour, minute, second, microsecond, engine.zone)
    except ValueError:
        return  # no 31st in this month
    at = at.astimezone(engine.zone)  # a wall time in a gap becomes a real instant
    wallet = engine.spec.wallets[index]
    duration = DURATIONS[index]
    expected = start_of_next_month(add_duration(at, duration.amount, duration.unit) - timedelta(microseconds=1))
    # Asked twice: the second answer may come from the engine's memory of the month.
    assert engine.expiry_after_earning(wallet, at) == expected
    assert engine.expiry_after_earning(wallet, at) == expected


def test_the_first_instant_of_a_month_is_its_own_case() -> None:
    engine = engine_for("Europe/Moscow", DurationSpec(12, "months"))
    wallet = engine.spec.wallets[0]
    # Remembered for March after an ordinary time: the 1st at 00:00 must not reuse it.
    assert engine.expiry_after_earning(wallet, datetime(2026, 3, 10, 12, tzinfo=MSK)) == datetime(2027, 4, 1, tzinfo=MSK)
    assert engine.expiry_after_earning(wallet, datetime(2026, 3, 1, tzinfo=MSK)) == datetime(2027, 3, 1, tzinfo=MSK)
    assert engine.expiry_after_earning(wallet, datetime(2026, 3, 1, 0, 0, 1, tzinfo=MSK)) == datetime(2027, 4, 1, tzinfo=MSK)


def test_engine_add_covers_every_unit() -> None:
    engine = ENGINES["America/New_York"]
    at = datetime(2026, 1, 31, 9, tzinfo=NYC)
    for unit in ("day", "days", "week", "weeks", "month", "months", "year", "years"):
        assert engine.add(at, DurationSpec(3, unit)) == add_duration(at, 3, unit)


@settings(max_examples=150, deadline=None)
@given(events=st.lists(st.tuples(st.integers(0, 40 * 24 * 60), st.booleans()), min_size=1, max_size=40), window=st.integers(1, 60))
def test_forget_drops_exactly_what_is_past_its_time(events: list[tuple[int, bool]], window: int) -> None:
    """Engine.forget skips its look until `forget_due`, and drops everything at once
    when the customer's last event is past both windows; what it keeps must still be
    exactly the refund records inside the refund window (and at least 31 days: a
    record stands for its purchase's id) and the ids of the last 31 days, as if it
    looked at every entry every time. Each event is a purchase (a record, its id the
    key) or not (an id only: a return, a signup), as the engine keeps them; every
    event of the last 31 days stays known."""
    spec = ProgramSpec("forget", None, "", "RUB", "half-even", "Europe/Moscow", refund_window=DurationSpec(window, "days"))
    engine = Engine(spec)
    customer = CustomerState("ann")
    at = datetime(2026, 1, 1, tzinfo=MSK)
    made: list[tuple[str, datetime, bool]] = []
    for number, (gap, purchase) in enumerate(events):
        at += timedelta(minutes=gap)
        engine.forget(customer, at)
        assert engine.keep_records == max(timedelta(days=window + 1), timedelta(days=31))
        assert list(customer.purchases) == [name for name, t, bought in made if bought and t >= at - engine.keep_records]
        assert list(customer.seen) == [name for name, t, bought in made if not bought and t >= at - timedelta(days=31)]
        assert {name for name, t, _ in made if t >= at - timedelta(days=31)} <= customer.seen.keys() | customer.purchases.keys()
        name = f"e{number}"
        if purchase:
            customer.purchases[name] = PurchaseRecord(at, Decimal(0), (), [])
        else:
            customer.made("seen")[name] = at
        customer.last_event_at = at
        made.append((name, at, purchase))


@pytest.mark.parametrize("engine_kind", ["interpreter", "compiled"])
def test_a_purchase_is_known_by_its_record_past_its_refund_window(engine_kind: str) -> None:
    """A purchase's id is its record's key, not kept a second time among the ids; so
    the record is kept at least as long as an id (31 days), even where the refund
    window is shorter (thresholds: 14 days). Twenty days on, a return of it is refused
    as late, and a repeated delivery of it is still a replay."""
    checked = check_file(Path(__file__).resolve().parents[2] / "programs" / "thresholds.loyal")
    engine: Any = interpreter(checked) if engine_kind == "interpreter" else load_compiled(checked)
    state = engine.new_state()
    bought = datetime(2026, 3, 10, 12, tzinfo=MSK)
    purchase = Purchase("p1", "ann", bought, (PurchaseLine("fridge", "appliances", 1, Decimal("12000")),))
    assert engine.process(state, purchase).paid == Decimal("11400.00")
    late = engine.process(state, Refund("r1", "ann", bought + timedelta(days=20), "p1"))
    assert late.status == "rejected" and late.notes == ["purchase p1 is past the refund window"]
    assert engine.process(state, purchase).status == "replay"
    customer = state.customers["ann"]
    assert list(customer.purchases) == ["p1"] and list(customer.seen) == ["r1"]
    engine.process(state, Refund("r2", "ann", bought + timedelta(days=31, minutes=1), "p9"))  # time passes
    assert list(customer.purchases) == [] and list(customer.seen) == ["r1", "r2"]
