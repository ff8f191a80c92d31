"""Golden tests for programs/lensmaster.loyal (MECHANICS item 13: a stamp card of 10,
the 11th pair of lenses free). Every expected number is worked by hand in a comment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund, RefundLine
from tests.programs.support import check_program, day_clock, load_engine, run_sample_events

NAME = "lensmaster"
MSK = ZoneInfo("Europe/Moscow")
D = Decimal
engine = partial(load_engine, NAME)  # a fresh interpreter for each call
at = day_clock(MSK, hour=12)


def pair(pid: str, when: dt.datetime, price: str = "1780", quantity: int = 1, customer: str = "olga", product: str = "acuvue-oasys") -> Purchase:
    return Purchase(pid, customer, when, (PurchaseLine(product, "lenses", quantity, D(price)),))


def card(eng, state, customer: str, when: dt.datetime) -> tuple[int, int]:
    """(stamps on the card, free pairs waiting) as of `when`."""
    report = eng.report(state, customer, when)
    (name, stamps, size, rewards), = report.stamps
    assert name == "lenses" and size == 10
    return stamps, rewards


def test_program_checks_clean():
    checked = check_program(NAME)
    assert checked.ok
    assert checked.diagnostics == ()  # not even a warning


def test_eleven_pairs_one_a_visit_pay_17800():
    eng = engine()
    state = eng.new_state()
    paid = []
    for visit in range(1, 12):
        out = eng.process(state, pair(f"p{visit}", at(2026, 1, visit)))
        assert out.status == "ok"
        paid.append(out.paid)
    # Visits 1-10: one stamp each at 1,780; the 10th stamp fills the card.
    assert paid[:10] == [D("1780")] * 10
    # Visit 11: the waiting free pair is the only pair in the basket: 1,780 - 1,780 = 0.
    assert paid[10] == D("0")
    # 10 x 1,780 + 0 = 17,800.
    assert sum(paid) == D("17800")
    # After visit 10 the card was reset to 0 with one reward waiting; visit 11 used the
    # reward and its free pair earned no stamp: 0 stamps, 0 rewards.
    assert card(eng, state, "olga", at(2026, 1, 11, 13)) == (0, 0)


def test_tenth_stamp_fills_card_and_waits_for_next_visit():
    eng = engine()
    state = eng.new_state()
    for visit in range(1, 10):
        eng.process(state, pair(f"p{visit}", at(2026, 2, visit)))
    assert card(eng, state, "olga", at(2026, 2, 9, 13)) == (9, 0)  # 9 visits x 1 stamp
    out = eng.process(state, pair("p10", at(2026, 2, 10)))
    assert out.paid == D("1780")  # the 10th pair itself is paid
    assert out.stamps == [("lenses", 1, 0)]  # +1 stamp = 10 = full, card reset to 0
    assert any("full" in note for note in out.notes)
    assert card(eng, state, "olga", at(2026, 2, 10, 13)) == (0, 1)  # one free pair waiting
    out = eng.process(state, pair("p11", at(2026, 2, 11)))
    assert out.discounts == [("lenses", D("1780"))]  # the free pair, named after the card
    assert out.stamps == []  # the free pair earns no stamp


def test_free_pair_is_the_cheapest_pair_and_paid_pairs_still_stamp():
    eng = engine()
    state = eng.new_state()
    for visit in range(1, 11):
        eng.process(state, pair(f"p{visit}", at(2026, 3, visit)))
    # Visit 11 buys two pairs: one at 2,400, one at 1,780. The cheapest (1,780) is free.
    basket = Purchase(
        "p11",
        "olga",
        at(2026, 3, 11),
        (
            PurchaseLine("dailies-total", "lenses", 1, D("2400")),
            PurchaseLine("acuvue-oasys", "lenses", 1, D("1780")),
            PurchaseLine("opti-free", "solutions", 1, D("450")),
        ),
    )
    out = eng.process(state, basket)
    # 2,400 + 1,780 + 450 = 4,630 before; 1,780 off: 2,850 paid.
    assert out.subtotal == D("4630")
    assert out.discounts == [("lenses", D("1780"))]
    assert out.paid == D("2850")
    # Stamps: 2 pairs - 1 free = 1 stamp; the solution earns none.
    assert out.stamps == [("lenses", 1, 1)]


def test_two_pairs_at_once_earn_two_stamps():
    eng = engine()
    state = eng.new_state()
    out = eng.process(state, pair("p1", at(2026, 4, 1), quantity=2))
    assert out.paid == D("3560")  # 2 x 1,780
    assert out.stamps == [("lenses", 2, 2)]


def test_stamp_lapses_twelve_months_after_stamped():
    eng = engine()
    state = eng.new_state()
    eng.process(state, pair("old", at(2025, 1, 10)))
    eng.process(state, pair("new", at(2025, 6, 1)))
    # A day before the anniversary both stamps are there.
    assert card(eng, state, "olga", at(2026, 1, 9)) == (2, 0)
    # 2025-01-10 12:00 + 12 months = 2026-01-10 12:00: the first stamp has lapsed.
    assert card(eng, state, "olga", at(2026, 1, 10, 12)) == (1, 0)
    # 2025-06-01 + 12 months = 2026-06-01: the second lapses too.
    assert card(eng, state, "olga", at(2026, 6, 1, 12)) == (0, 0)


def test_lapsed_stamps_do_not_count_toward_a_full_card():
    eng = engine()
    state = eng.new_state()
    # Nine stamps in January 2025, then a visit in February 2026 (13 months later).
    for visit in range(1, 10):
        eng.process(state, pair(f"p{visit}", at(2025, 1, visit)))
    out = eng.process(state, pair("p10", at(2026, 2, 1)))
    # The nine old stamps lapsed in January 2026: the new one is the only stamp (1),
    # so the card is not full and no free pair waits.
    assert out.stamps == [("lenses", 1, 1)]
    assert card(eng, state, "olga", at(2026, 2, 1, 13)) == (1, 0)


def test_refund_takes_the_stamp_back():
    eng = engine()
    state = eng.new_state()
    eng.process(state, pair("p1", at(2026, 5, 1)))
    eng.process(state, pair("p2", at(2026, 5, 2)))
    out = eng.process(state, Refund("r1", "olga", at(2026, 5, 3), "p2"))
    assert out.refunded == D("1780")
    assert out.stamps == [("lenses", -1, 1)]  # 2 stamps - 1 = 1


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, MSK)  # 10 to 40 events, every one ok
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.discounts for o in outcomes)  # somebody gets a free pair


def test_refunding_a_solution_keeps_the_lens_stamp():
    eng = engine()
    state = eng.new_state()
    basket = Purchase(
        "p1",
        "olga",
        at(2026, 5, 1),
        (PurchaseLine("acuvue-oasys", "lenses", 1, D("1780")), PurchaseLine("opti-free", "solutions", 1, D("450"))),
    )
    out = eng.process(state, basket)
    assert out.stamps == [("lenses", 1, 1)]  # 1 pair of lenses = 1 stamp; the solution none
    out = eng.process(state, Refund("r1", "olga", at(2026, 5, 2), "p1", (RefundLine("opti-free", 1),)))
    assert out.refunded == D("450")
    # Only the solution came back; it never earned a stamp, so the card keeps 1 stamp.
    assert out.stamps == []
    assert card(eng, state, "olga", at(2026, 5, 2, 13)) == (1, 0)
