"""The purchase path's fused discount (pricing.take_percent_of_lines) against what it
stands for, percent_of_lines then take_off: the same amount taken and the same lines
left, whatever the nets, the lines it is on, the percent and the rounding."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loyaldsl.runtime.currency import money_rounder
from loyaldsl.runtime.pricing import percent_of_lines, take_off, take_percent_of_lines

nets = st.lists(st.decimals(min_value=0, max_value=100_000, places=2), min_size=1, max_size=8)
percents = st.decimals(min_value=0, max_value=1, places=4)


@given(nets=nets, fraction=percents, data=st.data(), rounding=st.sampled_from(["half-even", "half-up", "down", "up"]))
def test_taking_a_percent_in_place_is_percent_of_lines_then_take_off(nets: list[Decimal], fraction: Decimal, data: st.DataObject, rounding: str) -> None:
    indexes = sorted(data.draw(st.sets(st.integers(0, len(nets) - 1))))
    rounder = money_rounder("RUB", rounding)
    expected = list(nets)
    taken = take_off(expected, percent_of_lines(fraction, expected, indexes, rounder))
    fused = list(nets)
    assert take_percent_of_lines(fraction, fused, indexes, rounder) == taken
    assert fused == expected and all(net >= 0 for net in fused)


def test_a_line_never_goes_below_zero() -> None:
    lines = [Decimal("0.01"), Decimal("10.00")]
    assert take_percent_of_lines(Decimal(1), lines, [0, 1], money_rounder("RUB", "up")) == Decimal("10.01")
    assert lines == [0, 0]
