"""The tier window's running sum (CustomerState.tier_sum, Engine.tier_total): kept
between events instead of summing the window on every purchase, it must always be what
summing the entries gives, whatever the window, with returns dated back into it,
entries leaving it, and states saved and loaded in between."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import event, given
from hypothesis import strategies as st

from loyaldsl.check import check_source
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.engine import entries_total
from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund
from loyaldsl.runtime.persist import state_from_json, state_to_json

MSK = ZoneInfo("Europe/Moscow")
START = dt.datetime(2025, 12, 20, 12, tzinfo=MSK)
WINDOWS = ["rolling 12 months", "rolling 30 days", "calendar year", "calendar month", "lifetime"]
METRICS = {"spend": ("0 RUB", "3000 RUB"), "visits": ("0", "3"), "bonus earned": ("0 bonus", "30 bonus")}


def program(metric: str, window: str, at_once: bool) -> str:
    low, high = METRICS[metric]
    return (
        'program "p"\n  currency RUB\n  timezone "Europe/Moscow"\n  categories food\n\n'
        "points bonus\n  earn 1 per 10 RUB of order.paid\n  available immediately\n  never expire\n\n"
        f"tiers by {metric} over {window}\n  Bronze from {low}\n  Silver from {high}\n"
        + ("  upgrade immediately\n" if metric != "bonus earned" else "")
        + ("  returns lower the tier at once\n" if at_once else "")
    )


steps = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(1, 400), st.integers(1, 3000)),  # hours later, price
        st.tuples(st.just("return"), st.integers(1, 300), st.integers(0, 30)),  # hours later, which purchase back
        st.tuples(st.just("save"), st.integers(0, 0), st.integers(0, 0)),  # state through JSON
    ),
    min_size=1,
    max_size=40,
)


@given(metric=st.sampled_from(sorted(METRICS)), window=st.sampled_from(WINDOWS), at_once=st.booleans(), plan=steps)
def test_the_running_sum_is_the_sum_of_the_window(metric: str, window: str, at_once: bool, plan: list[tuple[str, int, int]]):
    checked = check_source(program(metric, window, at_once), "p.loyal")
    assert checked.ok, [d.message for d in checked.errors]
    engine = interpreter(checked)
    state = engine.new_state()
    at, bought = START, []
    for number, (kind, hours, value) in enumerate(plan):
        at += dt.timedelta(hours=hours)
        if kind == "buy":
            engine.process(state, Purchase(f"p{number}", "ann", at, (PurchaseLine("bun", "food", 1, Decimal(value)),)))
            bought.append(f"p{number}")
        elif kind == "return" and bought:
            engine.process(state, Refund(f"r{number}", "ann", at, bought[value % len(bought)]))
        elif kind == "save":
            state = state_from_json(state_to_json(state), MSK)
        customer = state.customers.get("ann")
        if customer is None or customer.tier_sum is None:
            continue
        entries, count, total = customer.tier_sum
        if entries is customer.tier_entries and count == len(entries):
            assert total == entries_total(entries), (kind, customer.tier_entries)
            event(f"running sum checked over {min(count, 3)}+ entries")
        # and what the engine counts is the sum of the window, as a fresh look gives
        assert engine.tier_total(customer, at) == engine.metric_value(customer, at)
