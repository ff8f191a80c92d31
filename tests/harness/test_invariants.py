"""Invariants: a program whose promise is deliberately broken is caught, and the shrunk
stream comes back as test blocks that parse, check and reproduce what was seen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.check import check_source
from loyaldsl.check.scenario_checks import check_tests
from loyaldsl.harness import invariants as inv
from loyaldsl.harness.fuzz import fuzz
from loyaldsl.harness.scenarios import run_tests
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.engine import Engine
from loyaldsl.runtime.model import Purchase, PurchaseLine
from loyaldsl.runtime.outcome import Outcome
from tests.harness.helpers import checked
from tests.harness.programs import CAFE

MSK = ZoneInfo("Europe/Moscow")

# 30% off an order of 1000 RUB or more is at least 300 RUB: the promise is false.
SMALL_DISCOUNTS = """\
program "Small discounts"
  currency RUB
  timezone "Europe/Moscow"
  categories coffee, cakes

points bonus
  worth 1 RUB
  earn 1 per 10 RUB of order.paid
  available immediately
  redeem up to 50% of order.total

rule big_basket
  when order.subtotal >= 1000 RUB
  discount 30% on order

invariant "a discount stays small"
  always order.discount <= 100 RUB
"""

# Silver gets 20% and Gold only 10%: the promise that Gold pays no more is false.
TIERED = """\
program "Tiered shop"
  currency RUB
  timezone "Europe/Moscow"
  categories coffee, cakes

tiers by spend over lifetime
  Silver from 0 RUB
  Gold from 5000 RUB
  upgrade immediately

rule silver_deal
  when customer.tier = Silver
  discount 20% on order

rule gold_deal
  when customer.tier = Gold
  discount 10% on order

stacking
  best of silver_deal, gold_deal

invariant "Gold pays no more than Silver"
  compare Gold with Silver: paid <=
"""


def reproduce(program, blocks: str) -> list:
    """Paste the printed blocks after the program: they must check and pass."""
    text = program.source + "\n" + blocks + "\n"
    again = check_source(text, program.filename)
    assert again.ok, again.errors
    assert [d for d in check_tests(again.program, again.symbols, text) if d.is_error] == []
    return list(run_tests(again, only=[t.name for t in again.program.tests if t.name.startswith("fuzz:")]).tests)


def test_an_always_invariant_is_caught_and_printed_as_a_test():
    program = checked(SMALL_DISCOUNTS, "small.loyal")
    report = fuzz(program, examples=40, seed=1)
    failure = report.failure
    assert failure is not None
    assert (failure.violation.invariant, failure.violation.line) == ("a discount stays small", 16)
    assert failure.violation.message.startswith("`order.discount <= 100 RUB` is false after this purchase: order.discount = ")
    assert failure.verified is None
    lines = failure.blocks.splitlines()
    assert lines[0] == 'test "fuzz: a discount stays small (seed 1)"'
    assert failure.event in failure.blocks
    assert lines[-3] == "  # the expectations below record what happens now; change them to what should happen"
    assert lines[-2].startswith("  expect paid ") and lines[-1].startswith("  expect discount ")
    (result,) = reproduce(program, failure.blocks)
    assert result.passed


def test_a_tier_comparison_becomes_two_tests_one_per_tier():
    program = checked(TIERED, "tiered.loyal")
    report = fuzz(program, examples=30, seed=2)
    failure = report.failure
    assert failure is not None and failure.violation.tier is not None
    high, low, high_paid, low_paid = failure.violation.tier
    assert (high, low) == ("Gold", "Silver") and high_paid > low_paid
    assert failure.verified is None
    results = reproduce(program, failure.blocks)
    assert [r.name for r in results] == ["fuzz: Gold pays no more than Silver (seed 2) as Gold", "fuzz: Gold pays no more than Silver (seed 2) as Silver"]
    assert all(r.passed for r in results)
    assert "gets tier Gold" in failure.blocks and "gets tier Silver" in failure.blocks


def test_a_crash_is_a_broken_promise_with_a_test_that_crashes(monkeypatch):
    real = Engine.process

    def fragile(self, state, event):
        if isinstance(event, Purchase) and any(line.quantity >= 3 for line in event.lines):
            raise KeyError("three")
        return real(self, state, event)

    monkeypatch.setattr(Engine, "process", fragile)
    program = checked(CAFE, "cafe.loyal")
    report = fuzz(program, examples=40, seed=3)
    failure = report.failure
    assert failure is not None
    assert failure.violation.invariant == inv.NO_CRASH
    assert failure.violation.message == "the engine raised KeyError: 'three'"
    assert " buys 3 " in failure.event
    assert failure.verified is None  # it checks, and running it crashes the engine
    (result,) = reproduce(program, failure.blocks)
    assert result.error == "internal error: KeyError: 'three'"


def test_output_that_changes_between_runs_is_caught(monkeypatch):
    real = Outcome.to_json
    calls = {"n": 0}

    def drifting(self):
        calls["n"] += 1
        out = real(self)
        out["drift"] = calls["n"]
        return out

    monkeypatch.setattr(Outcome, "to_json", drifting)
    report = fuzz(checked(CAFE, "cafe.loyal"), examples=10, seed=4)
    assert report.failure is not None
    assert report.failure.violation.invariant == inv.DETERMINISTIC
    assert report.failure.violation.message == "the same events run twice gave different output here"


@pytest.fixture
def cafe():
    program = checked(CAFE, "cafe.loyal")
    engine = interpreter(program)
    return engine, inv.Invariants(program, engine)


def purchase_outcome(engine: Engine) -> tuple:
    state = engine.new_state()
    event = Purchase("p1", "anna", dt.datetime(2026, 3, 2, 10, tzinfo=MSK), (PurchaseLine("latte", "coffee", 2, Decimal(150)),))
    return state, event, engine.process(state, event)


def test_built_in_promises_on_money(cafe):
    engine, invariants = cafe
    state, event, outcome = purchase_outcome(engine)
    assert invariants.after(state, event, outcome, 0) == []
    outcome.paid = Decimal("-0.01")
    outcome.discounts = [("cake_day", Decimal(301))]
    assert invariants.after(state, event, outcome, 0) == [
        inv.Violation(inv.NO_NEGATIVE_PAYMENT, None, 0, "the purchase has total 300.00 RUB and pays -0.01 RUB"),
        inv.Violation(inv.DISCOUNT_WITHIN_SUBTOTAL, None, 0, "discounts of 301.00 RUB on a subtotal of 300.00 RUB"),
    ]


def test_built_in_promise_on_points(cafe):
    engine, invariants = cafe
    state, event, outcome = purchase_outcome(engine)
    state.customers["anna"].wallets["bonus"].debt = Decimal(50)
    later = dt.datetime(2026, 3, 30, tzinfo=MSK)
    outcome.at = later
    (violation,) = invariants.after(state, event, outcome, 0)
    assert violation.message == "anna has -20 bonus available, and `bonus` does not allow a negative balance"


def test_an_always_condition_sees_the_customer_after_the_purchase():
    source = CAFE + '\ninvariant "orders counted"\n  always customer.orders >= 1 and customer.tier in [Regular, Gold]\n'
    program = checked(source)
    engine = interpreter(program)
    invariants = inv.Invariants(program, engine)
    state, event, outcome = purchase_outcome(engine)
    assert invariants.after(state, event, outcome, 0) == []
    assert invariants.count == 1


def test_a_compare_runs_on_copies_and_leaves_the_state_alone():
    program = checked(TIERED, "tiered.loyal")
    engine = interpreter(program)
    invariants = inv.Invariants(program, engine)
    state = engine.new_state()
    event = Purchase("p1", "anna", dt.datetime(2026, 3, 2, 10, tzinfo=MSK), (PurchaseLine("latte", "coffee", 1, Decimal(100)),))
    (violation,) = invariants.tiers_before(state, event, 7)
    assert violation.message == "for the same basket a Gold customer pays 90.00 RUB and a Silver customer 80.00 RUB (promised: Gold pays <= Silver)"
    assert (violation.index, violation.tier) == (7, ("Gold", "Silver", Decimal("90.00"), Decimal("80.00")))
    assert state.customers == {}
