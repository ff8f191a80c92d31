"""`loyaldsl check` from the outside: exit status, what goes to stdout and stderr, JSON.

Exit status: 0 fine (warnings allowed), 1 the program has errors, 2 usage errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from loyaldsl.cli import main

GOOD = """\
program "Corner Cafe"
  currency RUB
  timezone "Europe/Moscow"
  categories coffee, tea, cakes

points bonus
  worth 1 RUB
  earn 1 per 100 RUB of order.paid
  redeem up to 50% of order.total

tiers by spend over rolling 12 months
  Bronze from 0 RUB
  Silver from 20000 RUB
  Gold from 50000 RUB, multiplier 2x
  upgrade immediately
"""

# The same program without `upgrade immediately`: one warning (L011), no errors.
WARNINGS_ONLY = GOOD.replace("  upgrade immediately\n", "")

# One error on line 18: a discount in a currency the program does not use.
WITH_ERROR = GOOD + """
rule welcome
  discount 500 USD on order
"""


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args])


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_good_program_exits_0_and_says_ok(tmp_path):
    path = write(tmp_path, "cafe.loyal", GOOD)
    result = run(path)
    assert result.exit_code == 0
    assert result.stdout == f"{path}: ok\n"
    assert result.stderr == ""


def test_program_with_only_warnings_exits_0_and_shows_them(tmp_path):
    path = write(tmp_path, "cafe.loyal", WARNINGS_ONLY)
    result = run(path)
    assert result.exit_code == 0
    assert f"{path}:11:1: warning[L011]: the tiers do not say when an upgrade takes effect\n" in result.stdout
    assert result.stdout.endswith(f"\n{path}: 1 warning\n")


def test_program_with_errors_exits_1_and_shows_the_rendered_error(tmp_path):
    path = write(tmp_path, "cafe.loyal", WITH_ERROR)
    result = run(path)
    assert result.exit_code == 1
    assert result.stdout == (
        f"{path}:18:12: error[T002]: this program is in RUB; Money[USD] does not mix with it\n"
        "  18 |   discount 500 USD on order\n"
        "     |            ^^^^^^^\n"
        "\n"
        f"{path}: 1 error\n"
    )
    assert_no_traceback(result)


def test_several_programs_are_all_checked_and_any_error_fails(tmp_path):
    good = write(tmp_path, "good.loyal", GOOD)
    bad = write(tmp_path, "bad.loyal", WITH_ERROR)
    result = run(good, bad)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{good}: ok\n")
    assert result.stdout.endswith(f"{bad}: 1 error\n")


def test_missing_file_exits_2_without_traceback(tmp_path):
    path = str(tmp_path / "missing.loyal")
    result = run(path)
    assert result.exit_code == 2
    assert f"no such file: {path}\n" in result.stderr
    assert result.stdout == ""
    assert_no_traceback(result)


def test_missing_file_message_is_one_line(tmp_path):
    path = str(tmp_path / "missing.loyal")
    result = run(path)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"no such file: {path}" in lines[0]


def test_folder_instead_of_file_exits_2(tmp_path):
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path} is a folder; give a .loyal file\n" in result.stderr
    assert_no_traceback(result)


def test_non_utf8_text_exits_2_and_says_to_save_as_utf8(tmp_path):
    # A program saved by a Russian Windows editor: cp1251, not UTF-8.
    path = write(tmp_path, "cafe.loyal", GOOD.replace("Corner Cafe", "Кофейня").encode("cp1251"))
    result = run(path)
    assert result.exit_code == 2
    assert f"{path} is not UTF-8 text (byte 9); save it as UTF-8\n" in result.stderr
    assert_no_traceback(result)


def test_binary_file_exits_2_with_a_clear_message(tmp_path):
    path = write(tmp_path, "logo.loyal", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    result = run(path)
    assert result.exit_code == 2
    assert f"loyaldsl: {path} is a binary file, not a program\n" in result.stderr
    assert_no_traceback(result)


def test_binary_file_with_nul_bytes_exits_2(tmp_path):
    path = write(tmp_path, "data.loyal", b'program "x"\x00\x00\x01\x02\n\x00\x00')
    result = run(path)
    assert result.exit_code == 2
    assert "binary" in result.stderr
    assert "\x00" not in result.output
    assert_no_traceback(result)


def test_utf8_with_byte_order_mark_is_accepted(tmp_path):
    path = write(tmp_path, "cafe.loyal", "\ufeff" + GOOD)
    result = run(path)
    assert result.exit_code == 0
    assert result.stdout == f"{path}: ok\n"


def test_windows_line_endings_are_accepted(tmp_path):
    path = write(tmp_path, "cafe.loyal", GOOD.replace("\n", "\r\n").encode("utf-8"))
    result = run(path)
    assert result.exit_code == 0
    assert result.stdout == f"{path}: ok\n"


def test_json_output_of_a_program_with_an_error(tmp_path):
    path = write(tmp_path, "cafe.loyal", WITH_ERROR)
    result = run("--json", path)
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert problems == [
        {
            "file": path,
            "line": 18,
            "column": 12,
            "end_line": 18,
            "end_column": 19,
            "severity": "error",
            "code": "T002",
            "message": "this program is in RUB; Money[USD] does not mix with it",
            "hint": None,
        }
    ]


def test_json_output_of_warnings_exits_0(tmp_path):
    path = write(tmp_path, "cafe.loyal", WARNINGS_ONLY)
    result = run("--json", path)
    assert result.exit_code == 0
    [problem] = json.loads(result.stdout)
    assert (problem["code"], problem["severity"], problem["line"]) == ("L011", "warning", 11)
    assert isinstance(problem["column"], int)  # its value is the tiers caret, see test_diagnostics


def test_json_output_of_a_good_program_is_an_empty_list(tmp_path):
    path = write(tmp_path, "cafe.loyal", GOOD)
    result = run("--json", path)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_json_keeps_unicode_readable(tmp_path):
    source = GOOD.replace("Gold from", "طلایی from") + """
rule golden
  when customer.tier in [طلای]
  discount 10% on order
"""
    path = write(tmp_path, "cafe.loyal", source)
    result = run("--json", path)
    assert result.exit_code == 1
    assert "طلایی" in result.stdout  # not \\u escapes
    [problem] = json.loads(result.stdout)
    assert (problem["code"], problem["line"], problem["column"], problem["hint"]) == ("N004", 18, 26, "did you mean `طلایی`?")
