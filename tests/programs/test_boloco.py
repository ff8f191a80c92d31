"""Golden tests for programs/boloco.loyal (MECHANICS item 31: one free item per 50 USD
spent, spend carried across visits). Every expected number is worked by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund, RefundLine
from tests.programs.support import check_program, day_clock, load_engine, run_sample_events

NAME = "boloco"
NY = ZoneInfo("America/New_York")
D = Decimal
engine = partial(load_engine, NAME)  # a fresh interpreter for each call
at = day_clock(NY, hour=12)


def order(pid: str, when: dt.datetime, *lines: tuple[str, str, int, str], customer: str = "jess") -> Purchase:
    return Purchase(pid, customer, when, tuple(PurchaseLine(p, c, q, D(u)) for p, c, q, u in lines))


def catering(pid: str, when: dt.datetime, amount: str, customer: str = "jess") -> Purchase:
    """An order with nothing that can be free (so a waiting free item stays waiting)."""
    return order(pid, when, ("office-tray", "catering", 1, amount), customer=customer)


def card(eng, state, when: dt.datetime, customer: str = "jess") -> tuple[int, int]:
    """(stamps on the card, free items waiting)."""
    ((name, stamps, size, rewards),) = eng.report(state, customer, when).stamps
    assert name == "free_item" and size == 1
    return stamps, rewards


def test_program_checks_clean():
    assert check_program(NAME).diagnostics == ()


def test_30_45_45_earn_two_free_items_and_leave_20():
    eng = engine()
    state = eng.new_state()
    eng.process(state, catering("v1", at(2026, 3, 2), "30"))
    assert card(eng, state, at(2026, 3, 2, 13)) == (0, 0)  # 30 < 50: carried
    eng.process(state, catering("v2", at(2026, 3, 9), "45"))
    assert card(eng, state, at(2026, 3, 9, 13)) == (0, 1)  # 30 + 45 = 75: 1 free, 25 carried
    eng.process(state, catering("v3", at(2026, 3, 16), "45"))
    assert card(eng, state, at(2026, 3, 16, 13)) == (0, 2)  # 25 + 45 = 70: 2 free, 20 carried
    # 20 USD are carried: a 30 USD visit reaches 20 + 30 = 50, a third free item.
    eng.process(state, catering("v4", at(2026, 3, 23), "30"))
    assert card(eng, state, at(2026, 3, 23, 13)) == (0, 3)


def test_the_carried_20_is_exactly_20():
    eng = engine()
    state = eng.new_state()
    for pid, day, amount in (("v1", 2, "30"), ("v2", 9, "45"), ("v3", 16, "45")):
        eng.process(state, catering(pid, at(2026, 3, day), amount))
    # 20 carried + 29.99 = 49.99 < 50: no third free item.
    eng.process(state, catering("v4", at(2026, 3, 23), "29.99"))
    assert card(eng, state, at(2026, 3, 23, 13)) == (0, 2)
    # + 0.01 = 50.00: now the third.
    eng.process(state, catering("v5", at(2026, 3, 24), "0.01"))
    assert card(eng, state, at(2026, 3, 24, 13)) == (0, 3)


def test_49_99_alone_earns_nothing():
    eng = engine()
    state = eng.new_state()
    out = eng.process(state, catering("v1", at(2026, 3, 2), "49.99"))
    assert out.stamps == []
    assert card(eng, state, at(2026, 3, 2, 13)) == (0, 0)


def test_one_big_order_earns_one_item_per_full_50():
    eng = engine()
    state = eng.new_state()
    out = eng.process(state, catering("v1", at(2026, 3, 2), "120"))
    # 120 / 50 = 2 stamps (20 carried); card of 1: two free items.
    assert out.stamps == [("free_item", 2, 0)]
    assert card(eng, state, at(2026, 3, 2, 13)) == (0, 2)


def test_the_free_item_is_the_cheapest_burrito_or_drink_and_earns_nothing():
    eng = engine()
    state = eng.new_state()
    eng.process(state, catering("v1", at(2026, 3, 2), "60"))  # 1 free item, 10 carried
    out = eng.process(
        state,
        order(
            "v2",
            at(2026, 3, 3),
            ("large-burrito", "burritos", 1, "11.25"),
            ("lemonade", "drinks", 1, "3.50"),
            ("chips", "sides", 1, "2.00"),
        ),
    )
    # The cheapest burrito or drink is the 3.50 lemonade (chips are never free).
    assert out.discounts == [("free_item", D("3.50"))]
    # 11.25 + 3.50 + 2.00 = 16.75 - 3.50 = 13.25 paid.
    assert out.paid == D("13.25")
    # The stamp base is what was paid: 10 carried + 13.25 = 23.25 < 50: no stamp.
    assert out.stamps == []
    assert card(eng, state, at(2026, 3, 3, 13)) == (0, 0)
    # 23.25 carried + 26.75 = 50: a new free item.
    eng.process(state, catering("v3", at(2026, 3, 4), "26.75"))
    assert card(eng, state, at(2026, 3, 4, 13)) == (0, 1)


def test_two_waiting_items_are_used_on_one_visit():
    eng = engine()
    state = eng.new_state()
    eng.process(state, catering("v1", at(2026, 3, 2), "100"))  # 2 free items, 0 carried
    out = eng.process(
        state,
        order("v2", at(2026, 3, 3), ("large-burrito", "burritos", 1, "11.25"), ("lemonade", "drinks", 1, "3.50")),
    )
    # Both items free: 11.25 + 3.50 = 14.75 off, 0 paid.
    assert out.discounts == [("free_item", D("14.75"))]
    assert out.paid == D("0.00")
    assert card(eng, state, at(2026, 3, 3, 13)) == (0, 0)


def test_a_refunded_order_takes_back_its_free_items_and_carry():
    eng = engine()
    state = eng.new_state()
    eng.process(state, catering("v1", at(2026, 3, 2), "120"))  # 2 free items, 20 carried
    out = eng.process(state, Refund("r1", "jess", at(2026, 3, 3), "v1"))
    assert out.refunded == D("120.00")
    # The order never happened: no free items wait.
    assert card(eng, state, at(2026, 3, 3, 13)) == (0, 0)
    # And nothing is carried: a 30 USD order stays under 50 (0 + 30).
    eng.process(state, catering("v2", at(2026, 3, 4), "30"))
    assert card(eng, state, at(2026, 3, 4, 13)) == (0, 0)


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, NY)  # 10 to 40 events, every one ok
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.discounts for o in outcomes)



def test_a_partial_return_spends_the_carried_remainder_before_taking_a_free_item_back():
    """120 USD = 2 free items and 20 carried. Returning 60 takes the 20 carried first,
    then 40 of a 50-step: one free item goes back and 10 is carried again."""
    eng = engine()
    state = eng.new_state()
    eng.process(state, order("p1", at(2026, 3, 2), ("office-tray", "catering", 2, "60")))
    eng.process(state, Refund("r1", "jess", at(2026, 3, 3), "p1", (RefundLine("office-tray", 1),)))
    free_item = state.customers["jess"].cards["free_item"]
    assert (free_item.rewards, free_item.remainder) == (1, D("10"))


def test_returning_a_small_side_only_lowers_the_carry():
    """110 + 10 = 120: 2 items, 20 carried; returning the 10 USD side leaves 110 spent:
    still 2 items, 10 carried."""
    eng = engine()
    state = eng.new_state()
    eng.process(state, order("p1", at(2026, 3, 2), ("office-tray", "catering", 1, "110"), ("cookie", "sides", 1, "10")))
    eng.process(state, Refund("r1", "jess", at(2026, 3, 3), "p1", (RefundLine("cookie", 1),)))
    free_item = state.customers["jess"].cards["free_item"]
    assert (free_item.rewards, free_item.remainder) == (2, D("10"))
