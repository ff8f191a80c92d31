"""Invariants: promises a program makes about every purchase, checked on event streams.

`always <cond>` is evaluated after each purchase, on the purchase as processed
(`order.*`) and the customer after it (`customer.*`). `compare HIGH with LOW: paid <=`
re-runs a purchase on two copies of the state, one with the customer in HIGH and one in
LOW, and compares what they pay. A few promises hold for every program and are always
checked: nothing payable is negative, discounts never exceed the subtotal, points never
go below zero unless the program allows it, and the engine never crashes.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import attrs

from loyaldsl.check import CheckedProgram
from loyaldsl.check.checker import CUSTOMER_FIELDS, ORDER_FIELDS
from loyaldsl.harness.scenarios import money
from loyaldsl.interpret import COMPARE, SpecBuilder
from loyaldsl.runtime.context import Context
from loyaldsl.runtime.engine import Engine, State
from loyaldsl.runtime.model import CustomerEvent, Event, Purchase
from loyaldsl.runtime.outcome import Outcome
from loyaldsl.syntax import nodes as n

NO_NEGATIVE_PAYMENT = "no negative payable amount"
DISCOUNT_WITHIN_SUBTOTAL = "discounts never above the subtotal"
NO_NEGATIVE_POINTS = "points never go negative"
NO_CRASH = "no crash"
DETERMINISTIC = "deterministic output"
BUILT_IN = (NO_NEGATIVE_PAYMENT, DISCOUNT_WITHIN_SUBTOTAL, NO_NEGATIVE_POINTS, NO_CRASH, DETERMINISTIC)



@attrs.frozen
class Violation:
    """A promise broken at one event of a stream."""

    invariant: str  # the name written after `invariant`, or a built-in name
    line: int | None  # where the invariant is declared; None for built-ins
    index: int  # position of the event in the stream
    message: str
    tier: tuple[str, str, Decimal, Decimal] | None = None  # compare: high, low, high paid, low paid


class AfterPurchase(Context):
    """What an `always` condition sees: the purchase as processed and the customer
    after it. The engine's Context with the order read from the outcome, so the
    interpreter's compiled condition runs on it unchanged."""

    __slots__ = ("outcome", "purchase")

    def __init__(self, engine: Engine, state: State, purchase: Purchase, outcome: Outcome) -> None:
        super().__init__(engine.spec.periods, state.customers[purchase.customer], outcome.at, None)
        self.outcome = outcome
        self.purchase = purchase

    @property
    def order_subtotal(self) -> Decimal:
        return self.outcome.subtotal or Decimal(0)

    @property
    def order_total(self) -> Decimal:
        return self.outcome.total if self.outcome.total is not None else self.order_subtotal

    @property
    def order_paid(self) -> Decimal:
        return self.outcome.paid if self.outcome.paid is not None else self.order_total

    @property
    def order_items(self) -> Decimal:
        return Decimal(sum(line.quantity for line in self.purchase.lines))


@attrs.frozen
class _Always:
    decl: n.InvariantDecl
    text: str
    holds: Callable[[Any], bool]
    shown: tuple[tuple[str, str, Callable[[Any], Any]], ...]  # dotted path, kind, value


class Invariants:
    """A program's invariants, compiled once, plus the built-in ones."""

    def __init__(self, checked: CheckedProgram, engine: Engine) -> None:
        self.engine = engine
        self.currency = engine.spec.currency
        builder = SpecBuilder(checked)
        self.always: list[_Always] = []
        self.compare: list[n.InvariantDecl] = []
        for decl in checked.program.invariants:
            if decl.kind == "always" and decl.cond is not None:
                holds = builder.cond(decl.cond)
                assert holds is not None
                shown: list[tuple[str, str, Callable[[Any], Any]]] = []
                for path in _paths(decl.cond):
                    if path.dotted not in {s[0] for s in shown}:
                        shown.append((path.dotted, _path_kind(path), builder.value(path)))
                self.always.append(_Always(decl, builder.text(decl.cond.span), holds, tuple(shown)))
            elif decl.kind == "compare" and decl.higher is not None and decl.lower is not None:
                self.compare.append(decl)
        self.negative_allowed = {w.name for w in engine.spec.wallets if w.allow_negative}

    @property
    def count(self) -> int:
        return len(self.always) + len(self.compare)

    # ---- after an event
    def after(self, state: State, event: Event, outcome: Outcome, index: int) -> list[Violation]:
        """Built-in promises after any event, and `always` after a purchase."""
        found: list[Violation] = []
        if outcome.subtotal is not None:
            if (outcome.paid is not None and outcome.paid < 0) or (outcome.total is not None and outcome.total < 0):
                found.append(Violation(NO_NEGATIVE_PAYMENT, None, index, f"the purchase has total {self.money(outcome.total)} and pays {self.money(outcome.paid)}"))
            taken = sum((amount for _, amount in outcome.discounts), Decimal(0))
            if taken > outcome.subtotal:
                found.append(Violation(DISCOUNT_WITHIN_SUBTOTAL, None, index, f"discounts of {self.money(taken)} on a subtotal of {self.money(outcome.subtotal)}"))
        customer = state.customers.get(event.customer)
        if customer is not None and outcome.status != "replay":
            for wallet, ledger in sorted(customer.wallets.items()):
                if wallet in self.negative_allowed:
                    continue
                balance = ledger.available(outcome.at)
                if balance < 0:
                    found.append(Violation(NO_NEGATIVE_POINTS, None, index, f"{event.customer} has {balance:f} {wallet} available, and `{wallet}` does not allow a negative balance"))
        if isinstance(event, Purchase) and outcome.subtotal is not None and outcome.status in ("ok", "cancelled"):
            seen = AfterPurchase(self.engine, state, event, outcome)
            for rule in self.always:
                if not rule.holds(seen):
                    values = ", ".join(f"{dotted} = {self.show(kind, value(seen), dotted)}" for dotted, kind, value in rule.shown)
                    found.append(Violation(rule.decl.name, rule.decl.span.line, index, f"`{rule.text}` is false after this purchase" + (f": {values}" if values else "")))
        return found

    # ---- before a purchase
    def tiers_before(self, state: State, purchase: Purchase, index: int) -> list[Violation]:
        """Run the purchase on copies of the state with the customer's tier forced, and
        compare what each tier pays for the same basket."""
        found: list[Violation] = []
        for decl in self.compare:
            assert decl.higher is not None and decl.lower is not None
            high, low = decl.higher.text, decl.lower.text
            high_paid = self.paid_as(state, purchase, high)
            low_paid = self.paid_as(state, purchase, low)
            if high_paid is None or low_paid is None:
                continue
            if not COMPARE[decl.op](high_paid, low_paid):
                found.append(
                    Violation(
                        decl.name,
                        decl.span.line,
                        index,
                        f"for the same basket a {high} customer pays {self.money(high_paid)} and a {low} customer {self.money(low_paid)} (promised: {high} pays {decl.op} {low})",
                        (high, low, high_paid, low_paid),
                    )
                )
        return found

    def paid_as(self, state: State, purchase: Purchase, tier: str) -> Decimal | None:
        """What the purchase pays when its customer holds `tier` (granted by hand, as a
        `tier` event would), on a copy of the state."""
        scratch = copy.deepcopy(state)
        grant = CustomerEvent(f"{purchase.id}#as-{tier}", purchase.customer, purchase.at, "tier", tier=tier)
        if self.engine.process(scratch, grant).status != "ok":
            return None
        outcome = self.engine.process(scratch, purchase)
        if outcome.status not in ("ok", "cancelled") or outcome.paid is None:
            return None
        return outcome.paid

    # ---- display
    def money(self, value: Decimal | None) -> str:
        return "nothing" if value is None else money(value, self.currency)

    def show(self, kind: str, value: Any, dotted: str) -> str:
        if kind == "money":
            return self.money(value)
        if kind == "tier":
            names = self.engine.tier_names
            return names[value] if isinstance(value, int) and 0 <= value < len(names) else "none"
        if kind == "points":
            return f"{value:f} {dotted.split('.')[-1]}"
        if isinstance(value, dt.time):
            return value.strftime("%H:%M")
        return str(value)


def _paths(cond: n.Cond | n.Expr) -> Iterator[n.Path]:
    """The `order.*` and `customer.*` paths a condition reads, to show their values."""
    if isinstance(cond, n.Path):
        if len(cond.parts) == 2:
            yield cond
        return
    for field in attrs.fields(type(cond)):
        value = getattr(cond, field.name)
        if isinstance(value, (n.Compare, n.Membership, n.Between, n.BoolOp, n.Not, n.Path, n.BinOp)):
            yield from _paths(value)


def _path_kind(path: n.Path) -> str:
    head, field = path.parts[0].text, path.parts[1].text
    if head == "order":
        return ORDER_FIELDS.get(field, "number")
    return CUSTOMER_FIELDS.get(field, "points")


@attrs.frozen
class StreamRun:
    """One pass of a stream through an engine: every outcome, and the first broken
    promise if any (a stream stops being interesting after it)."""

    outcomes: tuple[Outcome, ...]
    violations: tuple[Violation, ...]
    events: int  # how many events were processed


def run_stream(engine: Engine, invariants: Invariants, events: Sequence[Event]) -> StreamRun:
    """Process a stream on a fresh state, checking every promise as it goes; stops at
    the first event that breaks one (or crashes the engine)."""
    state = engine.new_state()
    outcomes: list[Outcome] = []
    for index, event in enumerate(events):
        found: list[Violation] = []
        try:
            if invariants.compare and isinstance(event, Purchase):
                found.extend(invariants.tiers_before(state, event, index))
            outcome = engine.process(state, event)
            outcomes.append(outcome)
            found.extend(invariants.after(state, event, outcome, index))
        except Exception as exc:  # a crash is exactly what fuzzing looks for
            found.append(Violation(NO_CRASH, None, index, f"the engine raised {type(exc).__name__}: {exc}"))
        if found:
            return StreamRun(tuple(outcomes), tuple(found), index + 1)
    return StreamRun(tuple(outcomes), (), len(events))


__all__ = [
    "AfterPurchase",
    "BUILT_IN",
    "DETERMINISTIC",
    "DISCOUNT_WITHIN_SUBTOTAL",
    "Invariants",
    "NO_CRASH",
    "NO_NEGATIVE_PAYMENT",
    "NO_NEGATIVE_POINTS",
    "StreamRun",
    "Violation",
    "run_stream",
]
