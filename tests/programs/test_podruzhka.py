"""Golden tests for programs/podruzhka.loyal (MECHANICS item 10): a monthly credit by
last calendar month's purchases, usable the next month only.

Every expected number is worked by hand; the arithmetic is next to each assertion.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund, RefundLine
from tests.programs.support import engine_fixture, run_sample_events, text_clock

NAME = "podruzhka"
MSK = ZoneInfo("Europe/Moscow")


engine = engine_fixture(NAME)
at = text_clock(MSK)


def buy(pid, customer, when, price, product="lipstick", quantity=1, redeem=()):
    line = PurchaseLine(product, "cosmetics", quantity, D(price))
    return Purchase(pid, customer, at(when), (line,), (), tuple(redeem))


def credit(engine, state, customer, when) -> D:
    return engine.report(state, customer, at(when)).wallets[0].available


# ------------------------------------------------------------------ the worked numbers


def test_5000_in_march_gives_750_in_april_gone_on_1_may(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "olga", "2026-03-15T12:00", "5000"))
    assert out.paid == D("5000")  # no discount at the till
    assert out.earned == []  # nothing until the month is over
    assert credit(engine, state, "olga", "2026-03-31T23:59:59") == D(0)
    # 5,000 >= 1,500 -> 15% of the whole 5,000 = 750, from 1 April 00:00 Moscow.
    assert credit(engine, state, "olga", "2026-04-01T00:00") == D("750")
    report = engine.report(state, "olga", at("2026-04-30T23:59:59"))
    assert report.wallets[0].available == D("750")
    assert report.wallets[0].next_expiry == (at("2026-05-01T00:00"), D("750"))
    # Burned at 00:00 on 1 May, Moscow time (30 April 21:00 UTC).
    assert credit(engine, state, "olga", "2026-05-01T00:00") == D(0)


def test_burn_instant_is_midnight_in_moscow_not_utc(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-15T12:00", "5000"))
    utc = dt.UTC
    before = engine.report(state, "olga", dt.datetime(2026, 4, 30, 20, 59, 59, tzinfo=utc))
    assert before.wallets[0].available == D("750")  # 23:59:59 in Moscow
    after = engine.report(state, "olga", dt.datetime(2026, 4, 30, 21, 0, tzinfo=utc))
    assert after.wallets[0].available == D(0)  # 00:00 on 1 May in Moscow


@pytest.mark.parametrize(
    "spend, expected",
    [
        ("800", "24"),  # under 1,000 -> 3%: 800 x 0.03 = 24
        ("1200", "120"),  # 1,000..1,499.99 -> 10%: 1,200 x 0.10 = 120
        ("999", "29.97"),  # 999 x 0.03 = 29.97 (credit kept to the kopeck)
        ("1000", "100"),  # the edge: `from 1000` -> 10%: 1,000 x 0.10 = 100 (`over` would give 30)
        ("1499.99", "149.99"),  # just under 1,500: 1,499.99 x 0.10 = 149.999 -> floored to the kopeck
        ("1500", "225"),  # the edge: `from 1500` -> 15%: 1,500 x 0.15 = 225 (`over` would give 150)
        ("5000", "750"),  # 5,000 x 0.15 = 750
    ],
)
def test_rate_by_last_months_spend(engine, spend, expected):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-15T12:00", spend))
    assert credit(engine, state, "olga", "2026-04-01T00:00") == D(expected)


def test_visits_in_a_month_add_up(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-02T12:00", "700"))
    engine.process(state, buy("p2", "olga", "2026-03-20T12:00", "500"))
    engine.process(state, buy("p3", "olga", "2026-03-31T23:30", "300"))  # still March in Moscow
    # 700 + 500 + 300 = 1,500 -> 15% of 1,500 = 225 (not 3% + 3% + 3% per visit).
    assert credit(engine, state, "olga", "2026-04-01T00:00") == D("225")


def test_a_purchase_after_midnight_moscow_counts_for_the_next_month(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-20T12:00", "1200"))
    # 31 March 21:30 UTC is 1 April 00:30 in Moscow: an April purchase.
    late = Purchase("p2", "olga", dt.datetime(2026, 3, 31, 21, 30, tzinfo=dt.UTC), (PurchaseLine("cream", "care", 1, D("300")),))
    engine.process(state, late)
    # March: 1,200 only -> 10% = 120. April: 300 -> 3% = 9, in May.
    assert credit(engine, state, "olga", "2026-04-01T01:00") == D("120")
    assert credit(engine, state, "olga", "2026-05-01T00:00") == D("9")


def test_credit_is_for_the_next_month_only(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-01-20T12:00", "5000"))
    # January's 750 arrives 1 February and burns 1 March; February had no purchases,
    # so nothing arrives on 1 March.
    assert credit(engine, state, "olga", "2026-02-01T00:00") == D("750")
    assert credit(engine, state, "olga", "2026-03-01T00:00") == D(0)
    assert credit(engine, state, "olga", "2026-04-01T00:00") == D(0)


# ------------------------------------------------------------------ spending the credit


def test_redeeming_the_credit_in_april(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-15T12:00", "5000"))
    out = engine.process(state, buy("p2", "olga", "2026-04-10T12:00", "1000", redeem=[("credit", None)]))
    # Up to 100% of 1,000: all 750 are used; 1,000 - 750 = 250 paid in money.
    assert out.earned[0][1] == D("750")  # March's credit, arriving as April began
    assert out.redeemed == [("credit", D("750"), D("750"))]
    assert out.paid == D("250")
    assert credit(engine, state, "olga", "2026-04-10T12:01") == D(0)


def test_credit_can_pay_a_purchase_in_full_and_the_rest_burns(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-15T12:00", "5000"))
    out = engine.process(state, buy("p2", "olga", "2026-04-10T12:00", "500", redeem=[("", None)]))
    assert out.redeemed == [("credit", D("500"), D("500"))]  # 100% of 500
    assert out.paid == D("0")
    assert credit(engine, state, "olga", "2026-04-30T23:59") == D("250")  # 750 - 500
    # At 00:00 on 1 May the 250 left burn, and April's credit arrives: April's purchase
    # of 500 (paid with credit, still counted) -> 3% = 15.
    assert credit(engine, state, "olga", "2026-05-01T00:00") == D("15")


def test_spending_credit_after_it_burns_gives_nothing(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-15T12:00", "5000"))
    out = engine.process(state, buy("p2", "olga", "2026-05-01T00:00", "1000", redeem=[("credit", None)]))
    assert out.expired == [("credit", D("750"))]
    assert out.redeemed == []
    assert out.paid == D("1000")


def test_a_month_paid_with_credit_still_counts_in_full(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-15T12:00", "5000"))
    engine.process(state, buy("p2", "olga", "2026-04-10T12:00", "1200", redeem=[("credit", None)]))
    # April's purchases: 1,200 (of which 750 paid with credit): 10% of 1,200 = 120.
    assert credit(engine, state, "olga", "2026-05-01T00:00") == D("120")


def test_the_burn_is_reported_even_when_a_new_credit_arrives(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-15T12:00", "1000"))  # March: 10% -> 100
    engine.process(state, buy("p2", "olga", "2026-04-15T12:00", "500"))  # April: 3% -> 15; the 100 unused
    out = engine.process(state, buy("p3", "olga", "2026-05-09T12:00", "200"))
    # 1 May 00:00: March's 100 burn and April's 15 arrive; the first event after it
    # should say both.
    assert out.earned[0][1] == D("15")
    assert out.expired == [("credit", D("100"))]


# ------------------------------------------------------------------ returns


def test_a_return_in_the_same_month_lowers_the_credit(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-10T12:00", "1000", product="perfume", quantity=5))
    engine.process(state, Refund("r1", "olga", at("2026-03-12T12:00"), "p1", (RefundLine("perfume", 2),)))
    # 5,000 - 2 x 1,000 = 3,000 in March -> 15% = 450.
    assert credit(engine, state, "olga", "2026-04-01T00:00") == D("450")


def test_a_return_that_drops_the_month_into_a_lower_band(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-10T12:00", "400", product="mascara", quantity=4))
    engine.process(state, Refund("r1", "olga", at("2026-03-20T12:00"), "p1", (RefundLine("mascara", 1),)))
    # 1,600 - 400 = 1,200 -> 10% = 120 (not 15% of 1,600 = 240).
    assert credit(engine, state, "olga", "2026-04-01T00:00") == D("120")


def test_a_return_after_the_credit_arrived_takes_the_credit_back(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "olga", "2026-03-28T12:00", "5000"))
    assert credit(engine, state, "olga", "2026-04-01T00:00") == D("750")
    engine.process(state, Refund("r1", "olga", at("2026-04-03T12:00"), "p1"))
    # March's purchases are now 0, so March's 750 credit should be withdrawn.
    assert credit(engine, state, "olga", "2026-04-03T12:01") == D(0)


# ------------------------------------------------------------------ the sample events


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, MSK)  # 10 to 40 events, every one ok
    assert len({o.customer for o in outcomes}) >= 3
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.redeemed for o in outcomes)
    assert any(o.expired for o in outcomes)
