"""The purchase path of one program, specialised: what `loyaldsl compile` writes beside
the general engine so that a purchase does only the steps its program has.

The general engine (runtime/engine.py) asks, on every purchase, whether the program has
points, tiers, scales, codes, coupons, stamp cards... and carries a Basket of line
objects and a Context through each step. A compiled module knows its program, so
`plan_purchase` reads the ProgramSpec once and writes a purchase path with each offer's
condition inlined over plain locals (the basket as a list of nets), each discount shape
called directly, and the stamp cards' steps spelled out; templates/purchase.py.j2
renders it. The path works on the engine's own records (CustomerState, Outcome,
PurchaseRecord) and calls the engine for what is rare (settling expiry, rewards), so a
state moves freely between the two, and the differential tests (tests/codegen) hold it
to the interpreter's results.

What the path covers grows one feature at a time. A program with anything else (points,
tiers, scales, codes, coupons, stacking groups, exclusions, gifts, stamps per money or
with rewards other than a free item) gets no specialised path: `plan_purchase` says why,
and the module's Program runs every purchase through the general engine. Within a
covered program the path hands back to the engine (before changing anything) for the
purchases it does not handle: see the guards in the template.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from loyaldsl.codegen.expressions import FunctionRef, LocalsBackend, SourceBackend, UnsupportedExpression
from loyaldsl.runtime.currency import minor_unit
from loyaldsl.runtime.spec import ItemFilterSpec, OfferSpec, ProgramSpec, StampCardSpec


@attrs.frozen
class Effect:
    shape: str  # an expression: the discount per line
    cap: str | None  # an expression: the most the effect takes, or None
    order_fraction: str | None = None  # a percent off the order (no cap): the fraction
    indexes: str = ""  # the local listing the lines the effect is on
    deferred: bool = False  # taken from the total only; its spread over the lines waits (LineDraft)


@attrs.frozen
class OfferStep:
    kind = "offer"
    name: str
    flag: str  # the local that says whether it applies
    eligible: str  # the expression that decides it, on the basket as entered
    effects: tuple[Effect, ...]


@attrs.frozen
class CardStep:
    kind = "card"
    name: str
    var: str  # the local holding its CardState
    flag: str  # the local that says whether its free item applies
    free: str  # the local holding the units it made free
    reward_indexes: str  # the local listing the lines its free item may be
    stamp_kind: str  # item | purchase
    stamp_test: str  # an expression over `line`: does the line earn stamps
    count: int
    size: int
    overflow: str  # reset | carry over
    when: str | None
    expiring: bool


@attrs.frozen
class IndexList:
    var: str
    expression: str  # the indexes of the lines an item filter selects


@attrs.frozen
class PurchasePlan:
    quantum: str
    indexes: tuple[IndexList, ...]
    steps: tuple[OfferStep | CardStep, ...]  # in program order
    cards: tuple[CardStep, ...]
    uses_periods: bool  # conditions ask `during`
    uses_quantities: bool  # a step needs each line's quantity
    deferred: Effect | None  # the order discount whose spread waits, if any


_EFFECT_WORDS = {"multibuy": "is a buy-get deal", "give-points": "gives points", "give-coupon": "gives a coupon"}


class NotSpecialised(Exception):
    """Why a program's purchases stay with the general engine."""


def plan_purchase(spec: ProgramSpec, backend: SourceBackend) -> PurchasePlan | str:
    """The specialised purchase path of `spec`, or the reason it has none."""
    try:
        return _Planner(spec, LocalsBackend(backend)).plan()
    except (NotSpecialised, UnsupportedExpression) as why:
        return str(why)


class _Planner:
    def __init__(self, spec: ProgramSpec, backend: LocalsBackend) -> None:
        self.spec = spec
        self.backend = backend
        self.indexes: dict[ItemFilterSpec, IndexList] = {}
        self.uses_periods = False

    def plan(self) -> PurchasePlan:
        spec = self.spec
        if spec.wallets:
            raise NotSpecialised("it has points")
        if spec.tiers is not None:
            raise NotSpecialised("it has tiers")
        if spec.stacking:
            raise NotSpecialised("it has stacking groups")
        steps: list[OfferStep | CardStep] = []
        for number, source in enumerate(spec.sources, start=1):
            if isinstance(source, OfferSpec):
                steps.append(self.offer(source, number))
            elif isinstance(source, StampCardSpec):
                steps.append(self.card(source, number))
            else:
                raise NotSpecialised(f"it has the scale {source.name}")
        cards = tuple(step for step in steps if isinstance(step, CardStep))
        quantum = str(Decimal(1).scaleb(-minor_unit(spec.currency)))
        offers = [step for step in steps if isinstance(step, OfferStep)]
        texts = [step.eligible for step in offers] + [e.shape + (e.cap or "") for step in offers for e in step.effects]
        uses_quantities = bool(cards) or any("quantities" in text for text in texts)
        steps, deferred = defer_last_order_discount(steps)
        return PurchasePlan(quantum, tuple(self.indexes.values()), tuple(steps), cards, self.uses_periods, uses_quantities, deferred)

    # ------------------------------------------------------------ pieces
    def expression(self, function: Any) -> str:
        assert isinstance(function, FunctionRef), function
        text = self.backend.expression(function)
        self.uses_periods = self.uses_periods or "during(periods" in text
        return text

    def index_list(self, items: ItemFilterSpec) -> IndexList:
        known = self.indexes.get(items)
        if known is None:
            var = f"lines_{len(self.indexes) + 1}"
            if items.kind == "all":
                expression = "list(range(len(lines)))"
            else:
                expression = f"[i for i, line in enumerate(lines) if {line_test(items)}]"
            known = self.indexes[items] = IndexList(var, expression)
        return known

    def offer(self, offer: OfferSpec, number: int) -> OfferStep:
        if offer.kind != "rule":
            raise NotSpecialised(f"it has the {offer.kind} {offer.name}")
        if offer.exclusions:
            raise NotSpecialised(f"{offer.name} is not valid with other offers")
        if not offer.effects:
            raise NotSpecialised(f"{offer.name} does nothing")
        tests = []
        if offer.once_per_customer:
            tests.append(f"customer.uses.get({offer.name!r}, 0) < 1")
        if offer.when is not None:
            tests.append(f"({self.expression(offer.when)})")
        effects = []
        matches = []
        for effect in offer.effects:
            if effect.kind != "discount":
                raise NotSpecialised(f"{offer.name} {_EFFECT_WORDS.get(effect.kind, effect.kind)}")
            indexes = self.index_list(effect.items).var
            matches.append(f"any(nets[i] > 0 for i in {indexes})")
            cap = self.expression(effect.cap) if effect.cap is not None else None
            order_fraction = None
            if effect.target == "order" and effect.percent is not None and cap is None:
                order_fraction = self.backend.decimal(effect.percent)
            effects.append(Effect(self.shape(effect, indexes), cap, order_fraction, indexes))
        tests.append(f"({' or '.join(matches)})")
        return OfferStep(offer.name, f"applies_{number}", " and ".join(tests), tuple(effects))

    def shape(self, effect: Any, indexes: str) -> str:
        fraction = self.backend.decimal(effect.percent) if effect.percent is not None else None
        amount = f"({self.expression(effect.amount)})" if effect.amount is not None else None
        if effect.target in ("order", "items"):
            if fraction is not None:
                if effect.target == "order":
                    return f"percent_of_order({fraction}, nets, {indexes}, QUANTUM, round_money)"
                return f"percent_of_lines({fraction}, nets, {indexes}, round_money)"
            return f"spread_over({amount} or _ZERO, nets, {indexes}, QUANTUM)"
        if effect.target == "each":
            return f"each_unit({fraction}, {amount}, nets, quantities, {indexes}, round_money)"
        return f"cheapest_units({fraction}, {amount}, nets, quantities, {indexes}, 1, round_money)"

    def card(self, card: StampCardSpec, number: int) -> CardStep:
        if card.reward_kind != "free-item":
            raise NotSpecialised(f"the stamp card {card.name} rewards with {card.reward_kind.replace('-', ' ')}")
        if card.stamp_kind not in ("item", "purchase"):
            raise NotSpecialised(f"the stamp card {card.name} stamps per money")
        return CardStep(
            name=card.name,
            var=f"card_{number}",
            flag=f"applies_{number}",
            free=f"free_{number}",
            reward_indexes=self.index_list(card.reward_items).var,
            stamp_kind=card.stamp_kind,
            stamp_test=line_test(card.items),
            count=card.count,
            size=card.size,
            overflow=card.overflow,
            when=self.expression(card.when) if card.when is not None else None,
            expiring=card.expiry is not None,
        )


def defer_last_order_discount(steps: list[OfferStep | CardStep]) -> tuple[list[OfferStep | CardStep], Effect | None]:
    """A percent off the order that is the last discount of the purchase needs no
    spread over the lines at the till: nothing after it reads a line's net, and what it
    takes is the rounded percent of the lines' nets (at most their sum), as the spread
    gives back in whole minor units. Only the record's lines need the spread, and only
    if a return reads them, so the path takes the amount off the total and leaves the
    spread to the record (LineDraft)."""
    if not steps or not isinstance(steps[-1], OfferStep) or steps[-1].effects[-1].order_fraction is None:
        return steps, None
    last = steps[-1]
    deferred = attrs.evolve(last.effects[-1], deferred=True)
    steps = [*steps[:-1], attrs.evolve(last, effects=(*last.effects[:-1], deferred))]
    return steps, deferred


def line_test(items: ItemFilterSpec) -> str:
    """An expression over `line`: whether the filter selects it (ItemFilterSpec.matches)."""
    if items.kind == "all":
        return "True"
    field = "line.category" if items.kind == "category" else "line.product"
    names = sorted(items.names)
    if len(names) == 1:
        return f"{field} == {names[0]!r}"
    return f"{field} in {{{', '.join(repr(name) for name in names)}}}"
