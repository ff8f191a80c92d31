"""Golden tests for programs/lamps.loyal (MECHANICS item 16: B2B volume brackets on
packs of lamps counted over the calendar year, each rate on its own bracket).
Every expected number is worked by hand in a comment; a pack costs 10 GBP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund, RefundLine
from tests.programs.support import check_program, day_clock, load_engine, run_sample_events

NAME = "lamps"
LONDON = ZoneInfo("Europe/London")
D = Decimal
engine = partial(load_engine, NAME)  # a fresh interpreter for each call
at = day_clock(LONDON, hour=10)


def packs(pid: str, when: dt.datetime, quantity: int, price: str = "10", customer: str = "brightco", product: str = "led-e27-10pk") -> Purchase:
    return Purchase(pid, customer, when, (PurchaseLine(product, "lamps", quantity, D(price)),))


def pay(quantity: int) -> Decimal:
    """A fresh customer's single order of `quantity` packs."""
    eng = engine()
    return eng.process(eng.new_state(), packs("p1", at(2026, 3, 2), quantity)).paid


def test_program_checks_clean():
    assert check_program(NAME).diagnostics == ()


def test_250_packs_cost_2400():
    # 100 x 10 + 100 x 9.50 + 50 x 9.00 = 1,000 + 950 + 450 = 2,400.
    assert pay(250) == D("2400.00")


def test_350_packs_cost_3250_marginal():
    # 1,000 + 950 + 100 x 9.00 + 50 x 8.00 = 1,000 + 950 + 900 + 400 = 3,250.
    assert pay(350) == D("3250.00")


def test_bracket_edges_are_over():
    # "over 100": the 100th pack is still full price, the 101st is the first at 9.50.
    assert pay(100) == D("1000.00")  # 100 x 10
    assert pay(101) == D("1009.50")  # 1,000 + 9.50
    # 300 packs: 1,000 + 950 + 900 = 2,850; the 301st pack is the first at 8.00.
    assert pay(300) == D("2850.00")
    assert pay(301) == D("2858.00")  # 2,850 + 8.00: no cliff (20% on all would be 2,408)


def test_discount_is_named_after_the_scale():
    eng = engine()
    out = eng.process(eng.new_state(), packs("p1", at(2026, 3, 2), 250))
    # 250 x 10 = 2,500 list. Off: packs 101-200 100 x 0.50 = 50, packs 201-250
    # 50 x 1.00 = 50; 50 + 50 = 100 (2,500 - 100 = 2,400).
    assert out.subtotal == D("2500.00")
    assert out.discounts == [("lamp_brackets", D("100.00"))]


def test_count_runs_across_orders_in_the_year():
    eng = engine()
    state = eng.new_state()
    # January: 80 packs, all inside the first 100: 80 x 10 = 800.
    assert eng.process(state, packs("jan", at(2026, 1, 14), 80)).paid == D("800.00")
    # March: packs 81-130 of the year: 20 x 10 + 30 x 9.50 = 200 + 285 = 485.
    assert eng.process(state, packs("mar", at(2026, 3, 10), 50)).paid == D("485.00")
    # May: packs 131-330: 70 x 9.50 + 100 x 9.00 + 30 x 8.00 = 665 + 900 + 240 = 1,805.
    assert eng.process(state, packs("may", at(2026, 5, 5), 200)).paid == D("1805.00")


def test_count_resets_on_1_january_london_time():
    eng = engine()
    state = eng.new_state()
    # 250 packs in December 2025: 2,400 (as above); the count stands at 250.
    assert eng.process(state, packs("dec", at(2025, 12, 31, 23, 30), 250)).paid == D("2400.00")
    # 1 January 2026 00:30 London is a new year: packs 1-100 again, 100 x 10 = 1,000.
    assert eng.process(state, packs("jan", at(2026, 1, 1, 0, 30), 100)).paid == D("1000.00")
    # Later in January: packs 101-110 of 2026 at 9.50: 95.
    assert eng.process(state, packs("jan2", at(2026, 1, 20), 10)).paid == D("95.00")


def test_other_categories_neither_count_nor_get_the_bracket():
    eng = engine()
    state = eng.new_state()
    basket = Purchase(
        "p1",
        "brightco",
        at(2026, 4, 1),
        (
            PurchaseLine("led-e27-10pk", "lamps", 250, D("10")),
            PurchaseLine("ceiling-rose", "fittings", 120, D("2.50")),
        ),
    )
    out = eng.process(state, basket)
    # Lamps 2,400 (as above) + fittings 120 x 2.50 = 300 at full price: 2,700.
    assert out.paid == D("2700.00")
    # The count is 250 (fittings ignored): the next 10 packs are 251-260 at 9.00 = 90.
    assert eng.process(state, packs("p2", at(2026, 4, 2), 10)).paid == D("90.00")


def test_two_lamp_lines_share_one_count():
    eng = engine()
    basket = Purchase(
        "p1",
        "brightco",
        at(2026, 4, 1),
        (
            PurchaseLine("led-e27-10pk", "lamps", 120, D("10")),
            PurchaseLine("led-gu10-10pk", "lamps", 130, D("10")),
        ),
    )
    # 250 packs in all at 10 each: 2,400 (as above), whatever the split between lines.
    assert eng.process(eng.new_state(), basket).paid == D("2400.00")


def test_each_customer_has_their_own_count():
    eng = engine()
    state = eng.new_state()
    eng.process(state, packs("a1", at(2026, 2, 1), 250, customer="brightco"))
    # Another customer's first 100 packs are at full price: 1,000.
    assert eng.process(state, packs("b1", at(2026, 2, 2), 100, customer="lumen-ltd")).paid == D("1000.00")


def test_returned_packs_leave_the_count():
    eng = engine()
    state = eng.new_state()
    # 150 packs: 1,000 + 50 x 9.50 = 1,475.
    assert eng.process(state, packs("p1", at(2026, 1, 10), 150)).paid == D("1475.00")
    out = eng.process(state, Refund("r1", "brightco", at(2026, 1, 20), "p1", (RefundLine("led-e27-10pk", 50),)))
    assert out.status == "ok"
    # The count is back at 150 - 50 = 100: the next 10 packs are 101-110 at 9.50 = 95.
    assert eng.process(state, packs("p2", at(2026, 2, 1), 10)).paid == D("95.00")


def test_returned_packs_leave_the_count_when_the_order_had_other_items():
    eng = engine()
    state = eng.new_state()
    basket = Purchase(
        "p1",
        "brightco",
        at(2026, 1, 10),
        (
            PurchaseLine("led-e27-10pk", "lamps", 150, D("10")),
            PurchaseLine("flex-3core-50m", "cables", 1, D("500")),
        ),
    )
    # Lamps 1,000 + 50 x 9.50 = 1,475; cable 500 at full price: 1,975.
    assert eng.process(state, basket).paid == D("1975.00")
    out = eng.process(state, Refund("r1", "brightco", at(2026, 1, 20), "p1", (RefundLine("led-e27-10pk", 50),)))
    assert out.status == "ok"
    # 150 - 50 returned = 100 packs counted: the next 100 packs are 101-200, all at
    # 9.50: 950.
    assert eng.process(state, packs("p2", at(2026, 2, 1), 100)).paid == D("950.00")


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, LONDON)  # 10 to 40 events, every one ok
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.discounts for o in outcomes)
