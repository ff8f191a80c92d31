"""Scenario tests: steps become events, expectations are compared with what the engine
did, and a failure says what was expected, what happened and which step it is about."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.harness import scenarios
from loyaldsl.harness.scenarios import render_failure, render_result, run_tests, scenario_events
from loyaldsl.runtime.engine import Engine
from loyaldsl.runtime.model import CustomerEvent, Purchase, PurchaseLine, Refund, RefundLine
from tests.harness.helpers import checked, invoke, without_test_checks
from tests.harness.programs import CAFE, FAILING, PASSING

MSK = ZoneInfo("Europe/Moscow")


def test_passing_tests_pass_with_every_expectation_counted():
    results = run_tests(checked(CAFE + PASSING))
    assert [(t.name, t.passed, t.expectations) for t in results.tests] == [
        ("a friday cake, a welcome code, then a full card", True, 18),
        ("a staff code on cake day cancels the order", True, 3),
    ]
    assert render_result(results.tests[0], "cafe.loyal") == "  ok     a friday cake, a welcome code, then a full card"


def test_steps_become_events_with_ids_prices_categories_and_the_birth_date():
    program = checked(CAFE + PASSING).program
    items = scenario_events(program.tests[0], 1, MSK)
    events = [item.event for item in items if item.event is not None]
    assert events[0] == CustomerEvent("t1-1", "anna", dt.datetime(2026, 3, 1, tzinfo=MSK), "signup", birth_date=dt.date(1990, 5, 17))
    first = events[1]
    assert isinstance(first, Purchase) and first.id == "p1" and first.codes == ("WELCOME",)
    assert first.at == dt.datetime(2026, 3, 6, 10, 0, tzinfo=MSK)
    # `3 latte, 1 napoleon` reuse the category and price written on line p1.
    second = events[2]
    assert isinstance(second, Purchase)
    assert second.lines == (PurchaseLine("latte", "coffee", 3, Decimal(150)), PurchaseLine("napoleon", "cakes", 1, Decimal(400)))
    assert second.redeem == (("bonus", None),)
    assert events[3] == Refund("t1-21", "anna", dt.datetime(2026, 3, 22, tzinfo=MSK), "p2", (RefundLine("napoleon", 1),))
    unnamed = scenario_events(program.tests[1], 2, MSK)[1].event
    assert unnamed is not None and unnamed.id == "t2-2"


def test_a_birth_date_without_signup_date_travels_with_the_first_signup():
    source = CAFE + """
test "born"
  customer vera, born 1991-02-03
  on 2026-03-02 vera signs up
  on 2026-03-03 vera signs up
"""
    events = [i.event for i in scenario_events(checked(source).program.tests[0], 1, MSK) if i.event is not None]
    assert [(e.kind, e.birth_date) for e in events if isinstance(e, CustomerEvent)] == [("signup", dt.date(1991, 2, 3)), ("signup", None)]


FAILURES = [
    (51, "paid 600.00 RUB", "paid 610.00 RUB"),
    (52, "discount 45.00 RUB by cake_day", "discount 40.00 RUB by cake_day"),
    (53, "discount 10.00 RUB by give_treat", "no discount by give_treat (discounts: cake_day 40.00 RUB, WELCOME 50.00 RUB)"),
    (54, "discount 100.00 RUB", "discount 90.00 RUB (cake_day 40.00 RUB, WELCOME 50.00 RUB)"),
    (55, "no discount", "discounts: cake_day 40.00 RUB, WELCOME 50.00 RUB"),
    (56, "no discount by WELCOME", "discount 50.00 RUB by WELCOME"),
    (57, "earned 60 bonus", "earned 61 bonus"),
    (58, "code WELCOME refused", "code WELCOME applied"),
    (59, "coupon treat issued", "no coupon issued"),
    (60, "order cancelled", "order not cancelled (status ok)"),
    (61, "anna.bonus available 61 bonus", "anna.bonus available 0 bonus"),
    (62, "anna.bonus pending 0 bonus as of 2026-03-10", "anna.bonus pending 61 bonus"),
    (63, "anna.tier is Gold", "anna.tier is Regular"),
    (64, "anna.stamps cups 3", "anna.stamps cups 2"),
    (66, 'code WELCOME refused "expired"', 'code WELCOME refused "already used 1 time by this customer (limit 1)"'),
]


@pytest.fixture(scope="module")
def failing():
    results = run_tests(checked(CAFE + FAILING))
    (result,) = results.tests
    return result


def test_every_kind_of_expectation_fails_with_expected_and_actual(failing):
    assert not failing.passed and failing.error is None
    assert [(f.line, f.expected, f.actual) for f in failing.failures] == FAILURES
    assert {f.event_line for f in failing.failures[:-1]} == {50}
    assert failing.failures[-1].event_line == 65


def test_a_failure_renders_with_the_step_it_is_about(failing):
    assert render_failure(failing.failures[0], "cafe.loyal") == (
        "cafe.loyal:51: expect paid 600 RUB\n"
        "    expected: paid 600.00 RUB\n"
        "    actual:   paid 610.00 RUB\n"
        "    event:    line 50: on 2026-03-06 10:00 anna buys 2 latte in coffee at 150 RUB, 1 napoleon in cakes at 400 RUB with code WELCOME as p1\n"
        "    note:     code WELCOME applied"
    )
    assert render_failure(failing.failures[-1], "cafe.loyal") == (
        'cafe.loyal:66: expect code WELCOME refused "expired"\n'
        '    expected: code WELCOME refused "expired"\n'
        '    actual:   code WELCOME refused "already used 1 time by this customer (limit 1)"\n'
        "    event:    line 65: on 2026-03-21 anna buys 1 latte with code WELCOME\n"
        "    note:     code WELCOME refused: already used 1 time by this customer (limit 1)"
    )


def test_a_failed_test_shows_the_notes_of_a_step_once(failing):
    text = render_result(failing, "cafe.loyal")
    assert text.startswith("  FAIL   everything wrong\n    cafe.loyal:51: expect paid 600 RUB\n")
    assert text.count("note:     code WELCOME applied") == 1


EXPIRING = """\
program "Short-lived points"
  currency EUR
  timezone "Europe/Berlin"
  categories books

points stars
  worth 1 EUR
  earn 1 per 10 EUR of order.paid
  available immediately
  expire 1 month after earned
  redeem up to 100% of order.total

test "a look into the future changes nothing"
  customer ida
  on 2026-03-01 ida buys 1 atlas in books at 100 EUR
  expect ida.stars available 0 stars as of 2026-05-01
  expect ida.stars available 10 stars
  on 2026-03-10 ida buys 1 atlas redeeming max stars
  expect paid 90 EUR
"""


def test_a_balance_as_of_a_later_date_does_not_move_the_test_forward():
    # Reading the balance in May (expired by then) must not expire anything for the
    # purchase on 10 March, which still redeems the 10 stars earned on 1 March.
    (result,) = run_tests(checked(EXPIRING, "expiring.loyal")).tests
    assert result.passed, render_result(result, "expiring.loyal")


def test_expectations_with_nothing_to_be_about_fail_without_crashing():
    # The checker reports these (S010); run on their own they fail with a reason.
    source = CAFE + """
test "too early"
  customer anna
  expect paid 10 RUB
  expect anna.bonus 0
  on 2026-03-02 anna buys 1 latte in coffee at 150 RUB as p1
  on 2026-03-03 anna returns p1
  expect paid 150 RUB
"""
    (result,) = run_tests(without_test_checks(source)).tests
    assert [(f.expected, f.actual) for f in result.failures] == [
        ("paid 10.00 RUB", "no purchase yet"),
        ("anna.bonus", "nothing has happened yet in this test; add `as of DATE`"),
        ("paid 150.00 RUB", "the last event is a return, not a purchase"),
    ]


def test_a_test_that_cannot_become_events_stops_with_why():
    # The checker reports this (S002); run on its own the test stops at that step.
    source = CAFE + '\ntest "unpriced"\n  customer anna\n  on 2026-03-02 anna buys 1 latte in coffee\n  expect paid 0 RUB\n'
    (result,) = run_tests(without_test_checks(source)).tests
    assert (result.error, result.error_line, result.crashed, result.failures) == ("`latte` has no price; write `at <price>` the first time it is bought", 50, False, ())
    assert render_result(result, "cafe.loyal").splitlines()[-1] == "    cafe.loyal:50: `latte` has no price; write `at <price>` the first time it is bought"


def test_an_engine_crash_is_an_error_of_the_test_not_a_traceback(monkeypatch):
    def explode(self, state, event):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(Engine, "process", explode)
    results = run_tests(checked(CAFE + PASSING))
    assert [(t.error, t.crashed) for t in results.tests] == [("internal error: ZeroDivisionError: boom", True)] * 2
    assert render_result(results.tests[1], "cafe.loyal").splitlines() == [
        "  ERROR  a staff code on cake day cancels the order",
        "    cafe.loyal:74: internal error: ZeroDivisionError: boom",
    ]


# ------------------------------------------------------------------ the command


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "good.loyal").write_text(CAFE + PASSING, encoding="utf-8")
    sub = tmp_path / "more"
    sub.mkdir()
    (sub / "bad.loyal").write_text(CAFE + FAILING, encoding="utf-8")
    hidden = tmp_path / ".venv"
    hidden.mkdir()
    (hidden / "ignored.loyal").write_text("not a program", encoding="utf-8")
    return tmp_path


def test_the_command_runs_a_file_and_exits_0_when_all_pass(folder: Path):
    result = invoke("test", str(folder / "good.loyal"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{folder / 'good.loyal'}",
        "  ok     a friday cake, a welcome code, then a full card",
        "  ok     a staff code on cake day cancels the order",
        "2 tests in 1 program: 2 passed, 0 failed",
    ]


def test_the_command_searches_folders_and_exits_1_on_a_failure(folder: Path):
    result = invoke("test", str(folder))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "ignored.loyal" not in out
    assert f"{folder / 'more' / 'bad.loyal'}:51: expect paid 600 RUB" in out
    assert "        expected: paid 600.00 RUB\n        actual:   paid 610.00 RUB\n" in out
    assert out.rstrip().endswith("3 tests in 2 programs: 2 passed, 1 failed")
    assert "Traceback" not in result.output


def test_the_command_reports_check_errors_and_runs_nothing_of_that_program(tmp_path: Path):
    path = tmp_path / "typo.loyal"
    path.write_text(CAFE + '\ntest "typo"\n  customer anna\n  on 2026-03-02 ana buys 1 latte in coffee at 150 RUB\n', encoding="utf-8")
    result = invoke("test", str(path))
    assert result.exit_code == 1
    assert f"{path}:50:17: error[S001]: customer `ana` is used before a `customer ana` line" in result.stderr
    assert "= hint: did you mean `anna`?" in result.stderr
    assert f"{path}: 1 error; its tests were not run" in result.stderr
    assert result.stdout.endswith("0 tests in 0 programs: 0 passed, 0 failed; 1 program with errors\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["test", "nowhere/at-all.loyal"], "no such file or folder: nowhere/at-all.loyal"),
        (["test", "--junit"], "Option '--junit' requires an argument"),
    ],
)
def test_usage_errors_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_an_empty_folder_is_a_usage_error(tmp_path: Path):
    result = invoke("test", str(tmp_path))
    assert result.exit_code == 2
    assert f"no .loyal files in {tmp_path}" in result.output


def test_an_engine_crash_exits_3_with_a_message(monkeypatch, folder: Path):
    monkeypatch.setattr(scenarios.Engine, "process", lambda self, state, event: 1 / 0)
    result = invoke("test", str(folder / "good.loyal"))
    assert result.exit_code == 3
    assert "ERROR  a friday cake" in result.stdout
    assert "this is a bug in loyaldsl" in result.stderr
    assert "Traceback" not in result.output


REFUNDS = """
test "a return and a late one"
  customer anna
  on 2026-03-02 10:00 anna buys 2 latte in coffee at 150 RUB as p1
  on 2026-03-03 10:00 anna returns p1: 1 latte
  expect refunded 140 RUB
  on 2026-03-04 10:00 anna returns p9
  expect rejected "no purchase p9"
"""


def test_refunded_and_rejected_expectations_report_expected_and_actual():
    # 1 latte of 150 comes back at its price: 150 refunded (the test says 140: fails);
    # a return of an unknown purchase is refused, and the reason names it.
    source = CAFE + REFUNDS
    (result,) = run_tests(without_test_checks(source)).tests
    assert [(f.expected, f.actual) for f in result.failures] == [("refunded 140.00 RUB", "refunded 150.00 RUB")]


def test_expect_refunded_must_follow_a_return():
    source = CAFE + """
test "refund after a purchase"
  customer anna
  on 2026-03-02 10:00 anna buys 2 latte in coffee at 150 RUB
  expect refunded 150 RUB
"""
    from loyaldsl.check import check_source

    codes = [d.code for d in check_source(source, "cafe.loyal").diagnostics if d.code.startswith("S")]
    assert codes == ["S010"]
