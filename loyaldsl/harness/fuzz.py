"""`loyaldsl fuzz`: random purchase streams against a program's promises.

Streams are generated with hypothesis as *test steps* (customers, dated purchases,
returns, signups, birthdays, tier grants, actions), so a stream that breaks a promise
is already a scenario: after hypothesis has shrunk it, it is printed as a `test` block
the author pastes into the program. The catalog comes from the program itself (its
categories, the products it names, prices at and around its thresholds, its codes,
dates around its validity windows and across month and year ends), because random
baskets that never reach a threshold test nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import hypothesis
from hypothesis import strategies as st

from loyaldsl.check import CheckedProgram, check_source
from loyaldsl.check.scenario_checks import check_tests
from loyaldsl.diagnostics import Span
from loyaldsl.harness.invariants import DETERMINISTIC, NO_CRASH, NO_NEGATIVE_POINTS, Invariants, Violation, run_stream
from loyaldsl.harness.scenarios import run_tests, scenario_events
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.currency import MINOR_UNITS
from loyaldsl.runtime.engine import Engine
from loyaldsl.runtime.model import Event
from loyaldsl.runtime.outcome import Outcome
from loyaldsl.syntax import nodes as n
from loyaldsl.syntax.parser import GRAMMAR_PATH

NOWHERE = Span(0, 0, 0, 0)  # generated steps come from no source line
CUSTOMERS = ("anna", "boris", "chen")
UNKNOWN_CODE = "NOPE"
UNKNOWN_ACTION = "dance"

# ------------------------------------------------------------------ the catalog


@attrs.frozen
class Catalog:
    """What a stream may contain, read from the program."""

    currency: str
    products: tuple[tuple[str, str], ...]  # (product, category)
    prices: tuple[Decimal, ...]  # at, just under and just over the program's amounts
    codes: tuple[str, ...]  # declared codes, one in another case, and an unknown one
    wallets: tuple[str, ...]  # points that can be redeemed
    tiers: tuple[str, ...]
    actions: tuple[str, ...]
    starts: tuple[dt.date, ...]  # first days of streams: before validity windows, before year ends


def _walk(node: Any) -> Iterator[Any]:
    """Every AST node under `node` (attrs instances and tuples of them)."""
    if isinstance(node, tuple):
        for item in node:
            yield from _walk(item)
    elif attrs.has(type(node)):
        yield node
        for field in attrs.fields(type(node)):
            yield from _walk(getattr(node, field.name))


def catalog(checked: CheckedProgram) -> Catalog:
    """Read a checked program for what its streams should contain: baskets that reach
    its thresholds, on the dates its codes and periods care about."""
    program = checked.program
    symbols = checked.symbols
    assert symbols is not None
    currency = symbols.currency
    digits = MINOR_UNITS.get(currency, 2)
    cent = Decimal(1).scaleb(-digits)
    rules = [d for d in program.declarations if not isinstance(d, (n.TestDecl, n.InvariantDecl))]
    categories = sorted(symbols.categories)
    named: dict[str, str | None] = {}
    for test in program.tests:
        for step in test.steps:
            if isinstance(step, n.TestBuy):
                for line in step.lines:
                    product = line.product.text
                    named.setdefault(product, line.category.text if line.category else product if product in categories else None)
    amounts: set[Decimal] = set()
    for node in _walk(tuple(rules)):
        if isinstance(node, n.ItemFilter) and node.kind == "product":
            for name in node.names:
                named.setdefault(name.text, None)
        elif isinstance(node, n.Quantity) and node.unit.text == currency and node.value > 0:
            amounts.add(node.value)
    if not categories:
        categories = sorted({c for c in named.values() if c}) or ["goods"]
    products: list[tuple[str, str]] = []
    for index, (product, category) in enumerate(sorted(named.items())):
        products.append((product, category if category in categories else categories[index % len(categories)]))
    for category in categories:
        products.extend(((f"{category}-1", category), (f"{category}-2", category)))
    prices = {Decimal(1), Decimal(99), Decimal("100"), Decimal(250), Decimal(1000)}
    for amount in amounts:
        for candidate in (amount, amount - cent, amount + cent, amount / 2, amount / 3, amount * 2):
            if candidate > 0:
                prices.add(candidate)
    rounded = sorted({p.quantize(cent) for p in prices if p.quantize(cent) > 0})
    codes = [o.name.text for o in program.offers if o.kind == "code"]
    if codes:
        codes.append(codes[0].lower() if codes[0].lower() != codes[0] else codes[0].upper())
    codes.append(UNKNOWN_CODE)
    wallets = tuple(p.name.text for p in program.points if p.worth is not None and p.redeem_cap is not None)
    tiers = tuple(symbols.tiers)
    actions = sorted({node.action for node in _walk(tuple(rules)) if isinstance(node, n.EarnOn) and node.action})
    anchors: set[dt.date] = set()
    for offer in program.offers:
        anchors.update(d for d in (offer.valid_from, offer.valid_to) if d is not None)
    for period in program.periods:
        anchors.update((period.start, period.end))
    first = min(anchors) if anchors else dt.date(2026, 1, 1)
    starts = {dt.date(first.year - 1, 12, 20), first - dt.timedelta(days=10)}
    starts.update(a - dt.timedelta(days=3) for a in anchors)
    return Catalog(currency, tuple(products), tuple(rounded), tuple(codes), wallets, tiers, (*actions, UNKNOWN_ACTION), tuple(sorted(starts)))


# ------------------------------------------------------------------ generated streams


@attrs.frozen
class FuzzCase:
    """A generated stream: the steps of a test, and the order their events are sent
    (a step number appearing twice is an event sent again, a replay)."""

    test: n.TestDecl
    order: tuple[int, ...]


def _name(text: str) -> n.Name:
    return n.Name(text, NOWHERE)


_GAPS = ("hours", "days", "month end", "next month")


def _advance(at: dt.datetime, gap: tuple[str, int, int]) -> dt.datetime:
    """The next moment: hours or days later, or right at a month's last minute or the
    next month's first, where expiry, credits and reviews happen."""
    how, amount, minutes = gap
    if how == "hours":
        return at + dt.timedelta(hours=amount % 31)
    if how == "days":
        return at + dt.timedelta(days=amount % 45 + 1, minutes=minutes)
    if how == "month end":
        last = calendar.monthrange(at.year, at.month)[1]
        end = dt.datetime(at.year, at.month, last, 23, 59)
        return end if end > at else at + dt.timedelta(minutes=1)
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    return dt.datetime(year, month, 1, 0, 0)


@attrs.define
class _Bought:
    """A generated purchase and the units it still holds (so returns stay valid)."""

    alias: str
    customer: str
    units: dict[str, int]


@attrs.frozen
class _Draft:
    """The random choices of a whole stream, before they are made into valid steps.

    Hypothesis shrinks lists by deleting elements, so each step is drawn on its own
    and only then fitted to what came before (a return picks among the purchases
    made so far); deleting a step never makes the others invalid."""

    customers: tuple[str, ...]
    births: tuple[int | None, ...]
    start: dt.date
    steps: tuple[tuple[Any, ...], ...]


def cases(cat: Catalog) -> st.SearchStrategy[FuzzCase]:
    """Streams of 1 to 32 events for 1 to 3 customers, in time order."""
    gap = st.tuples(st.sampled_from(_GAPS), st.integers(0, 60), st.integers(0, 600))
    who = st.integers(0, len(CUSTOMERS) - 1)
    line = st.tuples(st.integers(0, len(cat.products) - 1), st.integers(1, 5), st.integers(0, len(cat.prices) - 1))
    redeem: st.SearchStrategy[tuple[int, int] | None] = st.none()
    if cat.wallets:
        redeem = st.one_of(st.none(), st.tuples(st.integers(0, len(cat.wallets) - 1), st.integers(0, 500)))
    purchase = st.tuples(st.just("purchase"), gap, who, st.lists(line, min_size=1, max_size=4), st.lists(st.integers(0, len(cat.codes) - 1), max_size=2), redeem)
    kinds = [purchase, purchase, purchase, purchase]
    kinds.append(st.tuples(st.just("return"), gap, who, st.integers(0, 30), st.lists(st.integers(0, 5), max_size=4)))
    kinds.append(st.tuples(st.sampled_from(("signup", "birthday")), gap, who))
    kinds.append(st.tuples(st.just("action"), gap, who, st.integers(0, len(cat.actions) - 1)))
    if cat.tiers:
        kinds.append(st.tuples(st.just("tier"), gap, who, st.integers(0, len(cat.tiers) - 1)))
    kinds.append(st.tuples(st.just("again"), st.integers(0, 60)))
    draft = st.builds(
        _Draft,
        customers=st.lists(st.sampled_from(CUSTOMERS), min_size=1, max_size=len(CUSTOMERS), unique=True).map(tuple),
        births=st.lists(st.none() | st.integers(0, 120), min_size=len(CUSTOMERS), max_size=len(CUSTOMERS)).map(tuple),
        start=st.sampled_from(cat.starts),
        # Runs of steps rather than one flat list: hypothesis keeps flat lists short
        # (about six), and the interesting bugs need a purchase, time, then a return.
        steps=st.lists(st.lists(st.one_of(kinds), min_size=1, max_size=8), min_size=1, max_size=4).map(lambda runs: tuple(s for run in runs for s in run)),
    )
    return draft.map(lambda d: fit(cat, d))


def fit(cat: Catalog, draft: _Draft) -> FuzzCase:
    """Make a draft's choices into valid test steps: every customer introduced, every
    line priced, every return of units its purchase still holds, time moving forward."""
    customers = draft.customers
    steps: list[n.TestStep] = []
    for customer, birth in zip(customers, draft.births, strict=False):
        born = None
        if birth is not None:  # near the stream's dates, so birthdays happen in it
            born = dt.date(1990, (draft.start.month + birth // 30) % 12 + 1, birth % 28 + 1)
        steps.append(n.TestCustomer(_name(customer), None, born, NOWHERE))
    order = list(range(1, len(steps) + 1))
    bought: list[_Bought] = []
    at = dt.datetime.combine(draft.start, dt.time(9, 0))
    for choice in draft.steps:
        kind = choice[0]
        if kind == "again":
            sent = [k for k in order if not isinstance(steps[k - 1], n.TestCustomer)]
            if sent:
                order.append(sent[choice[1] % len(sent)])
            continue
        at = _advance(at, choice[1])
        customer = customers[choice[2] % len(customers)]
        step: n.TestStep
        if kind == "purchase":
            step = _fit_purchase(cat, choice, at, customer, bought)
        elif kind == "return":
            returnable = [b for b in bought if b.customer == customer and any(b.units.values())]
            if not returnable:
                continue
            step = _fit_return(returnable[choice[3] % len(returnable)], choice[4], at, customer)
        else:
            tier = _name(cat.tiers[choice[3] % len(cat.tiers)]) if kind == "tier" else None
            action = cat.actions[choice[3] % len(cat.actions)] if kind == "action" else None
            step = n.TestCustomerEvent(at, _name(customer), kind, tier, action, NOWHERE)
        steps.append(step)
        order.append(len(steps))
    return FuzzCase(n.TestDecl("fuzz", tuple(steps), NOWHERE), tuple(order))


def _fit_purchase(cat: Catalog, choice: tuple[Any, ...], at: dt.datetime, customer: str, bought: list[_Bought]) -> n.TestBuy:
    _, _, _, lines_drawn, codes_drawn, redeem_drawn = choice
    lines = []
    units: dict[str, int] = {}
    for product_index, quantity, price_index in lines_drawn:
        product, category = cat.products[product_index]
        price = n.Quantity(cat.prices[price_index], _name(cat.currency), NOWHERE)
        lines.append(n.BuyLine(n.Number(Decimal(quantity), NOWHERE), _name(product), _name(category), price, NOWHERE))
        units[product] = units.get(product, 0) + quantity
    codes = tuple(_name(cat.codes[i]) for i in codes_drawn)
    redeem = redeem_max = None
    if redeem_drawn is not None:
        wallet, amount = redeem_drawn
        if amount == 0:
            redeem_max = _name(cat.wallets[wallet])
        else:
            redeem = n.Quantity(Decimal(amount), _name(cat.wallets[wallet]), NOWHERE)
    alias = f"p{len(bought) + 1}"
    bought.append(_Bought(alias, customer, units))
    return n.TestBuy(at, _name(customer), tuple(lines), codes, redeem, redeem_max, _name(alias), NOWHERE)


def _fit_return(target: _Bought, counts: list[int], at: dt.datetime, customer: str) -> n.TestReturn:
    """A return of some units (as many as drawn, at most what is left), or of the whole
    purchase when nothing was drawn."""
    units: list[tuple[n.Number, n.Name]] = []
    for (product, left), wanted in zip(sorted(target.units.items()), counts, strict=False):
        count = min(wanted, left)
        if count > 0:
            units.append((n.Number(Decimal(count), NOWHERE), _name(product)))
            target.units[product] = left - count
    if not units:
        target.units = {product: 0 for product in target.units}
    return n.TestReturn(at, _name(customer), _name(target.alias), tuple(units), NOWHERE)


def case_events(case: FuzzCase, zone: ZoneInfo) -> tuple[list[Event], list[int]]:
    """The events of a case in the order they are sent, with each one's step number."""
    by_number = {item.number: item.event for item in scenario_events(case.test, 1, zone)}
    events: list[Event] = []
    numbers: list[int] = []
    for number in case.order:
        event = by_number[number]
        if event is not None:
            events.append(event)
            numbers.append(number)
    return events, numbers


# ------------------------------------------------------------------ one stream


@attrs.frozen
class Probe:
    """What one stream did: the first broken promise, if any."""

    violation: Violation | None
    events: int
    outcomes: tuple[Outcome, ...]


def _dump(engine: Engine, events: Sequence[Event]) -> list[str]:
    """A stream's full output as JSON lines: every outcome, then every customer's
    standing after the last event."""
    state = engine.new_state()
    lines = [json.dumps(engine.process(state, event).to_json(), sort_keys=True, ensure_ascii=False) for event in events]
    if events:
        last = max(event.at for event in events)
        for customer in sorted(state.customers):
            lines.append(json.dumps(engine.report(state, customer, last).to_json(), sort_keys=True, ensure_ascii=False))
    return lines


def probe(engine: Engine, invariants: Invariants, case: FuzzCase) -> Probe:
    """Run a stream once checking every promise, then twice more for determinism."""
    events, _ = case_events(case, engine.zone)
    run = run_stream(engine, invariants, events)
    if run.violations:
        return Probe(run.violations[0], run.events, run.outcomes)
    try:
        first, second = _dump(engine, events), _dump(engine, events)
    except Exception as exc:  # the checked run did not crash, so this one must not either
        return Probe(Violation(NO_CRASH, None, len(events) - 1, f"the engine raised {type(exc).__name__}: {exc} when the stream was run again"), run.events, run.outcomes)
    if first != second:
        index = next((i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b), min(len(first), len(second)))
        index = min(index, len(events) - 1)
        return Probe(Violation(DETERMINISTIC, None, index, "the same events run twice gave different output here"), run.events, run.outcomes)
    return Probe(None, run.events, run.outcomes)


# ------------------------------------------------------------------ printing a test block


def _grammar_keywords() -> frozenset[str]:
    text = GRAMMAR_PATH.read_text(encoding="utf-8")
    return frozenset(word for literal in re.findall(r'"([^"\\]+)"', text) for word in literal.split())


_KEYWORDS = _grammar_keywords()
_PLAIN = re.compile(r"[^\W\d]\w*(?:-\w+)*")


def product_text(name: str) -> str:
    """A product as a buy line writes it: bare when it is a plain name, else quoted."""
    if _PLAIN.fullmatch(name) and name not in _KEYWORDS:
        return name
    return _quote(name)


def amount_text(value: Decimal, unit: str) -> str:
    """An amount as the language writes it; numbers carry no sign, so a negative one
    is written as a subtraction from zero."""
    if value < 0:
        return f"0 {unit} - {-value:f} {unit}"
    return f"{value:f} {unit}"


def moment_text(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d}" if moment.time() == dt.time() else f"{moment:%Y-%m-%d %H:%M}"


def step_text(step: n.TestStep) -> str:
    """One step as a line of a `test` block (without its indentation)."""
    if isinstance(step, n.TestCustomer):
        text = f"customer {step.name.text}"
        if step.signed_up is not None:
            text += f" signed up {step.signed_up:%Y-%m-%d}"
        if step.born is not None:
            text += f", born {step.born:%Y-%m-%d}"
        return text
    if isinstance(step, n.TestBuy):
        parts = []
        for line in step.lines:
            part = f"{line.quantity.value:f} {product_text(line.product.text)}"
            if line.category is not None:
                part += f" in {line.category.text}"
            if line.price is not None:
                part += f" at {amount_text(line.price.value, line.price.unit.text)}"
            parts.append(part)
        text = f"on {moment_text(step.at)} {step.customer.text} buys " + ", ".join(parts)
        if step.codes:
            text += " with " + ", ".join(f"code {product_text(code.text)}" for code in step.codes)
        if step.redeem is not None:
            text += f" redeeming {step.redeem.value:f} {step.redeem.unit.text}"
        elif step.redeem_max is not None:
            text += f" redeeming max {step.redeem_max.text}"
        if step.alias is not None:
            text += f" as {step.alias.text}"
        return text
    if isinstance(step, n.TestReturn):
        text = f"on {moment_text(step.at)} {step.customer.text} returns {step.purchase.text}"
        if step.units:
            text += ": " + ", ".join(f"{count.value:f} {product_text(product.text)}" for count, product in step.units)
        return text
    if isinstance(step, n.TestCustomerEvent):
        head = f"on {moment_text(step.at)} {step.customer.text}"
        if step.kind == "signup":
            return f"{head} signs up"
        if step.kind == "birthday":
            return f"{head} has birthday"
        if step.kind == "tier":
            return f"{head} gets tier {step.tier.text if step.tier else ''}"
        return f"{head} does {_quote(step.action or '')}"
    raise TypeError(f"not a step this printer writes: {type(step).__name__}")


def _observed(outcome: Outcome, currency: str) -> list[str]:
    """Expectations that say what a purchase did, so the printed test reproduces it."""
    lines = [f"expect paid {amount_text(outcome.paid if outcome.paid is not None else Decimal(0), currency)}"]
    taken = sum((amount for _, amount in outcome.discounts), Decimal(0))
    lines.append(f"expect discount {amount_text(taken, currency)}" if taken else "expect no discount")
    if outcome.status == "cancelled":
        lines.append("expect cancelled")
    return lines


def _quote(text: str) -> str:
    """A string literal of the language (backslash escapes, as the parser reads them)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(text: str) -> str:
    return "  # " + " ".join(text.split())


# ------------------------------------------------------------------ fuzzing a program


@attrs.frozen
class Counterexample:
    """A broken promise and the shrunk stream that breaks it, as test blocks."""

    violation: Violation
    event: str  # the step that broke it, as written in the block
    blocks: str
    verified: str | None  # None: the blocks parse, check and reproduce; else why not


@attrs.frozen
class FuzzReport:
    """What a fuzz run tried and found."""

    path: str
    seed: int
    examples: int
    streams: int
    events: int
    invariants: int  # declared by the program (built-in ones come on top)
    failure: Counterexample | None


class _Broken(Exception):
    """Raised inside the hypothesis test so it shrinks the stream."""


def fuzz(checked: CheckedProgram, examples: int, seed: int) -> FuzzReport:
    """Throw `examples` random streams at a checked program (more while shrinking a
    failure); report how many streams and events were tried and the first broken
    promise, shrunk and printed as a test block."""
    engine = interpreter(checked)
    invariants = Invariants(checked, engine)
    cat = catalog(checked)
    tried = {"streams": 0, "events": 0}
    failing: list[tuple[FuzzCase, Probe]] = []

    @hypothesis.settings(
        max_examples=examples,
        database=None,
        derandomize=False,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
        print_blob=False,
        report_multiple_bugs=False,
        phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
    )
    @hypothesis.seed(seed)
    @hypothesis.given(cases(cat))
    def stream_keeps_promises(case: FuzzCase) -> None:
        result = probe(engine, invariants, case)
        tried["streams"] += 1
        tried["events"] += result.events
        if result.violation is not None:
            failing[:] = [(case, result)]
            raise _Broken(result.violation.invariant)

    try:
        stream_keeps_promises()
    except _Broken:
        pass
    except hypothesis.errors.Flaky:
        if not failing:  # pragma: no cover - only a failure can be flaky
            raise
    failure = None
    if failing:
        case, result = failing[0]
        assert result.violation is not None
        failure = counterexample(checked, engine, case, result, seed)
    return FuzzReport(checked.filename, seed, examples, tried["streams"], tried["events"], invariants.count, failure)


def counterexample(checked: CheckedProgram, engine: Engine, case: FuzzCase, result: Probe, seed: int) -> Counterexample:
    """Print the shrunk stream as test blocks that reproduce the broken promise: up to
    the event that broke it, then what happened there as expectations (to be changed
    to what should happen). A broken `compare` becomes two tests, one per tier."""
    violation = result.violation
    assert violation is not None
    events, numbers = case_events(case, engine.zone)
    index = min(violation.index, len(events) - 1)
    sent = _sent_until(case.order, set(numbers), index)
    steps = case.test.steps
    taken_names = {t.name for t in checked.program.tests}
    base = title = f"fuzz: {violation.invariant} (seed {seed})"
    suffix = 2
    while title in taken_names or any(name.startswith(f"{title} as ") for name in taken_names):
        title, suffix = f"{base} #{suffix}", suffix + 1
    currency = engine.spec.currency
    if violation.tier is not None:
        high, low, high_paid, low_paid = violation.tier
        pairs = ((high, high_paid), (low, low_paid))
        blocks = "\n\n".join(_block(f"{title} as {tier}", steps, sent, violation, tier, [f"expect paid {amount_text(paid, currency)}"]) for tier, paid in pairs)
        names = [f"{title} as {tier}" for tier, _ in pairs]
    else:
        after: list[str] = []
        outcome = result.outcomes[index] if index < len(result.outcomes) else None
        if violation.invariant == NO_NEGATIVE_POINTS:
            after = _balances(engine, events[: index + 1], events[index].customer)
        elif outcome is not None and outcome.subtotal is not None and violation.invariant not in (NO_CRASH, DETERMINISTIC):
            after = _observed(outcome, currency)
        blocks = _block(title, steps, sent, violation, None, after)
        names = [title]
    verified = _verify(checked, blocks, names, expect_error=violation.invariant == NO_CRASH, runnable=violation.invariant != DETERMINISTIC)
    return Counterexample(violation, step_text(steps[sent[-1] - 1]), blocks, verified)


def _sent_until(order: Sequence[int], with_event: set[int], index: int) -> list[int]:
    """The step numbers sent up to and including the `index`-th event (customer lines
    send none, a replayed step is listed again)."""
    count = -1
    for position, number in enumerate(order):
        if number in with_event:
            count += 1
            if count == index:
                return list(order[: position + 1])
    return list(order)


def _balances(engine: Engine, events: Sequence[Event], customer: str) -> list[str]:
    state = engine.new_state()
    for event in events:
        engine.process(state, event)
    report = engine.report(state, customer, events[-1].at)
    return [f"expect {customer}.{w.name} available {amount_text(w.available, w.name)}" for w in report.wallets]


def _block(title: str, steps: Sequence[n.TestStep], sent: Sequence[int], violation: Violation, grant: str | None, after: Sequence[str]) -> str:
    """One test block: the customers the stream uses, its steps in the order sent
    (a replay as a comment), a note on what broke, and the expectations."""
    used = {step.customer.text for step in (steps[k - 1] for k in sent) if not isinstance(step, (n.TestCustomer, n.Expect))}
    lines = [f"test {_quote(title)}"]
    for step in steps:
        if isinstance(step, n.TestCustomer) and step.name.text in used:
            lines.append("  " + step_text(step))
    printed: set[int] = set()
    for position, number in enumerate(sent):
        step = steps[number - 1]
        if isinstance(step, n.TestCustomer):
            continue
        if number in printed:
            lines.append(_comment(f"here the event `{step_text(step)}` is sent again: a replay, which must change nothing"))
            continue
        printed.add(number)
        if position == len(sent) - 1 and grant is not None and isinstance(step, n.TestBuy):
            lines.append(f"  on {moment_text(step.at)} {step.customer.text} gets tier {grant}")
        lines.append("  " + step_text(step))
    where = f" (invariant on line {violation.line})" if violation.line else ""
    lines.append(_comment(f"broken: {violation.invariant}{where}: {violation.message}"))
    if after:
        lines.append(_comment("the expectations below record what happens now; change them to what should happen"))
        lines.extend("  " + line for line in after)
    return "\n".join(lines)


def _verify(checked: CheckedProgram, blocks: str, names: list[str], expect_error: bool, runnable: bool) -> str | None:
    """Paste the blocks after the program, check and run them: the printed test must
    parse, check and reproduce what the fuzzer saw."""
    text = checked.source.rstrip("\n") + "\n\n" + blocks + "\n"
    again = check_source(text, checked.filename)
    problems = [d for d in (*again.diagnostics, *check_tests(again.program, again.symbols, text)) if d.is_error]
    if problems:
        first = problems[0]
        return f"the printed test does not check: line {first.span.line}: [{first.code}] {first.message}"
    if not runnable:
        return None
    results = run_tests(again, only=names)
    for test in results.tests:
        if expect_error and test.error is None:
            return f'test "{test.name}" did not crash the engine when run on its own'
        if not expect_error and not test.passed:
            why = test.error or (f"line {test.failures[0].line}: expected {test.failures[0].expected}, actual {test.failures[0].actual}" if test.failures else "")
            return f'test "{test.name}" does not reproduce the run: {why}'
    return None


# ------------------------------------------------------------------ rendering


def render_report(report: FuzzReport) -> str:
    builtin = 5
    lines = [
        f"{report.path}: tried {report.streams} stream{'s' if report.streams != 1 else ''}, {report.events:,} event{'s' if report.events != 1 else ''} "
        f"(seed {report.seed}, {report.examples} examples); checked {report.invariants} invariant{'s' if report.invariants != 1 else ''} of the program and {builtin} built-in",
    ]
    failure = report.failure
    if failure is None:
        lines.append("no promise broken")
        return "\n".join(lines)
    violation = failure.violation
    where = f" ({report.path}:{violation.line})" if violation.line else " (built-in)"
    lines.append(f"BROKEN: {violation.invariant}{where}")
    lines.append(f"  at: {failure.event}")
    lines.append(f"  {violation.message}")
    lines.append("shrunk counterexample, ready to paste into the program:")
    lines.append("")
    lines.append(failure.blocks)
    if failure.verified is not None:
        lines.append("")
        lines.append(f"note: {failure.verified}")
    return "\n".join(lines)


__all__ = [
    "Catalog",
    "Counterexample",
    "FuzzCase",
    "FuzzReport",
    "Probe",
    "amount_text",
    "case_events",
    "cases",
    "catalog",
    "counterexample",
    "fuzz",
    "moment_text",
    "probe",
    "product_text",
    "render_report",
    "step_text",
]
