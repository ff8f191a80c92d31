"""Golden tests for programs/unicode.loyal: Persian tier and category names (one with a
zero-width non-joiner), a Gujarati category, Kuwaiti dinars with three decimals,
signup / birthday / review bonuses and a Tuesday happy-hour multiplier.
Every expected number is worked by hand in a comment."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from loyaldsl.runtime.model import CustomerEvent, Purchase, PurchaseLine, Refund
from tests.programs.support import check_program, day_clock, load_engine, program_source, run_sample_events

NAME = "unicode"
KUWAIT = ZoneInfo("Asia/Kuwait")
D = Decimal

BRONZE, SILVER, GOLD = "برنزی", "نقره\u200cای", "طلایی"
COFFEE, TEA, PASTRY, SWEETS = "قهوه", "چای", "شیرینی", "મીઠાઈ"
WALLET = "امتیاز"
engine = partial(load_engine, NAME)  # a fresh interpreter for each call
at = day_clock(KUWAIT, hour=10)


def buy(pid: str, when: dt.datetime, category: str, price: str, quantity: int = 1, customer: str = "سارا", redeem=()) -> Purchase:
    return Purchase(pid, customer, when, (PurchaseLine(f"item-{category}", category, quantity, D(price)),), redeem=tuple(redeem))


def signup(customer: str, when: dt.datetime, birth: dt.date | None = None) -> CustomerEvent:
    return CustomerEvent(f"signup-{customer}", customer, when, "signup", birth_date=birth)


def points(eng, state, when: dt.datetime, customer: str = "سارا") -> Decimal:
    (wallet,) = eng.report(state, customer, when).wallets
    assert wallet.name == WALLET
    return wallet.available


def earned(out) -> Decimal:
    return sum((p for w, p, _, _ in out.earned if w == WALLET), D(0))


def test_program_checks_clean_and_keeps_the_names():
    assert unicodedata.is_normalized("NFC", program_source(NAME))
    checked = check_program(NAME)
    assert checked.diagnostics == ()
    assert checked.symbols.tiers == (BRONZE, SILVER, GOLD)  # the ZWNJ stays inside نقره‌ای
    assert checked.symbols.categories == frozenset({COFFEE, TEA, PASTRY, SWEETS})


def test_kwd_rounds_to_the_fils_half_even():
    eng = engine()
    state = eng.new_state()
    out = eng.process(state, buy("p1", at(2026, 3, 1), COFFEE, "1.25"))
    assert out.discounts == []  # no earlier order: no returning-customer discount
    assert out.paid == D("1.250")
    out = eng.process(state, buy("p2", at(2026, 3, 2), COFFEE, "1.25"))
    # 5% x 1.250 = 0.0625, a half: to the even fils 0.062; 1.250 - 0.062 = 1.188.
    assert out.discounts == [("قهوه_دوباره", D("0.062"))]
    assert out.paid == D("1.188")
    assert out.paid.as_tuple().exponent == -3
    out = eng.process(state, buy("p3", at(2026, 3, 4), COFFEE, "1.27"))
    # 5% x 1.270 = 0.0635, a half: to the even fils 0.064; 1.270 - 0.064 = 1.206.
    assert out.discounts == [("قهوه_دوباره", D("0.064"))]
    assert out.paid == D("1.206")
    out = eng.process(state, buy("p4", at(2026, 3, 5), COFFEE, "0.333", quantity=3))
    # 3 x 0.333 = 0.999; 5% = 0.04995 -> 0.050; 0.999 - 0.050 = 0.949.
    assert out.paid == D("0.949")


def test_points_on_kwd_round_down():
    eng = engine()
    out = eng.process(eng.new_state(), buy("p1", at(2026, 3, 1), TEA, "1.299"))  # a Sunday
    # 10 per 1 KWD of 1.299 = 12.99 -> 12.
    assert earned(out) == D("12")


def test_signup_and_birthday_from_the_signup_birth_date():
    eng = engine()
    state = eng.new_state()
    out = eng.process(state, signup("سارا", at(2026, 1, 10), birth=dt.date(1990, 3, 15)))
    assert earned(out) == D("500")
    assert out.tier_after == BRONZE  # from 0 KWD
    assert points(eng, state, at(2026, 3, 14, 23, 59)) == D("500")
    # 15 March 00:00 Kuwait: +200.
    assert points(eng, state, at(2026, 3, 15, 8)) == D("700")
    # Points expire 12 months after earned, at the end of that month: the signup 500
    # (10 January 2026) last until 1 February 2027 00:00.
    assert points(eng, state, at(2027, 1, 31, 23)) == D("700")
    assert points(eng, state, at(2027, 2, 1, 8)) == D("200")
    # The next birthday adds 200 again: 200 (2026's, until 1 April 2027) + 200 = 400.
    assert points(eng, state, at(2027, 3, 15, 8)) == D("400")


def test_review_earns_50_and_an_unknown_action_nothing():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("سارا", at(2026, 1, 10)))
    out = eng.process(state, CustomerEvent("a1", "سارا", at(2026, 1, 11), "action", action="review"))
    assert earned(out) == D("50")
    out = eng.process(state, CustomerEvent("a2", "سارا", at(2026, 1, 12), "action", action="like"))
    assert earned(out) == D("0")
    assert out.notes == ["no rule earns anything for action 'like'"]
    assert points(eng, state, at(2026, 1, 12, 11)) == D("550")  # 500 + 50


def test_tuesday_happy_hour_doubles_points():
    eng = engine()
    cases = [
        (at(2026, 3, 3, 15, 59), "20"),  # Tuesday 15:59: before the window, 2.000 x 10
        (at(2026, 3, 3, 16, 0), "40"),  # Tuesday 16:00: in it, 20 x 2
        (at(2026, 3, 3, 17, 0), "40"),  # Tuesday 17:00: 20 x 2
        (at(2026, 3, 3, 17, 59), "40"),  # Tuesday 17:59: 20 x 2
        (at(2026, 3, 3, 18, 0), "20"),  # Tuesday 18:00: the window has ended
        (at(2026, 3, 4, 17, 0), "20"),  # Wednesday 17:00: not a Tuesday
    ]
    for when, expected in cases:
        out = eng.process(eng.new_state(), buy("p1", when, TEA, "2"))
        assert earned(out) == D(expected), when


def test_happy_hour_is_kuwait_time():
    eng = engine()
    # 14:00 UTC on Tuesday 3 March is 17:00 in Kuwait (UTC+3): double, 40.
    when = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)
    assert earned(eng.process(eng.new_state(), buy("p1", when, TEA, "2"))) == D("40")
    # 17:00 UTC is 20:00 in Kuwait: single, 20.
    when = dt.datetime(2026, 3, 3, 17, 0, tzinfo=dt.UTC)
    assert earned(eng.process(eng.new_state(), buy("p1", when, TEA, "2"))) == D("20")


def test_tiers_with_persian_names_and_compounding_multipliers():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("سارا", at(2026, 1, 10)))
    # 120 KWD of Gujarati sweets for a wedding (a Monday): spend 120 >= 100 reaches
    # نقره‌ای at once, and this order earns at it: 1,200 x 1.5 = 1,800.
    out = eng.process(state, buy("p1", at(2026, 3, 2), SWEETS, "12", quantity=10))
    assert out.tier_after == SILVER
    assert earned(out) == D("1800")
    # 200 KWD more (spend 320 >= 300): طلایی, 2,000 x 2 = 4,000.
    out = eng.process(state, buy("p2", at(2026, 3, 9), PASTRY, "20", quantity=10))
    assert out.tier_after == GOLD
    assert earned(out) == D("4000")
    # Tuesday 17:00 at طلایی: 2x tier x 2x happy hour = 4x; 2.000 KWD tea: 20 x 4 = 80.
    out = eng.process(state, buy("p3", at(2026, 3, 10, 17), TEA, "2"))
    assert earned(out) == D("80")
    assert eng.report(state, "سارا", at(2026, 3, 10, 18)).tier == GOLD


def test_points_pay_in_fils():
    eng = engine()
    state = eng.new_state()
    eng.process(state, signup("سارا", at(2026, 1, 10)))  # 500 points = 0.500 KWD
    out = eng.process(state, buy("p1", at(2026, 3, 1), TEA, "0.75", redeem=[(WALLET, None)]))
    # All 500 points: 0.500 KWD off 0.750: 0.250 paid; earns 10 x 0.250 = 2.5 -> 2.
    assert out.redeemed == [(WALLET, D("500"), D("0.500"))]
    assert out.paid == D("0.250")
    assert earned(out) == D("2")


def test_refund_in_fils():
    eng = engine()
    state = eng.new_state()
    eng.process(state, buy("p1", at(2026, 3, 1), COFFEE, "1.25"))
    eng.process(state, buy("p2", at(2026, 3, 2), COFFEE, "1.25"))  # 1.188 paid, 11 points
    out = eng.process(state, Refund("r2", "سارا", at(2026, 3, 3), "p2"))
    assert out.refunded == D("1.188")
    assert out.taken_back == [(WALLET, D("11"))]  # 10 x 1.188 = 11.88 -> 11


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, KUWAIT)  # 10 to 40 events, every one ok
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.kind == "action" and o.earned for o in outcomes)
    assert any(o.tier_after == SILVER for o in outcomes)
