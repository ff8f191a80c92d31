"""Golden tests for programs/clubdiscount.loyal (MECHANICS item 23): a one-time 20%
discount on a single purchase of at least 200 USD.

Every expected number is worked by hand; the arithmetic is next to each assertion.
"""

from __future__ import annotations

from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.runtime.model import Purchase, PurchaseLine
from tests.programs.support import discounts, engine_fixture, run_sample_events, text_clock

NAME = "clubdiscount"
NY = ZoneInfo("America/New_York")


engine = engine_fixture(NAME)
at = text_clock(NY)


def buy(pid, customer, when, price, product="throw-blanket", quantity=1):
    return Purchase(pid, customer, at(when), (PurchaseLine(product, "home", quantity, D(price)),))


@pytest.mark.parametrize(
    "price, discount, paid",
    [
        ("250", "50", "200"),  # 20% of 250 = 50 -> 200
        ("200", "40", "160"),  # exactly 200 qualifies (`>=`): 20% = 40 -> 160
        ("199", None, "199"),  # under 200: full price
        ("199.99", None, "199.99"),  # one cent short
        ("250.55", "50.11", "200.44"),  # 20% of 250.55 = 50.11 -> 200.44
    ],
)
def test_one_purchase_of_at_least_200(engine, price, discount, paid):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "amy", "2026-03-10T12:00", price))
    assert discounts(out) == ({} if discount is None else {"welcome_20": D(discount)})
    assert out.paid == D(paid)


def test_the_second_qualifying_purchase_pays_full(engine):
    state = engine.new_state()
    first = engine.process(state, buy("p1", "amy", "2026-03-10T12:00", "250"))
    assert first.paid == D("200")  # 250 - 20%
    second = engine.process(state, buy("p2", "amy", "2026-04-10T12:00", "300"))
    assert second.discounts == []
    assert second.paid == D("300")  # already used once


def test_a_small_purchase_does_not_use_it_up(engine):
    state = engine.new_state()
    small = engine.process(state, buy("p1", "amy", "2026-03-10T12:00", "199"))
    assert small.paid == D("199")
    big = engine.process(state, buy("p2", "amy", "2026-03-11T12:00", "200"))
    assert big.paid == D("160")  # the first qualifying purchase: 200 - 40


def test_small_purchases_do_not_add_up(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "amy", "2026-03-10T12:00", "150"))
    out = engine.process(state, buy("p2", "amy", "2026-03-10T12:30", "150"))
    assert out.paid == D("150")  # 150 + 150 in two purchases: neither reaches 200


def test_the_basket_adds_up_within_one_purchase(engine):
    state = engine.new_state()
    lines = (PurchaseLine("mug", "gifts", 4, D("25")), PurchaseLine("throw-blanket", "home", 1, D("100")))
    out = engine.process(state, Purchase("p1", "amy", at("2026-03-10T12:00"), lines))
    assert out.paid == D("160")  # 4 x 25 + 100 = 200 -> 20% = 40 -> 160


def test_each_customer_has_their_own(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "amy", "2026-03-10T12:00", "250"))
    other = engine.process(state, buy("p2", "ben", "2026-03-10T12:05", "250"))
    assert other.paid == D("200")  # Ben's own one-time 20%


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, NY)  # 10 to 40 events, every one ok
    assert len({o.customer for o in outcomes}) >= 3
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.discounts for o in outcomes)
