"""Golden tests for programs/gap.loyal (MECHANICS item 11): one purchase of 1,500 RUB
or more gives a permanent 5% card, valid from the next purchase, not during sales.

Every expected number is worked by hand; the arithmetic is next to each assertion.
"""

from __future__ import annotations

from decimal import Decimal as D
from zoneinfo import ZoneInfo

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund
from tests.programs.support import discounts, engine_fixture, run_sample_events, text_clock

NAME = "gap"
MSK = ZoneInfo("Europe/Moscow")


engine = engine_fixture(NAME)
at = text_clock(MSK)


def buy(pid, customer, when, price, product="jeans", quantity=1):
    return Purchase(pid, customer, at(when), (PurchaseLine(product, "clothing", quantity, D(price)),))


def holds_card(engine, state, customer, when) -> bool:
    return any(name == "discount_card" for name, _, _ in engine.report(state, customer, at(when)).coupons)


def test_1500_pays_full_and_issues_the_card_then_5_percent(engine):
    state = engine.new_state()
    first = engine.process(state, buy("p1", "kate", "2026-03-01T12:00", "1500"))
    # Exactly 1,500 qualifies (`>=`); the card starts with the next purchase.
    assert first.paid == D("1500")
    assert first.discounts == []
    assert first.coupons_issued == ["discount_card"]
    second = engine.process(state, buy("p2", "kate", "2026-03-05T12:00", "5000"))
    assert discounts(second) == {"discount_card": D("250")}  # 5% of 5,000
    assert second.paid == D("4750")
    assert second.coupons_used == ["discount_card"]
    third = engine.process(state, buy("p3", "kate", "2026-03-09T12:00", "50000"))
    assert discounts(third) == {"discount_card": D("2500")}  # 5% of 50,000
    assert third.paid == D("47500")
    # The card stays: no expiry, no use limit.
    report = engine.report(state, "kate", at("2030-01-01T12:00"))
    assert report.coupons == (("discount_card", None, None),)


def test_1499_issues_nothing(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "kate", "2026-03-01T12:00", "1499"))
    assert out.paid == D("1499")
    assert out.coupons_issued == []  # 1,499 < 1,500
    later = engine.process(state, buy("p2", "kate", "2026-03-05T12:00", "5000"))
    assert later.paid == D("5000")  # no card: full price (and this purchase gives the card)
    assert later.coupons_issued == ["discount_card"]


def test_small_purchases_do_not_add_up(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "kate", "2026-03-01T12:00", "1000"))
    out = engine.process(state, buy("p2", "kate", "2026-03-02T12:00", "1000"))
    assert out.coupons_issued == []  # two purchases of 1,000, never one of 1,500
    assert not holds_card(engine, state, "kate", "2026-03-02T12:01")


def test_the_threshold_is_on_the_whole_basket(engine):
    state = engine.new_state()
    basket = (PurchaseLine("t-shirt", "clothing", 3, D("300")), PurchaseLine("belt", "accessories", 1, D("600")))
    out = engine.process(state, Purchase("p1", "kate", at("2026-03-01T12:00"), basket))
    assert out.coupons_issued == ["discount_card"]  # 3 x 300 + 600 = 1,500


def test_no_accumulation_one_card_one_rate(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "kate", "2026-03-01T12:00", "1500"))
    second = engine.process(state, buy("p2", "kate", "2026-03-02T12:00", "20000"))
    assert second.coupons_issued == []  # already has the card
    assert second.paid == D("19000")  # 5% of 20,000 = 1,000
    third = engine.process(state, buy("p3", "kate", "2026-03-03T12:00", "5000"))
    assert third.paid == D("4750")  # still 5%, not more
    assert engine.report(state, "kate", at("2026-03-03T12:01")).coupons == (("discount_card", None, None),)


def test_not_valid_during_the_sale(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "kate", "2026-06-20T12:00", "1500"))
    out = engine.process(state, buy("p2", "kate", "2026-07-10T12:00", "5000"))
    assert out.discounts == []  # summer sale: the card does not work
    assert out.paid == D("5000")
    assert out.coupons_used == []
    assert holds_card(engine, state, "kate", "2026-07-10T12:01")  # not used up by the sale


def test_sale_edges_in_moscow_time(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "kate", "2026-06-20T12:00", "1500"))
    before = engine.process(state, buy("p2", "kate", "2026-06-30T23:59", "5000"))
    assert before.paid == D("4750")  # the day before the sale: 5%
    first_day = engine.process(state, buy("p3", "kate", "2026-07-01T00:00", "5000"))
    assert first_day.paid == D("5000")  # 1 July, 00:00 Moscow: the sale has begun
    last_day = engine.process(state, buy("p4", "kate", "2026-07-31T23:59", "5000"))
    assert last_day.paid == D("5000")  # 31 July is still the sale
    after = engine.process(state, buy("p5", "kate", "2026-08-01T00:00", "5000"))
    assert after.paid == D("4750")  # 1 August: the card works again


def test_winter_sale_too(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "kate", "2025-12-20T12:00", "1500"))
    out = engine.process(state, buy("p2", "kate", "2026-01-15T12:00", "5000"))
    assert out.paid == D("5000")


def test_a_purchase_in_the_sale_still_gives_the_card(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "kate", "2026-07-15T12:00", "2000"))
    assert out.coupons_issued == ["discount_card"]
    after = engine.process(state, buy("p2", "kate", "2026-08-15T12:00", "2000"))
    assert after.paid == D("1900")  # 5% of 2,000 = 100


def test_returning_the_purchase_that_gave_the_card_takes_it_away(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "kate", "2026-03-01T12:00", "1500"))
    out = engine.process(state, Refund("r1", "kate", at("2026-03-03T12:00"), "p1"))
    assert out.refunded == D("1500")
    assert any("discount_card" in note and "withdrawn" in note for note in out.notes), out.notes
    later = engine.process(state, buy("p2", "kate", "2026-03-05T12:00", "1000"))
    assert later.paid == D("1000")  # no card any more


def test_after_the_card_is_taken_away_a_new_qualifying_purchase_gives_it_again(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "kate", "2026-03-01T12:00", "1500"))
    engine.process(state, Refund("r1", "kate", at("2026-03-03T12:00"), "p1"))
    out = engine.process(state, buy("p2", "kate", "2026-03-05T12:00", "2000"))
    assert out.paid == D("2000")  # no card at the till
    assert out.coupons_issued == ["discount_card"]  # the refunded purchase no longer counts


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, MSK)  # 10 to 40 events, every one ok
    assert len({o.customer for o in outcomes}) >= 3
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.coupons_issued for o in outcomes)
    assert any(o.coupons_used for o in outcomes)
