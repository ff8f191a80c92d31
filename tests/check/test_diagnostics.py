"""Every diagnostic code loyaldsl can emit, each triggered by a small, realistic program
and checked against its full rendered text: file:line:col, severity[code], message, the
source line, the caret line and the hint. A change of wording or of caret position fails
a test here on purpose: diagnostics are part of the user interface.

Each program is the shared valid base (`program()`) plus or minus the one mistake, so a
test shows only what is wrong. Tests marked xfail(strict=True) state the behaviour the
checker should have but does not yet; their reasons say what to fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest

from loyaldsl.check import check_source
from loyaldsl.diagnostics import Diagnostic, render_all

FILE = "x.loyal"
REPO = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------ the shared base program
#
# Line numbers of the base, which the expected texts below rely on:
#   1-4   the header           (program, currency, timezone, categories)
#   6-9   points bonus         (worth, earn, redeem)
#   11-15 the tiers            (Bronze, Silver, Gold, upgrade)
#   17-   the extra blocks a test passes to program()
# A clause added with clauses(HEADER, ...) lands on line 5, with clauses(POINTS, ...) on
# line 10 (and then the tiers and the extra blocks move down by one line).

HEADER = """
program "Corner Cafe"
  currency RUB
  timezone "Europe/Moscow"
  categories coffee, tea, cakes
"""

POINTS = """
points bonus
  worth 1 RUB
  earn 1 per 100 RUB of order.paid
  redeem up to 50% of order.total
"""

TIERS = """
tiers by spend over rolling 12 months
  Bronze from 0 RUB
  Silver from 20000 RUB
  Gold from 50000 RUB, multiplier 2x
  upgrade immediately
"""


def program(*blocks: str, header: str | None = HEADER, points: str | None = POINTS, tiers: str | None = TIERS) -> str:
    """The base program with `blocks` after it; pass None to leave a base block out, or
    a replacement block. Blocks are separated by one blank line."""
    parts = [header, points, tiers, *blocks]
    return "\n".join(dedent(part).strip("\n") + "\n" for part in parts if part is not None)


def clauses(block: str, *lines: str) -> str:
    """`block` with `lines` added as clauses at its end."""
    return dedent(block).strip("\n") + "\n" + "".join(f"  {line}\n" for line in lines)


def check(source: str) -> tuple[Diagnostic, ...]:
    return check_source(source, FILE).diagnostics


def rendered(source: str) -> str:
    checked = check_source(source, FILE)
    return render_all(checked.diagnostics, FILE, checked.source)


def expected(text: str) -> str:
    return dedent(text).strip("\n")


COVERED: set[str] = set()


def covers(*codes: str):
    """Record that the test asserts the full rendered text of these codes."""

    def mark(test):
        COVERED.update(codes)
        return test

    return mark


def emitted_codes() -> set[str]:
    codes: set[str] = set()
    for path in (REPO / "loyaldsl").rglob("*.py"):
        codes.update(re.findall(r'"([PHNTL][0-9]{3})"', path.read_text(encoding="utf-8")))
    return codes


def test_every_code_the_checker_can_emit_has_a_test():
    assert emitted_codes() - COVERED == set()


def test_the_base_program_is_clean():
    assert check(program()) == ()


# ------------------------------------------------------------------ P: syntax


@covers("P001")
def test_P001_misspelt_keyword_suggests_the_keyword():
    source = program("""
        rule welcome
          discont 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:3: error[P001]: unexpected `discont`; expected `buy`, `discount`, `give`, `limit`, `not`, `once`, `uses`, `valid`, `when`
          18 |   discont 10% on order
             |   ^^^^^^^
             = hint: did you mean `discount`?
    """)


@covers("P001")
def test_P001_misspelt_clause_in_the_points_block():
    source = program(points=clauses(POINTS, "expier 12 months after earned"))
    assert rendered(source) == expected("""
        x.loyal:10:3: error[P001]: unexpected `expier`; expected `available`, `balance`, `earn`, `expire`, `multiplier`, `multipliers`, `never`, `precision`, `redeem`, `worth`, the end of the block
          10 |   expier 12 months after earned
             |   ^^^^^^
             = hint: did you mean `expire`?
    """)


@covers("P001")
def test_P001_block_header_without_clauses():
    source = program("""
        rule welcome
    """)
    assert rendered(source) == expected("""
        x.loyal:17:13: error[P001]: unexpected end of line; expected an indented clause
          17 | rule welcome
             |             ^
             = hint: indent the clauses of a block by two spaces
    """)


@covers("P001")
def test_P001_clause_cut_short_points_past_the_end_of_the_line():
    source = program("""
        rule welcome
          discount 10% on order,   # a cap was meant to follow
    """)
    assert rendered(source) == expected("""
        x.loyal:18:25: error[P001]: unexpected end of line; expected `up`
          18 |   discount 10% on order,   # a cap was meant to follow
             |                         ^
    """)


def test_P001_operators_in_the_expected_list_are_not_regex_escaped():
    source = program("""
        rule welcome
          discount 10% of order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:16: error[P001]: unexpected `of`; expected `*`, `+` or `-`, `on`
          18 |   discount 10% of order
             |                ^^
    """)


def test_P001_double_equals_suggests_a_single_one():
    source = program("""
        rule first_visit
          when customer.orders == 0
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:25: error[P001]: unexpected `=`; expected `(`, a date such as 2026-03-31, a name, a number, a time such as 16:00
          18 |   when customer.orders == 0
             |                         ^
             = hint: compare with a single `=`
    """)


def test_P001_thousands_separator_gets_a_hint():
    source = program(points=POINTS.replace("earn 1 per 100 RUB", "earn 1 per 1,000 RUB"))
    assert rendered(source) == expected("""
        x.loyal:8:15: error[P001]: unexpected `,`; expected a name
           8 |   earn 1 per 1,000 RUB of order.paid
             |               ^
             = hint: write numbers without thousands separators: 10000 or 10_000
    """)


@covers("P001")
def test_P001_space_as_thousands_separator_gets_the_same_hint():
    source = program(points=POINTS.replace("earn 1 per 100 RUB", "earn 1 per 1 000 RUB"))
    assert rendered(source) == expected("""
        x.loyal:8:16: error[P001]: unexpected `000`; expected a name
           8 |   earn 1 per 1 000 RUB of order.paid
             |                ^^^
             = hint: write numbers without thousands separators: 10000 or 10_000
    """)


def test_underscores_in_numbers_are_fine():
    assert check(program(points=POINTS.replace("earn 1 per 100 RUB", "earn 1 per 1_000 RUB"))) == ()


def test_P001_unclosed_parenthesis_is_reported_where_it_opens():
    source = program("""
        rule first_visit
          when (customer.orders = 0
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[P001]: this `(` is not closed on its line
          18 |   when (customer.orders = 0
             |        ^
             = hint: add `)` before the end of the line
    """)


@covers("P001")
def test_P001_unclosed_bracket_is_reported_where_it_opens():
    source = program("""
        rule tea_time
          discount 10% on items in category [tea, cakes   # the ] is missing
          once per customer
    """)
    assert rendered(source) == expected("""
        x.loyal:18:37: error[P001]: this `[` is not closed on its line
          18 |   discount 10% on items in category [tea, cakes   # the ] is missing
             |                                     ^
             = hint: add `]` before the end of the line
    """)


def test_brackets_inside_strings_and_comments_do_not_count():
    source = program("""
        rule gift
          discount 10% on items ["mug (large", "box ["]   # a ( in a comment
    """)
    assert check(source) == ()


def test_P004_short_date_is_reported_as_a_date():
    source = program("""
        code WINTER
          discount 10% on order
          valid 2026-1-15 to 2026-03-31
    """)
    assert rendered(source) == expected("""
        x.loyal:19:9: error[P004]: `2026-1-15` is not a date
          19 |   valid 2026-1-15 to 2026-03-31
             |         ^^^^^^^^^
             = hint: write dates as YYYY-MM-DD
    """)


@covers("P004")
def test_P004_day_first_date_is_reported_as_a_date():
    source = program("""
        period summer 01.06.2026 to 2026-08-31
    """)
    assert rendered(source) == expected("""
        x.loyal:17:15: error[P004]: `01.06.2026` is not a date
          17 | period summer 01.06.2026 to 2026-08-31
             |               ^^^^^^^^^^
             = hint: write dates as YYYY-MM-DD
    """)


@covers("P002")
def test_P002_curly_quotes_suggest_plain_ones():
    source = program("""
        rule flat_white
          discount 10% on items [“Flat white”]
    """)
    assert rendered(source) == expected("""
        x.loyal:18:26: error[P002]: unexpected character `“`
          18 |   discount 10% on items [“Flat white”]
             |                          ^
             = hint: use plain double quotes "..."
    """)


@covers("P002")
def test_P002_currency_sign_instead_of_code():
    source = program("""
        rule welcome
          discount 10€ on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:14: error[P002]: unexpected character `€`
          18 |   discount 10€ on order
             |              ^
    """)


@covers("P003")
def test_P003_clause_indented_deeper_than_its_block():
    source = program("""
        rule welcome
          discount 10% on order
            once per customer
    """)
    assert rendered(source) == expected("""
        x.loyal:19:1: error[P003]: unexpected indentation: this line is indented more than the clauses above it
          19 |     once per customer
             | ^^^^
             = hint: clauses of a block share one indentation; nested lines only follow a line ending in `:`
    """)


def test_P003_clause_indented_less_than_the_clauses_above():
    source = program("""
        rule welcome
            discount 10% on order
          once per customer
    """)
    assert rendered(source) == expected("""
        x.loyal:19:1: error[P003]: this line is indented by 2 spaces, which matches no enclosing block
          19 |   once per customer
             | ^^
             = hint: indent it by 4 spaces like the clauses above it
    """)


def test_P003_tab_among_space_indented_clauses_says_tab():
    source = program("""
        rule first_visit
          when customer.orders = 0
        TABdiscount 10% on order
    """).replace("TAB", "\t")
    assert rendered(source) == expected("""
        x.loyal:19:1: error[P003]: unexpected indentation: this line is indented more than the clauses above it
          19 |  discount 10% on order
             | ^
             = hint: indent with spaces: this line starts with a tab
    """)


@covers("P003")
def test_P003_block_indented_with_tabs_says_tab():
    source = program("""
        rule first_visit
        TABwhen customer.orders = 0
        TABdiscount 10% on order
    """).replace("TAB", "\t")
    assert rendered(source) == expected("""
        x.loyal:18:1: error[P003]: this line is indented with a tab
          18 |  when customer.orders = 0
             | ^
             = hint: indent with spaces: this line starts with a tab
    """)


@covers("P004")
def test_P004_date_that_does_not_exist():
    source = program("""
        code WINTER
          discount 10% on order
          valid 2026-02-30 to 2026-03-31
    """)
    assert rendered(source) == expected("""
        x.loyal:19:9: error[P004]: `2026-02-30` is not a real date
          19 |   valid 2026-02-30 to 2026-03-31
             |         ^^^^^^^^^^
             = hint: write dates as YYYY-MM-DD
    """)


@covers("P004")
def test_P004_time_that_does_not_exist():
    source = program("""
        rule lunch
          when order.time >= 12:60
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:22: error[P004]: `12:60` is not a time of day
          18 |   when order.time >= 12:60
             |                      ^^^^^
             = hint: write times as HH:MM, 00:00 to 24:00
    """)


@covers("P005")
def test_P005_clause_stated_twice():
    source = program(points=clauses(POINTS, "worth 2 RUB"))
    assert rendered(source) == expected("""
        x.loyal:10:3: error[P005]: `worth` is stated twice in this points block
          10 |   worth 2 RUB
             |   ^^^^^^^^^^^
             = hint: the first is on line 7; keep one
    """)


@covers("P005")
def test_P005_validity_stated_twice_in_a_rule():
    source = program("""
        rule welcome
          discount 10% on order
          valid 2026-01-01 to 2026-12-31
          valid forever
    """)
    assert rendered(source) == expected("""
        x.loyal:20:3: error[P005]: `valid` is stated twice in this rule
          20 |   valid forever
             |   ^^^^^^^^^^^^^
             = hint: the first is on line 19; keep one
    """)


def test_syntax_error_in_a_block_does_not_make_its_name_unknown_elsewhere():
    source = program(
        """
        rule loyal_regular
          when customer.bonus >= 100 bonus
          give 100 bonus
        """,
        points=POINTS.replace("of order.paid", "from order.paid"),
    )
    assert rendered(source) == expected("""
        x.loyal:8:22: error[P001]: unexpected `from`; expected `of`
           8 |   earn 1 per 100 RUB from order.paid
             |                      ^^^^
    """)


def test_syntax_error_in_the_tiers_block_does_not_make_its_tiers_unknown_elsewhere():
    source = program(
        """
        rule gold_day
          when customer.tier >= Gold and customer.tier in [Silver]
          discount 10% on order

        invariant "gold pays no more"
          compare Gold with Silver: paid <=
        """,
        tiers=TIERS.replace("Silver from 20000 RUB", "Silver frm 20000 RUB"),
    )
    assert rendered(source) == expected("""
        x.loyal:13:10: error[P001]: unexpected `frm`; expected `by`, `from` or `over`
          13 |   Silver frm 20000 RUB
             |          ^^^
    """)


def test_syntax_error_in_a_rule_does_not_make_its_name_unknown_to_stacking_or_its_coupon_never_given():
    source = program("""
        rule welcome
          discont 10% on order
          give coupon thanks

        rule tea_time
          discount 10% on items in category [tea]

        coupon thanks
          discount 5% on order

        stacking
          best of welcome, tea_time
    """)
    assert [(d.code, d.span.line) for d in check(source)] == [("P001", 18)]


def test_syntax_error_in_the_stacking_block_does_not_add_stacking_not_stated():
    source = program("""
        rule welcome
          discount 10% on order

        rule tea_time
          discount 10% on items in category [tea]

        stacking
          best of welcome tea_time
    """)
    assert [(d.code, d.span.line) for d in check(source)] == [("P001", 24)]


# ------------------------------------------------------------------ H: the program header


@covers("H001")
def test_H001_file_without_a_program_header():
    source = program(
        """
        rule welcome
          when customer.orders = 0
          discount 10% on order
        """,
        header=None,
        points=None,
        tiers=None,
    )
    assert rendered(source) == expected("""
        x.loyal:1:1: error[H001]: a program starts with a `program` header
           1 | rule welcome
             | ^
             = hint: begin with: program "Name" / currency RUB / timezone "Europe/Moscow"
    """)


@covers("H001")
def test_H001_empty_file():
    assert rendered("") == expected("""
        x.loyal:1:1: error[H001]: a program starts with a `program` header
             = hint: begin with: program "Name" / currency RUB / timezone "Europe/Moscow"
    """)


@covers("H002")
def test_H002_unknown_currency_code():
    source = program(header=HEADER.replace("currency RUB", "currency RUR"), points=None, tiers=None)
    assert rendered(source) == expected("""
        x.loyal:2:12: error[H002]: `RUR` is not an ISO 4217 currency code
           2 |   currency RUR
             |            ^^^
             = hint: did you mean `RUB`?
    """)


@covers("H002")
def test_H002_lowercase_currency_code():
    source = program(header=HEADER.replace("currency RUB", "currency rub"), points=None, tiers=None)
    assert rendered(source) == expected("""
        x.loyal:2:12: error[H002]: `rub` is not an ISO 4217 currency code
           2 |   currency rub
             |            ^^^
             = hint: did you mean `RUB`?
    """)


@covers("H003")
def test_H003_misspelt_time_zone():
    source = program(header=HEADER.replace("Europe/Moscow", "Europe/Moskow"))
    assert rendered(source) == expected("""
        x.loyal:3:12: error[H003]: "Europe/Moskow" is not a known time zone
           3 |   timezone "Europe/Moskow"
             |            ^^^^^^^^^^^^^^^
             = hint: did you mean `Europe/Moscow`?
    """)


def test_H003_zone_abbreviation_is_not_matched_to_another_zone():
    source = program(header=HEADER.replace('"Europe/Moscow"', '"MSK"'))
    assert rendered(source) == expected("""
        x.loyal:3:12: error[H003]: "MSK" is not a known time zone
           3 |   timezone "MSK"
             |            ^^^^^
             = hint: use an IANA name such as "Europe/Moscow"
    """)


@covers("H004")
def test_H004_header_without_time_zone():
    source = program(header=HEADER.replace('  timezone "Europe/Moscow"\n', ""))
    assert rendered(source) == expected("""
        x.loyal:1:9: error[H004]: the program does not say its time zone
           1 | program "Corner Cafe"
             |         ^^^^^^^^^^^^^
             = hint: add a clause such as `timezone "Europe/Moscow"`
    """)


@covers("H004")
def test_H004_header_without_currency():
    source = program(header=HEADER.replace("  currency RUB\n", ""), points=None, tiers=None)
    assert rendered(source) == expected("""
        x.loyal:1:9: error[H004]: the program does not say its currency
           1 | program "Corner Cafe"
             |         ^^^^^^^^^^^^^
             = hint: add a clause such as `currency RUB`
    """)


@covers("H005")
def test_H005_second_program_header():
    source = program("""
        program "Corner Cafe, second shop"
          currency RUB
          timezone "Europe/Moscow"
    """)
    assert rendered(source) == expected("""
        x.loyal:17:9: error[H005]: a file holds one program; this is a second `program` header
          17 | program "Corner Cafe, second shop"
             |         ^^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


HEADER_MISTAKES = {
    "bad currency": (
        HEADER.replace("currency RUB", "currency RUR"),
        """
        x.loyal:2:12: error[H002]: `RUR` is not an ISO 4217 currency code
           2 |   currency RUR
             |            ^^^
             = hint: did you mean `RUB`?
        """,
    ),
    "no currency": (
        HEADER.replace("  currency RUB\n", ""),
        """
        x.loyal:1:9: error[H004]: the program does not say its currency
           1 | program "Corner Cafe"
             |         ^^^^^^^^^^^^^
             = hint: add a clause such as `currency RUB`
        """,
    ),
    "syntax error": (
        HEADER.replace('"Europe/Moscow"', "“Europe/Moscow”"),
        """
        x.loyal:3:12: error[P002]: unexpected character `“`
           3 |   timezone “Europe/Moscow”
             |            ^
             = hint: use plain double quotes "..."
        """,
    ),
}


@pytest.mark.parametrize("mistake", HEADER_MISTAKES, ids=list(HEADER_MISTAKES))
def test_a_header_mistake_is_reported_once(mistake):
    header, text = HEADER_MISTAKES[mistake]
    assert rendered(program(header=header)) == expected(text)


# ------------------------------------------------------------------ N: names


@covers("N001")
def test_N001_misspelt_weekday():
    source = program(points=clauses(POINTS, "multiplier 2x on tusday", "multipliers best"))
    assert rendered(source) == expected("""
        x.loyal:10:20: error[N001]: `tusday` is not a day of the week
          10 |   multiplier 2x on tusday
             |                    ^^^^^^
             = hint: did you mean `tuesday`?
    """)


@covers("N001")
def test_N001_misspelt_field():
    source = program("""
        rule first_visit
          when customer.ordrs = 0
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:17: error[N001]: `customer` has no `ordrs`
          18 |   when customer.ordrs = 0
             |                 ^^^^^
             = hint: did you mean `orders`?
    """)


@covers("N001")
def test_N001_misspelt_unit():
    source = program("""
        rule big_order
          when order.subtotal >= 5000 RUBS
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:31: error[N001]: unknown unit `RUBS`
          18 |   when order.subtotal >= 5000 RUBS
             |                               ^^^^
             = hint: did you mean `RUB`?
    """)


@covers("N001")
def test_N001_misspelt_tier_name_in_a_comparison():
    source = program("""
        rule gold_day
          when customer.tier >= Gld
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:25: error[N001]: unknown name `Gld`
          18 |   when customer.tier >= Gld
             |                         ^^^
             = hint: did you mean `Gold`?
    """)


def test_N001_lowercase_currency_unit_suggests_the_code():
    source = program("""
        rule big_order
          when order.subtotal >= 5000 rub
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:31: error[N001]: unknown unit `rub`
          18 |   when order.subtotal >= 5000 rub
             |                               ^^^
             = hint: did you mean `RUB`?
    """)


def test_N001_unsupported_duration_unit_lists_the_durations():
    source = program(points=clauses(POINTS, "available 24 hours after purchase"))
    assert rendered(source) == expected("""
        x.loyal:10:16: error[N001]: unknown unit `hours`
          10 |   available 24 hours after purchase
             |                ^^^^^
             = hint: durations are in days, weeks, months or years
    """)


@covers("N002")
def test_N002_misspelt_category():
    source = program("""
        rule tea_time
          discount 10% on items in category [tee]
    """)
    assert rendered(source) == expected("""
        x.loyal:18:38: error[N002]: unknown category `tee`
          18 |   discount 10% on items in category [tee]
             |                                      ^^^
             = hint: did you mean `tea`?
    """)


@covers("N002")
def test_N002_category_when_the_header_lists_none():
    source = program(
        """
        rule tea_time
          discount 10% on items in category [tea]
        """,
        header=HEADER.replace("  categories coffee, tea, cakes\n", ""),
    )
    assert rendered(source) == expected("""
        x.loyal:17:38: error[N002]: unknown category `tea`
          17 |   discount 10% on items in category [tea]
             |                                      ^^^
             = hint: list the categories in the program header: `categories tea, ...`
    """)


@covers("N003")
def test_N003_not_with_a_misspelt_offer():
    source = program("""
        code SUMMER
          discount 10% on order
          not with welcom

        rule welcome
          when customer.orders = 0
          give 100 bonus
    """)
    assert rendered(source) == expected("""
        x.loyal:19:12: error[N003]: `not with` names `welcom`, which is not an offer of this program
          19 |   not with welcom
             |            ^^^^^^
             = hint: did you mean `welcome`?
    """)


@covers("N003")
def test_N003_offer_excluding_itself():
    source = program("""
        code SUMMER
          discount 10% on order
          not with SUMMER
    """)
    assert rendered(source) == expected("""
        x.loyal:19:12: error[N003]: `SUMMER` cannot exclude itself
          19 |   not with SUMMER
             |            ^^^^^^
    """)


@covers("N003")
def test_N003_stacking_names_a_misspelt_offer():
    source = program("""
        rule welcome
          discount 10% on order

        rule tea_time
          discount 10% on items in category [tea]

        stacking
          best of welcome, tea_tme
    """)
    assert rendered(source) == expected("""
        x.loyal:24:20: error[N003]: stacking names `tea_tme`, which is not an offer of this program
          24 |   best of welcome, tea_tme
             |                    ^^^^^^^
             = hint: did you mean `tea_time`?
    """)


@covers("N004")
def test_N004_misspelt_tier_in_a_list():
    source = program("""
        rule gold_day
          when customer.tier in [Silver, Gld]
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:34: error[N004]: no tier called `Gld`
          18 |   when customer.tier in [Silver, Gld]
             |                                  ^^^
             = hint: did you mean `Gold`?
    """)


@covers("N004")
def test_N004_customer_tier_without_a_tiers_block():
    source = program(
        """
        rule gold_day
          when customer.tier in [Gold]
          discount 10% on order
        """,
        tiers=None,
    )
    assert rendered(source) == expected("""
        x.loyal:12:17: error[N004]: `customer.tier` needs a `tiers` block
          12 |   when customer.tier in [Gold]
             |                 ^^^^
    """)


@covers("N004")
def test_N004_customer_tier_compared_with_a_tier_without_a_tiers_block_is_one_error():
    source = program(
        """
        rule gold_day
          when customer.tier >= Gold
          discount 10% on order
        """,
        tiers=None,
    )
    assert rendered(source) == expected("""
        x.loyal:12:17: error[N004]: `customer.tier` needs a `tiers` block
          12 |   when customer.tier >= Gold
             |                 ^^^^
    """)


@covers("N005")
def test_N005_misspelt_period():
    source = program("""
        rule summer_sale
          when during sumer
          discount 10% on order

        period summer 2026-06-01 to 2026-08-31
    """)
    assert rendered(source) == expected("""
        x.loyal:18:15: error[N005]: no period called `sumer`
          18 |   when during sumer
             |               ^^^^^
             = hint: did you mean `summer`?
    """)


@covers("N005")
def test_N005_undeclared_period_says_how_to_declare_one():
    source = program("""
        rule black_friday
          when during black_friday_week
          discount 20% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:15: error[N005]: no period called `black_friday_week`
          18 |   when during black_friday_week
             |               ^^^^^^^^^^^^^^^^^
             = hint: declare it: period sale 2026-07-01 to 2026-07-31
    """)


@covers("N006")
def test_N006_offer_declared_twice():
    source = program("""
        rule welcome
          when customer.orders = 0
          give 100 bonus

        rule welcome
          when customer.visits >= 10
          give 500 bonus
    """)
    assert rendered(source) == expected("""
        x.loyal:21:6: error[N006]: `welcome` is declared twice
          21 | rule welcome
             |      ^^^^^^^
             = hint: the first is on line 17; rename one
    """)


@covers("N006")
def test_N006_category_listed_twice():
    source = program(header=HEADER.replace("categories coffee, tea, cakes", "categories coffee, tea, coffee"))
    assert rendered(source) == expected("""
        x.loyal:4:27: error[N006]: category `coffee` is listed twice
           4 |   categories coffee, tea, coffee
             |                           ^^^^^^
    """)


@covers("N006")
def test_N006_second_stacking_block():
    source = program("""
        rule welcome
          discount 10% on order

        rule tea_time
          discount 10% on items in category [tea]

        stacking
          best of welcome, tea_time

        stacking
          stack the rest
    """)
    assert rendered(source) == expected("""
        x.loyal:26:1: error[N006]: a program has one `stacking` block
          26 | stacking
             | ^^^^^^^^
             = hint: merge the lines into the first block
    """)


def test_N006_second_tiers_block_points_at_the_block():
    source = program("""
        tiers by visits over lifetime
          Regular from 10 visits
          upgrade immediately
    """)
    assert rendered(source) == expected("""
        x.loyal:17:1: error[N006]: a program has one `tiers` block
          17 | tiers by visits over lifetime
             | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
             = hint: merge the tiers into the first block
    """)


@covers("N007", "L002")
def test_N007_misspelt_coupon_leaves_the_coupon_never_given():
    source = program("""
        rule welcome
          when customer.orders = 0
          give coupon welcom_back

        coupon welcome_back
          discount 10% on order
          valid 30 days after issue
    """)
    assert rendered(source) == expected("""
        x.loyal:19:15: error[N007]: no coupon called `welcom_back`
          19 |   give coupon welcom_back
             |               ^^^^^^^^^^^
             = hint: did you mean `welcome_back`?

        x.loyal:21:8: warning[L002]: coupon `welcome_back` is never given, so it can never apply
          21 | coupon welcome_back
             |        ^^^^^^^^^^^^
             = hint: give it from a rule (`give coupon welcome_back`) or a stamp card
    """)


@covers("N007")
def test_N007_stamp_card_gives_an_undeclared_coupon():
    source = program("""
        stamps coffee_card
          card of 10
          stamp 1 per item in category [coffee]
          when full: give coupon free_coffee, then reset
    """)
    assert rendered(source) == expected("""
        x.loyal:20:26: error[N007]: no coupon called `free_coffee`
          20 |   when full: give coupon free_coffee, then reset
             |                          ^^^^^^^^^^^
             = hint: declare it with `coupon NAME`
    """)


@covers("N008")
def test_N008_misspelt_points_given():
    source = program("""
        rule welcome
          when customer.orders = 0
          give 100 bonsu
    """)
    assert rendered(source) == expected("""
        x.loyal:19:12: error[N008]: no points called `bonsu`
          19 |   give 100 bonsu
             |            ^^^^^
             = hint: did you mean `bonus`?
    """)


@covers("N008")
def test_N008_tiers_by_misspelt_points():
    source = program(tiers=TIERS.replace("by spend over rolling 12 months", "by bonsu earned over calendar year").replace("RUB", "bonus"))
    assert rendered(source) == expected("""
        x.loyal:11:10: error[N008]: no points called `bonsu`
          11 | tiers by bonsu earned over calendar year
             |          ^^^^^
             = hint: did you mean `bonus`?
    """)


def test_give_money_says_give_is_for_points():
    source = program("""
        rule welcome
          when customer.orders = 0
          give 100 RUB
    """)
    assert rendered(source) == expected("""
        x.loyal:19:8: error[T003]: `give` hands out points, not Money[RUB]
          19 |   give 100 RUB
             |        ^^^^^^^
             = hint: give points such as `give 100 bonus`, or take money off with `discount 100 RUB on order`
    """)


# ------------------------------------------------------------------ T: types and units


@covers("T001")
def test_T001_amount_without_currency_in_a_condition():
    source = program("""
        rule big_order
          when order.subtotal >= 5000
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[T001]: cannot compare Money[RUB] with Count
          18 |   when order.subtotal >= 5000
             |        ^^^^^^^^^^^^^^^^^^^^^^
             = hint: write the amount with its currency, e.g. `1000 RUB`
    """)


@covers("T001")
def test_T001_points_balance_compared_with_a_bare_number():
    source = program("""
        rule loyal_regular
          when customer.bonus >= 1000
          discount 5% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[T001]: cannot compare Points[bonus] with Count
          18 |   when customer.bonus >= 1000
             |        ^^^^^^^^^^^^^^^^^^^^^^
             = hint: write the amount with its unit, e.g. `100 bonus`
    """)


@covers("T001")
def test_T001_weekdays_have_no_order():
    source = program("""
        rule weekend
          when order.day >= saturday
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[T001]: Weekday values have no order; use = or !=
          18 |   when order.day >= saturday
             |        ^^^^^^^^^^^^^^^^^^^^^
    """)


@covers("T001")
def test_T001_in_list_on_money():
    source = program("""
        rule weekend
          when order.subtotal in [saturday, sunday]
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[T001]: `in [...]` tests a day or a tier, not Money[RUB]
          18 |   when order.subtotal in [saturday, sunday]
             |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


@covers("T001")
def test_T001_time_window_with_a_date_bound():
    source = program("""
        rule happy_hour
          when order.time from 16:00 to 2026-01-01
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:33: error[T001]: cannot compare Time with Date
          18 |   when order.time from 16:00 to 2026-01-01
             |                                 ^^^^^^^^^^
    """)


def test_T001_multiplying_two_amounts_is_not_a_currency_mix():
    source = program("""
        rule big_order
          when order.subtotal * order.total >= 100 RUB
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[T001]: cannot multiply Money[RUB] with Money[RUB]
          18 |   when order.subtotal * order.total >= 100 RUB
             |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


def test_T001_counts_of_different_things_do_not_compare():
    source = program("""
        rule bulk
          when order.items >= 3 visits
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[T001]: cannot compare Count[items] with Count[visits]
          18 |   when order.items >= 3 visits
             |        ^^^^^^^^^^^^^^^^^^^^^^^
    """)


def test_counts_with_and_without_their_unit_check_clean():
    source = program(
        """
        rule regular
          when customer.orders >= 1 and customer.visits >= 10 visits and order.items * 2 >= 3 items
          discount 10% on order
        """,
        tiers="""
        tiers by visits over rolling 12 months
          Regular from 0
          Gold from 10 visits
          upgrade immediately
        """,
    )
    assert check(source) == ()


@covers("T001")
def test_T001_a_count_field_compared_with_money_has_no_currency_hint():
    source = program("""
        rule bulk
          when order.subtotal >= order.items
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[T001]: cannot compare Money[RUB] with Count[items]
          18 |   when order.subtotal >= order.items
             |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


@covers("T002")
def test_T002_discount_in_another_currency():
    source = program("""
        rule welcome
          discount 500 USD on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:12: error[T002]: this program is in RUB; Money[USD] does not mix with it
          18 |   discount 500 USD on order
             |            ^^^^^^^
    """)


@covers("T002")
def test_T002_condition_in_another_currency():
    source = program("""
        rule big_order
          when order.subtotal >= 100 EUR
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[T002]: cannot compare Money[RUB] with Money[EUR]: currencies never mix
          18 |   when order.subtotal >= 100 EUR
             |        ^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


@covers("T002")
def test_T002_point_worth_in_another_currency():
    source = program(points=POINTS.replace("worth 1 RUB", "worth 1 USD"))
    assert rendered(source) == expected("""
        x.loyal:7:9: error[T002]: the worth of one point is in USD, but this program is in RUB
           7 |   worth 1 USD
             |         ^^^^^
             = hint: a program uses one currency
    """)


@covers("T003")
def test_T003_discount_cap_without_currency():
    source = program("""
        rule welcome
          discount 10% on order, up to 500
    """)
    assert rendered(source) == expected("""
        x.loyal:18:32: error[T003]: a discount cap must be Money[RUB], not Count
          18 |   discount 10% on order, up to 500
             |                                ^^^
             = hint: add the currency: `500 RUB`
    """)


@covers("T003")
def test_T003_tier_threshold_without_currency():
    source = program(tiers=TIERS.replace("Silver from 20000 RUB", "Silver from 20000"))
    assert rendered(source) == expected("""
        x.loyal:13:15: error[T003]: the threshold of `Silver` must be Money[RUB], not Count
          13 |   Silver from 20000
             |               ^^^^^
             = hint: add the currency: `20000 RUB`
    """)


@covers("T003")
def test_T003_visit_tier_threshold_in_money():
    source = program(
        tiers="""
        tiers by visits over rolling 12 months
          Regular from 10 RUB
          upgrade immediately
        """
    )
    assert rendered(source) == expected("""
        x.loyal:12:16: error[T003]: the threshold of `Regular` must be Count[visits], not Money[RUB]
          12 |   Regular from 10 RUB
             |                ^^^^^^
             = hint: a count has no currency
    """)


@covers("T003")
def test_T003_pending_period_in_money():
    source = program(points=clauses(POINTS, "available 14 RUB after purchase"))
    assert rendered(source) == expected("""
        x.loyal:10:13: error[T003]: the pending period must be Duration, not Money[RUB]
          10 |   available 14 RUB after purchase
             |             ^^^^^^
    """)


@covers("T003")
def test_T003_refund_window_in_money():
    source = program(header=clauses(HEADER, "refunds within 14 RUB"))
    assert rendered(source) == expected("""
        x.loyal:5:18: error[T003]: the refund window must be Duration, not Money[RUB]
           5 |   refunds within 14 RUB
             |                  ^^^^^^
    """)


@covers("T003")
def test_T003_discount_in_points():
    source = program("""
        rule welcome
          discount 100 bonus on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:12: error[T003]: a discount is a Percent or Money[RUB], not Points[bonus]
          18 |   discount 100 bonus on order
             |            ^^^^^^^^^
    """)


def test_T003_discount_without_unit_suggests_the_currency():
    source = program("""
        rule welcome
          discount 500 on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:12: error[T003]: a discount is a Percent or Money[RUB], not Count
          18 |   discount 500 on order
             |            ^^^
             = hint: add the currency: `500 RUB`
    """)


def test_T003_earning_on_a_count_field_has_no_add_the_currency_hint():
    source = program(points=POINTS.replace("of order.paid", "of order.items"))
    assert rendered(source) == expected("""
        x.loyal:8:25: error[T003]: the base of earning must be Money[RUB], not Count[items]
           8 |   earn 1 per 100 RUB of order.items
             |                         ^^^^^^^^^^^
    """)


@covers("T005")
def test_T005_zero_points_earned():
    source = program(points=POINTS.replace("earn 1 per", "earn 0 per"))
    assert rendered(source) == expected("""
        x.loyal:8:8: error[T005]: points earned must be above 0
           8 |   earn 0 per 100 RUB of order.paid
             |        ^
    """)


@covers("T005")
def test_T005_step_of_money_zero():
    source = program(points=POINTS.replace("per 100 RUB", "per 0 RUB"))
    assert rendered(source) == expected("""
        x.loyal:8:14: error[T005]: the step of money must be above 0
           8 |   earn 1 per 0 RUB of order.paid
             |              ^^^^^
    """)


@covers("T005")
def test_T005_precision_out_of_range():
    source = program(points=clauses(POINTS, "precision 9 decimals"))
    assert rendered(source) == expected("""
        x.loyal:10:13: error[T005]: a precision must be a whole number from 0 to 6, not 9
          10 |   precision 9 decimals
             |             ^
    """)


@covers("T005")
def test_T005_fractional_pending_period():
    source = program(points=clauses(POINTS, "available 1.5 days after purchase"))
    assert rendered(source) == expected("""
        x.loyal:10:13: error[T005]: the pending period must be a whole number of days above 0
          10 |   available 1.5 days after purchase
             |             ^^^^^^^^
    """)


@covers("T005")
def test_T005_multiplier_of_zero():
    source = program(points=clauses(POINTS, "multiplier 0x on sunday", "multipliers best"))
    assert rendered(source) == expected("""
        x.loyal:10:3: error[T005]: a multiplier must be above 0x
          10 |   multiplier 0x on sunday
             |   ^^^^^^^^^^^^^^^^^^^^^^^
    """)


@covers("T005")
def test_T005_card_of_zero_stamps():
    source = program("""
        stamps coffee_card
          card of 0
          stamp 1 per item in category [coffee]
          when full: free cheapest item in category [coffee], then reset
    """)
    assert rendered(source) == expected("""
        x.loyal:18:11: error[T005]: a card size must be a whole number of at least 1, not 0
          18 |   card of 0
             |           ^
    """)


@covers("T005")
def test_T005_usage_limit_of_zero():
    source = program("""
        code SUMMER
          discount 10% on order
          limit 0 per customer
    """)
    assert rendered(source) == expected("""
        x.loyal:19:9: error[T005]: a usage limit must be a whole number of at least 1, not 0
          19 |   limit 0 per customer
             |         ^
    """)


@covers("T005")
def test_T005_buy_two_get_zero():
    source = program("""
        rule cake_deal
          buy 2 get 0 free on items in category [cakes], repeating
    """)
    assert rendered(source) == expected("""
        x.loyal:18:13: error[T005]: how many to get must be a whole number of at least 1, not 0
          18 |   buy 2 get 0 free on items in category [cakes], repeating
             |             ^
    """)


def test_T005_point_worth_zero():
    source = program(points=POINTS.replace("worth 1 RUB", "worth 0 RUB"))
    assert rendered(source) == expected("""
        x.loyal:7:9: error[T005]: the worth of one point must be above 0
           7 |   worth 0 RUB
             |         ^^^^^
    """)


@covers("T006")
def test_T006_tier_threshold_that_changes_per_order():
    source = program(tiers=TIERS.replace("Silver from 20000 RUB", "Silver from customer.spend"))
    assert rendered(source) == expected("""
        x.loyal:13:15: error[T006]: `customer.spend` changes from order to order; a threshold must be a fixed amount
          13 |   Silver from customer.spend
             |               ^^^^^^^^^^^^^^
    """)


@covers("T006")
def test_T006_scale_step_that_changes_per_order():
    source = program("""
        scale volume on order.subtotal, each part
          from order.total: 5%
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[T006]: `order.total` changes from order to order; a threshold must be a fixed amount
          18 |   from order.total: 5%
             |        ^^^^^^^^^^^
    """)


# ------------------------------------------------------------------ L: lints


@covers("L001")
def test_L001_tiers_out_of_order():
    source = program(tiers=TIERS.replace("  Silver from 20000 RUB\n", "").replace("  upgrade", "  Silver from 20000 RUB\n  upgrade"))
    assert rendered(source) == expected("""
        x.loyal:14:15: error[L001]: tier `Silver` starts at 20000, not above `Gold` (50000)
          14 |   Silver from 20000 RUB
             |               ^^^^^^^^^
             = hint: list tiers from lowest to highest, each threshold above the one before
    """)


@covers("L002")
def test_L002_coupon_never_given():
    source = program("""
        coupon thanks
          discount 10% on order
          valid 30 days after issue
    """)
    assert rendered(source) == expected("""
        x.loyal:17:8: warning[L002]: coupon `thanks` is never given, so it can never apply
          17 | coupon thanks
             |        ^^^^^^
             = hint: give it from a rule (`give coupon thanks`) or a stamp card
    """)


@covers("L002")
def test_L002_condition_that_is_never_true():
    source = program("""
        rule mid_size
          when order.subtotal >= 5000 RUB and order.subtotal < 1000 RUB
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: warning[L002]: `mid_size` can never apply: its condition is never true
          18 |   when order.subtotal >= 5000 RUB and order.subtotal < 1000 RUB
             |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


@covers("L002")
def test_L002_offer_after_an_unconditional_one_in_first_of():
    source = program("""
        rule everyone
          discount 5% on order

        rule big_order
          when order.subtotal >= 5000 RUB
          discount 10% on order

        stacking
          first of everyone, big_order
    """)
    assert rendered(source) == expected("""
        x.loyal:25:22: warning[L002]: `big_order` never applies: `everyone` comes first in this `first of` and always applies
          25 |   first of everyone, big_order
             |                      ^^^^^^^^^
             = hint: put the conditional offers first
    """)


@covers("L003")
def test_L003_discount_over_100_percent():
    source = program("""
        rule welcome
          discount 150% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:12: error[L003]: a discount of 150% is more than the price
          18 |   discount 150% on order
             |            ^^^^
             = hint: a discount is at most 100%
    """)


@covers("L003")
def test_L003_discount_of_zero_percent():
    source = program("""
        rule welcome
          discount 0% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:12: error[L003]: a discount of 0% takes nothing off
          18 |   discount 0% on order
             |            ^^
    """)


@covers("L003")
def test_L003_redemption_cap_over_100_percent():
    source = program(points=POINTS.replace("redeem up to 50%", "redeem up to 150%"))
    assert rendered(source) == expected("""
        x.loyal:9:16: error[L003]: a redemption cap of 150% is above 100%
           9 |   redeem up to 150% of order.total
             |                ^^^^
             = hint: percents run from 0% to 100%
    """)


@covers("L003")
def test_L003_earning_rate_over_100_percent():
    source = program(points=clauses(POINTS, "earn 120% of order.paid"))
    assert rendered(source) == expected("""
        x.loyal:10:8: error[L003]: an earning rate of 120% is above 100%
          10 |   earn 120% of order.paid
             |        ^^^^
             = hint: percents run from 0% to 100%
    """)


@covers("L003")
def test_L003_multi_buy_over_100_percent_off():
    source = program("""
        rule cake_deal
          buy 2 get 1 at 150% off on items in category [cakes], repeating
    """)
    assert rendered(source) == expected("""
        x.loyal:18:18: error[L003]: a deal of 150% is above 100%
          18 |   buy 2 get 1 at 150% off on items in category [cakes], repeating
             |                  ^^^^
             = hint: percents run from 0% to 100%
    """)


@covers("L003")
def test_L003_scale_rate_over_100_percent():
    source = program("""
        scale volume on order.subtotal, each part
          from 10000 RUB: 5%
          from 20000 RUB: 110%
    """)
    assert rendered(source) == expected("""
        x.loyal:19:19: error[L003]: a rate of 110% is above 100%
          19 |   from 20000 RUB: 110%
             |                   ^^^^
             = hint: percents run from 0% to 100%
    """)


def test_L003_discount_sum_over_100_percent():
    source = program("""
        rule welcome
          discount 60% + 60% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:12: error[L003]: a discount of 120% is more than the price
          18 |   discount 60% + 60% on order
             |            ^^^^^^^^^
             = hint: a discount is at most 100%
    """)


def test_L003_discount_of_zero_money():
    source = program("""
        rule welcome
          discount 0 RUB on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:12: error[L003]: a discount of 0 RUB takes nothing off
          18 |   discount 0 RUB on order
             |            ^^^^^
    """)


@covers("L003")
def test_L003_multi_buy_at_zero_percent_off():
    source = program("""
        rule cake_deal
          buy 2 get 1 at 0% off on items in category [cakes], repeating
    """)
    assert rendered(source) == expected("""
        x.loyal:18:18: error[L003]: a deal of 0% off takes nothing off
          18 |   buy 2 get 1 at 0% off on items in category [cakes], repeating
             |                  ^^
             = hint: write `free` or a percent above 0%
    """)


@covers("L003")
def test_L003_discount_capped_at_zero():
    source = program("""
        rule welcome
          discount 10% on order, up to 0 RUB
    """)
    assert rendered(source) == expected("""
        x.loyal:18:32: error[L003]: a discount capped at 0 RUB takes nothing off
          18 |   discount 10% on order, up to 0 RUB
             |                                ^^^^^
    """)


@covers("L004")
def test_L004_points_expire_before_they_are_available():
    source = program(points=clauses(POINTS, "available 30 days after purchase", "expire 14 days after earned"))
    assert rendered(source) == expected("""
        x.loyal:11:3: error[L004]: `bonus` expires 14 days after it is earned, before it becomes available (30 days)
          11 |   expire 14 days after earned
             |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^
             = hint: make the expiry longer than the pending period
    """)


@covers("L005")
def test_L005_scale_steps_going_down():
    source = program("""
        scale volume on order.subtotal, each part
          from 20000 RUB: 10%
          from 10000 RUB: 5%
    """)
    assert rendered(source) == expected("""
        x.loyal:19:8: error[L005]: the steps of scale `volume` must go up: 10000 is not above 20000
          19 |   from 10000 RUB: 5%
             |        ^^^^^^^^^
             = hint: each step starts above the one before, so no amount falls in two steps
    """)


@covers("L005")
def test_L005_monthly_credit_steps_going_down():
    source = program(points=clauses(POINTS, "earn monthly on spend in previous month:", "  over 5000 RUB: 5%", "  over 1000 RUB: 3%"))
    assert rendered(source) == expected("""
        x.loyal:12:10: error[L005]: the steps of the monthly credit must go up: 1000 is not above 5000
          12 |     over 1000 RUB: 3%
             |          ^^^^^^^^
             = hint: each step starts above the one before, so no amount falls in two steps
    """)


@covers("L006")
def test_L006_whole_amount_scale_dead_zone():
    source = program("""
        scale volume on order.subtotal, whole amount
          from 10000 RUB: 5%
    """)
    assert rendered(source) == expected("""
        x.loyal:18:3: warning[L006]: buying more pays less: an order of 10,000 RUB pays 9,500, but orders above 9,500 and below 10,000 pay more than that
          18 |   from 10000 RUB: 5%
             |   ^^^^^^^^^^^^^^^^^^
             = hint: a whole-amount scale has this dead zone at every step; `each part` applies each rate to its part only
    """)


def test_L006_with_over_speaks_of_an_order_just_over_the_step():
    source = program("""
        scale volume on order.subtotal, whole amount
          over 10000 RUB: 5%
    """)
    assert rendered(source) == expected("""
        x.loyal:18:3: warning[L006]: buying more pays less: an order just over 10,000 RUB pays about 9,500, but orders above 9,500 up to 10,000 pay more than that
          18 |   over 10000 RUB: 5%
             |   ^^^^^^^^^^^^^^^^^^
             = hint: a whole-amount scale has this dead zone at every step; `each part` applies each rate to its part only
    """)


@covers("L007")
def test_L007_two_discounts_without_stacking():
    source = program("""
        rule welcome
          discount 10% on order

        rule tea_time
          discount 10% on items in category [tea]
    """)
    assert rendered(source) == expected("""
        x.loyal:20:6: error[L007]: this program has 2 offers that change prices (`welcome`, `tea_time`) but does not say how they stack
          20 | rule tea_time
             |      ^^^^^^^^
             = hint: add a `stacking` block: `best of a, b`, `first of a, b`, and `stack the rest`
    """)


@covers("L007")
def test_L007_lists_a_name_declared_twice_once():
    source = program("""
        rule welcome
          discount 10% on order

        rule welcome
          discount 5% on order

        rule tea_time
          discount 10% on items in category [tea]
    """)
    assert rendered(source) == expected("""
        x.loyal:20:6: error[N006]: `welcome` is declared twice
          20 | rule welcome
             |      ^^^^^^^
             = hint: the first is on line 17; rename one

        x.loyal:23:6: error[L007]: this program has 2 offers that change prices (`welcome`, `tea_time`) but does not say how they stack
          23 | rule tea_time
             |      ^^^^^^^^
             = hint: add a `stacking` block: `best of a, b`, `first of a, b`, and `stack the rest`
    """)


@covers("L008")
def test_L008_best_of_a_single_offer():
    source = program("""
        rule welcome
          discount 10% on order

        rule tea_time
          discount 10% on items in category [tea]

        stacking
          best of welcome
          stack the rest
    """)
    assert rendered(source) == expected("""
        x.loyal:24:3: error[L008]: `best of` needs two or more offers to choose between
          24 |   best of welcome
             |   ^^^^^^^^^^^^^^^
    """)


@covers("L008")
def test_L008_offer_in_two_stacking_groups():
    source = program("""
        rule welcome
          discount 10% on order

        rule tea_time
          discount 10% on items in category [tea]

        rule cake_time
          discount 10% on items in category [cakes]

        stacking
          best of welcome, tea_time
          first of tea_time, cake_time
    """)
    assert rendered(source) == expected("""
        x.loyal:28:12: error[L008]: `tea_time` is in two stacking groups
          28 |   first of tea_time, cake_time
             |            ^^^^^^^^
             = hint: it is already grouped on line 27
    """)


@covers("L009")
def test_L009_period_ending_before_it_starts():
    source = program("""
        period summer 2026-08-31 to 2026-06-01
    """)
    assert rendered(source) == expected("""
        x.loyal:17:1: error[L009]: period `summer` ends before it starts
          17 | period summer 2026-08-31 to 2026-06-01
             | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


@covers("L009")
def test_L009_code_valid_backwards():
    source = program("""
        code SUMMER
          discount 10% on order
          valid 2026-08-31 to 2026-06-01
    """)
    assert rendered(source) == expected("""
        x.loyal:19:3: error[L009]: `SUMMER` stops being valid before it starts
          19 |   valid 2026-08-31 to 2026-06-01
             |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


@covers("L009")
def test_L009_multiplier_time_window_backwards():
    source = program(points=clauses(POINTS, "multiplier 2x on friday from 18:00 to 16:00", "multipliers best"))
    assert rendered(source) == expected("""
        x.loyal:10:3: error[L009]: the time window ends before it starts
          10 |   multiplier 2x on friday from 18:00 to 16:00
             |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


def test_L009_condition_date_range_backwards():
    source = program("""
        rule summer_sale
          when order.date from 2026-08-31 to 2026-06-01
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[L009]: the date range ends before it starts
          18 |   when order.date from 2026-08-31 to 2026-06-01
             |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    """)


@covers("L009")
def test_L009_condition_time_window_across_midnight():
    source = program("""
        rule night_owl
          when order.time from 22:00 to 02:00
          discount 10% on order
    """)
    assert rendered(source) == expected("""
        x.loyal:18:8: error[L009]: the time window ends before it starts
          18 |   when order.time from 22:00 to 02:00
             |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
             = hint: a window cannot wrap midnight; write two: `from 22:00 to 24:00` or `from 00:00 to 02:00`
    """)


@covers("L010")
def test_L010_redeemable_points_without_worth():
    source = program(points=POINTS.replace("  worth 1 RUB\n", ""))
    assert rendered(source) == expected("""
        x.loyal:8:3: error[L010]: `bonus` can be redeemed but has no value in money
           8 |   redeem up to 50% of order.total
             |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
             = hint: add `worth 1 RUB`
    """)


@covers("L010")
def test_L010_percent_earning_without_worth():
    source = program(
        points="""
        points bonus
          earn 5% of order.paid
        """
    )
    assert rendered(source) == expected("""
        x.loyal:7:3: error[L010]: earning a percent needs the value of one `bonus`
           7 |   earn 5% of order.paid
             |   ^^^^^^^^^^^^^^^^^^^^^
             = hint: add `worth 1 RUB`
    """)


@covers("L010")
def test_L010_monthly_credit_without_worth():
    source = program(
        points="""
        points bonus
          earn monthly on spend in previous month:
            from 0 RUB: 3%
        """
    )
    assert rendered(source) == expected("""
        x.loyal:7:3: error[L010]: a monthly credit needs the value of one `bonus`
           7 |   earn monthly on spend in previous month:
             |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
             = hint: add `worth 1 RUB`
    """)


def test_L011_tiers_without_upgrade_timing_message():
    """The parts of L011 apart from the rendering (the caret is in the test below)."""
    source = program(tiers=TIERS.replace("  upgrade immediately\n", ""))
    [found] = check(source)
    assert (found.code, found.severity, found.span.line, found.message, found.hint) == (
        "L011",
        "warning",
        11,
        "the tiers do not say when an upgrade takes effect",
        "add `upgrade immediately` (the qualifying purchase already earns at the new tier) or `upgrade from next purchase`",
    )


@covers("L011")
def test_L011_tiers_without_upgrade_timing():
    source = program(tiers=TIERS.replace("  upgrade immediately\n", ""))
    assert rendered(source) == expected("""
        x.loyal:11:1: warning[L011]: the tiers do not say when an upgrade takes effect
          11 | tiers by spend over rolling 12 months
             | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
             = hint: add `upgrade immediately` (the qualifying purchase already earns at the new tier) or `upgrade from next purchase`
    """)


@covers("L012")
def test_L012_multipliers_without_combination():
    source = program(points=clauses(POINTS, "multiplier 2x on friday"))
    assert rendered(source) == expected("""
        x.loyal:6:8: warning[L012]: `bonus` has several multipliers but does not say how they combine
           6 | points bonus
             |        ^^^^^
             = hint: add `multipliers compound` (multiply them) or `multipliers best` (the highest applies)
    """)


@covers("L014")
def test_L014_rule_that_does_nothing():
    source = program("""
        rule welcome
          when customer.orders = 0
    """)
    assert rendered(source) == expected("""
        x.loyal:17:6: error[L014]: rule `welcome` does nothing
          17 | rule welcome
             |      ^^^^^^^
             = hint: add a `discount`, `buy … get …` or `give` line
    """)


@covers("L014")
def test_L014_usage_limit_on_a_rule():
    source = program("""
        rule welcome
          discount 10% on order
          limit 1 per customer
    """)
    assert rendered(source) == expected("""
        x.loyal:19:9: error[L014]: usage limits belong to codes
          19 |   limit 1 per customer
             |         ^
             = hint: for a rule that applies once, write `once per customer`
    """)


@covers("L014")
def test_L014_validity_after_issue_on_a_code():
    source = program("""
        code SUMMER
          discount 10% on order
          valid 30 days after issue
    """)
    assert rendered(source) == expected("""
        x.loyal:19:3: error[L014]: `valid N days after issue` belongs to coupons
          19 |   valid 30 days after issue
             |   ^^^^^^^^^^^^^^^^^^^^^^^^^
             = hint: codes take `valid 2026-01-15 to 2026-03-31`
    """)


@covers("L014")
def test_L014_stamp_card_without_size():
    source = program("""
        stamps coffee_card
          stamp 1 per item in category [coffee]
          when full: free cheapest item in category [coffee], then reset
    """)
    assert rendered(source) == expected("""
        x.loyal:17:8: error[L014]: stamp card `coffee_card` does not say its size
          17 | stamps coffee_card
             |        ^^^^^^^^^^^
             = hint: add `card of 10`
    """)


@covers("L014")
def test_L014_stamp_card_that_never_stamps():
    source = program("""
        stamps coffee_card
          card of 10
          when full: free cheapest item in category [coffee], then reset
    """)
    assert rendered(source) == expected("""
        x.loyal:17:8: error[L014]: stamp card `coffee_card` never stamps
          17 | stamps coffee_card
             |        ^^^^^^^^^^^
             = hint: add `stamp 1 per purchase` or `stamp 1 per item in category [...]`
    """)


@covers("L014")
def test_L014_stamp_card_that_gives_nothing():
    source = program("""
        stamps coffee_card
          card of 10
          stamp 1 per item in category [coffee]
    """)
    assert rendered(source) == expected("""
        x.loyal:17:8: error[L014]: stamp card `coffee_card` gives nothing when full
          17 | stamps coffee_card
             |        ^^^^^^^^^^^
             = hint: add `when full: free cheapest item, then reset`
    """)


def test_L014_uses_on_a_code_points_at_the_uses_line():
    source = program("""
        code SUMMER
          discount 10% on order
          uses 3
    """)
    assert rendered(source) == expected("""
        x.loyal:19:3: error[L014]: `uses` belongs to coupons
          19 |   uses 3
             |   ^^^^^^
             = hint: codes take `limit N per customer` or `limit N in total`
    """)


# ------------------------------------------------------------------ whole programs


def test_several_errors_in_different_blocks_are_all_reported_in_source_order():
    source = program(
        """
        rule welcome
          when customer.orders = 0
          discont 10% on order

        rule big_spender
          when order.subtotal >= 5000
          give 500 bonus
        """,
        tiers=TIERS.replace("Silver from 20000 RUB", "Silver from 20000"),
    )
    checked = check_source(source, FILE)
    assert [(d.code, d.span.line) for d in checked.diagnostics] == [("T003", 13), ("P001", 19), ("T001", 22)]
    assert render_all(checked.diagnostics, FILE, checked.source) == expected("""
        x.loyal:13:15: error[T003]: the threshold of `Silver` must be Money[RUB], not Count
          13 |   Silver from 20000
             |               ^^^^^
             = hint: add the currency: `20000 RUB`

        x.loyal:19:3: error[P001]: unexpected `discont`; expected `buy`, `discount`, `give`, `limit`, `not`, `once`, `uses`, `valid`, `when`, the end of the block
          19 |   discont 10% on order
             |   ^^^^^^^
             = hint: did you mean `discount`?

        x.loyal:22:8: error[T001]: cannot compare Money[RUB] with Count
          22 |   when order.subtotal >= 5000
             |        ^^^^^^^^^^^^^^^^^^^^^^
             = hint: write the amount with its currency, e.g. `1000 RUB`
    """)


def test_the_all_clauses_example_has_no_errors():
    path = REPO / "docs" / "example-all-clauses.loyal"
    checked = check_source(path.read_text(encoding="utf-8"), str(path))
    assert checked.errors == []
    assert checked.ok


def test_comments_and_blank_lines_between_clauses_are_fine():
    source = program("""
        # Greets first-time customers.
        rule welcome   # a comment after a header

          when customer.orders = 0   # first order only
        # a comment in column 0 inside a block
          discount 10% on order
    """)
    assert check(source) == ()


# ------------------------------------------------------------------ Unicode names

PERSIAN_HEADER = """
program "چای و قهوه"
  currency IRR
  timezone "Asia/Tehran"
  categories ચા, قهوه, cakes
"""

PERSIAN_POINTS = """
points امتیاز
  worth 1000 IRR
  earn 1 per 10000 IRR of order.paid
"""

PERSIAN_TIERS = """
tiers by spend over rolling 12 months
  نقره‌ای from 0 IRR
  طلایی from 50000000 IRR, multiplier 2x
  upgrade immediately
"""


def persian(*blocks: str) -> str:
    return program(*blocks, header=PERSIAN_HEADER, points=PERSIAN_POINTS, tiers=PERSIAN_TIERS)


def test_unicode_tier_and_category_names_check_clean():
    source = persian("""
        rule golden_chai
          when customer.tier in [طلایی]
          discount 10% on items in category [ચા]
    """)
    assert check(source) == ()


def test_unicode_names_in_nfd_match_their_nfc_spelling():
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "café")
    assert decomposed != "café"
    source = program(
        """
        rule pastry
          discount 10% on items in category [café]
        """,
        header=HEADER.replace("cakes", decomposed),
    )
    assert check(source) == ()


def test_misspelt_unicode_tier_gets_did_you_mean():
    source = persian("""
        rule golden_chai
          when customer.tier in [طلای]
          discount 10% on items in category [ચા]
    """)
    assert rendered(source) == expected("""
        x.loyal:16:26: error[N004]: no tier called `طلای`
          16 |   when customer.tier in [طلای]
             |                          ^^^^
             = hint: did you mean `طلایی`?
    """)


def test_misspelt_unicode_category_gets_did_you_mean():
    source = persian("""
        rule chai_day
          discount 10% on items in category [ચ]
    """)
    assert rendered(source) == expected("""
        x.loyal:16:38: error[N002]: unknown category `ચ`
          16 |   discount 10% on items in category [ચ]
             |                                      ^
             = hint: did you mean `ચા`?
    """)
