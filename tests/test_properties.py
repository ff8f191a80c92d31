"""Properties of the engine over random purchase streams: balances never go negative
(unless a program allows it), replaying an event changes nothing, and the same input
gives byte-identical output."""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from loyaldsl.check import check_source
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund
from tests.strategies import event_streams

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "docs" / "example-all-clauses.loyal").read_text(encoding="utf-8")
ZONE = ZoneInfo("Europe/Moscow")
CATEGORIES = ["beans", "capsules", "machines", "lenses", "lamps", "other"]


@functools.cache
def engine_for(source: str):
    checked = check_source(source, "example.loyal")
    assert checked.ok, checked.errors
    return interpreter(checked)


def streams():
    return event_streams(tuple(CATEGORIES), ("SKIDKA30",), ZONE)


def run(engine, events):
    state = engine.new_state()
    outcomes = [engine.process(state, event) for event in events]
    return state, outcomes


@given(streams())
def test_balances_never_negative_and_payments_add_up(events):
    engine = engine_for(EXAMPLE)
    state = engine.new_state()
    for event in events:
        outcome = engine.process(state, event)
        if outcome.subtotal is not None and outcome.status == "ok":
            taken = sum((amount for _, amount in outcome.discounts), Decimal(0))
            assert 0 <= taken <= outcome.subtotal
            assert outcome.total == outcome.subtotal - taken
            assert outcome.paid >= 0
        report = engine.report(state, event.customer, event.at)
        for wallet in report.wallets:
            assert wallet.available >= 0, (wallet, outcome.to_json())
            assert wallet.pending >= 0


@given(streams(), st.data())
def test_replaying_an_event_changes_nothing(events, data):
    engine = engine_for(EXAMPLE)
    once_state, once = run(engine, events)
    doubled = []
    for event in events:
        doubled.append(event)
        if data.draw(st.booleans()):
            doubled.append(event)
    twice_state, twice = run(engine, doubled)
    assert [o.to_json() for o in twice if o.status != "replay"] == [o.to_json() for o in once if o.status != "replay"]
    assert all(o.notes and "already processed" in o.notes[0] for o in twice if o.status == "replay")
    last = events[-1].at
    for customer in once_state.customers:
        assert engine.report(once_state, customer, last).to_json() == engine.report(twice_state, customer, last).to_json()


@given(streams())
def test_output_is_identical_across_runs(events):
    first = [json.dumps(o.to_json(), sort_keys=True) for o in run(engine_for(EXAMPLE), events)[1]]
    second = [json.dumps(o.to_json(), sort_keys=True) for o in run(engine_for(EXAMPLE), events)[1]]
    assert first == second


NEGATIVE = EXAMPLE.replace("  redeem up to 50% of order.total\n", "  redeem up to 50% of order.total\n  balance may go negative\n")


def test_a_program_may_allow_a_negative_balance():
    """Spend the points a purchase earned, then refund it: with `balance may go
    negative` the clawback is not limited by the floor."""
    engine = engine_for(NEGATIVE.replace("available 14 days after purchase", "available immediately"))
    state = engine.new_state()
    at = dt.datetime(2026, 3, 2, 10, tzinfo=ZONE)
    buy = Purchase("p1", "anna", at, (PurchaseLine("m", "other", 1, Decimal(10000)),))
    engine.process(state, buy)
    spend = Purchase("p2", "anna", at + dt.timedelta(hours=1), (PurchaseLine("m", "other", 1, Decimal(5000)),), redeem=(("bonus", None),))
    assert engine.process(state, spend).redeemed
    engine.process(state, Refund("r1", "anna", at + dt.timedelta(hours=2), "p1"))
    bonus = engine.report(state, "anna", at + dt.timedelta(hours=3)).wallets[0]
    assert bonus.available < 0
