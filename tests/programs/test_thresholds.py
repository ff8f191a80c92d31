"""Golden tests for programs/thresholds.loyal (MECHANICS item 19): a single purchase
of more than 10,000 RUB gets 5%.

Every expected number is worked by hand; the arithmetic is next to each assertion.
"""

from __future__ import annotations

from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund, RefundLine
from tests.programs.support import discounts, engine_fixture, run_sample_events, text_clock

NAME = "thresholds"
MSK = ZoneInfo("Europe/Moscow")


engine = engine_fixture(NAME)
at = text_clock(MSK)


def buy(pid, customer, when, *lines):
    return Purchase(pid, customer, at(when), tuple(PurchaseLine(p, "appliances", q, D(price)) for p, q, price in lines))


@pytest.mark.parametrize(
    "price, discount, paid",
    [
        ("12000", "600", "11400"),  # 12,000 > 10,000: 5% = 600 -> 11,400
        ("10000", None, "10000"),  # exactly 10,000 is not MORE than 10,000: full price
        ("10000.01", "500.00", "9500.01"),  # 5% = 500.0005 -> 500.00 -> 9,500.01
        ("10001", "500.05", "9500.95"),  # 5% = 500.05 -> 9,500.95 (pays less than 10,000)
        ("9999.99", None, "9999.99"),  # under the threshold
        ("250000", "12500", "237500"),  # no cap: 5% of 250,000 = 12,500
    ],
)
def test_single_threshold_over_10000(engine, price, discount, paid):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "ann", "2026-03-10T12:00", ("fridge", 1, price)))
    assert discounts(out) == ({} if discount is None else {"big_purchase": D(discount)})
    assert out.paid == D(paid)


def test_the_threshold_is_on_the_whole_basket(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "ann", "2026-03-10T12:00", ("kettle", 2, "3000"), ("toaster", 1, "4500")))
    # 2 x 3,000 + 4,500 = 10,500 > 10,000: 5% = 525, spread over the lines.
    assert discounts(out) == {"big_purchase": D("525")}
    assert out.paid == D("9975")


def test_purchases_do_not_add_up(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "ann", "2026-03-10T12:00", ("kettle", 1, "6000")))
    out = engine.process(state, buy("p2", "ann", "2026-03-11T12:00", ("toaster", 1, "6000")))
    assert out.discounts == []  # 6,000 + 6,000 in two purchases: neither is over 10,000


def test_returning_one_line_refunds_its_discounted_price(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "ann", "2026-03-10T12:00", ("kettle", 2, "3000"), ("toaster", 1, "6000")))
    # 12,000 -> 5% = 600: the kettles' line (6,000) carries 300 of it, the toaster 300.
    out = engine.process(state, Refund("r1", "ann", at("2026-03-12T12:00"), "p1", (RefundLine("kettle", 1),)))
    assert out.refunded == D("2850")  # one kettle: 3,000 - 150


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, MSK)  # 10 to 40 events, every one ok
    assert len({o.customer for o in outcomes}) >= 3
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.discounts for o in outcomes)
