"""The scenario tests written in every example program pass, and together they
exercise every rule, code, coupon, scale, tier and stamp card of their program."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyaldsl.check import check_file
from loyaldsl.harness.coverage import coverage
from loyaldsl.harness.scenarios import render_result, run_tests

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted((ROOT / "programs").glob("*.loyal"))


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_scenarios_pass_and_cover_the_program(path: Path):
    checked = check_file(path)
    assert checked.ok, [d.message for d in checked.errors]
    results = run_tests(checked)
    assert results.tests, f"{path.name} has no test blocks"
    failed = [render_result(r, str(path)) for r in results.tests if not r.passed]
    assert not failed, "\n".join(failed)
    report = coverage(checked.program, results)
    assert not report.missed, f"not exercised by any test: {[f'{i.kind} {i.name}' for i in report.missed]}"
