"""Golden tests for programs/sheetcodes.loyal (MECHANICS item 2): 30% codes from the
parcel sheet, each valid 2.5 months (2 months and 15 days) from issue, no minimum,
unlimited uses by anyone. The arithmetic is next to each assertion."""

from __future__ import annotations

from decimal import Decimal as D
from zoneinfo import ZoneInfo

from loyaldsl.runtime.model import Purchase, PurchaseLine
from tests.programs.support import discounts, load_engine, run_sample_events, text_clock

NAME = "sheetcodes"
MSK = ZoneInfo("Europe/Moscow")
at = text_clock(MSK)


def buy(pid: str, customer: str, when: str, price: str, codes: tuple[str, ...]) -> Purchase:
    return Purchase(pid, customer, at(when), (PurchaseLine("ethiopia", "beans", 1, D(price)),), codes)


def test_a_first_order_of_3000_with_a_friends_code_pays_2100():
    engine = load_engine(NAME)
    out = engine.process(engine.new_state(), buy("p1", "nina", "2026-02-10T12:00", "3000", ("SHEET0115",)))
    assert discounts(out) == {"SHEET0115": D("900")}  # 30% of 3,000
    assert out.paid == D("2100")


def test_a_code_past_its_two_and_a_half_months_is_refused():
    engine = load_engine(NAME)
    state = engine.new_state()
    # issued 15 January: 15 March + 15 days = 30 March is its last day
    last_day = engine.process(state, buy("p1", "oleg", "2026-03-30T23:59", "1000", ("SHEET0115",)))
    assert last_day.paid == D("700")
    late = engine.process(state, buy("p2", "oleg", "2026-03-31T00:00", "1000", ("SHEET0115",)))
    assert late.paid == D("1000")
    assert late.refused == [("SHEET0115", "expired on 2026-03-30")]


def test_no_limit_on_uses_or_users():
    engine = load_engine(NAME)
    state = engine.new_state()
    paid = [engine.process(state, buy(f"p{i}", who, f"2026-03-0{i}T12:00", "1000", ("SHEET0115",))).paid for i, who in enumerate(["nina", "oleg", "nina"], start=1)]
    assert paid == [D("700")] * 3


def test_sample_events_run_clean():
    outcomes = run_sample_events(NAME, MSK)
    # a second sheet code on one order; SHEET0115 after 30 March; SHEET0131 after 15 April
    assert [o.event_id for o in outcomes if o.refused] == ["o-3", "o-5", "o-7"]
