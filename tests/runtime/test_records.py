"""A purchase record's lines (state.PurchaseRecord): worked out only when read, from
the purchase's own lines, and then exactly what the eager computation gave, with an
order discount's spread included, whether the record kept the nets or not."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyaldsl.runtime.currency import money_rounder
from loyaldsl.runtime.ledger import LedgerSource
from loyaldsl.runtime.model import PurchaseLine
from loyaldsl.runtime.pricing import percent_of_order, take_off
from loyaldsl.runtime.state import LinePricing, PurchaseRecord

AT = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
CENT = Decimal("0.01")
RUB = LinePricing(money_rounder("RUB"), CENT)


def eager_lines(sold, nets, fraction, indexes):
    """What the record's lines were before they waited: the order discount spread at the till."""
    nets = list(nets)
    if fraction is not None:
        take_off(nets, percent_of_order(fraction, nets, indexes, CENT, money_rounder("RUB")))
    return [[line.product, line.quantity, net / line.quantity] for line, net in zip(sold, nets, strict=True)]


lines_strategy = st.lists(
    st.tuples(st.integers(1, 5), st.integers(0, 10**6)).map(lambda q_c: PurchaseLine(f"p{q_c[1] % 7}", "food", q_c[0], Decimal(q_c[1]).scaleb(-2))),
    min_size=1,
    max_size=6,
)


@given(sold=lines_strategy, percent=st.integers(1, 100), keep_nets=st.booleans(), data=st.data())
def test_a_deferred_order_discount_gives_the_lines_the_till_would_have(sold, percent, keep_nets, data):
    rounder = money_rounder("RUB")
    nets = [rounder(line.unit_price * line.quantity) for line in sold]
    indexes = sorted(data.draw(st.sets(st.integers(0, len(sold) - 1), min_size=1)))
    fraction = Decimal(percent) / 100
    base = sum((nets[i] for i in indexes), Decimal(0))
    cut = rounder(base * fraction)
    every = indexes == list(range(len(sold)))
    record = PurchaseRecord(AT, base, sold, list(nets) if keep_nets else None, cut, None if every else indexes, RUB)
    expected = eager_lines(sold, nets, fraction, indexes)
    assert record.lines == expected
    assert [str(line[2]) for line in record.lines] == [str(line[2]) for line in expected]  # same exponents too
    # what the path took off the total is what the spread takes from the lines
    taken = min(cut, base) if cut > 0 and base > 0 else Decimal(0)
    after = list(nets)
    assert take_off(after, percent_of_order(fraction, after, indexes, CENT, rounder)) == taken


def test_lines_are_worked_out_once_and_then_kept():
    sold = (PurchaseLine("kettle", "food", 2, Decimal("3000")), PurchaseLine("toaster", "food", 1, Decimal("6000")))
    record = PurchaseRecord(AT, Decimal("11400.00"), sold, None, Decimal("600.00"), None, RUB)
    assert record.sold is sold
    lines = record.lines
    assert lines == [["kettle", 2, Decimal("2850")], ["toaster", 1, Decimal("5700")]]
    assert record.sold is None and record.nets is None  # the purchase's lines are let go
    assert record.lines is lines  # kept: a refund's changes to units left stay
    lines[0][1] = 1
    assert record.lines[0][1] == 1


def test_kept_nets_are_the_lines_nets_not_the_prices():
    """A discount took from the lines: the record keeps the nets it left, and the lines
    are those, not the prices rounded again."""
    sold = (PurchaseLine("a", "food", 3, Decimal("1.00")),)
    assert PurchaseRecord(AT, Decimal("2.40"), sold, [Decimal("2.40")], pricing=RUB).lines == [["a", 3, Decimal("0.8")]]
    assert PurchaseRecord(AT, Decimal("3.00"), sold, None, pricing=RUB).lines == [["a", 3, Decimal("1.00")]]


def test_categories_come_from_the_sold_lines_read_before_or_after_the_lines():
    sold = (PurchaseLine("mug", "gifts", 1, Decimal("1")), PurchaseLine("beans", "coffee", 2, Decimal("5")))
    first = PurchaseRecord(AT, Decimal("11.00"), sold, None, pricing=RUB)
    assert first.categories == ["gifts", "coffee"]
    assert first.categories is first.categories  # kept once taken
    later = PurchaseRecord(AT, Decimal("11.00"), sold, [Decimal("1.00"), Decimal("10.00")], pricing=RUB)
    assert later.lines == [["mug", 1, Decimal("1.00")], ["beans", 2, Decimal("5.00")]]
    assert later.categories == ["gifts", "coffee"]  # the sold lines are gone by now
    saved = PurchaseRecord(AT, Decimal("1.00"))
    saved.lines, saved.categories = [["mug", 1, Decimal("1.00")]], ["gifts"]
    assert saved.categories == ["gifts"] and saved.lines == [["mug", 1, Decimal("1.00")]]


def test_what_only_returns_fill_starts_empty_and_is_kept():
    record = PurchaseRecord(AT, Decimal("5.00"), (), None, pricing=RUB)
    assert record.refunded == 0 and record.refunded_money == 0 and record.points_metric == 0
    record.refunded += Decimal("2.00")
    assert record.refunded == Decimal("2.00")
    assert record.stamped == {} and record.stamped is record.stamped
    with pytest.raises(AttributeError, match="no_such_field"):
        record.no_such_field  # noqa: B018


def test_a_copy_leaves_the_original_record_unworked_and_its_containers_unmade():
    """Reports settle a deep copy of the customer: the copy works out its own lines when
    read, and the original keeps its sold lines and its empty slots (the default copy
    reads every slot, which worked out and made them all in the original)."""
    sold = (PurchaseLine("mug", "gifts", 2, Decimal("1")),)
    record = PurchaseRecord(AT, Decimal("2.00"), sold, None, pricing=RUB)
    fresh = copy.deepcopy(record)
    assert record.sold is sold
    for name in ("lines", "categories", "refunded", "stamped", "coupons"):
        with pytest.raises(AttributeError):
            PurchaseRecord.__dict__[name].__get__(record, PurchaseRecord)  # still empty
    assert fresh.lines == [["mug", 2, Decimal("1.00")]] and fresh.categories == ["gifts"]
    assert fresh == record and copy.deepcopy(fresh) == record  # equal, worked out on both sides

    source = LedgerSource(AT)
    assert copy.deepcopy(source).claws == []
    with pytest.raises(AttributeError):
        LedgerSource.__dict__["claws"].__get__(source, LedgerSource)


@pytest.mark.parametrize("read_first", [False, True])
def test_returning_everything_leaves_no_unit_whether_the_lines_were_worked_out_or_not(read_first: bool):
    """A whole return of a record never read does not work out its lines: they are
    worked out when read, with no unit left. A second whole return takes nothing."""
    sold = (PurchaseLine("kettle", "appliances", 2, Decimal("3000")), PurchaseLine("toaster", "appliances", 1, Decimal("6000")))
    record = PurchaseRecord(AT, Decimal("11400"), sold, cut=Decimal("600"), pricing=RUB)
    if read_first:
        assert [line[1] for line in record.lines] == [2, 1]
    assert record.return_everything() == [2, 1]
    assert record.sold is (None if read_first else sold)
    assert record.lines == [["kettle", 0, Decimal("2850")], ["toaster", 0, Decimal("5700")]]
    assert record.return_everything() == [0, 0]


def test_a_record_returned_whole_unread_compares_equal_to_one_returned_after_reading():
    sold = (PurchaseLine("kettle", "appliances", 2, Decimal("3000")),)
    unread, read = (PurchaseRecord(AT, Decimal("6000"), sold, pricing=RUB) for _ in range(2))
    assert read.lines
    unread.return_everything()
    read.return_everything()
    assert unread == read
