"""What a checked program declares, resolved once so later stages look names up
instead of searching the AST."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import attrs

from loyaldsl.syntax import nodes as n


@attrs.frozen
class Symbols:
    currency: str
    timezone: ZoneInfo
    rounding: str
    categories: frozenset[str]
    points: dict[str, n.PointsDecl]
    tiers: tuple[str, ...]  # lowest first
    offers: dict[str, n.OfferDecl]
    scales: dict[str, n.ScaleDecl]
    stamp_cards: dict[str, n.StampsDecl]
    periods: dict[str, n.PeriodDecl]

    def tier_rank(self, name: str) -> int:
        return self.tiers.index(name)

    @property
    def discount_sources(self) -> list[str]:
        """Everything that can change a price, in program order (stacking is about these)."""
        return [*self.offers, *self.scales, *(name for name, card in self.stamp_cards.items() if card.reward and card.reward.kind == "free-item")]
