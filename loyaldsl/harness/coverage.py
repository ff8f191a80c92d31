"""Coverage of a program by its tests: which rules, codes, coupons, scales, tiers and
stamp cards no test ever saw at work.

An offer that no test exercises is an offer nobody has seen fire; listing them is the
cheapest way to find the test that is missing (and, often, the condition that is wrong).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from loyaldsl.harness.scenarios import ProgramResults
from loyaldsl.syntax import nodes as n


@attrs.frozen
class Item:
    """Something a test can exercise, named as the program names it."""

    kind: str  # rule | code | coupon | scale | tier | stamps
    name: str
    line: int


@attrs.frozen
class Coverage:
    path: str
    items: tuple[Item, ...]
    missed: tuple[Item, ...]

    @property
    def exercised(self) -> int:
        return len(self.items) - len(self.missed)

    @property
    def percent(self) -> int:
        return 100 if not self.items else round(100 * self.exercised / len(self.items))


def coverable(program: n.Program) -> list[Item]:
    """Everything of a program a test could exercise, in source order."""
    items: list[Item] = []
    for decl in program.declarations:
        if isinstance(decl, n.OfferDecl):
            items.append(Item(decl.kind, decl.name.text, decl.name.span.line))
        elif isinstance(decl, n.ScaleDecl):
            items.append(Item("scale", decl.name.text, decl.name.span.line))
        elif isinstance(decl, n.StampsDecl):
            items.append(Item("stamps", decl.name.text, decl.name.span.line))
        elif isinstance(decl, n.TiersDecl):
            items.extend(Item("tier", tier.name.text, tier.name.span.line) for tier in decl.tiers)
    return items


def coverage(program: n.Program, results: ProgramResults) -> Coverage:
    """What the tests of one program did not exercise. A name counts as exercised when
    any test saw it at work (an offer applied, a scale discounted, a card stamped, a
    customer in a tier)."""
    seen: set[str] = set()
    for result in results.tests:
        seen |= result.exercised
    items = coverable(program)
    missed = tuple(item for item in items if item.name not in seen)
    return Coverage(results.path, tuple(items), missed)


def render_coverage(reports: Sequence[Coverage]) -> str:
    """Per program: how much was exercised, then each thing that was not, with its line."""
    out = ["coverage:"]
    for report in reports:
        if not report.items:
            out.append(f"  {report.path}: nothing to cover")
            continue
        out.append(f"  {report.path}: {report.exercised} of {len(report.items)} exercised ({report.percent}%)")
        for item in report.missed:
            out.append(f"    not exercised: {report.path}:{item.line} {item.kind} {item.name}")
    return "\n".join(out)


__all__ = ["Item", "Coverage", "coverable", "coverage", "render_coverage"]
