"""Golden tests for programs/coffeetiers.loyal (MECHANICS item 6: tiers by visits, one
step down per month without a visit; tier 3 with two idle months is tier 1).
Every expected number is worked by hand in a comment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund
from tests.programs.support import check_program, day_clock, load_engine, run_sample_events

NAME = "coffeetiers"
MSK = ZoneInfo("Europe/Moscow")
D = Decimal
TIER_1, TIER_2, TIER_3 = "Regular", "Friend", "Family"
engine = partial(load_engine, NAME)  # a fresh interpreter for each call
at = day_clock(MSK, hour=9)


def coffee(pid: str, when: dt.datetime, price: str = "200", customer: str = "masha") -> Purchase:
    return Purchase(pid, customer, when, (PurchaseLine("flat-white", "coffee", 1, D(price)),))


def tier(eng, state, when: dt.datetime, customer: str = "masha") -> str | None:
    return eng.report(state, customer, when).tier


def reach_tier_3(eng, state):
    """16 visits on 1-16 March 2026 at 09:00; returns the outcomes."""
    return [eng.process(state, coffee(f"v{day}", at(2026, 3, day))) for day in range(1, 17)]


def test_program_checks_clean():
    assert check_program(NAME).diagnostics == ()


def test_tiers_by_visits_and_upgrade_immediately():
    eng = engine()
    state = eng.new_state()
    outs = reach_tier_3(eng, state)
    assert outs[0].tier_after == TIER_1  # 1 visit: from 0 visits
    assert outs[6].tier_after == TIER_1  # 7 visits
    assert outs[7].tier_after == TIER_2  # the 8th visit reaches Friend
    assert outs[14].tier_after == TIER_2  # 15 visits
    assert outs[15].tier_after == TIER_3  # the 16th visit reaches Family
    points = [sum((p for _, p, _, _ in out.earned), D(0)) for out in outs]
    # 200 RUB -> 20 points; visits 1-7 at 1x = 20 each; visits 8-15 at 1.5x = 30 each
    # (the visit that reaches a tier earns at it); visit 16 at 2x = 40.
    assert points == [D(20)] * 7 + [D(30)] * 8 + [D(40)]
    # 7 x 20 + 8 x 30 + 40 = 140 + 240 + 40 = 420.
    assert eng.report(state, "masha", at(2026, 3, 16, 10)).wallets[0].available == D(420)


def test_tier_3_with_two_idle_months_is_tier_1():
    eng = engine()
    state = eng.new_state()
    reach_tier_3(eng, state)  # last visit 16 March 09:00, tier 3
    # Less than a whole month since the last visit: still tier 3.
    assert tier(eng, state, at(2026, 4, 16, 8, 59)) == TIER_3
    # One idle month (16 March 09:00 -> 16 April 09:00): one step down, tier 2.
    assert tier(eng, state, at(2026, 4, 16, 9, 0)) == TIER_2
    # Two idle months (-> 16 May 09:00): tier 1.
    assert tier(eng, state, at(2026, 5, 16, 9, 0)) == TIER_1
    # Tier 1 is the floor: a third idle month changes nothing.
    assert tier(eng, state, at(2026, 6, 16, 9, 0)) == TIER_1


def test_coming_back_does_not_restore_the_old_tier():
    eng = engine()
    state = eng.new_state()
    reach_tier_3(eng, state)
    # Back on 20 May after two idle months: tier 1; 1 visit in the last 30 days keeps it
    # there, and the visit earns at 1x: 200 RUB -> 20 points.
    assert tier(eng, state, at(2026, 5, 19)) == TIER_1
    out = eng.process(state, coffee("back", at(2026, 5, 20)))
    # (out.tier_before still says Family: the outcome shows the two lapsed steps on the
    # first event after them, as "Family -> Regular".)
    assert out.tier_after == TIER_1
    assert [p for _, p, _, _ in out.earned] == [D(20)]


def test_a_visit_within_the_month_resets_the_clock():
    eng = engine()
    state = eng.new_state()
    reach_tier_3(eng, state)
    eng.process(state, coffee("v17", at(2026, 4, 10)))  # before the month ran out
    # 10 April 09:00 + 1 month = 10 May: still tier 3 on 9 May, tier 2 on 10 May.
    assert tier(eng, state, at(2026, 5, 9)) == TIER_3
    assert tier(eng, state, at(2026, 5, 10, 9)) == TIER_2


def test_month_ends_count_on_the_calendar():
    eng = engine()
    state = eng.new_state()
    for day in range(1, 9):  # 8 visits, 24-31 January: tier 2 from the 8th
        eng.process(state, coffee(f"j{day}", at(2026, 1, 23 + day)))
    assert tier(eng, state, at(2026, 1, 31, 10)) == TIER_2
    # Last visit 31 January 09:00; a month later is 28 February 09:00 (no 31 February).
    assert tier(eng, state, at(2026, 2, 28, 8, 59)) == TIER_2
    assert tier(eng, state, at(2026, 2, 28, 9, 0)) == TIER_1


def test_points_pay_half_an_order_at_most():
    eng = engine()
    state = eng.new_state()
    for day in range(1, 6):
        eng.process(state, coffee(f"v{day}", at(2026, 3, day), price="300"))  # 30 points each
    # 5 x 30 = 150 points. Next order 200 RUB: at most 50% = 100 RUB = 100 points.
    out = eng.process(state, Purchase("v6", "masha", at(2026, 3, 6), (PurchaseLine("latte", "coffee", 1, D(200)),), redeem=(("bonus", None),)))
    assert out.redeemed == [("bonus", D(100), D("100.00"))]
    assert out.paid == D("100.00")
    # Earned on the 100 RUB paid in money: 10 points. Balance 150 - 100 + 10 = 60.
    assert [p for _, p, _, _ in out.earned] == [D(10)]
    assert eng.report(state, "masha", at(2026, 3, 6, 10)).wallets[0].available == D(60)


def test_refund_takes_the_points_back():
    eng = engine()
    state = eng.new_state()
    eng.process(state, coffee("v1", at(2026, 3, 1), price="450"))  # 45 points
    out = eng.process(state, Refund("r1", "masha", at(2026, 3, 1, 15), "v1"))
    assert out.taken_back == [("bonus", D(45))]


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, MSK)  # 10 to 40 events, every one ok
    assert any(o.kind == "refund" for o in outcomes)
