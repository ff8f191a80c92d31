"""The README's tests-and-fuzzing section stays true: its example test passes on the cafe program, and its
table lists every S-code the checker emits."""

from __future__ import annotations

import re
from pathlib import Path

from loyaldsl.check.scenario_checks import CODES
from loyaldsl.harness.scenarios import run_tests
from tests.harness.helpers import checked
from tests.harness.programs import CAFE

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "README.md").read_text(encoding="utf-8").split("## Tests and fuzzing", 1)[1].split("\n## ", 1)[0]


def test_the_example_test_passes():
    example = DOC.split("### Writing tests", 1)[1].split("```\n", 2)[1]
    (result,) = run_tests(checked(CAFE + "\n" + example)).tests
    assert result.passed, result.failures


def test_every_s_code_is_documented_and_emitted():
    documented = set(re.findall(r"^\| (S\d{3}) \|", DOC, re.M))
    source = (ROOT / "loyaldsl" / "check" / "scenario_checks.py").read_text(encoding="utf-8")
    emitted = set(re.findall(r'"(S\d{3})"', source.split("CODES: dict", 1)[1].split("\n}\n", 1)[1]))
    assert documented == emitted == set(CODES)
