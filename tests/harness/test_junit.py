"""JUnit XML: well-formed, with the counts CI servers read, one testcase per test, the
failure text as the terminal shows it, and a program with errors as an errored case."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from loyaldsl.harness.junit import BrokenProgram, junit_tree, write_junit
from loyaldsl.harness.scenarios import ProgramResults, TestResult, run_tests
from tests.harness.helpers import checked, invoke
from tests.harness.programs import CAFE, FAILING, PASSING


def read(path: Path) -> ET.Element:
    raw = path.read_bytes()
    assert raw.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(raw)


def test_counts_cases_and_failure_text(tmp_path: Path):
    good = run_tests(checked(CAFE + PASSING, "programs/good.loyal"))
    bad = run_tests(checked(CAFE + FAILING, "programs/bad.loyal"))
    broken = BrokenProgram("programs/typo.loyal", "programs/typo.loyal: 1 error; its tests were not run", "programs/typo.loyal:3:12: error[H002]: ...")
    out = tmp_path / "report.xml"
    write_junit(out, [good, bad], [broken])
    root = read(out)
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors")} == {"tests": "4", "failures": "1", "errors": "1"}
    suites = root.findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures"), s.get("errors")) for s in suites] == [
        ("programs/good.loyal", "2", "0", "0"),
        ("programs/bad.loyal", "1", "1", "0"),
        ("programs/typo.loyal", "1", "0", "1"),
    ]
    cases = root.findall(".//testcase")
    assert [(c.get("classname"), c.get("name"), c.get("line")) for c in cases] == [
        ("programs.good", "a friday cake, a welcome code, then a full card", "48"),
        ("programs.good", "a staff code on cake day cancels the order", "72"),
        ("programs.bad", "everything wrong", "48"),
        ("programs.typo", "check", None),
    ]
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("message") == "line 51: expected paid 600.00 RUB, actual paid 610.00 RUB (and 14 more)"
    assert failure.text is not None and failure.text.startswith("programs/bad.loyal:51: expect paid 600 RUB\n    expected: paid 600.00 RUB\n")
    assert failure.text.count("programs/bad.loyal:") == 15
    error = cases[3].find("error")
    assert error is not None and error.get("type") == "check" and error.text == "programs/typo.loyal:3:12: error[H002]: ..."
    for case in cases:
        assert float(case.get("time") or "0") >= 0


def test_unicode_names_survive_and_control_characters_are_dropped():
    result = TestResult("طلایی pays \x01 less", 1, 3, (), 0, frozenset(), 0.0, error="internal error: \x00 boom")
    root = junit_tree([ProgramResults("સોનું.loyal", (result,))]).getroot()
    raw = ET.tostring(root, encoding="unicode")
    parsed = ET.fromstring(raw)
    case = parsed.find(".//testcase")
    assert case is not None
    assert case.get("name") == "طلایی pays \ufffd less"
    assert case.get("classname") == "સોનું"
    error = case.find("error")
    assert error is not None and error.get("message") == "internal error: \ufffd boom"
    assert parsed.get("errors") == "1"


def test_the_command_writes_the_file_and_still_prints(tmp_path: Path):
    path = tmp_path / "cafe.loyal"
    path.write_text(CAFE + FAILING, encoding="utf-8")
    out = tmp_path / "junit.xml"
    result = invoke("test", "--junit", str(out), str(path))
    assert result.exit_code == 1
    assert "FAIL   everything wrong" in result.stdout
    root = read(out)
    assert (root.get("tests"), root.get("failures")) == ("1", "1")


def test_an_unwritable_report_is_a_usage_error(tmp_path: Path):
    path = tmp_path / "cafe.loyal"
    path.write_text(CAFE + PASSING, encoding="utf-8")
    result = invoke("test", "--junit", str(tmp_path / "missing" / "junit.xml"), str(path))
    assert result.exit_code == 2
    assert "cannot write" in result.output and "Traceback" not in result.output
