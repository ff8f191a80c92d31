"""Rate tables: slab and bracket, with the worked numbers from MECHANICS.md."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaldsl.runtime.bands import (
    Band,
    marginal_amount_discount,
    marginal_unit_rates,
    slab_discount,
    slab_rate,
)
from loyaldsl.runtime.pricing import marginal_units

D = Decimal

# MECHANICS 4: per-order scale, from 10,000 -> 5%, from 20,000 -> 10% (slab).
ORDER_SCALE = [Band(D(10000), True, D("0.05")), Band(D(20000), True, D("0.10"))]
# MECHANICS 5: progressive 10,000 -> 5%, 20,000 -> 7%, 50,000 -> 10%.
PROGRESSIVE = [
    Band(D(10000), True, D("0.05")),
    Band(D(20000), True, D("0.07")),
    Band(D(50000), True, D("0.10")),
]
# MECHANICS 16: lamps, over 100 -> 5%, over 200 -> 10%, over 300 -> 20%, 10 GBP a pack.
LAMPS = [
    Band(D(100), False, D("0.05")),
    Band(D(200), False, D("0.10")),
    Band(D(300), False, D("0.20")),
]
PACK = D(10)


def lamp_cost(first_unit: int, count: int) -> Decimal:
    return sum(
        (units * PACK * (1 - rate) for rate, units in marginal_unit_rates(LAMPS, first_unit, count)),
        D(0),
    )


@pytest.mark.parametrize(
    ("order", "discount", "pays"),
    [
        ("22000", "2200", "19800"),
        ("15000", "750", "14250"),
        ("19000", "950", "18050"),
        ("20000", "2000", "18000"),
        ("18000", "900", "17100"),
        ("9999.99", "0", "9999.99"),
    ],
)
def test_slab_golden(order: str, discount: str, pays: str) -> None:
    value = D(order)
    assert slab_discount(ORDER_SCALE, value) == D(discount)
    assert value - slab_discount(ORDER_SCALE, value) == D(pays)


def test_slab_edges_from_and_over() -> None:
    assert slab_rate(ORDER_SCALE, D(9999)) is None
    assert slab_rate(ORDER_SCALE, D(10000)) == D("0.05")
    # MECHANICS 19: "more than 10,000" -> 5%: exactly 10,000 pays 10,000.
    over = [Band(D(10000), False, D("0.05"))]
    assert slab_rate(over, D(10000)) is None
    assert D(12000) - slab_discount(over, D(12000)) == D(11400)
    from_ = [Band(D(10000), True, D("0.05"))]
    assert D(10000) - slab_discount(from_, D(10000)) == D(9500)
    # Whole-order progressive on the slab reading (MECHANICS 5).
    assert D(22000) - slab_discount(PROGRESSIVE, D(22000)) == D(20460)
    assert D(60000) - slab_discount(PROGRESSIVE, D(60000)) == D(54000)


def test_slab_order_of_bands_does_not_matter() -> None:
    assert slab_rate(list(reversed(ORDER_SCALE)), D(22000)) == D("0.10")
    assert slab_rate([], D(5)) is None


def test_marginal_amount_golden() -> None:
    assert marginal_amount_discount(PROGRESSIVE, D(0), D(22000)) == D(640)
    assert D(22000) - marginal_amount_discount(PROGRESSIVE, D(0), D(22000)) == D(21360)
    assert marginal_amount_discount(PROGRESSIVE, D(0), D(60000)) == D(3600)
    assert D(60000) - marginal_amount_discount(PROGRESSIVE, D(0), D(60000)) == D(56400)
    assert marginal_amount_discount(PROGRESSIVE, D(0), D(9000)) == D(0)


def test_marginal_amount_cumulative_and_refund() -> None:
    # 15,000 already spent in the window; this order brings it to 22,000.
    assert marginal_amount_discount(PROGRESSIVE, D(15000), D(22000)) == D(250) + D(140)
    assert marginal_amount_discount(PROGRESSIVE, D(22000), D(15000)) == -(D(250) + D(140))
    assert marginal_amount_discount(PROGRESSIVE, D(5), D(5)) == D(0)


def test_marginal_units_golden() -> None:
    assert marginal_unit_rates(LAMPS, 1, 250) == [(D(0), 100), (D("0.05"), 100), (D("0.10"), 50)]
    assert lamp_cost(1, 250) == D(2400)
    assert lamp_cost(1, 350) == D(3250)
    assert lamp_cost(1, 300) == D(2850)
    # The running count crosses orders: 80 in January, then units 81-130 in March.
    assert lamp_cost(1, 80) == D(800)
    assert marginal_unit_rates(LAMPS, 81, 50) == [(D(0), 20), (D("0.05"), 30)]
    assert lamp_cost(81, 50) == D(485)


def test_marginal_units_edges() -> None:
    from_ = [Band(D(100), True, D("0.05"))]
    assert marginal_unit_rates(from_, 99, 3) == [(D(0), 1), (D("0.05"), 2)]
    assert marginal_unit_rates(LAMPS, 100, 2) == [(D(0), 1), (D("0.05"), 1)]
    assert marginal_unit_rates(LAMPS, 1, 0) == []
    assert marginal_unit_rates([], 5, 3) == [(D(0), 3)]
    # Fractional thresholds: "from 2.5" starts at unit 3, "over 2.5" too.
    assert marginal_unit_rates([Band(D("2.5"), True, D("0.1"))], 1, 4) == [(D(0), 2), (D("0.1"), 2)]
    assert marginal_unit_rates([Band(D("2.5"), False, D("0.1"))], 1, 4) == [(D(0), 2), (D("0.1"), 2)]
    with pytest.raises(ValueError):
        marginal_unit_rates(LAMPS, 0, 5)
    with pytest.raises(ValueError):
        marginal_unit_rates(LAMPS, 1, -1)


def _unit_rate_slow(bands: list[Band], k: int) -> Decimal:
    rate = D(0)
    for band in sorted(bands, key=lambda b: (b.threshold, not b.inclusive)):
        if (k >= band.threshold) if band.inclusive else (k > band.threshold):
            rate = band.rate
    return rate


band_lists = st.lists(
    st.builds(
        Band,
        threshold=st.integers(0, 400).map(D),
        inclusive=st.booleans(),
        rate=st.integers(0, 50).map(lambda n: D(n) / 100),
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(bands=band_lists, first=st.integers(1, 400), count=st.integers(0, 200))
def test_unit_groups_match_unit_by_unit(bands: list[Band], first: int, count: int) -> None:
    groups = marginal_unit_rates(bands, first, count)
    assert sum(units for _, units in groups) == count
    expanded = [rate for rate, units in groups for _ in range(units)]
    assert expanded == [_unit_rate_slow(bands, k) for k in range(first, first + count)]


@settings(max_examples=60, deadline=None)
@given(
    a=st.integers(0, 80000).map(D),
    b=st.integers(0, 80000).map(D),
    c=st.integers(0, 80000).map(D),
)
def test_marginal_amount_is_additive_and_has_no_dead_zone(a: D, b: D, c: D) -> None:
    low, mid, high = sorted((a, b, c))
    whole = marginal_amount_discount(PROGRESSIVE, low, high)
    assert whole == marginal_amount_discount(PROGRESSIVE, low, mid) + marginal_amount_discount(
        PROGRESSIVE, mid, high
    )
    # Paying more never pays less under brackets (unlike a slab).
    assert high - marginal_amount_discount(PROGRESSIVE, D(0), high) >= mid - marginal_amount_discount(
        PROGRESSIVE, D(0), mid
    )


# ------------------------------------------------------------------ per-unit brackets on a basket


def _round_cents(amount: Decimal) -> Decimal:
    return amount.quantize(D("0.01"), ROUND_HALF_EVEN)


@st.composite
def _bracket_baskets(draw: st.DrawFn) -> tuple[list[Band], int, list[Decimal], list[int], list[int]]:
    bands = draw(st.lists(st.builds(Band, st.integers(0, 60).map(D), st.booleans(), st.sampled_from([D("0.05"), D("0.1"), D("0.125"), D("0.2"), D("0.333")])), max_size=4))
    quantities = draw(st.lists(st.integers(1, 40), min_size=1, max_size=5))
    nets = [D(draw(st.integers(0, 500_000))) / 100 for _ in quantities]
    indexes = sorted(draw(st.sets(st.integers(0, len(quantities) - 1))))
    return bands, draw(st.integers(1, 80)), nets, quantities, indexes


@given(_bracket_baskets())
def test_marginal_units_is_each_units_rate_on_its_exact_price(basket: tuple[list[Band], int, list[Decimal], list[int], list[int]]) -> None:
    """Each counted line's discount is the sum, over its units, of the unit's bracket
    rate times the line's exact net per unit (a Fraction here, so nothing is lost to a
    division), rounded once; lines not counted get nothing."""
    bands, first_unit, nets, quantities, indexes = basket
    got = marginal_units(tuple(bands), first_unit, nets, quantities, indexes, _round_cents)
    unit = first_unit
    for i, (net, quantity) in enumerate(zip(nets, quantities, strict=True)):
        if i not in indexes:
            assert got[i] == 0
            continue
        exact = sum((Fraction(_unit_rate_slow(bands, unit + k)) for k in range(quantity)), Fraction(0)) * Fraction(net) / quantity
        unit += quantity
        assert got[i] == _round_cents(D(exact.numerator) / D(exact.denominator)), (i, exact)


def test_marginal_units_a_half_penny_is_rounded_by_the_program() -> None:
    """1.00 for 3 units at 0.5% each is exactly 0.015 x 1.00 / 3 = 0.005: half-even
    rounds it to 0.00, half-up to 0.01. Unit by unit, 1.00 / 3 = 0.333... was cut at 28
    digits first, and the sum fell just below the half penny either way."""
    half = [Band(D(0), True, D("0.005"))]
    assert marginal_units(tuple(half), 1, [D("1.00")], [3], [0], _round_cents) == [D("0.00")]
    assert marginal_units(tuple(half), 1, [D("1.00")], [3], [0], lambda a: a.quantize(D("0.01"), ROUND_HALF_UP)) == [D("0.01")]


def test_marginal_units_of_a_large_order() -> None:
    """A B2B order of a million units is worked on its runs of units at one rate, not
    unit by unit: lamps' brackets (nothing to 100, 5% to 200, 10% to 300, 20% after) on
    1,000,000 packs at 10 GBP take 0.05 x 1,000 + 0.10 x 1,000 + 0.20 x 9,997,000 =
    1,999,550 GBP."""
    got = marginal_units(tuple(LAMPS), 1, [D(10_000_000)], [1_000_000], [0], _round_cents)
    assert got == [D("1999550.00")]
