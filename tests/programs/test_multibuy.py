"""Golden tests for programs/multibuy.loyal (MECHANICS item 12: buy two get the third
free, second item 50%; item 36: a promotion and card bonuses on the same purchase).
Every expected number is worked by hand in a comment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund
from tests.programs.support import check_program, day_clock, load_engine, run_sample_events

NAME = "multibuy"
MSK = ZoneInfo("Europe/Moscow")
D = Decimal
engine = partial(load_engine, NAME)  # a fresh interpreter for each call
at = day_clock(MSK, hour=12)


def buy(*lines: tuple[str, str, int, str], pid: str = "p1", when: dt.datetime | None = None, customer: str = "lena", redeem=()) -> Purchase:
    return Purchase(
        pid,
        customer,
        when or at(2026, 3, 2),
        tuple(PurchaseLine(product, category, quantity, D(price)) for product, category, quantity, price in lines),
        redeem=tuple(redeem),
    )


def run(*lines, **kw):
    eng = engine()
    return eng.process(eng.new_state(), buy(*lines, **kw))


def points(out) -> Decimal:
    return sum((p for w, p, _, _ in out.earned if w == "bonus"), D(0))


def test_program_checks_clean():
    assert check_program(NAME).diagnostics == ()


@pytest.mark.parametrize(
    "packs, paid, free",
    [
        (2, "198.00", "0"),  # no full group of three: 2 x 99
        (3, "198.00", "99.00"),  # 3 x 99 - 1 free = 198
        (6, "396.00", "198.00"),  # 6 x 99 - 2 free = 594 - 198 = 396 (repeating)
        (7, "495.00", "198.00"),  # 7 x 99 - 2 free = 693 - 198 = 495 (the 7th is paid)
        (9, "594.00", "297.00"),  # 9 x 99 - 3 free = 891 - 297 = 594
    ],
)
def test_buy_two_get_the_third_free_repeating(packs: int, paid: str, free: str):
    out = run(("earl-grey-25", "packs", packs, "99"))
    assert out.paid == D(paid)
    assert out.discounts == ([("three_for_two", D(free))] if D(free) else [])


def test_the_cheapest_pack_is_free_when_prices_differ():
    out = run(
        ("assam-100", "packs", 1, "120"),
        ("earl-grey-25", "packs", 1, "99"),
        ("green-20", "packs", 1, "80"),
    )
    # 120 + 99 + 80 = 299; the cheapest (80) is free: 219.
    assert out.subtotal == D("299.00")
    assert out.discounts == [("three_for_two", D("80.00"))]
    assert out.paid == D("219.00")


def test_the_same_three_packs_in_any_order():
    out = run(
        ("green-20", "packs", 1, "80"),
        ("assam-100", "packs", 1, "120"),
        ("earl-grey-25", "packs", 1, "99"),
    )
    assert out.discounts == [("three_for_two", D("80.00"))]  # still the 80 pack


def test_six_packs_at_six_prices_free_the_two_cheapest():
    out = run(
        ("p150", "packs", 1, "150"),
        ("p140", "packs", 1, "140"),
        ("p130", "packs", 1, "130"),
        ("p120", "packs", 1, "120"),
        ("p110", "packs", 1, "110"),
        ("p100", "packs", 1, "100"),
    )
    # "The cheapest is free" over the basket: 6 packs give 2 free, the two cheapest
    # (110 and 100): 210 off; 750 - 210 = 540.
    assert out.discounts == [("three_for_two", D("210.00"))]
    assert out.paid == D("540.00")


def test_second_shampoo_at_half_price():
    out = run(("head-shoulders-400", "shampoo", 2, "99"))
    # 99 + 99 x 50% = 99 + 49.50 = 148.50.
    assert out.discounts == [("second_half_price", D("49.50"))]
    assert out.paid == D("148.50")


def test_second_shampoo_half_price_is_the_cheaper_bottle_and_repeats():
    out = run(
        ("head-shoulders-400", "shampoo", 1, "300"),
        ("timotei-250", "shampoo", 3, "99"),
    )
    # 4 bottles: 2 at half price, the two cheapest (99 and 99): 49.50 + 49.50 = 99.
    # 300 + 3 x 99 = 597; 597 - 99 = 498.
    assert out.discounts == [("second_half_price", D("99.00"))]
    assert out.paid == D("498.00")


def test_deals_and_bonuses_on_the_same_purchase():
    out = run(
        ("earl-grey-25", "packs", 3, "99"),
        ("head-shoulders-400", "shampoo", 2, "99"),
        ("bread", "other", 1, "55"),
    )
    # Packs 198 (one free), shampoo 148.50, bread 55: 401.50 paid.
    assert out.subtotal == D("550.00")  # 5 x 99 + 55
    assert out.discounts == [("three_for_two", D("99.00")), ("second_half_price", D("49.50"))]
    assert out.paid == D("401.50")
    # Bonuses on the money paid: 401.50 / 10 = 40.15 -> 40 (rounded down).
    assert points(out) == D("40")
    # Pending until the next day (1 day after 2 March 12:00).
    assert out.earned[0][3] == at(2026, 3, 3)


def test_bonuses_pay_half_and_the_deal_still_applies():
    eng = engine()
    state = eng.new_state()
    eng.process(state, buy(("bread", "other", 10, "100"), pid="p1", when=at(2026, 3, 1)))  # 1,000 paid: 100 bonuses
    out = eng.process(state, buy(("earl-grey-25", "packs", 3, "99"), pid="p2", when=at(2026, 3, 5), redeem=[("bonus", None)]))
    # 3 packs: 198 after the deal; up to 50% of 198 = 99 bonuses; 198 - 99 = 99 paid.
    assert out.redeemed == [("bonus", D("99"), D("99.00"))]
    assert out.paid == D("99.00")
    # Earned on 99 paid: 9.9 -> 9 bonuses. Balance 100 - 99 + 9 pending.
    assert points(out) == D("9")
    report = eng.report(state, "lena", at(2026, 3, 5, 13))
    assert report.wallets[0].available == D("1")
    assert report.wallets[0].pending == D("9")


def test_returning_a_whole_three_for_two_basket():
    eng = engine()
    state = eng.new_state()
    out = eng.process(state, buy(("earl-grey-25", "packs", 3, "99")))
    assert points(out) == D("19")  # 198 paid / 10 = 19.8 -> 19
    out = eng.process(state, Refund("r1", "lena", at(2026, 3, 3), "p1"))
    # The whole receipt comes back: the 198 paid, and the 19 bonuses are taken back.
    assert out.refunded == D("198.00")
    assert out.taken_back == [("bonus", D("19"))]
    report = eng.report(state, "lena", at(2026, 3, 4))
    assert (report.wallets[0].available, report.wallets[0].pending) == (D("0"), D("0"))


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, MSK)  # 10 to 40 events, every one ok
    assert any(o.kind == "refund" for o in outcomes)
    assert any(len(o.discounts) == 2 for o in outcomes)



def test_points_never_pay_more_than_half_of_a_receipt():
    """99 RUB earns 9 bonus; later, 50% of 9.99 is 4.995: the cap rounds down, so 4
    bonuses pay and 5.99 is paid (rounding 4.995 to 5.00 would let bonuses pay 50.05%)."""
    eng = engine()
    state = eng.new_state()
    eng.process(state, buy(("assam-100", "other", 1, "99"), pid="p1", when=at(2026, 3, 2)))
    out = eng.process(state, buy(("assam-100", "other", 1, "9.99"), pid="p2", when=at(2026, 3, 20), redeem=(("", None),)))
    assert out.paid == D("5.99")
