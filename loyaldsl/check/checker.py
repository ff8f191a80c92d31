"""Name resolution and types: every name means something, every number has the unit
its clause needs. Problems are collected, never raised, so a user sees all at once."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from loyaldsl.check import types as t
from loyaldsl.check.lints import constant_value
from loyaldsl.check.symbols import Symbols
from loyaldsl.diagnostics import Diagnostic, Span, did_you_mean, error, warning
from loyaldsl.runtime.currency import MINOR_UNITS
from loyaldsl.syntax import nodes as n

ORDER_FIELDS = {
    "subtotal": "money",
    "total": "money",
    "paid": "money",
    "discount": "money",
    "items": "number",
    "day": "weekday",
    "time": "time",
    "date": "date",
}
CUSTOMER_FIELDS = {"orders": "number", "visits": "number", "spend": "money", "tier": "tier"}
COUNTED = {("order", "items"): "items", ("customer", "orders"): "orders", ("customer", "visits"): "visits"}


@attrs.frozen
class CheckResult:
    diagnostics: tuple[Diagnostic, ...]
    symbols: Symbols | None

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


class Checker:
    """Walks the declarations once. Holds the program's names while it does."""

    def __init__(self, program: n.Program) -> None:
        self.program = program
        self.diagnostics: list[Diagnostic] = []
        header = program.header
        # Blocks the parser had to drop: their names are known to exist, their types
        # are not, so the checker says nothing about their uses.
        unparsed = getattr(program, "unparsed", ())
        self.unparsed_kinds = {block.kind for block in unparsed}
        self.unparsed_names = {name for block in unparsed for name in block.names}
        written = header.currency.text if header and header.currency else None
        # The program's currency; None when it is unknown (H001/H002/H004 or a broken
        # header), and then money of any currency passes, so one mistake is reported once.
        self.money_unit = written if written in MINOR_UNITS else None
        self.money = t.money(self.money_unit)
        self.currency = self.money_unit or _guess_currency(written)  # for hints
        self.points_names = {p.name.text for p in program.points}
        tiers = program.tiers
        self.tier_names = [d.name.text for d in tiers.tiers] if tiers else []
        self.offer_names = {o.name.text: o for o in program.offers}
        self.categories = {c.text for c in header.categories} if header else set()
        self.period_names = {p.name.text for p in program.periods}

    # ------------------------------------------------------------ reporting
    def err(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(error(code, span, message, hint))

    def warn(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(warning(code, span, message, hint))

    # ------------------------------------------------------------ entry point
    def run(self) -> CheckResult:
        timezone = self.check_header()
        self.check_duplicate_names()
        for decl in self.program.declarations:
            if isinstance(decl, n.PointsDecl):
                self.check_points(decl)
            elif isinstance(decl, n.TiersDecl):
                self.check_tiers(decl)
            elif isinstance(decl, n.OfferDecl):
                self.check_offer(decl)
            elif isinstance(decl, n.ScaleDecl):
                self.check_scale(decl)
            elif isinstance(decl, n.StampsDecl):
                self.check_stamps(decl)
            elif isinstance(decl, n.StackingDecl):
                self.check_stacking(decl)
            elif isinstance(decl, n.InvariantDecl):
                self.check_invariant(decl)
            elif isinstance(decl, n.PeriodDecl):
                if decl.end < decl.start:
                    self.err("L009", decl.span, f"period `{decl.name.text}` ends before it starts")
        if len(self.program.of_type(n.TiersDecl)) > 1:
            second = self.program.of_type(n.TiersDecl)[1]
            self.err("N006", second.span, "a program has one `tiers` block", "merge the tiers into the first block")
        if len(self.program.of_type(n.StackingDecl)) > 1:
            second = self.program.of_type(n.StackingDecl)[1]
            self.err("N006", second.span, "a program has one `stacking` block", "merge the lines into the first block")
        symbols = self.symbols(timezone) if timezone else None
        return CheckResult(tuple(self.diagnostics), symbols)

    def symbols(self, timezone: ZoneInfo) -> Symbols:
        header = self.program.header
        assert header is not None
        tiers = self.program.tiers
        return Symbols(
            currency=header.currency.text if header.currency else "XXX",
            timezone=timezone,
            rounding=header.rounding,
            categories=frozenset(self.categories),
            points={p.name.text: p for p in self.program.points},
            tiers=tuple(d.name.text for d in tiers.tiers) if tiers else (),
            offers=dict(self.offer_names),
            scales={s.name.text: s for s in self.program.scales},
            stamp_cards={s.name.text: s for s in self.program.stamp_cards},
            periods={p.name.text: p for p in self.program.periods},
        )

    # ------------------------------------------------------------ header
    def check_header(self) -> ZoneInfo | None:
        headers = self.program.of_type(n.Header)
        if not headers:
            if "program" in self.unparsed_kinds:
                return None  # its syntax error is reported
            self.err(
                "H001",
                Span.point(1, 1),
                "a program starts with a `program` header",
                'begin with: program "Name" / currency RUB / timezone "Europe/Moscow"',
            )
            return None
        for extra in headers[1:]:
            self.err("H005", extra.span, "a file holds one program; this is a second `program` header")
        header = headers[0]
        if header.currency is None:
            self.err("H004", header.span, "the program does not say its currency", "add a clause such as `currency RUB`")
        elif header.currency.text not in MINOR_UNITS:
            self.err(
                "H002",
                header.currency.span,
                f"`{header.currency.text}` is not an ISO 4217 currency code",
                did_you_mean(header.currency.text.upper(), MINOR_UNITS) or "use a code such as RUB, USD, EUR, IRR",
            )
        if header.timezone is None:
            self.err("H004", header.span, "the program does not say its time zone", 'add a clause such as `timezone "Europe/Moscow"`')
            return None
        try:
            zone = ZoneInfo(header.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            import zoneinfo

            self.err(
                "H003",
                header.timezone_span or header.span,
                f'"{header.timezone}" is not a known time zone',
                # only Area/Location names: `MSK` is not a misspelling of `MST`
                did_you_mean(header.timezone, [z for z in zoneinfo.available_timezones() if "/" in z])
                or 'use an IANA name such as "Europe/Moscow"',
            )
            return None
        if header.refund_window is not None:
            self.expect_duration(header.refund_window, "the refund window")
        return zone

    def check_duplicate_names(self) -> None:
        seen: dict[str, n.Name] = {}
        names: list[n.Name] = []
        for decl in self.program.declarations:
            if isinstance(decl, (n.PointsDecl, n.OfferDecl, n.ScaleDecl, n.StampsDecl, n.PeriodDecl)):
                names.append(decl.name)
            elif isinstance(decl, n.TiersDecl):
                names.extend(tier.name for tier in decl.tiers)
        for name in names:
            if name.text in seen:
                first = seen[name.text]
                self.err("N006", name.span, f"`{name.text}` is declared twice", f"the first is on line {first.span.line}; rename one")
            else:
                seen[name.text] = name
        header = self.program.header
        if header:
            cats: set[str] = set()
            for cat in header.categories:
                if cat.text in cats:
                    self.err("N006", cat.span, f"category `{cat.text}` is listed twice")
                cats.add(cat.text)

    # ------------------------------------------------------------ points
    def check_points(self, decl: n.PointsDecl) -> None:
        wallet = decl.name.text
        if decl.worth is not None:
            self.expect(decl.worth, self.money, "the worth of one point")
            if decl.worth.value <= 0:
                self.err("T005", decl.worth.span, "the worth of one point must be above 0")
        if decl.precision is not None:
            self.expect_whole(decl.precision, "a precision", minimum=0, maximum=6)
        for earn in decl.earns:
            self.check_earn(decl, earn)
        for multiplier in decl.multipliers:
            if multiplier.factor <= 0:
                self.err("T005", multiplier.span, "a multiplier must be above 0x")
            if multiplier.items is not None:
                self.check_filter(multiplier.items)
            for day in multiplier.days:
                if day.text not in t.WEEKDAYS:
                    self.err("N001", day.span, f"`{day.text}` is not a day of the week", did_you_mean(day.text, t.WEEKDAYS))
            if multiplier.start is not None and multiplier.end is not None and multiplier.end <= multiplier.start:
                self.err("L009", multiplier.span, "the time window ends before it starts")
            self.check_cond(multiplier.when)
        if decl.available_after is not None:
            self.expect_duration(decl.available_after, "the pending period")
        if decl.expiry is not None and decl.expiry.duration is not None:
            self.expect_duration(decl.expiry.duration, "the expiry")
        if decl.redeem_cap is not None:
            self.check_percent(decl.redeem_cap, "a redemption cap")
            if decl.redeem_base is not None:
                self.expect(decl.redeem_base, self.money, "what redemption is capped against")
            if decl.worth is None and decl.redeem_span is not None:
                self.err("L010", decl.redeem_span, f"`{wallet}` can be redeemed but has no value in money", f"add `worth 1 {self.currency}`")
        sources = sum(1 for _ in decl.multipliers) + (1 if any(tier.multiplier for tier in self.tiers_decls()) else 0)
        if sources > 1 and decl.combine is None:
            self.warn(
                "L012",
                decl.span,
                f"`{wallet}` has several multipliers but does not say how they combine",
                "add `multipliers compound` (multiply them) or `multipliers best` (the highest applies)",
            )

    def tiers_decls(self) -> list[n.TierDef]:
        tiers = self.program.tiers
        return list(tiers.tiers) if tiers else []

    def check_earn(self, decl: n.PointsDecl, earn: n.Earn) -> None:
        if isinstance(earn, n.EarnPerMoney):
            self.expect_positive(earn.points.value, earn.points.span, "points earned")
            self.expect(earn.per, self.money, "the step of money")
            if earn.per.value <= 0:
                self.err("T005", earn.per.span, "the step of money must be above 0")
            self.expect(earn.base, self.money, "the base of earning")
        elif isinstance(earn, n.EarnPercent):
            self.check_percent(earn.rate, "an earning rate")
            self.expect(earn.base, self.money, "the base of earning")
            if decl.worth is None:
                self.err("L010", earn.span, f"earning a percent needs the value of one `{decl.name.text}`", f"add `worth 1 {self.currency}`")
        elif isinstance(earn, n.EarnPerItem):
            self.expect_positive(earn.points.value, earn.points.span, "points earned")
            self.check_filter(earn.items)
        elif isinstance(earn, (n.EarnPerVisit, n.EarnOn)):
            self.expect_positive(earn.points.value, earn.points.span, "points earned")
        elif isinstance(earn, n.EarnMonthly):
            if decl.worth is None:
                self.err("L010", earn.span, f"a monthly credit needs the value of one `{decl.name.text}`", f"add `worth 1 {self.currency}`")
            self.check_bands(earn.bands, self.money)
        when = getattr(earn, "when", None)
        self.check_cond(when)

    # ------------------------------------------------------------ tiers
    def check_tiers(self, decl: n.TiersDecl) -> None:
        metric_type = self.metric_type(decl.metric)
        self.check_window(decl.window)
        for tier in decl.tiers:
            if tier.threshold is not None:
                self.expect(tier.threshold, metric_type, f"the threshold of `{tier.name.text}`", constant=True)
            if tier.multiplier is not None and tier.multiplier <= 0:
                self.err("T005", tier.span, "a multiplier must be above 0x")
        if decl.upgrade is None:
            self.warn(
                "L011",
                decl.span,
                "the tiers do not say when an upgrade takes effect",
                "add `upgrade immediately` (the qualifying purchase already earns at the new tier) or `upgrade from next purchase`",
            )

    def metric_type(self, metric: n.Metric) -> t.Type:
        if metric.kind == "spend":
            return self.money
        if metric.kind == "visits":
            return t.count("visits")
        assert metric.points is not None
        if metric.points.text in self.unparsed_names:
            return t.UNKNOWN
        if metric.points.text not in self.points_names:
            self.err(
                "N008",
                metric.points.span,
                f"no points called `{metric.points.text}`",
                did_you_mean(metric.points.text, self.points_names),
            )
            return t.UNKNOWN
        return t.points(metric.points.text)

    def check_window(self, window: n.Window | None) -> None:
        if window is not None and window.length is not None:
            self.expect_duration(window.length, "the window")

    # ------------------------------------------------------------ offers
    def check_offer(self, decl: n.OfferDecl) -> None:
        if not decl.effects:
            self.err("L014", decl.span, f"{decl.kind} `{decl.name.text}` does nothing", "add a `discount`, `buy … get …` or `give` line")
        self.check_cond(decl.when)
        for effect in decl.effects:
            self.check_effect(effect)
        if decl.kind != "code" and (decl.limit_total or decl.limit_per_customer):
            span = (decl.limit_total or decl.limit_per_customer).span  # type: ignore[union-attr]
            self.err("L014", span, "usage limits belong to codes", "for a rule that applies once, write `once per customer`")
        for limit in (decl.limit_total, decl.limit_per_customer):
            if limit is not None:
                self.expect_whole(limit, "a usage limit", minimum=1)
        if decl.uses is not None:
            self.expect_whole(decl.uses, "a number of uses", minimum=1)
        if (decl.uses is not None or decl.uses_unlimited) and decl.kind != "coupon":
            self.err("L014", decl.uses_span or decl.span, "`uses` belongs to coupons", "codes take `limit N per customer` or `limit N in total`")
        if decl.valid_from and decl.valid_to and decl.valid_to < decl.valid_from:
            self.err("L009", decl.valid_span or decl.span, f"`{decl.name.text}` stops being valid before it starts")
        if decl.valid_for is not None:
            self.expect_duration(decl.valid_for, "the validity")
            if decl.kind != "coupon":
                self.err("L014", decl.valid_span or decl.span, "`valid N days after issue` belongs to coupons", "codes take `valid 2026-01-15 to 2026-03-31`")
        for exclusion in decl.exclusions:
            known = {**self.offer_names, **{s.name.text: s for s in self.program.scales}, **{s.name.text: s for s in self.program.stamp_cards}}
            if exclusion.other.text in self.unparsed_names:
                continue
            if exclusion.other.text not in known:
                self.err(
                    "N003",
                    exclusion.other.span,
                    f"`not with` names `{exclusion.other.text}`, which is not an offer of this program",
                    did_you_mean(exclusion.other.text, known),
                )
            elif exclusion.other.text == decl.name.text:
                self.err("N003", exclusion.other.span, f"`{decl.name.text}` cannot exclude itself")

    def check_effect(self, effect: n.Effect) -> None:
        if isinstance(effect, n.Discount):
            amount = effect.amount
            kind = self.type_of(amount)
            if kind.kind == "percent":
                value = _constant_percent(amount)
                if value is not None and value > 100:
                    self.err("L003", amount.span, f"a discount of {_fmt(value)}% is more than the price", "a discount is at most 100%")
                elif value is not None and value <= 0:
                    self.err("L003", amount.span, f"a discount of {_fmt(value)}% takes nothing off")
            elif kind.kind == "money":
                if not t.compatible(kind, self.money):
                    self.err("T002", amount.span, f"this program is in {self.currency}; {kind} does not mix with it")
                else:
                    self.expect_some_money(amount, kind, "a discount of {} takes nothing off")
            elif kind.kind != "unknown":
                hint = f"add the currency: `{_literal(amount)} {self.currency}`" if isinstance(amount, n.Number) else None
                self.err("T003", amount.span, f"a discount is a Percent or {self.money}, not {kind}", hint)
            self.check_filter(effect.target.items)
            if effect.cap is not None:
                cap = self.expect(effect.cap, self.money, "a discount cap")
                if cap is not None and cap.kind == "money":
                    self.expect_some_money(effect.cap, cap, "a discount capped at {} takes nothing off")
        elif isinstance(effect, n.MultiBuy):
            self.expect_whole(effect.buy, "how many to buy", minimum=1)
            self.expect_whole(effect.get, "how many to get", minimum=1)
            self.check_percent(effect.percent_off, "a deal")
            if effect.percent_off.value <= 0:
                self.err("L003", effect.percent_off.span, f"a deal of {_fmt(effect.percent_off.value)}% off takes nothing off", "write `free` or a percent above 0%")
            self.check_filter(effect.items)
        elif isinstance(effect, n.GivePoints):
            self.expect_points(effect.amount)
        elif isinstance(effect, n.GiveCoupon):
            self.expect_coupon(effect.coupon)

    def expect_some_money(self, expr: n.Expr, kind: t.Type, message: str) -> None:
        """L003 for a constant amount of money that is not above zero."""
        value = constant_value(expr)
        if value is not None and value <= 0:
            self.err("L003", expr.span, message.format(f"{_fmt(value)} {kind.unit or self.currency}"))

    def expect_coupon(self, name: n.Name) -> None:
        offer = self.offer_names.get(name.text)
        coupons = [o.name.text for o in self.program.offers if o.kind == "coupon"]
        if name.text in self.unparsed_names:
            return
        if offer is None or offer.kind != "coupon":
            self.err("N007", name.span, f"no coupon called `{name.text}`", did_you_mean(name.text, coupons) or "declare it with `coupon NAME`")

    def expect_points(self, amount: n.Quantity) -> None:
        unit = amount.unit.text
        if unit in self.unparsed_names:
            return
        if unit not in self.points_names:
            other = self.known_unit_type(unit)
            if other is not None:
                value = _fmt(amount.value)
                wallet = next(iter(p.name.text for p in self.program.points), "bonus")
                hint = f"give points such as `give {value} {wallet}`"
                if other.kind == "money":
                    hint += f", or take money off with `discount {value} {self.currency} on order`"
                self.err("T003", amount.span, f"`give` hands out points, not {other}", hint)
                return
            self.err("N008", amount.unit.span, f"no points called `{unit}`", did_you_mean(unit, self.points_names))
        self.expect_positive(amount.value, amount.span, "points given")

    # ------------------------------------------------------------ scales
    def check_scale(self, decl: n.ScaleDecl) -> None:
        if decl.base_kind == "quantity":
            band_type = t.count("items")
        else:
            band_type = self.money
        if decl.base_expr is not None:
            self.expect(decl.base_expr, self.money, "the base of a scale")
        self.check_filter(decl.items)
        self.check_window(decl.window)
        self.check_bands(decl.bands, band_type)
        self.check_cond(decl.when)

    def check_bands(self, bands: Iterable[n.Band], band_type: t.Type) -> None:
        for band in bands:
            self.expect(band.threshold, band_type, "a step", constant=True)
            self.check_percent(band.rate, "a rate")

    # ------------------------------------------------------------ stamps
    def check_stamps(self, decl: n.StampsDecl) -> None:
        if decl.card_size is None:
            self.err("L014", decl.span, f"stamp card `{decl.name.text}` does not say its size", "add `card of 10`")
        else:
            self.expect_whole(decl.card_size, "a card size", minimum=1)
        if decl.stamp is None:
            self.err("L014", decl.span, f"stamp card `{decl.name.text}` never stamps", "add `stamp 1 per purchase` or `stamp 1 per item in category [...]`")
        else:
            rule = decl.stamp
            self.expect_whole(rule.count, "stamps given", minimum=1)
            self.check_filter(rule.items)
            if rule.per is not None:
                self.expect(rule.per, self.money, "the step of money")
                if rule.per.value <= 0:
                    self.err("T005", rule.per.span, "the step of money must be above 0")
            if rule.base is not None:
                self.expect(rule.base, self.money, "the base of stamping")
            self.check_cond(rule.when)
        if decl.reward is None:
            self.err("L014", decl.span, f"stamp card `{decl.name.text}` gives nothing when full", "add `when full: free cheapest item, then reset`")
        else:
            reward = decl.reward
            if reward.items is not None:
                self.check_filter(reward.items)
            if reward.coupon is not None:
                self.expect_coupon(reward.coupon)
            if reward.points is not None:
                self.expect_points(reward.points)
        if decl.expiry is not None:
            self.expect_duration(decl.expiry, "the stamp expiry")

    # ------------------------------------------------------------ stacking
    def check_stacking(self, decl: n.StackingDecl) -> None:
        known = {
            **{o.name.text: o for o in self.program.offers},
            **{s.name.text: s for s in self.program.scales},
            **{s.name.text: s for s in self.program.stamp_cards},
        }
        placed: dict[str, n.Name] = {}
        for group in decl.groups:
            if group.kind != "rest" and len(group.members) < 2:
                self.err("L008", group.span, f"`{group.kind} of` needs two or more offers to choose between")
            for member in group.members:
                if member.text in self.unparsed_names:
                    continue
                if member.text not in known:
                    self.err("N003", member.span, f"stacking names `{member.text}`, which is not an offer of this program", did_you_mean(member.text, known))
                elif member.text in placed:
                    self.err("L008", member.span, f"`{member.text}` is in two stacking groups", f"it is already grouped on line {placed[member.text].span.line}")
                else:
                    placed[member.text] = member

    # ------------------------------------------------------------ invariants
    def check_invariant(self, decl: n.InvariantDecl) -> None:
        self.check_cond(decl.cond)
        for tier in (decl.higher, decl.lower):
            if tier is not None and tier.text not in self.tier_names and tier.text not in self.unparsed_names:
                self.err("N004", tier.span, f"no tier called `{tier.text}`", did_you_mean(tier.text, self.tier_names))

    # ------------------------------------------------------------ filters
    def check_filter(self, items: n.ItemFilter) -> None:
        if items.kind != "category" or "program" in self.unparsed_kinds:
            return  # (with the header unparsed, the categories are unknown)
        for name in items.names:
            if name.text not in self.categories:
                hint = did_you_mean(name.text, self.categories)
                if not self.categories:
                    hint = f"list the categories in the program header: `categories {name.text}, ...`"
                self.err("N002", name.span, f"unknown category `{name.text}`", hint)

    # ------------------------------------------------------------ conditions and expressions
    def check_cond(self, cond: n.Cond | None) -> None:
        if cond is None:
            return
        if isinstance(cond, n.BoolOp):
            self.check_cond(cond.left)
            self.check_cond(cond.right)
        elif isinstance(cond, n.Not):
            self.check_cond(cond.operand)
        elif isinstance(cond, n.During):
            name = cond.period.text
            if name not in self.period_names and name not in self.unparsed_names:
                self.err("N005", cond.period.span, f"no period called `{name}`", did_you_mean(name, self.period_names) or "declare it: period sale 2026-07-01 to 2026-07-31")
        elif isinstance(cond, n.Compare):
            left, right = self.operand_types(cond.left, cond.right)
            if not t.compatible(left, right):
                self.report_mismatch(cond.span, left, right, "compare", cond.left, cond.right)
            elif cond.op not in ("=", "!=") and left.kind not in t.ORDERED_KINDS and left.kind != "unknown":
                self.err("T001", cond.span, f"{left} values have no order; use = or !=")
        elif isinstance(cond, n.Membership):
            subject = self.type_of(cond.subject)
            if subject.kind == "weekday":
                for name in cond.names:
                    if name.text not in t.WEEKDAYS:
                        self.err("N001", name.span, f"`{name.text}` is not a day of the week", did_you_mean(name.text, t.WEEKDAYS))
            elif subject.kind == "tier":
                for name in cond.names:
                    if name.text not in self.tier_names and name.text not in self.unparsed_names:
                        self.err("N004", name.span, f"no tier called `{name.text}`", did_you_mean(name.text, self.tier_names))
            elif subject.kind != "unknown":
                self.err("T001", cond.span, f"`in [...]` tests a day or a tier, not {subject}")
        elif isinstance(cond, n.Between):
            subject, low = self.operand_types(cond.subject, cond.low)
            _, high = self.operand_types(cond.subject, cond.high, subject)
            fits = True
            for bound, bound_type in ((cond.low, low), (cond.high, high)):
                if not t.compatible(subject, bound_type):
                    fits = False
                    self.report_mismatch(bound.span, subject, bound_type, "compare", cond.subject, bound)
            if fits:
                self.check_range(cond)

    def check_range(self, cond: n.Between) -> None:
        """A window of literal dates or times that ends where it starts is never true
        (the end is exclusive), as for multipliers and periods (L009)."""
        low, high = cond.low, cond.high
        if isinstance(low, n.DateLit) and isinstance(high, n.DateLit) and high.value <= low.value:
            self.err("L009", cond.span, "the date range ends before it starts")
        elif isinstance(low, n.TimeLit) and isinstance(high, n.TimeLit) and high.value <= low.value:
            self.err("L009", cond.span, "the time window ends before it starts", "a window cannot wrap midnight; write two: `from 22:00 to 24:00` or `from 00:00 to 02:00`")

    def operand_types(self, left: n.Expr, right: n.Expr, left_type: t.Type | None = None) -> tuple[t.Type, t.Type]:
        """The types of two compared expressions. `customer.tier >= Gold` in a program
        without tiers is one mistake (N004), not also an unknown name `Gold`."""
        if not self.tier_names:
            for one, other in ((left, right), (right, left)):
                if _is_customer_tier(one) and isinstance(other, n.Path) and len(other.parts) == 1 and other.parts[0].text not in t.WEEKDAYS:
                    if left_type is None:
                        self.type_of(one)  # reports N004 once
                    return t.UNKNOWN, t.UNKNOWN
        found = left_type if left_type is not None else self.type_of(left)
        return found, self.type_of(right)

    def report_mismatch(self, span: Span, left: t.Type, right: t.Type, verb: str, left_expr: n.Expr | None = None, right_expr: n.Expr | None = None) -> None:
        if left.kind == right.kind == "money" and None not in (left.unit, right.unit) and left.unit != right.unit:
            self.err("T002", span, f"cannot {verb} {left} with {right}: currencies never mix")
            return
        # A unit can be added to a bare number as written, never to a field.
        number = left_expr if left.kind == "number" else right_expr if right.kind == "number" else None
        written = number is None or isinstance(number, n.Number)
        hint = None
        if written and {left.kind, right.kind} == {"money", "number"}:
            hint = f"write the amount with its currency, e.g. `1000 {self.currency}`"
        elif written and {left.kind, right.kind} == {"points", "number"}:
            unit = left.unit if left.kind == "points" else right.unit
            hint = f"write the amount with its unit, e.g. `100 {unit}`"
        elif written and {left.kind, right.kind} == {"percent", "number"}:
            hint = "write percents with %, e.g. `5%`"
        self.err("T001", span, f"cannot {verb} {left} with {right}", hint)

    def type_of(self, expr: n.Expr, constant: bool = False, wanted: t.Type | None = None) -> t.Type:
        if isinstance(expr, n.Number):
            return t.NUMBER
        if isinstance(expr, n.Percent):
            return t.PERCENT
        if isinstance(expr, n.DateLit):
            return t.DATE
        if isinstance(expr, n.TimeLit):
            return t.TIME
        if isinstance(expr, n.Quantity):
            return self.unit_type(expr.unit, wanted)
        if isinstance(expr, n.Path):
            if constant and len(expr.parts) > 1:
                self.err("T006", expr.span, f"`{expr.dotted}` changes from order to order; a threshold must be a fixed amount")
                return t.UNKNOWN
            return self.path_type(expr)
        if isinstance(expr, n.BinOp):
            left, right = self.type_of(expr.left, constant, wanted), self.type_of(expr.right, constant, wanted)
            if t.UNKNOWN in (left, right):
                return t.UNKNOWN
            if expr.op in "+-":
                if t.compatible(left, right) and left.kind in ("money", "points", "number", "percent"):
                    return t.join(left, right)
                self.report_mismatch(expr.span, left, right, "add" if expr.op == "+" else "subtract", expr.left, expr.right)
                return t.UNKNOWN
            scalars = ("number", "percent")
            if left.kind == right.kind == "number" and (left.unit is None or right.unit is None):
                return t.join(left, right)  # a count scaled by a number
            if left.kind in scalars and right.kind in scalars and "percent" in (left.kind, right.kind):
                return t.PERCENT
            if left.kind in scalars and right.kind in ("money", "points"):
                return right
            if right.kind in scalars and left.kind in ("money", "points"):
                return left
            self.report_mismatch(expr.span, left, right, "multiply", expr.left, expr.right)
            return t.UNKNOWN
        raise AssertionError(f"unexpected expression {expr!r}")  # pragma: no cover

    def known_unit_type(self, text: str) -> t.Type | None:
        if text in MINOR_UNITS:
            return t.money(text)
        if text in self.points_names:
            return t.points(text)
        if text in t.DURATION_UNITS:
            return t.DURATION
        if text in t.COUNT_UNITS:
            return t.count(text)
        return None

    def unit_type(self, unit: n.Name, wanted: t.Type | None = None) -> t.Type:
        text = unit.text
        known = self.known_unit_type(text)
        if known is not None:
            return known
        if text in self.unparsed_names:
            return t.UNKNOWN  # points of a block with a syntax error
        durations = "durations are in days, weeks, months or years"
        if text.upper() == self.currency:  # (only the program's: `cup` is no typo for CUP)
            hint = f"did you mean `{text.upper()}`?"
        elif wanted is not None and wanted.kind == "duration":
            hint = did_you_mean(text, t.DURATION_UNITS) or durations
        elif text.lower() in t.CLOCK_UNITS:
            hint = durations
        else:
            candidates = [self.currency, *self.points_names, *t.DURATION_UNITS, *t.COUNT_UNITS]
            hint = did_you_mean(text, candidates) or f"units are a currency ({self.currency}), a points name, days/months/years or items"
        self.err("N001", unit.span, f"unknown unit `{text}`", hint)
        return t.UNKNOWN

    def path_type(self, path: n.Path) -> t.Type:
        head = path.parts[0]
        if len(path.parts) == 1:
            if head.text in self.tier_names:
                return t.TIER
            if head.text in t.WEEKDAYS:
                return t.WEEKDAY
            if head.text in self.unparsed_names:
                return t.UNKNOWN
            self.err("N001", head.span, f"unknown name `{head.text}`", did_you_mean(head.text, [*self.tier_names, *t.WEEKDAYS, "order", "customer"]))
            return t.UNKNOWN
        if len(path.parts) != 2 or head.text not in ("order", "customer"):
            self.err("N001", path.span, f"unknown name `{path.dotted}`", "names start with `order.` or `customer.`")
            return t.UNKNOWN
        field = path.parts[1]
        if head.text == "order":
            fields = ORDER_FIELDS
        else:
            fields = {**CUSTOMER_FIELDS, **{p: "points" for p in self.points_names}}
        kind = fields.get(field.text)
        if kind is None:
            if head.text == "customer" and field.text in self.unparsed_names:
                return t.UNKNOWN  # a points balance of a block with a syntax error
            self.err("N001", field.span, f"`{head.text}` has no `{field.text}`", did_you_mean(field.text, fields) or f"known: {', '.join(sorted(fields))}")
            return t.UNKNOWN
        if kind == "money":
            return self.money
        if kind == "points":
            return t.points(field.text)
        if kind == "number":
            return t.count(COUNTED[(head.text, field.text)])
        if kind == "tier" and not self.tier_names:
            if "tiers" not in self.unparsed_kinds:
                self.err("N004", field.span, "`customer.tier` needs a `tiers` block")
            return t.UNKNOWN
        return t.Type(kind)

    # ------------------------------------------------------------ small expectations
    def expect(self, expr: n.Expr, wanted: t.Type, what: str, constant: bool = False) -> t.Type | None:
        """Report `expr` unless it is of the `wanted` type; its type when it is."""
        found = self.type_of(expr, constant, wanted)
        if t.compatible(found, wanted):
            return found
        if found.kind == wanted.kind == "money":
            self.err("T002", expr.span, f"{what} is in {found.unit}, but this program is in {wanted.unit}", "a program uses one currency")
            return None
        hint = None
        if wanted.kind == "money" and found.kind == "number" and isinstance(expr, n.Number):
            hint = f"add the currency: `{_literal(expr)} {wanted.unit or self.currency}`"
        elif wanted.kind == "number" and found.kind == "money":
            hint = "a count has no currency"
        self.err("T003", expr.span, f"{what} must be {wanted}, not {found}", hint)
        return None

    def expect_duration(self, quantity: n.Quantity, what: str) -> None:
        self.expect(quantity, t.DURATION, what)
        if quantity.unit.text in t.DURATION_UNITS and (quantity.value != quantity.value.to_integral_value() or quantity.value <= 0):
            self.err("T005", quantity.span, f"{what} must be a whole number of {t.DURATION_UNITS[quantity.unit.text]} above 0")

    def expect_whole(self, number: n.Number, what: str, minimum: int = 0, maximum: int | None = None) -> None:
        value = number.value
        if value != value.to_integral_value() or value < minimum or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
            self.err("T005", number.span, f"{what} must be a whole number {bound}, not {value}")

    def expect_positive(self, value: Decimal, span: Span, what: str) -> None:
        if value <= 0:
            self.err("T005", span, f"{what} must be above 0")

    def check_percent(self, percent: n.Percent, what: str) -> None:
        if percent.value > 100:
            self.err("L003", percent.span, f"{what} of {percent.value}% is above 100%", "percents run from 0% to 100%")


def _constant_percent(expr: n.Expr) -> Decimal | None:
    """The percent a constant expression of percents comes to (`60% + 60%` is 120)."""
    value = constant_value(expr)
    return value * 100 if value is not None else None


def _fmt(value: Decimal) -> str:
    """A number as a person writes it: 120, 12.5, 0."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _is_customer_tier(expr: n.Expr) -> bool:
    return isinstance(expr, n.Path) and [p.text for p in expr.parts] == ["customer", "tier"]


def _guess_currency(written: str | None) -> str:
    """The currency hints should name when the header's is unknown."""
    if written and written.upper() in MINOR_UNITS:
        return written.upper()
    return "RUB"


def _literal(expr: n.Expr) -> str:
    return str(expr.value) if isinstance(expr, n.Number) else "…"


def check_names_and_types(program: n.Program) -> CheckResult:
    return Checker(program).run()
