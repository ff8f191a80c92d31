"""Dated entries of tier and scale windows (engine.add_dated, Engine.prune_entries):
kept in time order although a return counts at its purchase's date, so pruning a
window drops exactly the entries before its start, found by bisection."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from loyaldsl.runtime.engine import Engine, add_dated
from loyaldsl.runtime.persist import state_from_json, state_to_json
from loyaldsl.runtime.spec import ProgramSpec, WindowSpec
from loyaldsl.runtime.state import CustomerState, State

MSK = ZoneInfo("Europe/Moscow")
START = dt.datetime(2025, 1, 1, tzinfo=MSK)

offsets = st.lists(st.integers(0, 800), max_size=40)


@given(offsets)
def test_entries_stay_in_time_order_and_equal_times_keep_their_order(days):
    entries: list[tuple[dt.datetime, Decimal]] = []
    for number, day in enumerate(days):
        add_dated(entries, START + dt.timedelta(days=day), number)
    assert [e[0] for e in entries] == sorted(START + dt.timedelta(days=d) for d in days)
    for earlier, later in zip(entries, entries[1:], strict=False):
        if earlier[0] == later[0]:
            assert earlier[1] < later[1]  # added first, stays first


@given(offsets, st.integers(0, 900), st.sampled_from([WindowSpec("rolling-months", 12), WindowSpec("rolling-days", 30), WindowSpec("calendar-year")]))
def test_pruning_keeps_exactly_what_the_window_counts(days, now_day, window):
    engine = Engine(ProgramSpec(name="p", version="1", source_hash="", currency="RUB", rounding="half-even", timezone="Europe/Moscow"))
    entries: list[tuple[dt.datetime, Decimal]] = []
    for number, day in enumerate(days):
        add_dated(entries, START + dt.timedelta(days=day), Decimal(number))
    now = START + dt.timedelta(days=now_day)
    start = engine.window_start(window, now)
    expected = [e for e in entries if start is None or e[0] >= start]
    assert engine.prune_entries(list(entries), window, now) == expected


def test_a_state_saved_with_a_return_after_later_entries_loads_in_time_order():
    customer = CustomerState("ann")
    late, early = START + dt.timedelta(days=20), START + dt.timedelta(days=5)
    customer.tier_entries = [(early, Decimal(100)), (late, Decimal(50)), (early, Decimal(-100))]  # as appended before add_dated
    saved = json.loads(json.dumps(state_to_json(State(customers={"ann": customer}))))
    loaded = state_from_json(saved, MSK).customers["ann"]
    assert loaded.tier_entries == [(early, Decimal(100)), (early, Decimal(-100)), (late, Decimal(50))]


def test_an_entry_at_the_window_start_is_still_counted():
    engine = Engine(ProgramSpec(name="p", version="1", source_hash="", currency="RUB", rounding="half-even", timezone="Europe/Moscow"))
    now = START + dt.timedelta(days=40)
    entries = [[START, Decimal(1)], [START + dt.timedelta(days=10), Decimal(2)], [now, Decimal(3)]]
    kept = engine.prune_entries(entries, WindowSpec("rolling-days", 30), now)
    assert kept == entries[1:]  # 10 days in is exactly 30 days before now: inclusive
