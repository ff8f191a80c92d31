"""Whether a return takes a tier away now or at the review is the program's choice:
`returns lower the tier at once` or `returns lower the tier at the review` (the default)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.check import check_source
from loyaldsl.interpret import interpreter
from loyaldsl.runtime.model import Purchase, PurchaseLine, Refund

MSK = ZoneInfo("Europe/Moscow")
PROGRAM = """\
program "Tiered shop"
  currency RUB
  timezone "Europe/Moscow"

tiers by spend over calendar year
  Basic from 0 RUB
  Silver from 20000 RUB, multiplier 1.5x
  upgrade immediately
  review yearly, downgrade to qualified
{policy}
"""


def tier_after_return(policy: str) -> str | None:
    checked = check_source(PROGRAM.format(policy=policy), "tiers.loyal")
    assert checked.ok, [d.message for d in checked.errors]
    engine = interpreter(checked)
    state = engine.new_state()
    at = dt.datetime(2026, 3, 2, 12, tzinfo=MSK)
    engine.process(state, Purchase("p1", "anna", at, (PurchaseLine("tv", "tech", 1, Decimal("15000")),)))
    reached = engine.process(state, Purchase("p2", "anna", at + dt.timedelta(days=1), (PurchaseLine("tv", "tech", 1, Decimal("6000")),)))
    assert reached.tier_after == "Silver"  # 15,000 + 6,000 = 21,000 >= 20,000
    # returning the 6,000 leaves 15,000 for the year: below Silver
    back = engine.process(state, Refund("r1", "anna", at + dt.timedelta(days=2), "p2"))
    return back.tier_after


@pytest.mark.parametrize(
    ("policy", "tier"),
    [("  returns lower the tier at once", "Basic"), ("  returns lower the tier at the review", "Silver"), ("", "Silver")],
    ids=["at once", "at the review", "unstated: at the review"],
)
def test_a_return_lowers_the_tier_when_the_program_says(policy: str, tier: str):
    assert tier_after_return(policy) == tier
