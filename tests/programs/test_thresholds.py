"""Golden tests for programs/thresholds.loyal (MECHANICS item 19): a single purchase
of more than 10,000 RUB gets 5%.

Every expected number is worked by hand; the arithmetic is next to each assertion.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.check import check_source
from loyaldsl.diagnostics import render_all
from loyaldsl.events import RowError, read_events
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund, RefundLine

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "programs" / "thresholds.loyal"
EVENTS = ROOT / "programs" / "thresholds.events.jsonl"
MSK = ZoneInfo("Europe/Moscow")


def load():
    text = PROGRAM.read_text(encoding="utf-8")
    checked = check_source(text, str(PROGRAM))
    assert checked.ok, render_all(checked.diagnostics, str(PROGRAM), text)
    assert checked.diagnostics == (), render_all(checked.diagnostics, str(PROGRAM), text)
    return interpreter(checked)


@pytest.fixture
def engine():
    return load()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=MSK)


def buy(pid, customer, when, *lines):
    return Purchase(pid, customer, at(when), tuple(PurchaseLine(p, "appliances", q, D(price)) for p, q, price in lines))


def discounts(out) -> dict[str, D]:
    return {name: amount for name, amount in out.discounts}


@pytest.mark.parametrize(
    "price, discount, paid",
    [
        ("12000", "600", "11400"),  # 12,000 > 10,000: 5% = 600 -> 11,400
        ("10000", None, "10000"),  # exactly 10,000 is not MORE than 10,000: full price
        ("10000.01", "500.00", "9500.01"),  # 5% = 500.0005 -> 500.00 -> 9,500.01
        ("10001", "500.05", "9500.95"),  # 5% = 500.05 -> 9,500.95 (pays less than 10,000)
        ("9999.99", None, "9999.99"),  # under the threshold
        ("250000", "12500", "237500"),  # no cap: 5% of 250,000 = 12,500
    ],
)
def test_single_threshold_over_10000(engine, price, discount, paid):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "ann", "2026-03-10T12:00", ("fridge", 1, price)))
    assert discounts(out) == ({} if discount is None else {"big_purchase": D(discount)})
    assert out.paid == D(paid)


def test_the_threshold_is_on_the_whole_basket(engine):
    state = engine.new_state()
    out = engine.process(state, buy("p1", "ann", "2026-03-10T12:00", ("kettle", 2, "3000"), ("toaster", 1, "4500")))
    # 2 x 3,000 + 4,500 = 10,500 > 10,000: 5% = 525, spread over the lines.
    assert discounts(out) == {"big_purchase": D("525")}
    assert out.paid == D("9975")


def test_purchases_do_not_add_up(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "ann", "2026-03-10T12:00", ("kettle", 1, "6000")))
    out = engine.process(state, buy("p2", "ann", "2026-03-11T12:00", ("toaster", 1, "6000")))
    assert out.discounts == []  # 6,000 + 6,000 in two purchases: neither is over 10,000


def test_returning_one_line_refunds_its_discounted_price(engine):
    state = engine.new_state()
    engine.process(state, buy("p1", "ann", "2026-03-10T12:00", ("kettle", 2, "3000"), ("toaster", 1, "6000")))
    # 12,000 -> 5% = 600: the kettles' line (6,000) carries 300 of it, the toaster 300.
    out = engine.process(state, Refund("r1", "ann", at("2026-03-12T12:00"), "p1", (RefundLine("kettle", 1),)))
    assert out.refunded == D("2850")  # one kettle: 3,000 - 150


def test_sample_events_run_clean():
    engine = load()
    state = engine.new_state()
    items = list(read_events(EVENTS, MSK))
    assert [item for item in items if isinstance(item, RowError)] == []
    assert 10 <= len(items) <= 40
    outcomes = [engine.process(state, item) for item in items]
    assert [o.event_id for o in outcomes if o.status != "ok"] == []
    assert len({o.customer for o in outcomes}) >= 3
    assert any(o.kind == "refund" for o in outcomes)
    assert any(o.discounts for o in outcomes)
