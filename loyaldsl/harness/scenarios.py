"""Scenario tests: the `test` blocks of a program, run through a fresh engine.

A test is a little story (customers, dated purchases, returns, customer events) with
expectations in between. Each step becomes the same typed event a shop would send, so
a test exercises exactly what `loyaldsl run` and a compiled module do; the expectations
read the engine's outcomes and customer reports, never its internals.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs

from loyaldsl.check import CheckedProgram
from loyaldsl.check.lints import constant_value
from loyaldsl.interpret import build_spec
from loyaldsl.runtime.currency import MINOR_UNITS
from loyaldsl.runtime.engine import Engine, State
from loyaldsl.runtime.model import CustomerEvent, Event, Purchase, PurchaseLine, Refund, RefundLine
from loyaldsl.runtime.outcome import CustomerReport, Outcome
from loyaldsl.runtime.spec import OfferSpec, ProgramSpec, StampCardSpec
from loyaldsl.syntax import nodes as n

# ------------------------------------------------------------------ records


@attrs.frozen
class StepEvent:
    """One step of a test and the event it becomes: None for expectations and for
    `customer` lines without a signup date."""

    step: n.TestStep
    number: int  # 1-based, counted over all steps of the test
    event: Event | None


@attrs.frozen
class Failure:
    """An expectation that did not hold: what was written, what the engine did, and
    the step whose event the expectation is about (so a reader can find it)."""

    test: str
    line: int
    expectation: str  # the expect line as written
    expected: str
    actual: str
    event_line: int | None = None
    event_text: str | None = None
    notes: tuple[str, ...] = ()


@attrs.frozen
class TestResult:
    """What running one test found. `error` is set when the test could not run to its
    end (an internal error of the engine), which is not the same as a failed expectation."""

    __test__ = False  # not a pytest class, whatever its name says

    name: str
    number: int
    line: int
    failures: tuple[Failure, ...]
    expectations: int
    exercised: frozenset[str]  # offers, scales, stamp cards and tiers the test reached
    seconds: float
    error: str | None = None
    error_line: int | None = None  # the step where the test stopped
    crashed: bool = False  # the error is a bug in loyaldsl (the engine raised), not in the test

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


@attrs.frozen
class ProgramResults:
    """Every test of one program file."""

    path: str
    tests: tuple[TestResult, ...]

    @property
    def failed(self) -> int:
        return sum(1 for t in self.tests if not t.passed)


class ScenarioError(Exception):
    """A test that cannot become events (the checker reports these first; this only
    happens when a caller runs tests of an unchecked program)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


# ------------------------------------------------------------------ steps -> events


def step_id(test_number: int, step_number: int) -> str:
    return f"t{test_number}-{step_number}"


def scenario_events(test: n.TestDecl, test_number: int, zone: ZoneInfo) -> list[StepEvent]:
    """Turn a test's steps into events, in the order written.

    Times are naive in the program's zone. A purchase's id is its alias (so a return
    can name it) or `t<test>-<step>`. A product without `at` costs what it cost earlier
    in the test, and without `in` it is in its earlier category, else in the category
    named like itself (`2 beans`). A birth date on a `customer` line travels with the
    customer's first signup."""
    known: dict[str, tuple[str, Decimal | None]] = {}
    born: dict[str, dt.date] = {}
    signed: set[str] = set()
    out: list[StepEvent] = []
    for number, step in enumerate(test.steps, start=1):
        event_id = step_id(test_number, number)
        event: Event | None = None
        if isinstance(step, n.TestCustomer):
            if step.born is not None:
                born[step.name.text] = step.born
            if step.signed_up is not None:
                signed.add(step.name.text)
                event = CustomerEvent(event_id, step.name.text, _aware(dt.datetime.combine(step.signed_up, dt.time()), zone), "signup", birth_date=step.born)
        elif isinstance(step, n.TestBuy):
            event = _purchase(step, event_id, zone, known)
        elif isinstance(step, n.TestReturn):
            lines = []
            for count, product in step.units:
                lines.append(RefundLine(product.text, _whole(count)))
            event = Refund(event_id, step.customer.text, _aware(step.at, zone), step.purchase.text, tuple(lines))
        elif isinstance(step, n.TestCustomerEvent):
            customer = step.customer.text
            birth = None
            if step.kind == "signup" and customer not in signed:
                signed.add(customer)
                birth = born.get(customer)
            event = CustomerEvent(
                event_id,
                customer,
                _aware(step.at, zone),
                step.kind,
                birth_date=birth,
                tier=step.tier.text if step.tier is not None else None,
                action=step.action,
            )
        out.append(StepEvent(step, number, event))
    return out


def _purchase(step: n.TestBuy, event_id: str, zone: ZoneInfo, known: dict[str, tuple[str, Decimal | None]]) -> Purchase:
    lines = []
    for line in step.lines:
        product = line.product.text
        earlier_category, earlier_price = known.get(product, (None, None))
        category = line.category.text if line.category is not None else earlier_category or product
        if line.price is not None:
            price = line.price.value
        elif earlier_price is not None:
            price = earlier_price
        else:
            raise ScenarioError(f"`{product}` has no price; write `at <price>` the first time it is bought", line.span.line)
        known[product] = (category, price)
        lines.append(PurchaseLine(product, category, _whole(line.quantity), price))
    redeem: tuple[tuple[str, Decimal | None], ...] = ()
    if step.redeem is not None:
        redeem = ((step.redeem.unit.text, step.redeem.value),)
    elif step.redeem_max is not None:
        redeem = ((step.redeem_max.text, None),)
    return Purchase(
        step.alias.text if step.alias is not None else event_id,
        step.customer.text,
        _aware(step.at, zone),
        tuple(lines),
        tuple(code.text for code in step.codes),
        redeem,
    )


def _whole(number: n.Number) -> int:
    if number.value != number.value.to_integral_value() or number.value <= 0:
        raise ScenarioError(f"a quantity must be a whole number above 0, not {number.value}", number.span.line)
    return int(number.value)


def _aware(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return moment.replace(tzinfo=zone)


# ------------------------------------------------------------------ what a test exercised


def exercised_by(outcome: Outcome, spec: ProgramSpec) -> set[str]:
    """Names of the offers, scales, stamp cards and tiers an outcome shows at work.

    What applied (the outcome lists it), an offer that cancelled the order, points
    given by an offer (their reason is the offer's name), stamps, coupons issued
    (credited to the offers and cards that give that coupon), and the tiers before and
    after."""
    names: set[str] = set(outcome.applied)
    names.update(outcome.coupons_used)
    names.update(name for name, reason in outcome.refused if reason.startswith("order cancelled"))
    sources = {getattr(s, "name", ""): s for s in spec.sources}
    for _, _, reason, _ in outcome.earned:
        if reason in sources:
            names.add(reason)
        elif reason.startswith("stamp card "):
            names.add(reason[len("stamp card ") :])
    for card, _, _ in outcome.stamps:
        names.add(card)
    for coupon in outcome.coupons_issued:
        for source in spec.sources:
            if isinstance(source, OfferSpec) and any(e.kind == "give-coupon" and e.coupon == coupon for e in source.effects):
                names.add(source.name)
            elif isinstance(source, StampCardSpec) and source.reward_coupon == coupon:
                names.add(source.name)
    for tier in (outcome.tier_before, outcome.tier_after):
        if tier is not None:
            names.add(tier)
    return names


# ------------------------------------------------------------------ running


class _Run:
    """The moving parts of one test run: the engine, its state, the test clock, the
    last purchase or return, and what has been exercised so far."""

    def __init__(self, checked: CheckedProgram, spec: ProgramSpec, test: n.TestDecl, number: int) -> None:
        self.checked = checked
        self.spec = spec
        self.test = test
        self.number = number
        self.engine = Engine(spec)
        self.zone = self.engine.zone
        self.state: State = self.engine.new_state()
        self.lines = checked.source.splitlines()
        self.clock: dt.datetime | None = None
        self.last: tuple[StepEvent, Outcome] | None = None
        self.last_of: dict[str, tuple[StepEvent, Outcome]] = {}
        self.exercised: set[str] = set()
        self.failures: list[Failure] = []
        self.expectations = 0
        self.step_line: int | None = None  # the step being run, to say where a crash happened

    def text(self, line: int) -> str:
        return self.lines[line - 1].strip() if 1 <= line <= len(self.lines) else ""

    def run(self) -> None:
        for item in scenario_events(self.test, self.number, self.zone):
            self.step_line = item.step.span.line
            if item.event is not None:
                outcome = self.engine.process(self.state, item.event)
                self.exercised |= exercised_by(outcome, self.spec)
                self.clock = outcome.at if self.clock is None else max(self.clock, outcome.at)
                self.last_of[item.event.customer] = (item, outcome)
                if isinstance(item.event, (Purchase, Refund)):
                    self.last = (item, outcome)
            elif isinstance(item.step, n.Expect):
                self.expectations += 1
                self.expect(item.step)

    # ---- expectations
    def fail(self, expect: n.Expect, expected: str, actual: str, about: tuple[StepEvent, Outcome] | None) -> None:
        event_line = event_text = None
        notes: tuple[str, ...] = ()
        if about is not None:
            event_line = about[0].step.span.line
            event_text = self.text(event_line)
            notes = tuple(about[1].notes)
        self.failures.append(Failure(self.test.name, expect.span.line, self.text(expect.span.line), expected, actual, event_line, event_text, notes))

    def expect(self, expect: n.Expect) -> None:
        if expect.customer is not None:
            self.expect_customer(expect)
            return
        last = self.last
        if expect.kind in ("refunded", "rejected"):
            expected, actual = self.compare_event(expect, last)
            if expected is not None:
                self.fail(expect, expected, actual, last)
            return
        if last is None or not isinstance(last[0].event, Purchase):
            what = "no purchase yet" if last is None else "the last event is a return, not a purchase"
            self.fail(expect, _describe_expectation(expect, self.spec), what, last)
            return
        outcome = last[1]
        expected, actual = self.compare_purchase(expect, outcome, last[0].event)
        if expected is not None:
            self.fail(expect, expected, actual, last)

    def compare_event(self, expect: n.Expect, last: tuple[StepEvent, Outcome] | None) -> tuple[str | None, str]:
        """`expect refunded AMOUNT` (the last return) and `expect rejected ["reason"]`
        (the last event was refused by the engine, with that reason in its notes)."""
        if last is None:
            return _describe_expectation(expect, self.spec), "nothing has happened yet"
        outcome = last[1]
        if expect.kind == "refunded":
            wanted = _constant(expect.value)
            got = outcome.refunded
            if got == wanted:
                return None, ""
            currency = self.spec.currency
            return f"refunded {money(wanted, currency)}", f"refunded {money(got, currency)}" if got is not None else f"nothing refunded ({outcome.status})"
        reason = expect.reason
        if outcome.status == "rejected" and (reason is None or any(reason.casefold() in note.casefold() for note in outcome.notes)):
            return None, ""
        wanted = "rejected" + (f' "{reason}"' if reason else "")
        return wanted, f"{outcome.status}" + (f" ({'; '.join(outcome.notes)})" if outcome.notes else "")

    def compare_purchase(self, expect: n.Expect, outcome: Outcome, purchase: Purchase) -> tuple[str | None, str]:
        """(expected, actual) when the expectation fails, (None, "") when it holds."""
        currency = self.spec.currency
        kind = expect.kind
        discounts = [(name, amount) for name, amount in outcome.discounts if amount]
        listing = ", ".join(f"{name} {money(amount, currency)}" for name, amount in discounts)
        if kind in ("paid", "discount"):
            wanted = _constant(expect.value)
            if kind == "paid":
                got = outcome.paid if outcome.paid is not None else Decimal(0)
                if got == wanted:
                    return None, ""
                return f"paid {money(wanted, currency)}", f"paid {money(got, currency)}" if outcome.paid is not None else f"nothing paid ({outcome.status})"
            if expect.offer is not None:
                name = expect.offer.text
                got = sum((amount for by, amount in discounts if by == name), Decimal(0))
                if got == wanted:
                    return None, ""
                actual = f"discount {money(got, currency)} by {name}" if got else f"no discount by {name}"
                if listing and not got:
                    actual += f" (discounts: {listing})"
                return f"discount {money(wanted, currency)} by {name}", actual
            got = sum((amount for _, amount in discounts), Decimal(0))
            if got == wanted:
                return None, ""
            actual = f"discount {money(got, currency)} ({listing})" if got else "no discount"
            return f"discount {money(wanted, currency)}", actual
        if kind == "no-discount":
            if expect.offer is not None:
                name = expect.offer.text
                got = sum((amount for by, amount in discounts if by == name), Decimal(0))
                if not got:
                    return None, ""
                return f"no discount by {name}", f"discount {money(got, currency)} by {name}"
            if not discounts:
                return None, ""
            return "no discount", f"discounts: {listing}"
        if kind == "earned":
            assert isinstance(expect.value, n.Quantity)
            wallet = expect.value.unit.text
            wanted = expect.value.value
            settled = _settle_reasons(self.spec)
            parts = [
                (points, reason)
                for w, points, reason, _ in outcome.earned
                if w == wallet and reason not in settled and not reason.startswith("monthly credit")
            ]
            got = sum((points for points, _ in parts), Decimal(0))
            if got == wanted:
                return None, ""
            actual = f"earned {got:f} {wallet}"
            if len(parts) > 1:
                actual += " (" + ", ".join(f"{points:f} from `{reason}`" for points, reason in parts) + ")"
            return f"earned {wanted:f} {wallet}", actual
        if kind == "code-refused":
            assert expect.offer is not None
            code = expect.offer.text
            state, reason = _code_fate(code, outcome, purchase)
            expected = f"code {code} refused" + (f' "{expect.reason}"' if expect.reason else "")
            if state == "refused" and (expect.reason is None or expect.reason.casefold() in (reason or "").casefold()):
                return None, ""
            if state == "refused":
                return expected, f'code {code} refused "{reason}"'
            if state == "applied":
                return expected, f"code {code} applied"
            return expected, f"code {code} was not entered on this purchase"
        if kind == "coupon-issued":
            assert expect.offer is not None
            if expect.offer.text in outcome.coupons_issued:
                return None, ""
            issued = ", ".join(outcome.coupons_issued)
            return f"coupon {expect.offer.text} issued", f"coupons issued: {issued}" if issued else "no coupon issued"
        if kind == "cancelled":
            if outcome.status == "cancelled":
                return None, ""
            return "order cancelled", f"order not cancelled (status {outcome.status})"
        return f"an expectation this runner does not know ({kind})", "not evaluated"

    def expect_customer(self, expect: n.Expect) -> None:
        assert expect.customer is not None
        customer = expect.customer.text
        about = self.last_of.get(customer)
        if expect.as_of is not None:
            at = _aware(expect.as_of, self.zone)
        elif self.clock is not None:
            at = self.clock
        else:
            self.fail(expect, _describe_expectation(expect, self.spec), "nothing has happened yet in this test; add `as of DATE`", None)
            return
        report = self.engine.report(copy.deepcopy(self.state), customer, at)
        if report.tier is not None:
            self.exercised.add(report.tier)
        expected, actual = compare_report(expect, report, self.spec)
        if expected is not None:
            self.fail(expect, expected, actual, about)


def compare_report(expect: n.Expect, report: CustomerReport, spec: ProgramSpec) -> tuple[str | None, str]:
    """(expected, actual) when an expectation on a customer's standing fails."""
    assert expect.customer is not None
    who = expect.customer.text
    when = f" as of {_moment(expect.as_of)}" if expect.as_of is not None else ""
    if expect.kind == "tier":
        tier = expect.tier.text if expect.tier is not None else None
        if report.tier == tier:
            return None, ""
        return f"{who}.tier is {tier or 'none'}{when}", f"{who}.tier is {report.tier or 'none'}"
    if expect.kind == "stamps":
        assert expect.wallet is not None
        card = expect.wallet.text
        wanted = _constant(expect.value)
        stamps = next((count for name, count, _, _ in report.stamps if name == card), 0)
        if Decimal(stamps) == wanted:
            return None, ""
        return f"{who}.stamps {card} {wanted:f}{when}", f"{who}.stamps {card} {stamps}"
    assert expect.wallet is not None
    wallet = expect.wallet.text
    wanted = _constant(expect.value)
    found = next((w for w in report.wallets if w.name == wallet), None)
    got = Decimal(0) if found is None else found.pending if expect.balance == "pending" else found.available
    if got == wanted:
        return None, ""
    return f"{who}.{wallet} {expect.balance} {wanted:f} {wallet}{when}", f"{who}.{wallet} {expect.balance} {got:f} {wallet}"


def _settle_reasons(spec: ProgramSpec) -> frozenset[str]:
    """Reasons of points credited by the passing of time (a birthday bonus) rather than
    by the purchase, though they show in the same outcome: `expect earned` leaves them
    out, like monthly credits."""
    return frozenset(e.label for w in spec.wallets for e in w.earns if e.kind in ("birthday", "monthly"))


def _code_fate(code: str, outcome: Outcome, purchase: Purchase) -> tuple[str, str | None]:
    """What became of a code on a purchase: ("applied"|"refused"|"not entered", why)."""
    key = code.strip().casefold()
    for name, reason in outcome.refused:
        if name.strip().casefold() == key:
            return "refused", reason
    if any(name.casefold() == key for name in outcome.applied):
        return "applied", None
    if any(entered.strip().casefold() == key for entered in purchase.codes):
        return "applied", None
    return "not entered", None


def _constant(expr: n.Expr | None) -> Decimal:
    value = constant_value(expr) if expr is not None else None
    if value is None:
        raise ScenarioError("an expected value must be a fixed amount such as `100 RUB`")
    return value


def money(value: Decimal, currency: str) -> str:
    """Money as a test reads it: the currency's minor unit (300 RUB -> 300.00 RUB), but
    never rounding away digits an author wrote."""
    digits = MINOR_UNITS.get(currency, 2)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent <= digits:
        value = value.quantize(Decimal(1).scaleb(-digits))
    return f"{value:f} {currency}"


def _moment(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d") if moment.time() == dt.time() else moment.strftime("%Y-%m-%d %H:%M")


def _describe_expectation(expect: n.Expect, spec: ProgramSpec) -> str:
    """The expectation in words, for failures where there is nothing to compare with."""
    if expect.kind in ("paid", "discount") and expect.value is not None:
        value = constant_value(expect.value)
        amount = money(value, spec.currency) if value is not None else "?"
        return f"{expect.kind} {amount}" + (f" by {expect.offer.text}" if expect.offer else "")
    if expect.kind == "no-discount":
        return "no discount" + (f" by {expect.offer.text}" if expect.offer else "")
    if expect.kind == "earned" and isinstance(expect.value, n.Quantity):
        return f"earned {expect.value.value:f} {expect.value.unit.text}"
    if expect.kind == "code-refused" and expect.offer is not None:
        return f"code {expect.offer.text} refused"
    if expect.kind == "coupon-issued" and expect.offer is not None:
        return f"coupon {expect.offer.text} issued"
    if expect.kind == "cancelled":
        return "order cancelled"
    if expect.kind == "refunded" and expect.value is not None:
        value = constant_value(expect.value)
        return f"refunded {money(value, spec.currency) if value is not None else '?'}"
    if expect.kind == "rejected":
        return "rejected" + (f' "{expect.reason}"' if expect.reason else "")
    who = expect.customer.text if expect.customer else "?"
    if expect.kind == "tier":
        return f"{who}.tier is {expect.tier.text if expect.tier else 'none'}"
    return f"{who}.{expect.wallet.text if expect.wallet else '?'}"


# ------------------------------------------------------------------ entry points


def run_test(checked: CheckedProgram, spec: ProgramSpec, test: n.TestDecl, number: int) -> TestResult:
    """Run one test on a fresh engine and state. Never raises: a problem the checker
    should have caught, or a crash inside the engine, becomes the result's `error`."""
    started = time.perf_counter()
    run = _Run(checked, spec, test, number)
    error: str | None = None
    error_line: int | None = None
    crashed = False
    try:
        run.run()
    except ScenarioError as exc:
        error, error_line = str(exc), exc.line
    except Exception as exc:  # an engine bug must not hide the other tests' results
        error, error_line, crashed = f"internal error: {type(exc).__name__}: {exc}", run.step_line, True
    return TestResult(
        name=test.name,
        number=number,
        line=test.span.line,
        failures=tuple(run.failures),
        expectations=run.expectations,
        exercised=frozenset(run.exercised),
        seconds=time.perf_counter() - started,
        error=error,
        error_line=error_line,
        crashed=crashed,
    )


def run_tests(checked: CheckedProgram, only: Iterable[str] | None = None) -> ProgramResults:
    """Run every test of a checked program (or those whose names are in `only`)."""
    if not checked.ok:
        raise ValueError("only a program without errors can run its tests")
    spec = build_spec(checked)
    wanted = set(only) if only is not None else None
    results = []
    for number, test in enumerate(checked.program.tests, start=1):
        if wanted is None or test.name in wanted:
            results.append(run_test(checked, spec, test, number))
    return ProgramResults(checked.filename, tuple(results))


# ------------------------------------------------------------------ rendering


def render_failure(failure: Failure, path: str, notes: bool = True) -> str:
    """A failed expectation the way `loyaldsl test` prints it: where, what was
    expected, what happened, and the step it is about with the engine's notes (once
    per step when several expectations on it fail)."""
    lines = [
        f"{path}:{failure.line}: {failure.expectation}",
        f"    expected: {failure.expected}",
        f"    actual:   {failure.actual}",
    ]
    if failure.event_line is not None:
        lines.append(f"    event:    line {failure.event_line}: {failure.event_text}")
    for note in failure.notes if notes else ():
        lines.append(f"    note:     {note}")
    return "\n".join(lines)


def render_result(result: TestResult, path: str) -> str:
    """One test: `ok`, or `FAIL` with each failure, or `ERROR` with why it stopped."""
    if result.passed:
        return f"  ok     {result.name}"
    head = f"  FAIL   {result.name}" if result.error is None else f"  ERROR  {result.name}"
    parts = [head]
    explained: set[int | None] = set()
    for failure in result.failures:
        text = render_failure(failure, path, notes=failure.event_line not in explained)
        explained.add(failure.event_line)
        parts.append("\n".join("    " + line for line in text.splitlines()))
    if result.error is not None:
        parts.append(f"    {path}:{result.error_line or result.line}: {result.error}")
    return "\n".join(parts)


def summarize(results: Sequence[ProgramResults]) -> str:
    tests = sum(len(r.tests) for r in results)
    failed = sum(r.failed for r in results)
    programs = len(results)
    head = f"{tests} test{'s' if tests != 1 else ''} in {programs} program{'s' if programs != 1 else ''}"
    return f"{head}: {tests - failed} passed, {failed} failed"


__all__ = [
    "StepEvent",
    "Failure",
    "TestResult",
    "ProgramResults",
    "ScenarioError",
    "scenario_events",
    "step_id",
    "exercised_by",
    "compare_report",
    "money",
    "run_test",
    "run_tests",
    "render_failure",
    "render_result",
    "summarize",
]
