"""Golden tests for programs/flyingclub.loyal (MECHANICS item 14: Red, Silver 1.5x,
Gold 2x, an Honorary tier by hand; the US Airways "more than 100,000 miles" edge).
Every expected number is worked by hand in a comment. A fare of 1 GBP is 1 base mile."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.runtime.model import CustomerEvent, Purchase, PurchaseLine, Refund
from tests.programs.support import check_program, day_clock, load_engine, run_sample_events

NAME = "flyingclub"
LONDON = ZoneInfo("Europe/London")
D = Decimal
engine = partial(load_engine, NAME)  # a fresh interpreter for each call
at = day_clock(LONDON, hour=10)


def fare(pid: str, when: dt.datetime, price: str, customer: str = "amelia", redeem=()) -> Purchase:
    return Purchase(pid, customer, when, (PurchaseLine("LHR-JFK", "fares", 1, D(price)),), redeem=tuple(redeem))


def signup(customer: str, when: dt.datetime) -> CustomerEvent:
    return CustomerEvent(f"signup-{customer}", customer, when, "signup")


def grant(customer: str, tier: str, when: dt.datetime) -> CustomerEvent:
    return CustomerEvent(f"grant-{customer}-{tier}", customer, when, "tier", tier=tier)


def miles(eng, state, customer: str, when: dt.datetime) -> Decimal:
    (wallet,) = eng.report(state, customer, when).wallets
    assert wallet.name == "miles"
    return wallet.available


def earned(out) -> Decimal:
    return sum((amount for wallet, amount, _, _ in out.earned if wallet == "miles"), D(0))


def test_program_checks_clean():
    assert check_program(NAME).diagnostics == ()


def test_red_on_joining():
    eng = engine()
    state = eng.new_state()
    out = eng.process(state, signup("amelia", at(2026, 1, 5)))
    assert out.tier_after == "Red"  # 0 miles, and Red is "from 0 miles"
    assert eng.report(state, "amelia", at(2026, 1, 5, 11)).tier == "Red"


@pytest.mark.parametrize(
    "tier, credited",
    [
        ("Red", "1000"),  # 1,000 base miles x 1
        ("Silver", "1500"),  # 1,000 x 1.5
        ("Gold", "2000"),  # 1,000 x 2
        ("Honorary", "2000"),  # 1,000 x 2 (earns like Gold)
    ],
)
def test_1000_base_miles_by_status(tier: str, credited: str):
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("amelia", at(2026, 2, 1)))
    if tier != "Red":
        assert eng.process(state, grant("amelia", tier, at(2026, 2, 2))).status == "ok"
    out = eng.process(state, fare("f1", at(2026, 2, 3), "1000"))
    assert out.tier_before == tier
    assert out.earned[0][0] == "miles"
    assert earned(out) == D(credited)
    assert miles(eng, state, "amelia", at(2026, 2, 3, 11)) == D(credited)


def test_more_than_100000_miles_for_gold_exactly_100000_stays_silver():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("amelia", at(2026, 1, 2)))
    # Fare 1: 30,000 GBP at Red: 30,000 miles. It reaches Silver ("from 30000"), which
    # counts from the next fare.
    out = eng.process(state, fare("f1", at(2026, 1, 10), "30000"))
    assert earned(out) == D("30000")
    assert out.tier_after == "Silver"
    # Fare 2: 46,000 GBP at Silver: 46,000 x 1.5 = 69,000; year total 99,000.
    out = eng.process(state, fare("f2", at(2026, 2, 10), "46000"))
    assert earned(out) == D("69000")
    assert out.tier_after == "Silver"
    # Fare 3: 666.67 GBP x 1.5 = 1,000.005 -> 1,000 (miles round down); total exactly
    # 100,000, which is not MORE than 100,000: still Silver.
    out = eng.process(state, fare("f3", at(2026, 3, 10), "666.67"))
    assert earned(out) == D("1000")
    assert out.tier_after == "Silver"
    # Fare 4: 1 GBP x 1.5 = 1.5 -> 1 mile; total 100,001 > 100,000: Gold.
    out = eng.process(state, fare("f4", at(2026, 4, 10), "1"))
    assert earned(out) == D("1")
    assert out.tier_after == "Gold"
    # Fare 5 earns at Gold: 1,000 x 2 = 2,000.
    out = eng.process(state, fare("f5", at(2026, 5, 10), "1000"))
    assert earned(out) == D("2000")
    # Balance: 30,000 + 69,000 + 1,000 + 1 + 2,000 = 102,001.
    assert miles(eng, state, "amelia", at(2026, 5, 10, 11)) == D("102001")


def test_honorary_is_never_reached_by_miles():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("amelia", at(2026, 1, 2)))
    eng.process(state, fare("f1", at(2026, 1, 10), "60000"))  # 60,000 miles: Silver
    eng.process(state, fare("f2", at(2026, 2, 10), "60000"))  # 90,000 more: 150,000 in all
    report = eng.report(state, "amelia", at(2026, 2, 11))
    # 150,000 > 100,000 is Gold, the highest tier miles can reach.
    assert report.tier == "Gold"


def test_honorary_survives_the_yearly_review():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("sir-richard", at(2026, 1, 2)))
    eng.process(state, grant("sir-richard", "Honorary", at(2026, 1, 3)))
    # No miles at all in 2026, and still Honorary after the 1 January 2027 review.
    assert eng.report(state, "sir-richard", at(2027, 1, 15)).tier == "Honorary"


def test_yearly_review_keeps_the_status_earned_last_year():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("amelia", at(2026, 1, 2)))
    eng.process(state, fare("f1", at(2026, 3, 1), "40000"))  # 40,000 miles in 2026: Silver
    assert eng.report(state, "amelia", at(2026, 12, 31)).tier == "Silver"
    # On 1 January 2027 the review looks at 2026: 40,000 >= 30,000 qualifies for Silver.
    assert eng.report(state, "amelia", at(2027, 1, 2)).tier == "Silver"


def test_yearly_review_drops_to_what_last_year_qualifies_for():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("oliver", at(2026, 1, 2)))
    eng.process(state, fare("o1", at(2026, 3, 1), "40000", customer="oliver"))  # 40,000: Silver
    # oliver earns nothing in 2027: the 1 January 2028 review looks at 2027 (0 miles),
    # which qualifies for Red only, and `downgrade to qualified` drops him there.
    assert eng.report(state, "oliver", at(2028, 1, 2)).tier == "Red"


def test_a_status_granted_by_hand_is_not_reviewed():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("amelia", at(2026, 1, 2)))
    eng.process(state, grant("amelia", "Gold", at(2026, 1, 3)))
    # No miles in 2026 or 2027, and still Gold after both reviews: a grant is by hand.
    assert eng.report(state, "amelia", at(2028, 1, 2)).tier == "Gold"


def test_miles_never_expire():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("amelia", at(2026, 1, 2)))
    eng.process(state, fare("f1", at(2026, 1, 10), "1234.99"))  # 1,234.99 -> 1,234 miles
    assert miles(eng, state, "amelia", at(2036, 1, 10)) == D("1234")
    assert eng.report(state, "amelia", at(2036, 1, 10)).wallets[0].next_expiry is None


def test_miles_pay_a_fare_and_the_part_paid_with_miles_earns_nothing():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("amelia", at(2026, 1, 2)))
    eng.process(state, fare("f1", at(2026, 1, 10), "1000"))  # 1,000 miles at Red
    out = eng.process(state, fare("f2", at(2026, 2, 10), "200", redeem=[("miles", D("1000"))]))
    # 1,000 miles x 0.01 GBP = 10 GBP off: 200 - 10 = 190 paid.
    assert out.redeemed == [("miles", D("1000"), D("10.00"))]
    assert out.paid == D("190.00")
    # Earned on the 190 paid in money: 190 miles.
    assert earned(out) == D("190")
    # 1,000 - 1,000 + 190 = 190.
    assert miles(eng, state, "amelia", at(2026, 2, 10, 11)) == D("190")


def test_a_cancelled_fare_takes_its_miles_back():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("amelia", at(2026, 1, 2)))
    eng.process(state, fare("f1", at(2026, 1, 10), "500"))  # 500 miles
    eng.process(state, fare("f2", at(2026, 1, 20), "700"))  # 700 miles
    out = eng.process(state, Refund("r2", "amelia", at(2026, 1, 25), "f2"))
    assert out.refunded == D("700.00")
    assert out.taken_back == [("miles", D("700"))]
    assert miles(eng, state, "amelia", at(2026, 1, 26)) == D("500")  # 1,200 - 700


def test_report_says_how_many_miles_gold_needs():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("amelia", at(2026, 1, 2)))
    eng.process(state, fare("f1", at(2026, 1, 10), "30000"))  # 30,000 miles: Silver
    eng.process(state, fare("f2", at(2026, 2, 10), "46000"))  # 69,000 more: 99,000
    report = eng.report(state, "amelia", at(2026, 2, 11))
    # Gold is MORE than 100,000: with whole miles the member needs 100,001 - 99,000 =
    # 1,001 more (1,000 more would make exactly 100,000, still Silver).
    assert report.next_tier == ("Gold", D("1001"))


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, LONDON)  # 10 to 40 events, every one ok
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.kind == "tier" for o in outcomes)
    assert any(o.redeemed for o in outcomes)
