"""The interpreter: turns a checked program into a ProgramSpec whose conditions and
amounts are Python closures over the AST, then lets runtime/engine.py run it.

Expressions are compiled to closures once, when the program loads, not walked per
event, so the interpreter stays close to a compiled module's speed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from loyaldsl.check import CheckedProgram
from loyaldsl.check.lints import constant_value
from loyaldsl.check.types import WEEKDAYS
from loyaldsl.runtime import spec as s
from loyaldsl.runtime.bands import Band
from loyaldsl.runtime.engine import Engine
from loyaldsl.syntax import nodes as n

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
ORDER_ATTRS = {
    "subtotal": "order_subtotal",
    "total": "order_total",
    "paid": "order_paid",
    "discount": "order_discount",
    "items": "order_items",
    "day": "order_day",
    "time": "order_time",
    "date": "order_date",
}
CUSTOMER_ATTRS = {
    "orders": "customer_orders",
    "visits": "customer_visits",
    "spend": "customer_spend",
    "tier": "customer_tier",
}


class ClosureBackend:
    """Expressions as Python closures, built once when the program loads. The code
    generator has a twin (codegen/expressions.py) that writes the same as source."""

    def __init__(self, tiers: tuple[str, ...]) -> None:
        self.tiers = tiers

    def value(self, expr: n.Expr) -> Callable[[Any], Any]:
        constant = _literal(expr, self.tiers)
        if constant is not None:
            return lambda ctx, _v=constant: _v
        if isinstance(expr, n.Path):
            head, field = expr.parts[0].text, expr.parts[1].text
            if head == "order":
                attr = ORDER_ATTRS[field]
                return lambda ctx, _a=attr: getattr(ctx, _a)
            if field in CUSTOMER_ATTRS:
                attr = CUSTOMER_ATTRS[field]
                return lambda ctx, _a=attr: getattr(ctx, _a)
            return lambda ctx, _w=field: ctx.customer_points(_w)
        if isinstance(expr, n.BinOp):
            left, right = self.value(expr.left), self.value(expr.right)
            if expr.op == "+":
                return lambda ctx: left(ctx) + right(ctx)
            if expr.op == "-":
                return lambda ctx: left(ctx) - right(ctx)
            return lambda ctx: left(ctx) * right(ctx)
        raise AssertionError(f"cannot evaluate {expr!r}")  # pragma: no cover - the checker rejects it

    def cond(self, cond: n.Cond | None) -> Callable[[Any], bool] | None:
        if cond is None:
            return None
        if isinstance(cond, n.Compare):
            left, right, op = self.value(cond.left), self.value(cond.right), COMPARE[cond.op]
            return lambda ctx: op(left(ctx), right(ctx))
        if isinstance(cond, n.BoolOp):
            left_c, right_c = self.cond(cond.left), self.cond(cond.right)
            assert left_c is not None and right_c is not None
            if cond.op == "and":
                return lambda ctx: left_c(ctx) and right_c(ctx)
            return lambda ctx: left_c(ctx) or right_c(ctx)
        if isinstance(cond, n.Not):
            inner = self.cond(cond.operand)
            assert inner is not None
            return lambda ctx: not inner(ctx)
        if isinstance(cond, n.Membership):
            subject = self.value(cond.subject)
            if isinstance(cond.subject, n.Path) and cond.subject.parts[-1].text == "tier":
                ranks = frozenset(self.tiers.index(name.text) for name in cond.names)
                return lambda ctx: subject(ctx) in ranks
            names = frozenset(name.text for name in cond.names)
            return lambda ctx: subject(ctx) in names
        if isinstance(cond, n.Between):
            subject, low, high = self.value(cond.subject), self.value(cond.low), self.value(cond.high)
            return lambda ctx: low(ctx) <= subject(ctx) < high(ctx)
        if isinstance(cond, n.During):
            period = cond.period.text
            return lambda ctx: ctx.during(period)
        raise AssertionError(f"cannot evaluate {cond!r}")  # pragma: no cover



class SpecBuilder:
    """Reads the AST once and writes the ProgramSpec the engine runs."""

    def __init__(self, checked: CheckedProgram, backend: Any = None) -> None:
        if not checked.ok or checked.symbols is None:
            raise ValueError("only a program without errors can run")
        self.checked = checked
        self.program = checked.program
        self.symbols = checked.symbols
        self.lines = checked.source.splitlines()
        self.backend = backend or ClosureBackend(self.symbols.tiers)
        self.value = self.backend.value
        self.cond = self.backend.cond

    # ------------------------------------------------------------ source text
    def text(self, span: Any) -> str:
        """The source of a clause as written, for reasons in outcomes."""
        if span.line < 1 or span.line > len(self.lines):
            return ""
        line = self.lines[span.line - 1]
        end = span.end_column if span.end_line == span.line else len(line) + 1
        return line[span.column - 1 : end - 1].split("#", 1)[0].strip()

    # ------------------------------------------------------------ pieces
    def items(self, items: n.ItemFilter | None) -> s.ItemFilterSpec:
        if items is None or items.kind == "all":
            return s.ALL_ITEMS
        return s.ItemFilterSpec(items.kind, frozenset(name.text for name in items.names))

    def duration(self, quantity: n.Quantity | None) -> s.DurationSpec | None:
        if quantity is None:
            return None
        from loyaldsl.check.types import DURATION_UNITS

        return s.DurationSpec(int(quantity.value), DURATION_UNITS[quantity.unit.text])

    def window(self, window: n.Window | None) -> s.WindowSpec | None:
        if window is None:
            return None
        if window.kind == "rolling":
            assert window.length is not None
            duration = self.duration(window.length)
            assert duration is not None
            if duration.unit in ("days", "weeks"):
                return s.WindowSpec("rolling-days", duration.amount * (7 if duration.unit == "weeks" else 1))
            return s.WindowSpec("rolling-months", duration.amount * (12 if duration.unit == "years" else 1))
        return s.WindowSpec(window.kind)

    def bands(self, bands: tuple[n.Band, ...]) -> tuple[Band, ...]:
        out = []
        for band in bands:
            threshold = constant_value(band.threshold)
            assert threshold is not None
            out.append(Band(threshold, band.inclusive, band.rate.fraction))
        return tuple(out)

    # ------------------------------------------------------------ declarations
    def wallet(self, decl: n.PointsDecl) -> s.WalletSpec:
        earns = []
        for earn in decl.earns:
            label = self.text(earn.span)
            if isinstance(earn, n.EarnPerMoney):
                earns.append(s.EarnSpec("per-money", earn.points.value, per=earn.per.value, base=self.value(earn.base), when=self.cond(earn.when), label=label))
            elif isinstance(earn, n.EarnPercent):
                earns.append(s.EarnSpec("percent", rate=earn.rate.fraction, base=self.value(earn.base), when=self.cond(earn.when), label=label))
            elif isinstance(earn, n.EarnPerItem):
                earns.append(s.EarnSpec("per-item", earn.points.value, items=self.items(earn.items), when=self.cond(earn.when), label=label))
            elif isinstance(earn, n.EarnPerVisit):
                earns.append(s.EarnSpec("per-visit", earn.points.value, when=self.cond(earn.when), label=label))
            elif isinstance(earn, n.EarnOn):
                kind = earn.trigger.replace(" ", "-")
                earns.append(s.EarnSpec(kind, earn.points.value, action=earn.action, when=self.cond(earn.when), label=label))
            else:
                earns.append(s.EarnSpec("monthly", bands=self.bands(earn.bands), label="monthly credit"))
        multipliers = tuple(
            s.MultiplierSpec(
                m.factor,
                self.items(m.items) if m.items is not None else None,
                frozenset(WEEKDAYS.index(day.text) for day in m.days),
                m.start,
                m.end,
                self.cond(m.when),
            )
            for m in decl.multipliers
        )
        expiry = None
        if decl.expiry is not None:
            expiry = s.ExpirySpec(decl.expiry.kind, self.duration(decl.expiry.duration), decl.expiry.end_of_month)
        return s.WalletSpec(
            name=decl.name.text,
            worth=decl.worth.value if decl.worth else None,
            decimals=decl.decimals,
            earns=tuple(earns),
            multipliers=multipliers,
            pending=self.duration(decl.available_after),
            expiry=expiry,
            redeem_cap=decl.redeem_cap.fraction if decl.redeem_cap else None,
            redeem_base=self.value(decl.redeem_base) if decl.redeem_base is not None else None,
            allow_negative=decl.allow_negative,
            combine=decl.combine or "compound",
        )

    def tiers(self, decl: n.TiersDecl) -> s.TiersSpec:
        tiers = []
        for tier in decl.tiers:
            threshold = constant_value(tier.threshold) if tier.threshold is not None else None
            tiers.append(s.TierSpec(tier.name.text, threshold, tier.edge == "from", tier.multiplier or Decimal(1)))
        window = self.window(decl.window)
        assert window is not None
        return s.TiersSpec(
            metric=decl.metric.kind,
            wallet=decl.metric.points.text if decl.metric.points else None,
            window=window,
            tiers=tuple(tiers),
            upgrade=decl.upgrade or "immediately",
            review=decl.review,
            downgrade=decl.downgrade,
            demote_monthly=decl.demote_monthly,
            returns_lower_at_once=decl.returns_lower_at_once,
        )

    def effect(self, effect: n.Effect) -> s.EffectSpec:
        if isinstance(effect, n.Discount):
            percent = effect.amount.fraction if isinstance(effect.amount, n.Percent) else None
            amount = None if percent is not None else self.value(effect.amount)
            return s.EffectSpec(
                "discount",
                percent=percent,
                amount=amount,
                target=effect.target.kind,
                items=self.items(effect.target.items),
                cap=self.value(effect.cap) if effect.cap is not None else None,
            )
        if isinstance(effect, n.MultiBuy):
            return s.EffectSpec(
                "multibuy",
                percent=effect.percent_off.fraction,
                items=self.items(effect.items),
                buy=int(effect.buy.value),
                get=int(effect.get.value),
                repeating=effect.repeating,
            )
        if isinstance(effect, n.GivePoints):
            return s.EffectSpec("give-points", wallet=effect.amount.unit.text, points=effect.amount.value)
        return s.EffectSpec("give-coupon", coupon=effect.coupon.text)

    def offer(self, decl: n.OfferDecl) -> s.OfferSpec:
        uses: int | None = 1
        if decl.uses_unlimited:
            uses = None
        elif decl.uses is not None:
            uses = int(decl.uses.value)
        return s.OfferSpec(
            kind=decl.kind,
            name=decl.name.text,
            when=self.cond(decl.when),
            when_text=self.text(decl.when.span) if decl.when is not None else "",
            once_per_customer=decl.once_per_customer,
            effects=tuple(self.effect(e) for e in decl.effects),
            valid_from=decl.valid_from,
            valid_to=decl.valid_to,
            valid_for=self.duration(decl.valid_for),
            limit_per_customer=int(decl.limit_per_customer.value) if decl.limit_per_customer else None,
            limit_total=int(decl.limit_total.value) if decl.limit_total else None,
            exclusions=tuple((x.other.text, x.cancel_order) for x in decl.exclusions),
            uses=uses,
        )

    def scale(self, decl: n.ScaleDecl) -> s.ScaleSpec:
        return s.ScaleSpec(
            name=decl.name.text,
            base_kind=decl.base_kind,
            base=self.value(decl.base_expr) if decl.base_expr is not None else None,
            items=self.items(decl.items),
            window=self.window(decl.window),
            marginal=decl.marginal,
            bands=self.bands(decl.bands),
            when=self.cond(decl.when),
            when_text=self.text(decl.when.span) if decl.when is not None else "",
        )

    def stamp_card(self, decl: n.StampsDecl) -> s.StampCardSpec:
        rule, reward = decl.stamp, decl.reward
        assert rule is not None and reward is not None and decl.card_size is not None
        return s.StampCardSpec(
            name=decl.name.text,
            size=int(decl.card_size.value),
            stamp_kind=rule.kind,
            count=int(rule.count.value),
            items=self.items(rule.items),
            per=rule.per.value if rule.per else None,
            base=self.value(rule.base) if rule.base is not None else None,
            carry_remainder=rule.carry_remainder,
            when=self.cond(rule.when),
            reward_kind=reward.kind,
            reward_items=self.items(reward.items),
            reward_coupon=reward.coupon.text if reward.coupon else None,
            reward_wallet=reward.points.unit.text if reward.points else None,
            reward_points=reward.points.value if reward.points else Decimal(0),
            overflow=decl.overflow,
            expiry=self.duration(decl.expiry),
        )

    def build(self) -> s.ProgramSpec:
        header = self.program.header
        assert header is not None
        sources: list[Any] = []
        for decl in self.program.declarations:
            if isinstance(decl, n.OfferDecl):
                sources.append(self.offer(decl))
            elif isinstance(decl, n.ScaleDecl):
                sources.append(self.scale(decl))
            elif isinstance(decl, n.StampsDecl):
                sources.append(self.stamp_card(decl))
        stacking = self.program.stacking
        groups = tuple((g.kind, tuple(m.text for m in g.members)) for g in stacking.groups if g.kind != "rest") if stacking else ()
        return s.ProgramSpec(
            name=header.name,
            version=header.version,
            source_hash=hashlib.sha256(self.checked.source.encode("utf-8")).hexdigest(),
            currency=self.symbols.currency,
            rounding=self.symbols.rounding,
            timezone=header.timezone or "UTC",
            wallets=tuple(self.wallet(p) for p in self.program.points),
            tiers=self.tiers(self.program.tiers) if self.program.tiers else None,
            sources=tuple(sources),
            stacking=groups,
            periods={p.name.text: (p.start, p.end) for p in self.program.periods},
            refund_window=self.duration(header.refund_window),
        )


def _literal(expr: n.Expr, tiers: tuple[str, ...]) -> Any:
    """A constant's runtime value: Decimal for numbers, money and points, a fraction
    for percents, a rank for a tier, the name for a weekday."""
    if isinstance(expr, (n.Number, n.Quantity)):
        return expr.value
    if isinstance(expr, n.Percent):
        return expr.fraction
    if isinstance(expr, (n.DateLit, n.TimeLit)):
        return expr.value
    if isinstance(expr, n.Path) and len(expr.parts) == 1:
        name = expr.parts[0].text
        return tiers.index(name) if name in tiers else name
    return None


def build_spec(checked: CheckedProgram) -> s.ProgramSpec:
    return SpecBuilder(checked).build()


def interpreter(checked: CheckedProgram) -> Engine:
    """An engine for a checked program, evaluating its expressions as closures."""
    return Engine(build_spec(checked))


__all__ = ["SpecBuilder", "build_spec", "interpreter"]
