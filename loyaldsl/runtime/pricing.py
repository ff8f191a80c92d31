"""The basket and what discounts do to it.

Every discount is computed as an amount per line, in the currency's minor unit, and a
line never goes below zero. Keeping per-line amounts (not one order total) is what lets
a refund of one line give back exactly that line's share, and lets earning by category
see what was really paid for each item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .bands import Band, marginal_unit_rates
from .model import PurchaseLine
from .spec import ItemFilterSpec

ZERO = Decimal(0)


@dataclass(slots=True)
class BasketLine:
    product: str
    category: str
    quantity: int
    unit_price: Decimal
    gross: Decimal  # quantity x unit price, rounded to the minor unit
    net: Decimal  # after the discounts applied so far

    def matches(self, items: ItemFilterSpec) -> bool:
        return items.matches(self.product, self.category)


class Basket:
    """Lines with running net amounts, priced with the program's rounding (`rounder`)
    to its minor unit (`quantum`), both made once by the engine. The subtotal is fixed;
    the total is kept as discounts are taken, not re-summed."""

    __slots__ = ("lines", "quantum", "subtotal", "total", "_round", "_matching")

    def __init__(self, lines: tuple[PurchaseLine, ...], rounder: Callable[[Decimal], Decimal], quantum: Decimal) -> None:
        self.quantum = quantum
        self._round = rounder
        self.lines = []
        for line in lines:
            gross = self._round(line.unit_price * line.quantity)
            self.lines.append(BasketLine(line.product, line.category, line.quantity, line.unit_price, gross, gross))
        self.subtotal: Decimal = sum((line.gross for line in self.lines), ZERO)
        self._matching: dict[int, tuple[ItemFilterSpec, list[int]]] = {}
        self.total: Decimal = self.subtotal

    def round(self, amount: Decimal) -> Decimal:
        return self._round(amount)

    def nets(self) -> list[Decimal]:
        return [line.net for line in self.lines]

    def quantities(self) -> list[int]:
        return [line.quantity for line in self.lines]

    def restore(self, nets: list[Decimal]) -> None:
        """Undo discounts taken since `nets()` (a trial of an offer in `best of`)."""
        for line, net in zip(self.lines, nets, strict=True):
            line.net = net
        self.total = sum(nets, ZERO)

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)

    def matching(self, items: ItemFilterSpec) -> list[int]:
        """Indexes of the lines a filter selects (remembered: lines never change
        product or category, and offers ask the same question several times)."""
        known = self._matching.get(id(items))  # by identity: hashing a filter costs more
        if known is None:
            # The filter is kept with its answer, so its id cannot be reused meanwhile.
            known = self._matching[id(items)] = (items, [i for i, line in enumerate(self.lines) if line.matches(items)])
        return known[1]

    def apply(self, per_line: list[Decimal]) -> Decimal:
        """Take per-line discounts off; returns the total taken."""
        nets = self.nets()
        taken = take_off(nets, per_line)
        for line, net in zip(self.lines, nets, strict=True):
            line.net = net
        self.total -= taken
        return taken

    # ------------------------------------------------------------ discount shapes
    def zeros(self) -> list[Decimal]:
        return [ZERO] * len(self.lines)

    def allocate(self, amount: Decimal, indexes: Sequence[int]) -> list[Decimal]:
        """Spread `amount` over lines in proportion to their net."""
        return spread_over(amount, self.nets(), indexes, self.quantum)

    def allocate_by(self, amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
        return spread(amount, weights, self.quantum)

    def percent_of_lines(self, fraction: Decimal, indexes: Sequence[int]) -> list[Decimal]:
        return percent_of_lines(fraction, self.nets(), indexes, self._round)

    def percent_of_order(self, fraction: Decimal, indexes: Sequence[int]) -> list[Decimal]:
        return percent_of_order(fraction, self.nets(), indexes, self.quantum, self._round)

    def each_unit(self, fraction: Decimal | None, amount: Decimal | None, indexes: Sequence[int]) -> list[Decimal]:
        return each_unit(fraction, amount, self.nets(), self.quantities(), indexes, self._round)

    def cheapest_units(self, fraction: Decimal | None, amount: Decimal | None, indexes: Sequence[int], count: int = 1) -> list[Decimal]:
        return cheapest_units(fraction, amount, self.nets(), self.quantities(), indexes, count, self._round)

    def multi_buy(self, buy: int, get: int, fraction: Decimal, repeating: bool, indexes: Sequence[int]) -> list[Decimal]:
        return multi_buy(buy, get, fraction, repeating, self.nets(), self.quantities(), indexes, self._round)

    def marginal_units(self, bands: tuple[Band, ...], first_unit: int, indexes: Sequence[int]) -> list[Decimal]:
        return marginal_units(bands, first_unit, self.nets(), self.quantities(), indexes, self._round)


# ------------------------------------------------------------------ discount shapes
# On plain lists (each line's net so far, its quantity), so a compiled module's
# purchase path shares them with the Basket without building line objects.


def spread(amount: Decimal, weights: list[Decimal], quantum: Decimal) -> list[Decimal]:
    """Spread `amount` in proportion to `weights`, in minor units, the leftover units
    going to the largest remainders first, so the parts add up exactly. Worked in whole
    numbers (weights are money, whole multiples of the minor unit), so no remainder is
    ever lost to the precision of a division."""
    base = sum(weights, ZERO)
    if amount <= 0 or base <= 0:
        return [ZERO] * len(weights)
    units = int(min(amount, base) / quantum)
    scale = quantum
    scaled = [weight / scale for weight in weights]
    whole = [int(w) for w in scaled]
    while whole != scaled:  # a weight finer than the minor unit: count in smaller steps
        scale /= 10
        scaled = [weight / scale for weight in weights]
        whole = [int(w) for w in scaled]
    total = sum(whole)
    parts = [units * w // total if w > 0 else 0 for w in whole]
    left = units - sum(parts)
    if left:
        by_remainder = sorted((i for i, w in enumerate(whole) if w > 0), key=lambda i: (-(units * whole[i] % total), i))
        for i in by_remainder[:left]:
            parts[i] += 1
    return [Decimal(part) * quantum if w > 0 else ZERO for part, w in zip(parts, whole, strict=True)]


def spread_over(amount: Decimal, nets: list[Decimal], indexes: Sequence[int], quantum: Decimal) -> list[Decimal]:
    """Spread `amount` over the lines at `indexes`, in proportion to their net."""
    weights = [ZERO] * len(nets)
    for i in indexes:
        weights[i] = nets[i]
    return spread(amount, weights, quantum)


def percent_of_lines(fraction: Decimal, nets: list[Decimal], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]) -> list[Decimal]:
    """Each line rounded on its own."""
    out = [ZERO] * len(nets)
    for i in indexes:
        out[i] = min(rounder(nets[i] * fraction), nets[i])
    return out


def take_percent_of_lines(fraction: Decimal, nets: list[Decimal], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]) -> Decimal:
    """take_off(nets, percent_of_lines(...)) in one pass over the lines it is on, with
    no list of per-line amounts: the purchase path's most common discount."""
    taken = ZERO
    for i in indexes:
        net = nets[i]
        amount = rounder(net * fraction)
        if amount > net:
            amount = net
        if amount > 0:
            nets[i] = net - amount
            taken += amount
    return taken


def percent_of_order(fraction: Decimal, nets: list[Decimal], indexes: Sequence[int], quantum: Decimal, rounder: Callable[[Decimal], Decimal]) -> list[Decimal]:
    """One rounding on the whole amount, then spread: a 100% discount leaves 0.00."""
    base = sum((nets[i] for i in indexes), ZERO)
    return spread_over(rounder(base * fraction), nets, indexes, quantum)


def each_unit(fraction: Decimal | None, amount: Decimal | None, nets: list[Decimal], quantities: list[int], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]) -> list[Decimal]:
    out = [ZERO] * len(nets)
    for i in indexes:
        unit = nets[i] / quantities[i]
        per_unit = unit * fraction if fraction is not None else min(amount or ZERO, unit)
        out[i] = min(rounder(per_unit * quantities[i]), nets[i])
    return out


def units_by_price(nets: list[Decimal], quantities: list[int], indexes: Sequence[int]) -> list[tuple[Decimal, int]]:
    """(net unit price, line) for every unit, dearest first, ties in line order."""
    units = []
    for i in indexes:
        unit = nets[i] / quantities[i]
        units.extend([(unit, i)] * quantities[i])
    units.sort(key=lambda u: (-u[0], u[1]))
    return units


def cheapest_units(fraction: Decimal | None, amount: Decimal | None, nets: list[Decimal], quantities: list[int], indexes: Sequence[int], count: int, rounder: Callable[[Decimal], Decimal]) -> list[Decimal]:
    out = [ZERO] * len(nets)
    units = units_by_price(nets, quantities, indexes)
    for unit, i in list(reversed(units))[:count]:
        off = unit * fraction if fraction is not None else min(amount or ZERO, unit)
        out[i] += rounder(off)
    return out


def multi_buy(
    buy: int, get: int, fraction: Decimal, repeating: bool, nets: list[Decimal], quantities: list[int], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]
) -> list[Decimal]:
    """Every full group of buy+get units earns `get` discounted units, and the
    discounted units are the cheapest of the basket (MECHANICS: "cheapest"), so the
    customer gets the choice the usual till gives. Without `repeating`, one group."""
    out = [ZERO] * len(nets)
    units = units_by_price(nets, quantities, indexes)
    groups = len(units) // (buy + get)
    if not repeating:
        groups = min(groups, 1)
    for unit, i in units[len(units) - groups * get :] if groups else []:
        out[i] += rounder(unit * fraction)
    return out


def marginal_units(
    bands: tuple[Band, ...], first_unit: int, nets: list[Decimal], quantities: list[int], indexes: Sequence[int], rounder: Callable[[Decimal], Decimal]
) -> list[Decimal]:
    """Unit k of the running count, `first_unit` being this basket's first, gets its
    bracket's rate (B2B volume brackets); each line's discount is its units' rates on
    its net per unit, rounded once: the line's net x the sum of its units' rates / its
    units, so that the one inexact step is the last division (a net per unit of 1.00 / 3
    cut at 28 digits first could fall just short of a half penny). Worked on the runs of
    units at one rate, so an order of a million units costs what one of ten does."""
    out = [ZERO] * len(nets)
    runs = marginal_unit_rates(bands, first_unit, sum(quantities[i] for i in indexes))
    run = 0
    left = runs[0][1] if runs else 0  # units of the current run not yet given to a line
    for i in indexes:
        quantity = need = quantities[i]
        rates = ZERO  # the line's units' rates, summed (exact: rates are short decimals)
        while need:
            while not left:  # the next run
                run += 1
                left = runs[run][1]
            take = min(need, left)
            rates += runs[run][0] * take
            need -= take
            left -= take
        out[i] = rounder(nets[i] * rates / quantity)
    return out


def take_off(nets: list[Decimal], per_line: list[Decimal]) -> Decimal:
    """Take per-line discounts off `nets` in place, never below zero; the total taken."""
    taken = ZERO
    for i, (net, amount) in enumerate(zip(nets, per_line, strict=True)):
        if amount > net:
            amount = net
        if amount > 0:
            nets[i] = net - amount
            taken += amount
    return taken


def units_made_free(per_line: list[Decimal], nets: list[Decimal], quantities: list[int]) -> list[int]:
    """How many units each line's free-item discount made free (before it is taken)."""
    units = [0] * len(nets)
    for i, amount in enumerate(per_line):
        if amount > 0:
            unit = nets[i] / quantities[i]
            units[i] = int((amount / unit).to_integral_value()) if unit else 0
    return units
