"""The checker: parse, resolve names, check types and units, lint the program."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import attrs

from loyaldsl.check.checker import Checker
from loyaldsl.check.lints import lint
from loyaldsl.check.scenario_checks import check_tests
from loyaldsl.check.symbols import Symbols
from loyaldsl.diagnostics import Diagnostic, sort
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
    parsed = parse(source, filename)
    result = Checker(parsed.program).run()
    diagnostics = [*parsed.diagnostics, *result.diagnostics, *lint(parsed.program)]
    diagnostics.extend(check_tests(parsed.program, result.symbols, source))
    return CheckedProgram(source, filename, parsed.program, tuple(sort(diagnostics)), result.symbols)


def check_file(path: str | Path) -> CheckedProgram:
    """Callers handle OSError/UnicodeDecodeError: a missing file is a usage error."""
    path = Path(path)
    return check_source(path.read_text(encoding="utf-8"), str(path))
