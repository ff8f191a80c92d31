"""The README's language tour is a real program: it must check with no errors."""

from pathlib import Path

from loyaldsl.check import check_source

ROOT = Path(__file__).resolve().parents[1]


def language_tour() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## The language", 1)[1].split("```\n", 2)[1]


def test_readme_language_tour_checks_clean():
    checked = check_source(language_tour(), "README.md")
    assert checked.ok, [d.message for d in checked.errors]
    assert {d.code for d in checked.diagnostics} <= {"L006"}


def test_readme_lists_every_diagnostic_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    import re

    emitted = set()
    for path in (ROOT / "loyaldsl").rglob("*.py"):
        emitted |= set(re.findall(r'"([PHNTLS]\d{3})"', path.read_text(encoding="utf-8")))
    documented = set(re.findall(r"^\| ([PHNTLS]\d{3}) \|", readme, re.M))
    assert emitted == documented
