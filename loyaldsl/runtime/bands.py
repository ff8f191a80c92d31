"""Rate tables: "from 10000 RUB: 5%" (slab) and "over 100: 5% off" (bracket).

Stdlib only (copied into generated modules). A slab applies one rate, the highest
band the value reaches, to the whole value (MECHANICS items 4 and 10). A bracket
(marginal) table applies each rate only to the part above its threshold (items 5 and
16). Nothing here rounds: the results are exact Decimals, and the interpreter rounds
money once, with currency.round_money, where the program says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal


@dataclass(frozen=True, slots=True)
class Band:
    """One row of a table. `inclusive` True is "from" (value >= threshold), False is
    "over" (value > threshold): the language makes the author say which. `rate` is a
    fraction (Decimal("0.05") for 5%)."""

    threshold: Decimal
    inclusive: bool
    rate: Decimal


def bands_in_order(bands: Sequence[Band]) -> list[Band]:
    """Bands from lowest to highest edge; at an equal threshold "from" comes before
    "over" (it is reached first). The checker rejects such overlaps; this keeps the
    result deterministic anyway."""
    return sorted(bands, key=lambda band: (band.threshold, not band.inclusive))


def band_reached(band: Band, value: Decimal) -> bool:
    return value >= band.threshold if band.inclusive else value > band.threshold


def slab_rate(bands: Sequence[Band], value: Decimal) -> Decimal | None:
    """The rate of the highest band whose edge `value` passes; None below the first."""
    return rate_in_order(bands_in_order(bands), value)


def rate_in_order(ordered: Sequence[Band], value: Decimal) -> Decimal | None:
    """slab_rate on bands already in `bands_in_order` order (a scale's, sorted once)."""
    rate: Decimal | None = None
    for band in ordered:
        if band_reached(band, value):
            rate = band.rate
        else:
            break
    return rate


def slab_discount(bands: Sequence[Band], value: Decimal) -> Decimal:
    """The slab rate times the whole value (0 below the first band). Note the dead
    zone this creates just below each edge (19,000 -> 950 off, 20,000 -> 2,000 off)."""
    rate = slab_rate(bands, value)
    return Decimal(0) if rate is None else rate * value


def marginal_amount_discount(bands: Sequence[Band], start: Decimal, end: Decimal) -> Decimal:
    """Bracket discount for a continuous amount whose running total moves from `start`
    to `end` (start 0 for a single order; the window's earlier total otherwise).

    Each band's rate applies to the part of [start, end) between its threshold and
    the next band's threshold; a band's edge ("from"/"over") does not matter for a
    continuous amount. If end < start (a refund moves the total back) the result is
    the negative of the discount from end to start, so giving back is exact.
    """
    if end < start:
        return -marginal_amount_discount(bands, end, start)
    ordered = bands_in_order(bands)
    total = Decimal(0)
    for index, band in enumerate(ordered):
        low = max(start, band.threshold)
        high = end if index + 1 == len(ordered) else min(end, ordered[index + 1].threshold)
        if high > low:
            total += band.rate * (high - low)
    return total


def _bands_first_unit(band: Band) -> int:
    """The first whole unit number (1-based) that reaches this band."""
    threshold = band.threshold
    whole = int(threshold.to_integral_value(rounding=ROUND_FLOOR))
    if band.inclusive:
        return whole if whole == threshold else whole + 1
    return whole + 1


def marginal_unit_rates(
    bands: Sequence[Band], first_unit: int, count: int
) -> list[tuple[Decimal, int]]:
    """Rates for units first_unit .. first_unit+count-1 of a running count (1-based,
    over the metric's window): unit k gets the rate of the highest band with
    k >= threshold ("from") or k > threshold ("over"), 0 below every band.

    Returns (rate, units) groups in unit order, neighbours with the same rate merged.
    Lamps "over 100: 5%, over 200: 10%": 250 units from unit 1 give
    [(0, 100), (0.05, 100), (0.10, 50)].
    """
    if isinstance(first_unit, bool) or not isinstance(first_unit, int) or first_unit < 1:
        raise ValueError(f"first_unit must be a whole number >= 1, got {first_unit!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a whole number >= 0, got {count!r}")
    # (first unit, rate) steps; a later band at the same first unit overrides.
    steps: list[tuple[int, Decimal]] = [(first_unit, Decimal(0))]
    for band in bands_in_order(bands):
        steps.append((max(first_unit, _bands_first_unit(band)), band.rate))
    last = first_unit + count  # exclusive
    groups: list[tuple[Decimal, int]] = []
    for index, (begin, rate) in enumerate(steps):
        finish = last if index + 1 == len(steps) else min(last, steps[index + 1][0])
        units = finish - begin
        if units <= 0:
            continue
        if groups and groups[-1][0] == rate:
            groups[-1] = (rate, groups[-1][1] + units)
        else:
            groups.append((rate, units))
    return groups
