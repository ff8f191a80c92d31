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

What the path covers grows one feature at a time: rules and codes (with gifts, buy-get
deals and `not with`, cancelling the order or not), scales (per-unit brackets too,
and windows over the customer's earlier purchases of items or amounts), stamp cards
with a free item (stamped per item, purchase or money), stacking groups, points
(earning, multipliers on days and hours, redemption, monthly credits) and tiers.
Coupons never reach it (the template hands back the purchases of a customer holding
one), so they are skipped. A program with anything else (a window over an expression,
item multipliers, a stamp card rewarding with points or a coupon, a stamp card or a
name in two stacking groups) gets no
specialised path: `plan_purchase` says why, and the module's Program runs every
purchase through the general engine. Within a covered program the path hands back to
the engine (before changing anything) for the purchases it does not handle: see the
guards in the template.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs

from loyaldsl.codegen.expressions import FunctionRef, LocalsBackend, SourceBackend, UnsupportedExpression
from loyaldsl.runtime.currency import minor_unit
from loyaldsl.runtime.engine import DEFAULT_REFUND_WINDOW, IDS_KEPT, NOT_PURCHASE_EARNS, REVIEW_MONTHS, records_kept
from loyaldsl.runtime.spec import ItemFilterSpec, OfferSpec, ProgramSpec, ScaleSpec, StampCardSpec, WalletSpec


@attrs.frozen
class Effect:
    shape: str  # an expression: the discount per line
    cap: str | None  # an expression: the most the effect takes, or None
    order_fraction: str | None = None  # a percent off the order (no cap): the fraction
    indexes: str = ""  # the local listing the lines the effect is on; "" for a deferred one on every line
    deferred: bool = False  # taken from the total only; its spread over the lines waits (PurchaseRecord.work_out)
    every: bool = False  # on every line of the basket
    takes: str | None = None  # an expression that takes the discount off `nets` itself and gives the amount (no per-line list)


@attrs.frozen
class CodeTest:
    """What a code entered must pass, in Engine.offer_refusal's order, each refusal in
    its own words: its dates and limits (Engine.use_refusal), its condition, then
    something in the basket to act on."""

    key: str  # its name folded, as Engine.read_codes keys the codes entered
    ref: str  # the module constant holding its OfferSpec
    index: int  # in ProgramSpec.sources
    when: str | None  # an expression
    when_text: str | None  # the condition as written, for the refusal
    matches: str | None  # an expression: something in the basket its discounts act on


@attrs.frozen
class Exclusion:
    other: str  # the name the offer is not valid with
    present: str  # the local saying whether `other` applied before any offer was dropped
    cancel: bool  # the order is cancelled, not just the offer dropped


@attrs.frozen
class OfferStep:
    kind = "offer"
    name: str
    flag: str  # the local that says whether it applies
    eligible: str  # the expression that decides a rule, on the basket as entered
    effects: tuple[Effect, ...]
    gifts: bool = False  # it gives points or a coupon once the purchase is recorded
    code: CodeTest | None = None  # a code: decided by `code`, not `eligible`
    exclusions: tuple[Exclusion, ...] = ()  # `not with`, in the program's order
    counts_uses: bool = False  # a limit reads its uses per customer (OfferSpec.counts_uses)

    @property
    def what(self) -> str:
        """How a refusal names it (Engine.refuse's `what`)."""
        return f"code {self.name}" if self.code is not None else self.name


@attrs.frozen
class CardStep:
    kind = "card"
    name: str
    var: str  # the local holding its CardState
    flag: str  # the local that says whether its free item applies
    free: str  # the local holding the units it made free
    reward_indexes: str  # the local listing the lines its free item may be
    stamp_kind: str  # item | purchase | money
    stamp_test: str  # an expression over `line`: does the line earn stamps
    count: int
    size: int
    overflow: str  # reset | carry over
    when: str | None
    expiring: bool
    index: int = 0  # in ProgramSpec.sources
    money: str | None = None  # stamps per money: an expression, what the stamps are counted on
    carry_remainder: bool = False  # stamps per money: what is short of a stamp waits for the next visit


@attrs.frozen
class ScaleStep:
    kind = "scale"
    name: str
    index: int  # in ProgramSpec.sources
    ref: str  # the module constant holding its ScaleSpec
    flag: str  # the local that says whether it applies (its `when`)
    eligible: str
    value: str  # an expression: what the scale measures, at the time it applies
    gross_value: str  # the same on the basket before discounts (for the next-step note)
    shape: str  # an expression (over `rate`, or `value` for each part): the discount per line
    marginal: bool  # each part at its own rate, not one rate on the whole
    prior: str | None = None  # with a window: the local holding what it counted before this purchase

    @property
    def what(self) -> str:
        return self.name


@attrs.frozen
class EarnStep:
    label: str  # the clause as written: the reason shown with the points
    condition: str | None  # an expression, or None
    amount: str  # an expression: the points before the wallet's rounding
    first_only: bool = False  # on a customer's first purchase only
    rate: tuple[str, str] | None = None  # (module constant, its expression): points per unit of the base, divided once


@attrs.frozen
class MultiplierStep:
    factor: str  # an expression: the factor
    condition: str  # an expression: whether it counts for this purchase


@attrs.frozen
class WalletPlan:
    ref: str  # the module constant holding its WalletSpec
    name: str
    index: int  # in ProgramSpec.wallets
    earns: tuple[EarnStep, ...]
    redeem_base: str | None  # an expression: what "redeem up to N% of" is taken of, when not the total
    multipliers: tuple[MultiplierStep, ...] = ()
    combine: str = "compound"  # compound | best

    @property
    def uses_clock(self) -> bool:
        return any("clock" in m.condition for m in self.multipliers)


@attrs.frozen
class TierPlan:
    metric: str  # spend | visits | points
    immediately: bool  # upgrade right after the purchase counts, before points are earned
    wallet: str | None  # the points a points metric counts
    review_months: int | None  # months in a review period (None: no review)
    demote_monthly: bool  # one step down per month without a visit


@attrs.frozen
class GroupPlan:
    kind: str  # best | first
    members: tuple[OfferStep | ScaleStep, ...]  # on the path, in the group's order
    done: str  # the local that says the group has chosen
    label: str  # "best of a, b", as the engine's refusal note says it

    @property
    def rule(self) -> str:
        return "gives more" if self.kind == "best" else "comes first"


@attrs.frozen
class IndexList:
    var: str
    expression: str  # the indexes of the lines an item filter selects
    every: bool  # the filter selects every line
    test: str | None = None  # an expression over `line`: whether the filter selects it (None: every line)


@attrs.frozen
class PurchasePlan:
    quantum: str
    indexes: tuple[IndexList, ...]
    steps: tuple[OfferStep | CardStep | ScaleStep, ...]  # in program order
    cards: tuple[CardStep, ...]
    uses_periods: bool  # conditions ask `during`
    uses_quantities: bool  # a written expression needs each line's quantity (a card's free item makes them itself)
    deferred: Effect | None  # the order discount whose spread waits, if any
    scales: tuple[ScaleStep, ...] = ()
    uses_gross: bool = False  # a scale measures the lines before discounts
    uses_rounding: bool = True  # a step rounds money (the engine's rounder, `round_money`)
    wallets: tuple[WalletPlan, ...] = ()
    tiers: TierPlan | None = None
    monthly: bool = False  # credits by the month's spend (Engine.monthly): the purchase adds to its month
    groups: dict[str, GroupPlan] = attrs.field(factory=dict)  # stacking groups that choose, by member name
    codes: tuple[OfferStep, ...] = ()  # the steps that are codes
    choose_at: dict[str, tuple[str, ...]] = attrs.field(factory=dict)  # group member -> the flags its group chooses on there
    present: tuple[tuple[str, str], ...] = ()  # (local, flag): what `not with` reads, kept before any drop
    # Index lists only a card's free item reads (var -> expression): made by the card's
    # own test once a free item waits, not on every purchase.
    made_by_cards: dict[str, str] = attrs.field(factory=dict)
    # Refund records are kept longer than event ids (a refund window over a month): an
    # id made next may be due to be dropped before the oldest record (Engine.forget).
    records_outlive_ids: bool = False

    @property
    def exclusions(self) -> tuple[OfferStep, ...]:
        return tuple(step for step in self.steps if isinstance(step, OfferStep) and step.exclusions)

    @property
    def lowers_nets(self) -> bool:
        """A step may take from the lines' nets (all but a deferred order discount do)."""
        return any(not isinstance(step, OfferStep) or any(not effect.deferred for effect in step.effects) for step in self.steps)

    @property
    def uses_first_purchase(self) -> bool:
        return any(earn.first_only for wallet in self.wallets for earn in wallet.earns)

    @property
    def settle_by_engine(self) -> bool:
        """Points and tiers have more to settle as time passes (expiry, reviews): the
        path calls the engine's own `settle` for them."""
        return bool(self.wallets) or self.tiers is not None


# Offers that only a held coupon brings: the path hands those purchases back.
_NEVER_ON_THE_PATH = frozenset({"coupon"})


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
        # Each source's number (its flag is applies_N), by name; a coupon's flag is never set on the path.
        self.numbers = {
            source.name: number
            for number, source in enumerate(spec.sources, start=1)
            if not (isinstance(source, OfferSpec) and source.kind in _NEVER_ON_THE_PATH)
        }

    def plan(self) -> PurchasePlan:
        spec = self.spec
        tiers = self.tiers()
        wallets = tuple(self.wallet(wallet, index) for index, wallet in enumerate(spec.wallets))
        steps: list[OfferStep | CardStep | ScaleStep] = []
        for number, source in enumerate(spec.sources, start=1):
            if isinstance(source, OfferSpec):
                if source.kind in _NEVER_ON_THE_PATH:
                    continue  # the path hands back every purchase that could use it
                steps.append(self.offer(source, number))
            elif isinstance(source, StampCardSpec):
                steps.append(self.card(source, number))
            else:
                steps.append(self.scale(source, number))
        cards = tuple(step for step in steps if isinstance(step, CardStep))
        scales = tuple(step for step in steps if isinstance(step, ScaleStep))
        quantum = str(Decimal(1).scaleb(-minor_unit(spec.currency)))
        # Which locals the written expressions read, from every one of them, so a new
        # kind of piece cannot forget to say (a multiplier's condition once did).
        texts = list(expressions_in((steps, wallets)))
        uses_quantities = any("quantities" in text for text in texts)  # a card's free item makes its own
        uses_gross = any("gross[" in text for text in texts)
        # A card's free item and a deferred discount (written in the template) round too.
        uses_rounding = bool(cards) or any("round_money" in text for text in texts)
        groups = self.stacking(steps)
        steps, deferred = defer_last_order_discount(steps, groups)
        # Only the index lists something reads: a deferred discount on every line
        # reads none, and a test for something to discount on every line reads nets.
        written = " ".join(expressions_in((steps, wallets)))
        indexes = tuple(known for known in self.indexes.values() if re.search(rf"\b{known.var}\b", written))
        rewards = {card.reward_indexes for card in cards}
        elsewhere = " ".join(expressions_in(([step for step in steps if not isinstance(step, CardStep)], [attrs.evolve(card, reward_indexes="") for card in cards], wallets, deferred)))
        made_by_cards = {known.var: known.expression for known in indexes if known.var in rewards and not re.search(rf"\b{known.var}\b", elsewhere)}
        return PurchasePlan(
            quantum=quantum,
            indexes=indexes,
            made_by_cards=made_by_cards,
            steps=tuple(steps),
            cards=cards,
            uses_periods=self.uses_periods,
            uses_quantities=uses_quantities,
            deferred=deferred,
            scales=scales,
            uses_gross=uses_gross,
            uses_rounding=uses_rounding,
            wallets=wallets,
            tiers=tiers,
            monthly=any(earn.kind == "monthly" and wallet.worth is not None for wallet in spec.wallets for earn in wallet.earns),
            groups=groups,
            choose_at=choice_points(steps, groups),
            codes=tuple(step for step in steps if isinstance(step, OfferStep) and step.code is not None),
            present=tuple(sorted({(ex.present, f"applies_{self.numbers[ex.other]}") for step in steps if isinstance(step, OfferStep) for ex in step.exclusions})),
            records_outlive_ids=records_kept(spec.refund_window or DEFAULT_REFUND_WINDOW) > IDS_KEPT,
        )

    def tiers(self) -> TierPlan | None:
        tiers = self.spec.tiers
        if tiers is None:
            return None
        review_months = REVIEW_MONTHS[tiers.review] if tiers.review is not None else None
        return TierPlan(tiers.metric, tiers.upgrade == "immediately" and tiers.metric != "points", tiers.wallet, review_months, tiers.demote_monthly)

    def wallet(self, wallet: WalletSpec, index: int) -> WalletPlan:
        ref = f"WALLET_{index + 1}"
        multipliers = []
        for number, multiplier in enumerate(wallet.multipliers):
            if multiplier.items is not None:
                raise NotSpecialised(f"the points {wallet.name} have a multiplier on some items")
            tests = []  # Engine.multiplier's tests, in its order
            if multiplier.weekdays:
                tests.append(f"at.weekday() in {{{', '.join(str(day) for day in sorted(multiplier.weekdays))}}}")
            if multiplier.start is not None:
                tests.append(f"clock >= {time_literal(multiplier.start)}")
            if multiplier.end is not None:
                tests.append(f"clock < {time_literal(multiplier.end)}")
            if multiplier.when is not None:
                tests.append(self.expression(multiplier.when))
            condition = " and ".join(f"({test})" for test in tests) if len(tests) > 1 else (tests[0] if tests else "True")
            multipliers.append(MultiplierStep(f"{ref}.multipliers[{number}].factor", condition))
        earns = []
        for number, earn in enumerate(wallet.earns, start=1):
            if earn.kind in NOT_PURCHASE_EARNS:
                continue  # signup, birthday, action, monthly credits: other events or the passing of time, on the engine
            points = self.backend.decimal(earn.points)
            conditions = ["first_purchase"] if earn.kind == "first-purchase" else []
            if earn.when is not None:
                conditions.append(self.expression(earn.when))
            # Points come out floored to the wallet's precision (Engine.earn), so the
            # constants' exponents never show.
            rate = None
            if earn.kind == "first-purchase":
                amount = points
            elif earn.kind == "per-visit":
                amount = f"{points} * factor"
            elif earn.kind == "per-item":
                amount = f"sum(({points} * line.quantity * factor for line in lines if {line_test(earn.items)}), _ZERO)"
            else:
                if earn.kind == "per-money":
                    assert earn.per is not None
                    per_unit = f"({points} / {self.backend.decimal(earn.per)})"
                else:
                    assert earn.rate is not None and wallet.worth is not None
                    per_unit = f"({self.backend.decimal(earn.rate)} / {self.backend.decimal(wallet.worth)})"
                # The engine divides on every purchase; the module once, at import, to
                # the same Decimal. Binary operations come parenthesised from the backend.
                rate = (f"{ref}_RATE_{number}", per_unit)
                amount = f"{self.expression(earn.base)} * {rate[0]} * factor"
            condition = " and ".join(f"({c})" for c in conditions) if len(conditions) > 1 else (conditions[0] if conditions else None)
            earns.append(EarnStep(earn.label, condition, amount, earn.kind == "first-purchase", rate))
        redeem_base = self.expression(wallet.redeem_base) if wallet.redeem_base is not None else None
        return WalletPlan(ref, wallet.name, index, tuple(earns), redeem_base, tuple(multipliers), wallet.combine)

    def stacking(self, steps: list[OfferStep | CardStep | ScaleStep]) -> dict[str, GroupPlan]:
        """The stacking groups that choose on the path, by member name. Codes and
        coupons never reach the path, so a group left with one member does nothing
        there (Engine.apply_offers applies a lone candidate as it is)."""
        by_name = {step.name: step for step in steps}
        group_of: dict[str, GroupPlan] = {}
        for number, (kind, members) in enumerate(self.spec.stacking, start=1):
            present = tuple(by_name[name] for name in members if name in by_name)
            if len(present) < 2:
                continue
            for step in present:
                if isinstance(step, CardStep):
                    raise NotSpecialised(f"the stamp card {step.name} is in the stacking group {kind} of {', '.join(members)}")
            group = GroupPlan(kind, present, f"group_{number}_done", f"{kind} of {', '.join(members)}")
            for name in members:
                if name in group_of:
                    raise NotSpecialised(f"{name} is in two stacking groups")
                group_of[name] = group
        return {name: group for name, group in group_of.items() if name in by_name}

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
            test = None if items.kind == "all" else line_test(items)
            expression = "range(len(lines))" if test is None else f"[i for i, line in enumerate(lines) if {test}]"
            known = self.indexes[items] = IndexList(var, expression, test is None, test)
        return known

    def offer(self, offer: OfferSpec, number: int) -> OfferStep:
        if offer.kind not in ("rule", "code"):
            raise NotSpecialised(f"it has the {offer.kind} {offer.name}")
        tests = []
        if offer.once_per_customer:
            tests.append(f"customer.uses.get({offer.name!r}, 0) < 1")
        when = self.expression(offer.when) if offer.when is not None else None
        if when is not None:
            tests.append(f"({when})")
        effects = []
        matches = []  # Engine.applies_to, per effect
        gifts = False
        for effect in offer.effects:
            if effect.kind in ("give-points", "give-coupon"):
                gifts = True  # given after the purchase (Engine.give); something to act on always
                continue
            index_list = self.index_list(effect.items)
            indexes = index_list.var
            if effect.kind == "multibuy":
                assert effect.percent is not None
                matches.append(f"sum(quantities[i] for i in {indexes}) >= {effect.buy + effect.get}")
                shape = f"multi_buy({effect.buy}, {effect.get}, {self.backend.decimal(effect.percent)}, {effect.repeating}, nets, quantities, {indexes}, round_money)"
                effects.append(Effect(shape, None, None, indexes))
                continue
            matches.append("bool(nets) and max(nets) > 0" if index_list.every else f"bool({indexes}) and any(nets[i] > 0 for i in {indexes})")  # most lists are empty: no generator for them
            cap = self.expression(effect.cap) if effect.cap is not None else None
            order_fraction = None
            if effect.target == "order" and effect.percent is not None and cap is None:
                order_fraction = self.backend.decimal(effect.percent)
            takes = None
            if effect.target == "items" and effect.percent is not None and cap is None:
                takes = f"take_percent_of_lines({self.backend.decimal(effect.percent)}, nets, {indexes}, round_money)"
            effects.append(Effect(self.shape(effect, indexes), cap, order_fraction, indexes, every=index_list.every, takes=takes))
        matched = " or ".join(matches) if matches and not gifts else None  # an offer that only discounts needs something to discount
        if matched is not None:
            tests.append(f"({matched})")
        code = CodeTest(offer.name.casefold(), f"OFFER_{number}", number - 1, when, offer.when_text, matched) if offer.kind == "code" else None
        # A name `not with` reads that has no flag is a coupon's: never applied on the path.
        exclusions = tuple(
            Exclusion(other, f"present_{self.numbers[other]}", cancel) for other, cancel in offer.exclusions if other in self.numbers
        )
        return OfferStep(offer.name, f"applies_{number}", " and ".join(tests) or "True", tuple(effects), gifts, code, exclusions, offer.counts_uses)

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

    def scale(self, scale: ScaleSpec, number: int) -> ScaleStep:
        if scale.window is not None and scale.base_kind == "expr":
            raise NotSpecialised(f"the scale {scale.name} counts an expression over a window")
        indexes = self.index_list(scale.items).var
        ref = f"SCALE_{number}"
        # Engine.scale_lines: a window adds what the customer's earlier purchases counted.
        prior = f"prior_{number}" if scale.window is not None else None
        if scale.base_kind == "expr":
            value = gross_value = f"Decimal({self.expression(scale.base)})"
        elif scale.base_kind == "quantity":
            value = gross_value = f"Decimal(sum(quantities[i] for i in {indexes}))"
        else:
            value = f"sum((nets[i] for i in {indexes}), _ZERO)"
            gross_value = f"sum((gross[i] for i in {indexes}), _ZERO)"
        if scale.marginal and scale.base_kind == "quantity":  # each unit at the bracket of its place in the count
            first = f"int({prior}) + 1" if prior else "1"
            shape = f"marginal_units({ref}.bands, {first}, nets, quantities, {indexes}, round_money)"
        elif scale.marginal:  # each part at its bracket's rate, one rounding, spread over the lines
            amounts = f"{prior}, {prior} + value" if prior else "_ZERO, value"
            shape = f"spread_over(round_money(marginal_amount_discount({ref}.bands, {amounts})), nets, {indexes}, QUANTUM)"
        elif scale.base_kind == "quantity":
            shape = f"percent_of_lines(rate, nets, {indexes}, round_money)"
        else:
            shape = f"percent_of_order(rate, nets, {indexes}, QUANTUM, round_money)"
        eligible = self.expression(scale.when) if scale.when is not None else "True"
        return ScaleStep(scale.name, number - 1, ref, f"applies_{number}", eligible, value, gross_value, shape, scale.marginal, prior)

    def card(self, card: StampCardSpec, number: int) -> CardStep:
        if card.reward_kind != "free-item":
            raise NotSpecialised(f"the stamp card {card.name} rewards with {card.reward_kind.replace('-', ' ')}")
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
            index=number - 1,
            money=self.expression(card.base) if card.stamp_kind == "money" and card.base is not None else None,
            carry_remainder=card.carry_remainder,
        )


def defer_last_order_discount(
    steps: list[OfferStep | CardStep | ScaleStep], groups: dict[str, GroupPlan]
) -> tuple[list[OfferStep | CardStep | ScaleStep], Effect | None]:
    """A percent off the order that is the last discount of the purchase needs no
    spread over the lines at the till: nothing after it reads a line's net, and what it
    takes is the rounded percent of the lines' nets (at most their sum), as the spread
    gives back in whole minor units. Only the record's lines need the spread, and only
    if a return reads them, so the path takes the amount off the total and leaves the
    spread to the record (PurchaseRecord.work_out). Its shape is not written; on every
    line, its base is the total (each discount before it took from the total what it
    took from the lines), so it reads no index list."""
    if not steps or not isinstance(steps[-1], OfferStep) or not steps[-1].effects or steps[-1].effects[-1].order_fraction is None or steps[-1].name in groups:
        return steps, None
    last = steps[-1]
    effect = last.effects[-1]
    deferred = attrs.evolve(effect, shape="", indexes="" if effect.every else effect.indexes, deferred=True)
    steps = [*steps[:-1], attrs.evolve(last, effects=(*last.effects[:-1], deferred))]
    return steps, deferred


def choice_points(steps: list[OfferStep | CardStep | ScaleStep], groups: dict[str, GroupPlan]) -> dict[str, tuple[str, ...]]:
    """Where each stacking group chooses. The engine chooses at the group's first member
    that applies, in program order, so the path writes the choice at a member's place
    unless that member follows another of its group with no other step between: nothing
    happens between them, and the earlier place chooses on either flag."""
    points: dict[str, tuple[str, ...]] = {}
    start: str | None = None
    previous: GroupPlan | None = None
    for step in steps:
        group = groups.get(step.name)
        if group is not None and group is previous and start is not None:
            points[start] += (step.flag,)
        elif group is not None:
            start, points[step.name] = step.name, (step.flag,)
        previous = group
    return points


def expressions_in(value: Any) -> Iterator[str]:
    """Every string in a plan's pieces (attrs classes, tuples, lists, dicts)."""
    if isinstance(value, str):
        yield value
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from expressions_in(getattr(value, field.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from expressions_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from expressions_in(item)


def time_literal(clock: dt.time) -> str:
    return f"_dt.time({clock.hour}, {clock.minute}, {clock.second}, {clock.microsecond})"


def line_test(items: ItemFilterSpec) -> str:
    """An expression over `line`: whether the filter selects it (ItemFilterSpec.matches)."""
    if items.kind == "all":
        return "True"
    field = "line.category" if items.kind == "category" else "line.product"
    names = sorted(items.names)
    if len(names) == 1:
        return f"{field} == {names[0]!r}"
    return f"{field} in {{{', '.join(repr(name) for name in names)}}}"
