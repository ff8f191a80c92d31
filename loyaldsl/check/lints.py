"""Program-level lints: things that type-check but cannot be what the author meant
(steps that go down, a rule that can never fire, points that expire before they can be
spent, a larger order paying less)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from loyaldsl.diagnostics import Diagnostic, error, warning
from loyaldsl.syntax import nodes as n

APPROX_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "year": 365, "years": 365}


def constant_value(expr: n.Expr) -> Decimal | None:
    """The value of an expression made only of literals, else None."""
    if isinstance(expr, (n.Number, n.Quantity)):
        return expr.value
    if isinstance(expr, n.Percent):
        return expr.fraction
    if isinstance(expr, n.BinOp):
        left, right = constant_value(expr.left), constant_value(expr.right)
        if left is None or right is None:
            return None
        if expr.op == "+":
            return left + right
        if expr.op == "-":
            return left - right
        return left * right
    return None


def lint(program: n.Program) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    found.extend(_tier_order(program))
    for scale in program.scales:
        found.extend(_band_order(scale.bands, f"scale `{scale.name.text}`"))
        if not scale.marginal:
            found.extend(_dead_zone(scale, program))
    for points in program.points:
        for earn in points.earns:
            if isinstance(earn, n.EarnMonthly):
                found.extend(_band_order(earn.bands, "the monthly credit"))
        found.extend(_expiry_before_available(points))
    found.extend(_stacking_stated(program))
    found.extend(_unreachable(program))
    return found


def _tier_order(program: n.Program) -> Iterator[Diagnostic]:
    tiers = program.tiers
    if tiers is None:
        return
    previous: tuple[str, Decimal] | None = None
    for tier in tiers.tiers:
        if tier.threshold is None:
            continue
        value = constant_value(tier.threshold)
        if value is None:
            continue
        if previous is not None and value <= previous[1]:
            yield error(
                "L001",
                tier.threshold.span,
                f"tier `{tier.name.text}` starts at {value}, not above `{previous[0]}` ({previous[1]})",
                "list tiers from lowest to highest, each threshold above the one before",
            )
        previous = (tier.name.text, value)


def _band_order(bands: Iterable[n.Band], where: str) -> Iterator[Diagnostic]:
    previous: Decimal | None = None
    for band in bands:
        value = constant_value(band.threshold)
        if value is None:
            continue
        if previous is not None and value <= previous:
            yield error(
                "L005",
                band.threshold.span,
                f"the steps of {where} must go up: {value} is not above {previous}",
                "each step starts above the one before, so no amount falls in two steps",
            )
        previous = value


def _dead_zone(scale: n.ScaleDecl, program: n.Program) -> Iterator[Diagnostic]:
    """On a whole-amount slab, an order just under a step pays more than one at the
    step. Say where the zone is, in money, so the author can decide."""
    if scale.base_kind == "quantity":
        return
    header = program.header
    currency = header.currency.text if header and header.currency else ""
    previous_rate = Decimal(0)
    for band in scale.bands:
        threshold = constant_value(band.threshold)
        rate = band.rate.fraction
        if threshold is None or threshold <= 0 or rate <= previous_rate:
            previous_rate = max(previous_rate, rate)
            continue
        at_step = threshold * (1 - rate)
        zone_start = at_step / (1 - previous_rate)
        yield warning(
            "L006",
            band.span,
            (
                f"buying more pays less: an order of {threshold:,} {currency} pays {_fmt(at_step)}, "
                f"but orders above {_fmt(zone_start)} and below {threshold:,} pay more than that"
                if band.inclusive
                else f"buying more pays less: an order just over {threshold:,} {currency} pays about {_fmt(at_step)}, "
                f"but orders above {_fmt(zone_start)} up to {threshold:,} pay more than that"
            ),
            "a whole-amount scale has this dead zone at every step; `each part` applies each rate to its part only",
        )
        previous_rate = rate


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}".rstrip("0").rstrip(".")


def _expiry_before_available(points: n.PointsDecl) -> Iterator[Diagnostic]:
    expiry = points.expiry
    pending = points.available_after
    if expiry is None or expiry.kind != "after-earned" or expiry.duration is None or pending is None:
        return
    expiry_days = expiry.duration.value * APPROX_DAYS.get(expiry.duration.unit.text, 0)
    pending_days = pending.value * APPROX_DAYS.get(pending.unit.text, 0)
    if expiry_days and pending_days and expiry_days <= pending_days:
        yield error(
            "L004",
            expiry.span,
            f"`{points.name.text}` expires {expiry.duration.value} {expiry.duration.unit.text} after it is earned, "
            f"before it becomes available ({pending.value} {pending.unit.text})",
            "make the expiry longer than the pending period",
        )


def _unparsed_kinds(program: n.Program) -> set[str]:
    """The kinds of the blocks the parser had to drop (see `parser.ParsedProgram`)."""
    return {block.kind for block in getattr(program, "unparsed", ())}


# Blocks that cannot give a coupon: with only these unparsed, "never given" still holds.
_GIVE_NO_COUPON = {"program", "points", "tiers", "scale", "stacking", "period", "test", "invariant"}


def _stacking_stated(program: n.Program) -> Iterator[Diagnostic]:
    if "stacking" in _unparsed_kinds(program):
        return  # the stacking block has a syntax error; that is reported
    discounting = [o for o in program.offers if any(isinstance(e, (n.Discount, n.MultiBuy)) for e in o.effects)]
    every = [*discounting, *program.scales, *(c for c in program.stamp_cards if c.reward and c.reward.kind == "free-item")]
    named: dict[str, n.Decl] = {}
    for source in every:
        named.setdefault(source.name.text, source)  # a name declared twice is N006
    sources = list(named.values())
    if len(sources) >= 2 and program.stacking is None:
        names = ", ".join(f"`{s.name.text}`" for s in sources[:4])
        yield error(
            "L007",
            sources[1].name.span,
            f"this program has {len(sources)} offers that change prices ({names}{', …' if len(sources) > 4 else ''}) but does not say how they stack",
            "add a `stacking` block: `best of a, b`, `first of a, b`, and `stack the rest`",
        )


def _unreachable(program: n.Program) -> Iterator[Diagnostic]:
    offers = {o.name.text: o for o in program.offers}
    given = set()
    for offer in program.offers:
        for effect in offer.effects:
            if isinstance(effect, n.GiveCoupon):
                given.add(effect.coupon.text)
    for card in program.stamp_cards:
        if card.reward and card.reward.coupon:
            given.add(card.reward.coupon.text)
    maybe_given = not _unparsed_kinds(program) <= _GIVE_NO_COUPON  # by a block with a syntax error
    for offer in program.offers:
        if offer.kind == "coupon" and offer.name.text not in given and not maybe_given:
            yield warning(
                "L002",
                offer.name.span,
                f"coupon `{offer.name.text}` is never given, so it can never apply",
                f"give it from a rule (`give coupon {offer.name.text}`) or a stamp card",
            )
        if offer.when is not None and _never_true(offer.when):
            yield warning("L002", offer.when.span, f"`{offer.name.text}` can never apply: its condition is never true")
    stacking = program.stacking
    if stacking is None:
        return
    for group in stacking.groups:
        if group.kind != "first":
            continue
        for index, member in enumerate(group.members[:-1]):
            offer = offers.get(member.text)
            if offer is not None and offer.kind == "rule" and offer.when is None and not offer.once_per_customer and _always_discounts(offer):
                for later in group.members[index + 1 :]:
                    yield warning(
                        "L002",
                        later.span,
                        f"`{later.text}` never applies: `{member.text}` comes first in this `first of` and always applies",
                        "put the conditional offers first",
                    )
                break


def _always_discounts(offer: n.OfferDecl) -> bool:
    return any(isinstance(e, n.Discount) and e.target.kind == "order" for e in offer.effects)


def _never_true(cond: n.Cond) -> bool:
    """True when a conjunction bounds one quantity into an empty range
    (`order.subtotal >= 100 RUB and order.subtotal < 50 RUB`)."""
    lows: dict[str, tuple[Decimal, bool]] = {}  # path -> (bound, strict)
    highs: dict[str, tuple[Decimal, bool]] = {}
    for atom in _conjuncts(cond):
        if not isinstance(atom, n.Compare) or not isinstance(atom.left, n.Path):
            continue
        value = constant_value(atom.right)
        if value is None:
            continue
        key = atom.left.dotted
        if atom.op in (">", ">=", "="):
            bound = (value, atom.op == ">")
            old = lows.get(key)
            if old is None or (bound[0], bound[1]) > (old[0], old[1]):
                lows[key] = bound
        if atom.op in ("<", "<=", "="):
            bound = (value, atom.op == "<")
            old = highs.get(key)
            if old is None or (bound[0], not bound[1]) < (old[0], not old[1]):
                highs[key] = bound
    for key, (low, low_strict) in lows.items():
        if key in highs:
            high, high_strict = highs[key]
            if low > high or (low == high and (low_strict or high_strict)):
                return True
    return False


def _conjuncts(cond: n.Cond) -> Iterator[n.Cond]:
    if isinstance(cond, n.BoolOp) and cond.op == "and":
        yield from _conjuncts(cond.left)
        yield from _conjuncts(cond.right)
    else:
        yield cond
