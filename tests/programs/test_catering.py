"""Golden tests for programs/catering.loyal (MECHANICS item 9): 20% of each check
credited for the next visit; the credit may pay a check in full.

Every expected number is worked by hand; the arithmetic is next to each assertion.
"""

from __future__ import annotations

from decimal import Decimal as D
from zoneinfo import ZoneInfo

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund
from tests.programs.support import engine_fixture, run_sample_events, text_clock

NAME = "catering"
MSK = ZoneInfo("Europe/Moscow")


engine = engine_fixture(NAME)
at = text_clock(MSK)


MAX = "max"  # as much credit as the program allows (None in the event)


def check(pid, customer, when, price, redeem=None):
    """A check; `redeem` is None (spend no credit), MAX, or a number of points."""
    line = PurchaseLine("business-lunch", "meals", 1, D(price))
    wanted = () if redeem is None else (("credit", None if redeem == MAX else redeem),)
    return Purchase(pid, customer, at(when), (line,), (), wanted)


def earned(out) -> D:
    return sum((p for _, p, _, _ in out.earned), D(0))


def balance(engine, state, customer, when) -> D:
    return engine.report(state, customer, at(when)).wallets[0].available


def test_visit_1_credits_200_visit_2_redeems_it_and_earns_on_what_was_paid(engine):
    state = engine.new_state()
    first = engine.process(state, check("v1", "ivan", "2026-03-02T13:00", "1000"))
    assert first.paid == D("1000")
    assert earned(first) == D("200")  # 20% of 1,000
    assert balance(engine, state, "ivan", "2026-03-02T13:01") == D("200")  # ready for the next visit
    second = engine.process(state, check("v2", "ivan", "2026-03-03T13:00", "1500", redeem=MAX))
    assert second.redeemed == [("credit", D("200"), D("200"))]
    assert second.paid == D("1300")  # 1,500 - 200
    # The program's choice: 20% of what was paid, 1,300 x 0.20 = 260 (not 300 on 1,500).
    assert earned(second) == D("260")
    assert balance(engine, state, "ivan", "2026-03-03T13:01") == D("260")  # 200 - 200 + 260


def test_credit_pays_a_check_in_full(engine):
    state = engine.new_state()
    engine.process(state, check("v1", "ivan", "2026-03-02T13:00", "1000"))  # +200
    out = engine.process(state, check("v2", "ivan", "2026-03-03T09:00", "180", redeem=MAX))
    # Up to 100% of 180: 180 of the 200 are spent; nothing is paid in money.
    assert out.redeemed == [("credit", D("180"), D("180"))]
    assert out.paid == D("0")
    assert earned(out) == D("0")  # 20% of 0 paid
    assert balance(engine, state, "ivan", "2026-03-03T09:01") == D("20")  # 200 - 180


def test_spending_only_part_of_the_credit(engine):
    state = engine.new_state()
    engine.process(state, check("v1", "ivan", "2026-03-02T13:00", "1000"))  # +200
    out = engine.process(state, check("v2", "ivan", "2026-03-03T13:00", "1000", redeem=D("50")))
    assert out.paid == D("950")  # 1,000 - 50
    assert earned(out) == D("190")  # 950 x 0.20
    assert balance(engine, state, "ivan", "2026-03-03T13:01") == D("340")  # 200 - 50 + 190


def test_not_spending_the_credit_earns_on_the_whole_check(engine):
    state = engine.new_state()
    engine.process(state, check("v1", "ivan", "2026-03-02T13:00", "1000"))  # +200
    out = engine.process(state, check("v2", "ivan", "2026-03-03T13:00", "1500"))
    assert out.redeemed == []
    assert out.paid == D("1500")
    assert earned(out) == D("300")  # 1,500 x 0.20
    assert balance(engine, state, "ivan", "2026-03-03T13:01") == D("500")  # 200 + 300


def test_credit_is_whole_rubles(engine):
    state = engine.new_state()
    out = engine.process(state, check("v1", "ivan", "2026-03-02T13:00", "999"))
    assert earned(out) == D("199")  # 999 x 0.20 = 199.80 -> 199
    out = engine.process(state, check("v2", "ivan", "2026-03-02T19:00", "12.50"))
    assert earned(out) == D("2")  # 12.50 x 0.20 = 2.50 -> 2


def test_credit_does_not_burn(engine):
    state = engine.new_state()
    engine.process(state, check("v1", "ivan", "2026-03-02T13:00", "1000"))
    report = engine.report(state, "ivan", at("2029-03-02T13:00"))
    assert report.wallets[0].available == D("200")
    assert report.wallets[0].next_expiry is None


def test_refunded_check_takes_back_its_credit_and_gives_back_what_it_spent(engine):
    state = engine.new_state()
    engine.process(state, check("v1", "ivan", "2026-03-02T13:00", "1000"))  # +200
    engine.process(state, check("v2", "ivan", "2026-03-03T13:00", "1500", redeem=MAX))  # -200, +260
    out = engine.process(state, Refund("r2", "ivan", at("2026-03-04T10:00"), "v2"))
    assert out.status == "ok"
    assert out.taken_back == [("credit", D("260"))]
    assert out.given_back == [("credit", D("200"))]
    assert balance(engine, state, "ivan", "2026-03-04T10:01") == D("200")  # as after visit 1


def test_refund_gives_back_money_paid_and_credit_spent_separately(engine):
    state = engine.new_state()
    engine.process(state, check("v1", "ivan", "2026-03-02T13:00", "1000"))  # +200
    engine.process(state, check("v2", "ivan", "2026-03-03T13:00", "1500", redeem=MAX))  # paid 1,300 + 200 credit
    out = engine.process(state, Refund("r2", "ivan", at("2026-03-04T10:00"), "v2"))
    assert out.given_back == [("credit", D("200"))]  # the credit part comes back as credit
    assert out.refunded == D("1300")  # and only the 1,300 paid in money comes back as money


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, MSK)  # 10 to 40 events, every one ok
    assert len({o.customer for o in outcomes}) >= 3
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.redeemed and o.paid == 0 for o in outcomes)  # a check paid in full with credit
