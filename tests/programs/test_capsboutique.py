"""Golden tests for programs/capsboutique.loyal (MECHANICS items 1, 3, 4, 8, 20).

Every expected number is worked by hand from MECHANICS.md and the choices the program
states; the arithmetic is in the comment next to each assertion.
"""

from __future__ import annotations

from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund, RefundLine
from tests.programs.support import check_program, discounts, engine_fixture, run_sample_events, text_clock

NAME = "capsboutique"
MSK = ZoneInfo("Europe/Moscow")


# ------------------------------------------------------------------ helpers


# The program states two L006 dead-zone warnings on purpose (see the check test below).
ALLOWED_CODES = ("L006",)
engine = engine_fixture(NAME, ALLOWED_CODES)
at = text_clock(MSK)


def line(product: str, category: str, price: str, quantity: int = 1) -> PurchaseLine:
    return PurchaseLine(product, category, quantity, D(price))


def buy(pid, customer, when, *lines, codes=(), redeem=()):
    return Purchase(pid, customer, at(when), tuple(lines), tuple(codes), tuple(redeem))


def grinder(price: str) -> PurchaseLine:
    """An accessory: no category discount, so only the scale or the code applies."""
    return line("grinder", "accessories", price)


def earned(out, wallet: str = "bonus") -> D:
    return sum((p for w, p, _, _ in out.earned if w == wallet), D(0))


def wallet(report, name: str = "bonus"):
    return next(w for w in report.wallets if w.name == name)


# ------------------------------------------------------------------ the program checks


def test_checks_clean_with_only_the_deliberate_dead_zone_warnings():
    checked = check_program(NAME)
    assert checked.ok
    # Only the two L006 dead-zone warnings the program states in its comments.
    assert sorted(d.code for d in checked.diagnostics) == ["L006", "L006"]


# ------------------------------------------------------------------ item 4: the whole-order scale


@pytest.mark.parametrize(
    "price, discount, paid",
    [
        ("22000", "2200", "19800"),  # 22,000 >= 20,000 -> 10%: 22,000 - 2,200 = 19,800
        ("15000", "750", "14250"),  # 15,000 >= 10,000 -> 5%: 15,000 - 750 = 14,250
        ("19000", "950", "18050"),  # 5% of 19,000 = 950 -> 18,050 (dead zone: pays more than 20,000)
        ("20000", "2000", "18000"),  # exactly 20,000, `from` -> 10%: 20,000 - 2,000 = 18,000
        ("10000", "500", "9500"),  # exactly 10,000, `from` -> 5%: 10,000 - 500 = 9,500
        ("18000", "900", "17100"),  # item 20: 5% of 18,000 = 900 -> 17,100
    ],
)
def test_whole_order_scale(engine, price, discount, paid):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "new", "2026-03-10T12:00", grinder(price)))
    assert out.status == "ok"
    assert discounts(out) == {"order_volume": D(discount)}
    assert out.paid == D(paid)


def test_just_under_the_first_step_gets_nothing(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "new", "2026-03-10T12:00", grinder("9999")))
    assert discounts(out) == {}  # 9,999 < 10,000: no step reached
    assert out.paid == D("9999")


def test_dead_zone_buying_more_pays_less(engine):
    state = engine.new_state()
    small = engine.process(state, buy("p1", "a", "2026-03-10T12:00", grinder("19000")))
    big = engine.process(state, buy("p2", "b", "2026-03-10T12:00", grinder("20000")))
    assert small.paid == D("18050")  # 19,000 x 0.95
    assert big.paid == D("18000")  # 20,000 x 0.90
    assert big.paid < small.paid


def test_till_says_how_far_the_next_step_is(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "new", "2026-03-10T12:00", grinder("18000")))
    assert out.paid == D("17100")  # 18,000 x 0.95
    # 20,000 - 18,000 = 2,000 RUB more would reach the 10% step (and pay 18,000).
    assert any(("2000" in note or "2,000" in note) and "10%" in note for note in out.notes), out.notes


# ------------------------------------------------------------------ item 3: SKIDKA30


def test_skidka30_on_12000_pays_8400(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "new", "2026-03-10T12:00", grinder("12000"), codes=["SKIDKA30"]))
    # Code: 30% of 12,000 = 3,600 -> 8,400; the scale would give only 5% = 600,
    # and `best of` keeps the larger one.
    assert discounts(out) == {"SKIDKA30": D("3600")}
    assert out.paid == D("8400")
    assert "code SKIDKA30 applied" in out.notes
    assert any("order_volume not applied" in note for note in out.notes)


def test_skidka30_on_9000_is_refused_with_a_reason(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "new", "2026-03-10T12:00", grinder("9000"), codes=["SKIDKA30"]))
    # 9,000 < 10,000: the code is refused, and the scale gives nothing either.
    assert out.status == "ok"
    assert discounts(out) == {}
    assert out.paid == D("9000")
    refusals = [note for note in out.notes if "SKIDKA30 refused" in note]
    assert len(refusals) == 1 and "10000 RUB" in refusals[0], out.notes


def test_skidka30_is_case_insensitive_and_reusable(engine):
    state = engine.new_state()
    first = engine.process(state, buy("p1", "ivan", "2026-03-10T12:00", grinder("12000"), codes=["skidka30"]))
    second = engine.process(state, buy("p2", "ivan", "2026-04-10T12:00", grinder("12000"), codes=["SKIDKA30"]))
    # No limit per customer: both pay 12,000 x 0.70 = 8,400 (accessories get no 15%).
    assert first.paid == D("8400")
    assert second.paid == D("8400")


def test_skidka30_against_the_10_percent_step(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "new", "2026-03-10T12:00", grinder("25000"), codes=["SKIDKA30"]))
    # Scale 10% = 2,500, code 30% = 7,500: the code wins; 25,000 - 7,500 = 17,500.
    assert discounts(out) == {"SKIDKA30": D("7500")}
    assert out.paid == D("17500")


def test_skidka30_with_the_1_ruble_mug_cancels_the_order(engine):
    state = engine.new_state()
    out = engine.process(
        state,
        buy("p1", "vera", "2026-03-10T12:00", grinder("12000"), line("gift-mug", "promo", "600"), codes=["SKIDKA30"]),
    )
    assert out.status == "cancelled"
    assert out.discounts == []
    assert out.earned == []
    assert any("order cancelled" in note and "mug_for_1_ruble" in note for note in out.notes), out.notes
    report = engine.report(state, "vera", at("2026-03-11T00:00"))
    assert report.orders == 0  # a cancelled order is not an order
    assert report.spend == D(0)


def test_the_mug_costs_1_ruble_once_per_order(engine):
    state = engine.new_state()
    one = engine.process(state, buy("p1", "a", "2026-03-10T12:00", grinder("5000"), line("gift-mug", "promo", "600")))
    # 600 - 599 = 1: the order pays 5,000 + 1 = 5,001.
    assert discounts(one) == {"mug_for_1_ruble": D("599")}
    assert one.paid == D("5001")
    two = engine.process(state, buy("p2", "b", "2026-03-10T12:00", grinder("5000"), line("gift-mug", "promo", "600", 2)))
    # Capped at 599: 5,000 + 2 x 600 - 599 = 5,601.
    assert discounts(two) == {"mug_for_1_ruble": D("599")}
    assert two.paid == D("5601")


# ------------------------------------------------------------------ item 1: returning customer, machines


def test_first_order_gets_no_15_percent(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "new", "2026-03-10T12:00", line("ethiopia-250g", "beans", "1000", 2)))
    assert discounts(out) == {}  # no earlier order
    assert out.paid == D("2000")


def test_returning_customer_15_percent_on_beans_and_capsules_only(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "anna", "2026-03-02T10:00", grinder("500")))
    out = engine.process(
        state,
        buy(
            "p2",
            "anna",
            "2026-03-09T10:00",
            line("ethiopia-250g", "beans", "1000", 2),
            line("lungo-10", "capsules", "500", 2),
            line("milk-jug", "accessories", "500"),
        ),
    )
    # 15% of (2,000 beans + 1,000 capsules) = 450; the jug pays full.
    # 3,500 - 450 = 3,050 (under 10,000: no scale).
    assert discounts(out) == {"returning_customer": D("450")}
    assert out.paid == D("3050")


def test_500_off_each_machine_then_the_scale(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "boris", "2026-03-03T10:00", line("delonghi-promo", "machines", "12000", 2)))
    # 2 machines x 500 = 1,000 off the promotional price: 24,000 -> 23,000.
    # The scale measures the order before discounts (24,000 >= 20,000 -> 10%) and takes
    # 10% of what is left: 2,300. Paid 23,000 - 2,300 = 20,700.
    assert discounts(out) == {"machine_bonus": D("1000"), "order_volume": D("2300")}
    assert out.paid == D("20700")


def test_returning_15_percent_stacks_under_skidka30(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "anna", "2026-03-02T10:00", grinder("500")))
    out = engine.process(state, buy("p2", "anna", "2026-03-09T10:00", line("ethiopia-1kg", "beans", "4000", 3), codes=["SKIDKA30"]))
    # 12,000 of beans: 15% = 1,800 -> 10,200; then the code, 30% of 10,200 = 3,060
    # (the scale would give 5% of 10,200 = 510). Paid 10,200 - 3,060 = 7,140.
    assert discounts(out) == {"returning_customer": D("1800"), "SKIDKA30": D("3060")}
    assert out.paid == D("7140")


# ------------------------------------------------------------------ item 8: bonuses


def test_bonus_is_earned_on_what_was_paid_and_waits_14_days(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "dasha", "2026-03-10T12:00", grinder("22000")))
    # Paid 19,800 -> 19,800 / 10 = 1,980 bonuses, available 14 days later.
    assert earned(out) == D("1980")
    assert out.earned[0][3] == at("2026-03-24T12:00")
    before = engine.report(state, "dasha", at("2026-03-24T11:59"))
    assert wallet(before).available == D(0)
    assert wallet(before).pending == D("1980")
    after = engine.report(state, "dasha", at("2026-03-24T12:00"))
    assert wallet(after).available == D("1980")
    assert wallet(after).pending == D(0)


def test_bonus_points_are_floored(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "dasha", "2026-03-10T12:00", grinder("1299")))
    assert earned(out) == D("129")  # 1,299 / 10 = 129.9 -> 129


def test_bonuses_burn_at_the_end_of_the_month_12_months_later(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "dasha", "2026-03-10T12:00", grinder("22000")))
    report = engine.report(state, "dasha", at("2027-03-31T23:59"))
    # Earned 10 March 2026 + 12 months = 10 March 2027 -> end of that month:
    # gone at 00:00 on 1 April 2027, Moscow time.
    assert report.wallets[0].next_expiry == (at("2027-04-01T00:00"), D("1980"))
    assert wallet(report).available == D("1980")
    gone = engine.report(state, "dasha", at("2027-04-01T00:00"))
    assert wallet(gone).available == D(0)


def test_discount_versus_bonus_at_9000(engine):
    """Item 8 with this program's rates: no discount under 10,000, a bonus after it."""
    state = engine.new_state()
    first = engine.process(state, buy("p1", "egor", "2026-03-01T12:00", grinder("9000")))
    assert first.paid == D("9000")  # under the first step
    assert earned(first) == D("900")  # 9,000 / 10
    second = engine.process(state, buy("p2", "egor", "2026-03-20T12:00", grinder("9000"), redeem=[("bonus", None)]))
    # Cap: 50% of 9,000 = 4,500; the 900 available are all spent: 9,000 - 900 = 8,100.
    assert second.redeemed == [("bonus", D("900"), D("900"))]
    assert second.paid == D("8100")
    # The program earns on what was paid, after bonuses: 8,100 / 10 = 810
    # (not 900 on the order before redemption, MECHANICS item 8's other reading).
    assert earned(second) == D("810")


def test_redeem_up_to_half_of_the_order(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "anna", "2026-03-01T12:00", grinder("30000")))
    # Bronze: 30,000 - 10% = 27,000 paid -> 2,700 bonuses. Spend 27,000 < 30,000: Bronze.
    out = engine.process(state, buy("p2", "anna", "2026-03-20T12:00", line("ethiopia-250g", "beans", "1000", 3), redeem=[("", None)]))
    # 3,000 beans - 15% (450) = 2,550; at most 50% = 1,275 bonuses; paid 1,275.
    assert discounts(out) == {"returning_customer": D("450")}
    assert out.redeemed == [("bonus", D("1275"), D("1275"))]
    assert out.paid == D("1275")
    # Spend 27,000 + 2,550 = 29,550: still Bronze. Earned on paid: 1,275 / 10 = 127.
    assert out.tier_after == "Bronze"
    assert earned(out) == D("127")
    report = engine.report(state, "anna", at("2026-03-20T12:01"))
    assert wallet(report).available == D("1425")  # 2,700 - 1,275
    assert wallet(report).pending == D("127")


def test_asking_for_more_than_available_says_so(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "anna", "2026-03-01T12:00", grinder("3000")))  # 300 bonuses
    out = engine.process(state, buy("p2", "anna", "2026-03-20T12:00", grinder("3000"), redeem=[("bonus", D("1000"))]))
    assert out.redeemed == [("bonus", D("300"), D("300"))]  # only 300 available
    assert out.paid == D("2700")
    assert any("asked for 1000" in note for note in out.notes), out.notes


def test_pending_bonuses_cannot_be_spent(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "anna", "2026-03-01T12:00", grinder("3000")))  # 300, available 15 March
    out = engine.process(state, buy("p2", "anna", "2026-03-14T12:00", grinder("3000"), redeem=[("bonus", None)]))
    assert out.redeemed == []
    assert out.paid == D("3000")


# ------------------------------------------------------------------ tiers


def test_tier_upgrade_and_multiplier(engine):
    state = engine.new_state()
    first = engine.process(state, buy("p1", "boris", "2026-03-01T12:00", grinder("22000")))
    assert first.tier_after == "Bronze"  # spend 19,800 < 30,000
    assert earned(first) == D("1980")  # 19,800 / 10 x 1
    second = engine.process(state, buy("p2", "boris", "2026-03-08T12:00", grinder("12000")))
    # 12,000 - 5% = 11,400; spend 19,800 + 11,400 = 31,200 >= 30,000: Silver at once,
    # and this order already earns at 1.5x: 11,400 / 10 x 1.5 = 1,710.
    assert second.paid == D("11400")
    assert (second.tier_before, second.tier_after) == ("Bronze", "Silver")
    assert earned(second) == D("1710")
    third = engine.process(state, buy("p3", "boris", "2026-03-15T12:00", grinder("1005")))
    assert earned(third) == D("150")  # 1,005 / 10 x 1.5 = 150.75 -> 150


def test_gold_doubles(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "gala", "2026-03-01T12:00", grinder("50000")))  # pays 45,000
    out = engine.process(state, buy("p2", "gala", "2026-03-02T12:00", grinder("40000")))
    # 40,000 - 10% = 36,000; spend 45,000 + 36,000 = 81,000 >= 80,000: Gold, 2x:
    # 36,000 / 10 x 2 = 7,200.
    assert (out.tier_before, out.tier_after) == ("Silver", "Gold")
    assert earned(out) == D("7200")


def test_tier_review_on_1_january(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "boris", "2026-03-01T12:00", grinder("22000")))
    engine.process(state, buy("p2", "boris", "2026-03-08T12:00", grinder("12000")))
    # 1 January 2027: the last 12 months hold 31,200: still Silver.
    assert engine.report(state, "boris", at("2027-12-31T23:59")).tier == "Silver"
    # 1 January 2028: nothing in the last 12 months: down to Bronze (to qualified).
    assert engine.report(state, "boris", at("2028-01-01T00:00")).tier == "Bronze"


# ------------------------------------------------------------------ refunds


def test_refund_takes_back_pending_bonuses(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "grigory", "2026-03-05T12:00", grinder("12000"), codes=["SKIDKA30"]))
    out = engine.process(state, Refund("r1", "grigory", at("2026-03-16T12:00"), "p1"))
    assert out.status == "ok"
    assert out.refunded == D("8400")  # what was paid
    assert out.taken_back == [("bonus", D("840"))]  # 8,400 / 10
    report = engine.report(state, "grigory", at("2026-03-30T12:00"))
    assert wallet(report).available == D(0)
    assert wallet(report).pending == D(0)


def test_partial_refund_of_one_line(engine):
    state = engine.new_state()
    engine.process(state, buy("p0", "anna", "2026-04-01T12:00", grinder("500")))
    out = engine.process(
        state,
        buy("p1", "anna", "2026-04-20T11:00", line("dedica-promo", "machines", "15990"), line("ethiopia-1kg", "beans", "4200")),
    )
    # Beans: 15% of 4,200 = 630 -> 3,570. Machine: 500 off -> 15,490. Net 19,060.
    # Scale on 20,190 before discounts: 10% of 19,060 = 1,906. Paid 17,154.
    assert discounts(out) == {"returning_customer": D("630"), "machine_bonus": D("500"), "order_volume": D("1906")}
    assert out.paid == D("17154")
    assert earned(out) == D("1715")  # 17,154 / 10 = 1,715.4 -> 1,715
    back = engine.process(state, Refund("r1", "anna", at("2026-04-24T10:00"), "p1", (RefundLine("ethiopia-1kg", 1),)))
    # The beans line's share of the scale: 1,906 x 3,570 / 19,060 = 357 -> refund 3,570 - 357 = 3,213.
    assert back.refunded == D("3213")
    # Points: 1,715 x 3,213 / 17,154 = 321.2..., rounded up (no point is left on
    # returned goods): 322.
    assert back.taken_back == [("bonus", D("322"))]


def test_refund_after_30_days_is_rejected(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "grigory", "2026-03-05T12:00", grinder("12000")))
    out = engine.process(state, Refund("r1", "grigory", at("2026-04-05T12:01"), "p1"))
    assert out.status == "rejected"


def test_refund_can_cost_a_tier(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "boris", "2026-03-01T12:00", grinder("22000")))
    engine.process(state, buy("p2", "boris", "2026-03-08T12:00", grinder("12000")))
    engine.process(state, Refund("r1", "boris", at("2026-03-09T12:00"), "p2"))
    # Spend back to 19,800; the tier is kept until the yearly review (no demotion on a
    # refund), and the review on 1 January 2027 finds 19,800 < 30,000: Bronze.
    assert engine.report(state, "boris", at("2026-12-31T23:59")).tier == "Silver"
    assert engine.report(state, "boris", at("2027-01-01T00:00")).tier == "Bronze"


# ------------------------------------------------------------------ the sample events


def test_sample_events_run_clean():
    # 25 to 40 events; none rejected or a replay (one cancelled event is fine).
    outcomes = run_sample_events(NAME, MSK, allowed_codes=ALLOWED_CODES, count=(25, 40), ok_statuses=("ok", "cancelled"))
    customers = {o.customer for o in outcomes}
    assert len(customers) >= 4
    kinds = {o.kind for o in outcomes}
    assert {"purchase", "refund"} <= kinds
    notes = [note for o in outcomes for note in o.notes]
    assert any("SKIDKA30 applied" in note for note in notes)
    assert any("SKIDKA30 refused" in note for note in notes)
    assert any(o.redeemed for o in outcomes)
    assert any(o.tier_before != o.tier_after for o in outcomes)
