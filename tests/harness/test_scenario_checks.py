"""The checker of test and invariant blocks: one case per S-code, each asserting the
diagnostic exactly as a user reads it (code, message, caret under the token, hint)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyaldsl.check import check_source
from loyaldsl.check.scenario_checks import CODES, check_tests
from loyaldsl.diagnostics import render
from tests.harness.programs import CAFE, PASSING

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "S001": (
        "  customer anna\n  on 2026-03-02 ana buys 1 latte in coffee at 150 RUB\n",
        "cafe.loyal:50:17: error[S001]: customer `ana` is used before a `customer ana` line\n"
        "  50 |   on 2026-03-02 ana buys 1 latte in coffee at 150 RUB\n"
        "     |                 ^^^\n"
        "     = hint: did you mean `anna`?",
    ),
    "S002": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB, 1 napoleon in cakes\n",
        "cafe.loyal:50:59: error[S002]: `napoleon` has no price: it is bought without `at` and not priced earlier in this test\n"
        "  50 |   on 2026-03-02 anna buys 1 latte in coffee at 150 RUB, 1 napoleon in cakes\n"
        "     |                                                           ^^^^^^^^\n"
        "     = hint: write `1 napoleon at 100 RUB` the first time",
    ),
    "S003": (
        "  customer anna signed up 2026-03-05\n  on 2026-03-02 10:30 anna buys 1 latte in coffee at 150 RUB\n",
        "cafe.loyal:50:6: error[S003]: 2026-03-02 10:30 is before anna signed up (2026-03-05)\n"
        "  50 |   on 2026-03-02 10:30 anna buys 1 latte in coffee at 150 RUB\n"
        "     |      ^^^^^^^^^^^^^^^^\n"
        "     = hint: date the step on or after 2026-03-05, or move the signup earlier",
    ),
    "S004": (
        '  customer anna\n  on 2026-03-05 anna buys 1 latte in coffee at 150 RUB\n  on 2026-03-04 anna does "review"\n',
        "cafe.loyal:51:6: error[S004]: 2026-03-04 is before anna's previous step (2026-03-05); the engine refuses a customer's event dated before the last one\n"
        '  51 |   on 2026-03-04 anna does "review"\n'
        "     |      ^^^^^^^^^^\n"
        "     = hint: write the steps of a customer in the order they happen",
    ),
    "S005": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB as p1\n  on 2026-03-03 anna returns p2\n",
        "cafe.loyal:51:30: error[S005]: no purchase `p2` earlier in this test\n"
        "  51 |   on 2026-03-03 anna returns p2\n"
        "     |                              ^^\n"
        "     = hint: name the purchase with `as NAME` at the end of its `buys` line",
    ),
    "S006": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB\n  expect discount 10 RUB by cakeday\n",
        "cafe.loyal:51:29: error[S006]: no offer called `cakeday`\n"
        "  51 |   expect discount 10 RUB by cakeday\n"
        "     |                             ^^^^^^^\n"
        "     = hint: did you mean `cake_day`?",
    ),
    "S007": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB\n  expect anna.bonsu 0\n",
        "cafe.loyal:51:15: error[S007]: no points called `bonsu`\n"
        "  51 |   expect anna.bonsu 0\n"
        "     |               ^^^^^\n"
        "     = hint: did you mean `bonus`?",
    ),
    "S008": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB\n  expect anna.stamps cup 1\n",
        "cafe.loyal:51:22: error[S008]: no stamp card called `cup`\n"
        "  51 |   expect anna.stamps cup 1\n"
        "     |                      ^^^\n"
        "     = hint: did you mean `cups`?",
    ),
    "S009": (
        "  customer anna\n  on 2026-03-02 anna gets tier Gld\n",
        "cafe.loyal:50:32: error[S009]: no tier called `Gld`\n"
        "  50 |   on 2026-03-02 anna gets tier Gld\n"
        "     |                                ^^^\n"
        "     = hint: did you mean `Gold`?",
    ),
    "S010": (
        "  customer anna\n  expect paid 150 RUB\n",
        "cafe.loyal:50:3: error[S010]: `expect paid` is about the last purchase, but no purchase comes before it\n"
        "  50 |   expect paid 150 RUB\n"
        "     |   ^^^^^^^^^^^^^^^^^^^\n"
        "     = hint: put it right after the `buys` line it is about",
    ),
    "S011": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB as p1\n  on 2026-03-03 anna buys 1 latte as p1\n",
        "cafe.loyal:51:38: error[S011]: purchase alias `p1` is used twice in this test\n"
        "  51 |   on 2026-03-03 anna buys 1 latte as p1\n"
        "     |                                      ^^\n"
        "     = hint: the first is on line 50; a return must know which purchase it means",
    ),
    "S012": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in cofee at 150 RUB\n",
        "cafe.loyal:50:38: error[S012]: unknown category `cofee`\n"
        "  50 |   on 2026-03-02 anna buys 1 latte in cofee at 150 RUB\n"
        "     |                                      ^^^^^\n"
        "     = hint: did you mean `coffee`?",
    ),
    "S013": (
        "  customer anna\n  on 2026-03-02 anna buys 0 latte in coffee at 150 RUB\n",
        "cafe.loyal:50:27: error[S013]: units bought must be a whole number above 0, not 0\n"
        "  50 |   on 2026-03-02 anna buys 0 latte in coffee at 150 RUB\n"
        "     |                           ^",
    ),
    "S014": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB as p1\n  on 2026-03-03 anna returns p1: 2 latte\n",
        "cafe.loyal:51:34: error[S014]: cannot return 2 latte: purchase `p1` has 1 left\n"
        "  51 |   on 2026-03-03 anna returns p1: 2 latte\n"
        "     |                                  ^",
    ),
    "S016": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB with code WELCOM\n",
        "cafe.loyal:50:66: warning[S016]: this program has no code `WELCOM`, so it will be refused\n"
        "  50 |   on 2026-03-02 anna buys 1 latte in coffee at 150 RUB with code WELCOM\n"
        "     |                                                                  ^^^^^^\n"
        "     = hint: did you mean `WELCOME`?",
    ),
    "S017": (
        "  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB\n  expect code WELCOME refused\n",
        "cafe.loyal:51:15: error[S017]: code `WELCOME` is not entered on the purchase on line 50\n"
        "  51 |   expect code WELCOME refused\n"
        "     |               ^^^^^^^\n"
        "     = hint: add `with code WELCOME` to that purchase",
    ),
}


def diagnose(source: str) -> list:
    """What check_tests finds; the rest of the program must check cleanly."""
    program = check_source(source, "cafe.loyal")
    found = check_tests(program.program, program.symbols, program.source)
    assert program.symbols is not None and [d for d in program.diagnostics if d not in found] == []
    return found


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_code_is_reported_on_its_token(code: str):
    body, expected = CASES[code]
    source = CAFE + '\ntest "case"\n' + body
    found = diagnose(source)
    assert [d.code for d in found] == [code]
    assert render(found[0], "cafe.loyal", source) == expected


STARS = """\
program "Stars"
  currency EUR
  timezone "Europe/Berlin"
  categories books

points stars
  earn 1 per visit

tiers by visits over lifetime
  Reader from 0
  Scholar from 10
  upgrade immediately

test "spending stars"
  customer ida
  on 2026-03-02 ida buys 1 atlas in books at 10 EUR redeeming max stars

invariant "scholars pay no more"
  compare Reader with Scholar: paid <=
"""


def test_s015_points_that_cannot_pay():
    checked = check_source(STARS, "stars.loyal")
    found = check_tests(checked.program, checked.symbols, STARS)
    assert [d.code for d in found] == ["S015", "S018"]
    assert render(found[0], "stars.loyal", STARS) == (
        "stars.loyal:16:67: error[S015]: `stars` cannot be spent as payment: its points block has no `worth`\n"
        "  16 |   on 2026-03-02 ida buys 1 atlas in books at 10 EUR redeeming max stars\n"
        "     |                                                                   ^^^^^\n"
        "     = hint: add `worth` to `points stars`, or redeem other points"
    )


def test_s018_a_compare_whose_tiers_are_the_wrong_way_round():
    checked = check_source(STARS, "stars.loyal")
    found = check_tests(checked.program, checked.symbols, STARS)
    assert render(found[1], "stars.loyal", STARS) == (
        "stars.loyal:19:11: error[S018]: `Reader` is not a higher tier than `Scholar`: tiers are listed lowest first\n"
        "  19 |   compare Reader with Scholar: paid <=\n"
        "     |           ^^^^^^\n"
        "     = hint: write `compare Scholar with Reader`"
    )


def test_every_code_has_a_case_and_a_meaning():
    assert sorted([*CASES, "S015", "S018"]) == sorted(CODES)


def test_values_of_the_wrong_unit_go_through_the_type_checker():
    source = CAFE + '\ntest "units"\n  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 USD\n  expect paid 150\n  expect earned 10 RUB\n'
    found = diagnose(source)
    assert [(d.code, d.message) for d in found] == [
        ("T002", "a price is in USD, but this program is in RUB"),
        ("T003", "an expected amount must be Money[RUB], not Count"),
        ("T003", "`earned` takes points, such as `100 bonus`, not Money[RUB]"),
    ]
    assert found[1].hint == "add the currency: `150 RUB`"


def test_an_unknown_code_expected_to_be_refused_is_not_a_warning():
    source = CAFE + '\ntest "refused"\n  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB with code NOPE\n  expect code NOPE refused "no such code"\n'
    assert diagnose(source) == []


def test_without_the_source_a_date_is_pointed_at_by_its_step():
    source = CAFE + '\ntest "case"\n' + CASES["S004"][0]
    checked = check_source(source, "cafe.loyal")
    (found,) = check_tests(checked.program, checked.symbols)
    assert (found.span.line, found.span.column, found.span.end_column) == (51, 3, 5)


def test_the_shipped_examples_check_cleanly():
    for path in [ROOT / "docs" / "example-all-clauses.loyal", *sorted((ROOT / "programs").glob("*.loyal"))]:
        text = path.read_text(encoding="utf-8")
        checked = check_source(text, str(path))
        assert check_tests(checked.program, checked.symbols, text) == [], path


def test_check_source_reports_the_test_checks_once():
    checked = check_source(CAFE + '\ntest "case"\n' + CASES["S001"][0], "cafe.loyal")
    mine = check_tests(checked.program, checked.symbols, checked.source)
    assert mine and all(checked.diagnostics.count(d) == 1 for d in mine)


def test_passing_tests_have_no_diagnostics():
    assert diagnose(CAFE + PASSING) == []


def test_a_broken_header_does_not_make_every_amount_a_type_error():
    source = (CAFE + PASSING).replace("currency RUB", "currency RUR") + '\ntest "typo"\n  customer anna\n  on 2026-03-02 ana buys 1 latte in coffee at 150 RUB\n'
    checked = check_source(source, "cafe.loyal")
    found = check_tests(checked.program, checked.symbols, source)
    assert [d.code for d in found] == ["S001"]
    assert [d.code for d in checked.diagnostics if d not in found] == ["H002"]
