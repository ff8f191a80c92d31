"""Golden tests for programs/volume.loyal (MECHANICS item 5: a progressive scale on
each order, 10,000 -> 5%, 20,000 -> 7%, 50,000 -> 10%, each rate on its part only).
Every expected number is worked by hand in a comment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund, RefundLine
from tests.programs.support import check_program, day_clock, load_engine, run_sample_events

NAME = "volume"
MSK = ZoneInfo("Europe/Moscow")
D = Decimal
engine = partial(load_engine, NAME)  # a fresh interpreter for each call
at = day_clock(MSK, hour=12)


def order(pid: str, amount: str, when: dt.datetime | None = None, customer: str = "anna"):
    return Purchase(pid, customer, when or at(2026, 3, 2), (PurchaseLine("tv-55", "electronics", 1, D(amount)),))


def pay(amount: str) -> Decimal:
    eng = engine()
    return eng.process(eng.new_state(), order("p1", amount)).paid


def test_program_checks_clean_with_no_dead_zone_warning():
    # `each part` has no dead zone, so not even the L006 warning.
    assert check_program(NAME).diagnostics == ()


def test_22000_pays_21360():
    # 5% x (20,000 - 10,000) + 7% x (22,000 - 20,000) = 500 + 140 = 640; 22,000 - 640.
    assert pay("22000") == D("21360.00")


def test_60000_pays_56400():
    # 500 + 7% x 30,000 + 10% x 10,000 = 500 + 2,100 + 1,000 = 3,600; 60,000 - 3,600.
    assert pay("60000") == D("56400.00")


@pytest.mark.parametrize(
    "amount, paid",
    [
        ("9999", "9999.00"),  # below the first step: nothing off
        ("10000", "10000.00"),  # at the step: 5% of the 0 above it
        ("15000", "14750.00"),  # 5% x 5,000 = 250 off
        ("19999", "19499.05"),  # 5% x 9,999 = 499.95 off
        ("20000", "19500.00"),  # 5% x 10,000 = 500 off: more than 19,999 pays, no dead zone
        ("50000", "47400.00"),  # 500 + 7% x 30,000 = 2,600 off
    ],
)
def test_the_discount_only_grows(amount: str, paid: str):
    assert pay(amount) == D(paid)


def test_each_order_is_measured_alone():
    eng = engine()
    state = eng.new_state()
    # Two orders of 11,000: each 5% x 1,000 = 50 off, 10,950; spend does not add up.
    assert eng.process(state, order("p1", "11000", at(2026, 3, 2))).paid == D("10950.00")
    assert eng.process(state, order("p2", "11000", at(2026, 3, 3))).paid == D("10950.00")


def test_discount_spread_over_lines_and_a_return_gives_back_its_share():
    eng = engine()
    state = eng.new_state()
    basket = Purchase(
        "p1",
        "anna",
        at(2026, 3, 2),
        (
            PurchaseLine("laptop", "electronics", 1, D("20000")),
            PurchaseLine("mouse", "accessories", 2, D("1000")),
        ),
    )
    out = eng.process(state, basket)
    # 22,000 -> 640 off (as above), 21,360 paid.
    assert out.discounts == [("progressive", D("640.00"))]
    assert out.paid == D("21360.00")
    # The 640 is spread by price: mice 640 x 2,000 / 22,000 = 58.1818 -> 58.18
    # (the laptop takes the leftover kopeck: 581.8181 -> 581.82). Returning both mice
    # gives back 2,000 - 58.18 = 1,941.82.
    refund = eng.process(state, Refund("r1", "anna", at(2026, 3, 5), "p1", (RefundLine("mouse", 2),)))
    assert refund.refunded == D("1941.82")


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, MSK)  # 10 to 40 events, every one ok
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.discounts for o in outcomes)
