"""Checks for the `test` and `invariant` blocks of a program.

A test that names a customer nobody introduced, buys a product nobody priced, or
expects a discount from an offer that does not exist would fail for a reason that has
nothing to do with the program. These checks say so before anything runs, with the
exact token and a did-you-mean, under their own stable codes (S001...). Values are
type-checked by the program's own checker, so units mean the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from loyaldsl.check import types as t
from loyaldsl.check.checker import Checker
from loyaldsl.check.symbols import Symbols
from loyaldsl.diagnostics import Diagnostic, Span, did_you_mean, error, warning
from loyaldsl.runtime.currency import MINOR_UNITS
from loyaldsl.syntax import nodes as n

# What each code means; the README's table is written from this.
CODES: dict[str, str] = {
    "S001": "a test uses a customer before its `customer NAME` line",
    "S002": "a product bought without `at PRICE` and never priced earlier in the test",
    "S003": "a step dated before the customer signed up",
    "S004": "a customer's steps out of time order",
    "S005": "a return names a purchase the test does not have (or another customer's)",
    "S006": "an expectation names an unknown offer, or an offer of the wrong kind",
    "S007": "unknown points",
    "S008": "unknown stamp card",
    "S009": "unknown tier",
    "S010": "an expectation with nothing to be about",
    "S011": "a name given twice (customer, purchase alias, test)",
    "S012": "unknown category on a buy line",
    "S013": "a quantity that is not a whole number above 0",
    "S014": "a return of units the purchase does not hold",
    "S015": "redeeming points that cannot be spent as payment",
    "S016": "a code the program does not have, entered without expecting its refusal (warning)",
    "S017": "`expect code X refused` for a code not entered on that purchase",
    "S018": "`compare HIGH with LOW` where HIGH is not a higher tier than LOW",
}

_DATE = r"\d{4}-\d{2}-\d{2}"
_MOMENT = rf"{_DATE}(?:[ \t]+\d{{1,2}}:\d{{2}})?"
_STEP_MOMENT = re.compile(rf"^\s*on\s+({_MOMENT})")


class _TestChecker:
    """Walks one test's steps in order, remembering what the story has set up so far
    (customers, prices, purchases, the clock of each customer)."""

    def __init__(self, owner: _Checks, test: n.TestDecl) -> None:
        self.owner = owner
        self.test = test
        self.customers: dict[str, n.TestCustomer] = {}
        self.signed_up: dict[str, dt.datetime] = {}
        self.clock: dict[str, dt.datetime] = {}
        self.prices: set[str] = set()
        self.product_categories: dict[str, str] = {}
        self.purchases: dict[str, tuple[str, dict[str, int], n.TestBuy]] = {}  # alias -> customer, units left, step
        self.last: n.TestBuy | n.TestReturn | None = None
        self.anything_happened = False
        self.refused_expected = {
            step.offer.text.casefold() for step in test.steps if isinstance(step, n.Expect) and step.kind == "code-refused" and step.offer is not None
        }

    # ---- small helpers
    def err(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self.owner.found.append(error(code, span, message, hint))

    def customer_known(self, name: n.Name) -> bool:
        if name.text in self.customers:
            return True
        hint = did_you_mean(name.text, self.customers)
        if hint is None:
            hint = f"introduce them first: `customer {name.text}` (optionally `signed up DATE, born DATE`)"
        self.err("S001", name.span, f"customer `{name.text}` is used before a `customer {name.text}` line", hint)
        return False

    def at_time(self, step: n.TestBuy | n.TestReturn | n.TestCustomerEvent) -> None:
        """A customer's steps come in time order, and after their signup."""
        who = step.customer.text
        if who not in self.customers:
            return
        span = self.owner.moment_span(step.span)
        signed = self.signed_up.get(who)
        if signed is not None and step.at < signed:
            self.err(
                "S003",
                span,
                f"{_when(step.at)} is before {who} signed up ({_when(signed)})",
                f"date the step on or after {signed:%Y-%m-%d}, or move the signup earlier",
            )
        elif who in self.clock and step.at < self.clock[who]:
            self.err(
                "S004",
                span,
                f"{_when(step.at)} is before {who}'s previous step ({_when(self.clock[who])}); the engine refuses a customer's event dated before the last one",
                "write the steps of a customer in the order they happen",
            )
        self.clock[who] = max(step.at, self.clock.get(who, step.at))
        self.anything_happened = True

    # ---- the walk
    def run(self) -> None:
        for step in self.test.steps:
            if isinstance(step, n.TestCustomer):
                self.customer(step)
            elif isinstance(step, n.TestBuy):
                self.buy(step)
            elif isinstance(step, n.TestReturn):
                self.give_back(step)
            elif isinstance(step, n.TestCustomerEvent):
                self.customer_event(step)
            elif isinstance(step, n.Expect):
                self.expect(step)

    def customer(self, step: n.TestCustomer) -> None:
        name = step.name.text
        if name in self.customers:
            first = self.customers[name]
            self.err("S011", step.name.span, f"customer `{name}` is introduced twice in this test", f"the first is on line {first.span.line}; give the second customer another name")
            return
        self.customers[name] = step
        if step.signed_up is not None:
            moment = dt.datetime.combine(step.signed_up, dt.time())
            self.signed_up[name] = moment
            self.clock[name] = moment
            self.anything_happened = True

    def buy(self, step: n.TestBuy) -> None:
        known = self.customer_known(step.customer)
        if known:
            self.at_time(step)
        for line in step.lines:
            self.buy_line(line)
        for code in step.codes:
            if code.text.casefold() not in self.owner.codes and code.text.casefold() not in self.refused_expected:
                self.owner.found.append(
                    warning(
                        "S016",
                        code.span,
                        f"this program has no code `{code.text}`, so it will be refused",
                        did_you_mean(code.text, self.owner.code_names) or f"if that is the point, add `expect code {code.text} refused`",
                    )
                )
        if step.redeem is not None:
            self.redeem(step.redeem.unit, step.redeem)
        elif step.redeem_max is not None:
            self.redeem(step.redeem_max, None)
        if step.alias is not None:
            alias = step.alias.text
            if alias in self.purchases:
                first = self.purchases[alias][2]
                self.err("S011", step.alias.span, f"purchase alias `{alias}` is used twice in this test", f"the first is on line {first.span.line}; a return must know which purchase it means")
            else:
                units: dict[str, int] = {}
                for line in step.lines:
                    if _is_whole(line.quantity):
                        units[line.product.text] = units.get(line.product.text, 0) + int(line.quantity.value)
                self.purchases[alias] = (step.customer.text, units, step)
        self.last = step

    def buy_line(self, line: n.BuyLine) -> None:
        owner = self.owner
        product = line.product.text
        self.whole(line.quantity, "units bought")
        if line.price is not None:
            owner.checker.expect(line.price, t.money(owner.currency), "a price", constant=True)
            self.prices.add(product)
        elif product not in self.prices:
            self.err(
                "S002",
                line.product.span,
                f"`{product}` has no price: it is bought without `at` and not priced earlier in this test",
                did_you_mean(product, self.prices) or f"write `{_number(line.quantity)} {product} at 100 {owner.currency}` the first time",
            )
        if line.category is not None:
            category = line.category.text
            if owner.categories and category not in owner.categories:
                self.err("S012", line.category.span, f"unknown category `{category}`", did_you_mean(category, owner.categories) or f"categories of this program: {', '.join(sorted(owner.categories))}")
            self.product_categories[product] = category
        elif product not in self.product_categories:
            if owner.categories and product not in owner.categories:
                self.err(
                    "S012",
                    line.product.span,
                    f"`{product}` is not a category, and no earlier line says which category it is in",
                    f"write `{_number(line.quantity)} {product} in {sorted(owner.categories)[0]}`" if owner.categories else None,
                )
            self.product_categories[product] = product

    def whole(self, number: n.Number, what: str) -> bool:
        if _is_whole(number):
            return True
        self.err("S013", number.span, f"{what} must be a whole number above 0, not {number.value}")
        return False

    def redeem(self, wallet: n.Name, amount: n.Quantity | None) -> None:
        owner = self.owner
        name = wallet.text
        if name not in owner.points:
            if amount is not None and (name in MINOR_UNITS or name in t.DURATION_UNITS or name in t.COUNT_UNITS):
                owner.checker.err("T003", amount.span, f"redeeming takes points, such as `100 {next(iter(owner.points), 'bonus')}`, not {owner.checker.type_of(amount)}")
                return
            self.err("S007", wallet.span, f"no points called `{name}`", did_you_mean(name, owner.points) or _points_hint(owner.points))
            return
        decl = owner.points[name]
        if decl.worth is None or decl.redeem_cap is None:
            missing = "`worth`" if decl.worth is None else "`redeem up to ...`"
            self.err("S015", wallet.span, f"`{name}` cannot be spent as payment: its points block has no {missing}", f"add {missing} to `points {name}`, or redeem other points")
        if amount is not None and (amount.value <= 0):
            owner.checker.err("T005", amount.span, "points redeemed must be above 0")

    def give_back(self, step: n.TestReturn) -> None:
        if self.customer_known(step.customer):
            self.at_time(step)
        alias = step.purchase.text
        found = self.purchases.get(alias)
        if found is None:
            self.err(
                "S005",
                step.purchase.span,
                f"no purchase `{alias}` earlier in this test",
                did_you_mean(alias, self.purchases) or "name the purchase with `as NAME` at the end of its `buys` line",
            )
        elif found[0] != step.customer.text:
            self.err("S005", step.purchase.span, f"purchase `{alias}` is {found[0]}'s, not {step.customer.text}'s", f"write `on ... {found[0]} returns {alias}`")
        else:
            units = found[1]
            for count, product in step.units:
                if not self.whole(count, "units returned"):
                    continue
                if product.text not in units:
                    self.err("S014", product.span, f"purchase `{alias}` has no `{product.text}`", did_you_mean(product.text, units) or f"it holds {', '.join(sorted(units)) or 'nothing'}")
                elif int(count.value) > units[product.text]:
                    left = units[product.text]
                    self.err("S014", count.span, f"cannot return {count.value} {product.text}: purchase `{alias}` has {left} left")
                else:
                    units[product.text] -= int(count.value)
            if not step.units:
                units.update(dict.fromkeys(units, 0))
        self.last = step

    def customer_event(self, step: n.TestCustomerEvent) -> None:
        if self.customer_known(step.customer):
            self.at_time(step)
        if step.kind == "tier" and step.tier is not None:
            self.owner.tier_known(step.tier)

    def expect(self, step: n.Expect) -> None:
        owner = self.owner
        if step.customer is not None:
            self.customer_known(step.customer)
            if step.as_of is None and not self.anything_happened:
                self.err("S010", step.span, "nothing has happened yet in this test, so there is no `now` to read a balance at", "add `as of DATE`, or put the expectation after the events")
            if step.kind == "tier":
                if step.tier is not None:
                    owner.tier_known(step.tier)
                elif not owner.tiers:
                    self.err("S009", step.customer.span, "this program has no tiers")
            elif step.kind == "stamps":
                assert step.wallet is not None
                if step.wallet.text not in owner.cards:
                    self.err("S008", step.wallet.span, f"no stamp card called `{step.wallet.text}`", did_you_mean(step.wallet.text, owner.cards) or _cards_hint(owner.cards))
                if step.value is not None:
                    owner.expect_value(step.value, (t.NUMBER,), "an expected number of stamps", "a count such as `3`")
            else:
                assert step.wallet is not None
                wallet = step.wallet.text
                if wallet not in owner.points:
                    self.err("S007", step.wallet.span, f"no points called `{wallet}`", did_you_mean(wallet, owner.points) or _points_hint(owner.points))
                elif step.value is not None:
                    owner.expect_value(step.value, (t.points(wallet), t.NUMBER), f"an expected balance of `{wallet}`", f"points such as `100 {wallet}`")
            return
        last = self.last
        if step.kind in ("refunded", "rejected"):
            if step.kind == "refunded":
                if not isinstance(last, n.TestReturn):
                    self.err("S010", step.span, "`expect refunded` is about the last return, but the step before it is not a return", "put it right after the `returns` line it is about")
                if step.value is not None:
                    owner.checker.expect(step.value, t.money(owner.currency), "an expected refund", constant=True)
            elif last is None or isinstance(last, n.TestCustomer):
                self.err("S010", step.span, "`expect rejected` is about the last event, but there is none before it", "put it right after the event it is about")
            return
        if last is None or isinstance(last, n.TestReturn):
            what = "no purchase comes before it" if last is None else f"the step before it (line {last.span.line}) is a return, not a purchase"
            self.err("S010", step.span, f"`expect {_kind_words(step.kind)}` is about the last purchase, but {what}", "put it right after the `buys` line it is about")
        if step.kind in ("paid", "discount") and step.value is not None:
            owner.checker.expect(step.value, t.money(owner.currency), "an expected amount", constant=True)
        if step.kind in ("discount", "no-discount") and step.offer is not None:
            if step.offer.text not in owner.price_sources:
                self.err("S006", step.offer.span, f"no offer called `{step.offer.text}`", did_you_mean(step.offer.text, owner.price_sources) or "name a rule, code, coupon, scale or stamp card of this program")
        elif step.kind == "earned" and isinstance(step.value, n.Quantity):
            unit = step.value.unit
            if unit.text in owner.points:
                owner.expect_value(step.value, (t.points(unit.text),), "points earned", "")
            elif unit.text in MINOR_UNITS or unit.text in t.DURATION_UNITS or unit.text in t.COUNT_UNITS:
                owner.checker.err("T003", step.value.span, f"`earned` takes points, such as `100 {next(iter(owner.points), 'bonus')}`, not {owner.checker.type_of(step.value)}")
            else:
                self.err("S007", unit.span, f"no points called `{unit.text}`", did_you_mean(unit.text, owner.points) or _points_hint(owner.points))
        elif step.kind == "code-refused" and step.offer is not None:
            code = step.offer
            offer = owner.offers.get(code.text)
            if offer is not None and offer.kind != "code":
                self.err("S006", code.span, f"`{code.text}` is a {offer.kind}, not a code", did_you_mean(code.text, owner.code_names))
            elif isinstance(last, n.TestBuy) and code.text.casefold() not in {c.text.casefold() for c in last.codes}:
                self.err("S017", code.span, f"code `{code.text}` is not entered on the purchase on line {last.span.line}", f"add `with code {code.text}` to that purchase")
        elif step.kind == "coupon-issued" and step.offer is not None:
            coupon = step.offer
            offer = owner.offers.get(coupon.text)
            if offer is None or offer.kind != "coupon":
                coupons = [o for o, d in owner.offers.items() if d.kind == "coupon"]
                what = f"`{coupon.text}` is a {offer.kind}, not a coupon" if offer is not None else f"no coupon called `{coupon.text}`"
                self.err("S006", coupon.span, what, did_you_mean(coupon.text, coupons) or "declare it with `coupon NAME`")


class _Checks:
    """What the program declares, looked up by name, and the diagnostics found."""

    def __init__(self, program: n.Program, symbols: Symbols | None, source: str | None) -> None:
        self.program = program
        self.symbols = symbols
        self.lines = source.splitlines() if source is not None else None
        header = program.header
        self.currency = symbols.currency if symbols is not None else (header.currency.text if header and header.currency else "XXX")
        self.categories = set(symbols.categories) if symbols is not None else ({c.text for c in header.categories} if header else set())
        self.points = {p.name.text: p for p in program.points}
        tiers = program.tiers
        self.tiers = [d.name.text for d in tiers.tiers] if tiers else []
        self.offers = {o.name.text: o for o in program.offers}
        self.cards = {c.name.text: c for c in program.stamp_cards}
        self.price_sources = [*self.offers, *(s.name.text for s in program.scales), *self.cards]
        self.code_names = [name for name, offer in self.offers.items() if offer.kind == "code"]
        self.codes = {name.casefold() for name in self.code_names}
        self.checker = Checker(program)
        self.found: list[Diagnostic] = []

    def moment_span(self, step_span: Span) -> Span:
        """The date (and time) of a step: exact when the source is at hand, else the
        `on` that starts the step."""
        return self._find(step_span, _STEP_MOMENT) or Span(step_span.line, step_span.column, step_span.line, step_span.column + 2)

    def _find(self, span: Span, pattern: re.Pattern[str]) -> Span | None:
        if self.lines is None or not 1 <= span.line <= len(self.lines):
            return None
        match = pattern.search(self.lines[span.line - 1])
        if match is None:
            return None
        return Span(span.line, match.start(1) + 1, span.line, match.end(1) + 1)

    def tier_known(self, name: n.Name) -> bool:
        if name.text in self.tiers:
            return True
        hint = did_you_mean(name.text, self.tiers) or (f"tiers of this program: {', '.join(self.tiers)}" if self.tiers else "this program has no `tiers` block")
        self.found.append(error("S009", name.span, f"no tier called `{name.text}`", hint))
        return False

    def expect_value(self, value: n.Expr, allowed: tuple[t.Type, ...], what: str, example: str) -> None:
        """Type-check an expected value with the program's checker; a plain number is
        accepted where the unit is already named (`anna.bonus 170`)."""
        found = self.checker.type_of(value, constant=True)
        if found in allowed or found == t.UNKNOWN:
            return
        wanted = " or ".join(str(a) for a in allowed)
        self.checker.err("T003", value.span, f"{what} must be {wanted}, not {found}", f"write {example}" if example else None)

    def run(self) -> list[Diagnostic]:
        names: dict[str, n.TestDecl] = {}
        for test in self.program.tests:
            if test.name in names:
                self.found.append(error("S011", test.span, f'two tests are called "{test.name}"', f"the first is on line {names[test.name].span.line}; reports could not tell them apart"))
            else:
                names[test.name] = test
            _TestChecker(self, test).run()
        for invariant in self.program.invariants:
            self.invariant(invariant)
        # Without a currency (a broken header, already reported) every amount would be
        # a type error; report the names and the story only.
        header = self.program.header
        known_currency = header is not None and header.currency is not None and header.currency.text in MINOR_UNITS
        typed = self.checker.diagnostics if known_currency else []
        return [*self.found, *typed]

    def invariant(self, decl: n.InvariantDecl) -> None:
        if decl.kind != "compare" or decl.higher is None or decl.lower is None:
            return
        high, low = decl.higher.text, decl.lower.text
        if high not in self.tiers or low not in self.tiers:
            return  # the checker reports unknown tiers (N004)
        if self.tiers.index(high) <= self.tiers.index(low):
            same = high == low
            message = f"`compare {high} with {low}` compares a tier with itself" if same else f"`{high}` is not a higher tier than `{low}`: tiers are listed lowest first"
            hint = None if same else f"write `compare {low} with {high}`"
            self.found.append(error("S018", decl.higher.span, message, hint))


def check_tests(program: n.Program, symbols: Symbols | None, source: str | None = None) -> list[Diagnostic]:
    """Every problem in a program's `test` and `invariant` blocks. Pass the source to
    put carets under dates exactly (the AST keeps no span for a step's moment)."""
    if not program.tests and not program.invariants:
        return []
    return _Checks(program, symbols, source).run()


# ------------------------------------------------------------------ helpers


def _is_whole(number: n.Number) -> bool:
    return number.value == number.value.to_integral_value() and number.value > 0


def _number(number: n.Number) -> str:
    return f"{number.value:f}"


def _when(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d}" if moment.time() == dt.time() else f"{moment:%Y-%m-%d %H:%M}"


def _points_hint(points: Iterable[str]) -> str:
    names = sorted(points)
    return f"points of this program: {', '.join(names)}" if names else "this program declares no points"


def _cards_hint(cards: Iterable[str]) -> str:
    names = sorted(cards)
    return f"stamp cards of this program: {', '.join(names)}" if names else "this program declares no stamp cards"


def _kind_words(kind: str) -> str:
    return {"no-discount": "no discount", "code-refused": "code ... refused", "coupon-issued": "coupon ... issued"}.get(kind, kind)


__all__ = ["CODES", "check_tests"]
