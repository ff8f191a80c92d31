"""The checker: parse, resolve names, check types and units, lint the program."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import attrs

from loyaldsl.check.checker import Checker
from loyaldsl.check.lints import lint
from loyaldsl.check.scenario_checks import check_tests
from loyaldsl.check.symbols import Symbols
from loyaldsl.diagnostics import Diagnostic, Span, error, sort
from loyaldsl.syntax import nodes as n
from loyaldsl.syntax.parser import parse


@attrs.frozen
class CheckedProgram:
    """A program with everything the checker found. `symbols` is None only when the
    header is too broken to name a currency and a time zone."""

    source: str
    filename: str
    program: n.Program
    diagnostics: tuple[Diagnostic, ...]
    symbols: Symbols | None

    @property
    def ok(self) -> bool:
        return self.symbols is not None and not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def check_source(source: str, filename: str = "<program>") -> CheckedProgram:
    source = unicodedata.normalize("NFC", source)  # events are NFC too: one spelling per name
    broken = _invalid_character(source)
    if broken is not None:
        empty = n.Program((), filename)
        return CheckedProgram(source, filename, empty, (broken,), None)
    parsed = parse(source, filename)
    result = Checker(parsed.program).run()
    diagnostics = [*parsed.diagnostics, *result.diagnostics, *lint(parsed.program)]
    diagnostics.extend(check_tests(parsed.program, result.symbols, source))
    return CheckedProgram(source, filename, parsed.program, tuple(sort(diagnostics)), result.symbols)


def _invalid_character(source: str) -> Diagnostic | None:
    """A lone surrogate (only possible through the API, never from a file) is not text."""
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = source.count("\n", 0, exc.start) + 1
        column = exc.start - (source.rfind("\n", 0, exc.start) + 1) + 1
        return error("P002", Span.point(line, column), "a character that is not valid Unicode text")
    return None


def check_file(path: str | Path) -> CheckedProgram:
    """Callers handle OSError/UnicodeDecodeError: a missing file is a usage error."""
    path = Path(path)
    return check_source(path.read_text(encoding="utf-8"), str(path))
