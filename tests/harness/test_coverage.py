"""Coverage: which rules, codes, coupons, scales, tiers and stamp cards no test saw at work."""

from __future__ import annotations

from pathlib import Path

from loyaldsl.harness.coverage import Item, coverable, coverage, render_coverage
from loyaldsl.harness.scenarios import run_tests
from tests.harness.helpers import checked, invoke
from tests.harness.programs import CAFE, PASSING

# 6 lattes = 900 RUB >= 800 gives the treat coupon; the next day it takes 100 RUB off.
TREAT = """
test "the treat coupon is used the next day"
  customer chen
  on 2026-03-02 chen buys 6 latte in coffee at 150 RUB
  expect coupon treat issued
  on 2026-03-03 chen buys 1 latte
  expect discount 100 RUB by treat
"""

SCALED = """\
program "Volume"
  currency USD
  timezone "America/New_York"
  categories paper

tiers by spend over calendar year
  Basic from 0 USD
  Pro from 10000 USD
  upgrade immediately

scale volume on order.subtotal, whole amount
  from 1000 USD: 5%

rule never
  when order.items > 1000
  discount 1% on order

stacking
  stack the rest

test "a big order"
  customer acme
  on 2026-05-04 acme buys 10 ream in paper at 150 USD
  expect discount 75 USD by volume
"""


def test_everything_a_test_can_exercise_in_source_order():
    program = checked(SCALED, "volume.loyal").program
    assert coverable(program) == [
        Item("tier", "Basic", 7),
        Item("tier", "Pro", 8),
        Item("scale", "volume", 11),
        Item("rule", "never", 14),
    ]


def test_what_no_test_exercised_is_listed_with_its_line():
    program = checked(CAFE + PASSING)
    report = coverage(program.program, run_tests(program))
    assert render_coverage([report]) == "coverage:\n  cafe.loyal: 7 of 8 exercised (88%)\n    not exercised: cafe.loyal:31 coupon treat"


def test_a_used_coupon_completes_the_coverage():
    program = checked(CAFE + PASSING + TREAT)
    results = run_tests(program)
    assert all(t.passed for t in results.tests)
    report = coverage(program.program, results)
    assert (report.exercised, report.percent, report.missed) == (8, 100, ())


def test_scales_and_tiers_count_and_a_rule_that_never_fired_does_not():
    program = checked(SCALED, "volume.loyal")
    report = coverage(program.program, run_tests(program))
    assert render_coverage([report]) == (
        "coverage:\n"
        "  volume.loyal: 2 of 4 exercised (50%)\n"
        "    not exercised: volume.loyal:8 tier Pro\n"
        "    not exercised: volume.loyal:14 rule never"
    )


def test_a_program_without_tests_exercises_nothing():
    program = checked(CAFE)
    report = coverage(program.program, run_tests(program))
    assert report.exercised == 0 and len(report.missed) == 8


def test_the_command_prints_coverage_after_the_results(tmp_path: Path):
    path = tmp_path / "cafe.loyal"
    path.write_text(CAFE + PASSING, encoding="utf-8")
    result = invoke("test", "--coverage", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"2 tests in 1 program: 2 passed, 0 failed\ncoverage:\n  {path}: 7 of 8 exercised (88%)\n    not exercised: {path}:31 coupon treat\n")
