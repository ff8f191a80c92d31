"""One Diagnostic type for every problem loyaldsl reports about a program.

Parser, checker and lints all produce these, so a user sees one format everywhere:
file:line:col, severity and stable code, the message, the source line with a caret
under the span, and a hint.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import attrs


@attrs.frozen(order=True)
class Span:
    """A region of source text; lines and columns are 1-based, end is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, line: int, column: int) -> Span:
        return cls(line, column, line, column + 1)


@attrs.frozen
class Diagnostic:
    code: str
    severity: str  # "error" or "warning"
    span: Span
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def error(code: str, span: Span, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, "error", span, message, hint)


def warning(code: str, span: Span, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, "warning", span, message, hint)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest known name, or None when nothing is close."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    if close:
        return f"did you mean `{close[0]}`?"
    return None


def render(diagnostic: Diagnostic, filename: str, source: str) -> str:
    """Render like a compiler: location, code, message, the line, a caret, a hint."""
    span = diagnostic.span
    lines = source.splitlines()
    header = (
        f"{filename}:{span.line}:{span.column}: "
        f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"
    )
    out = [header]
    if 1 <= span.line <= len(lines):
        text = lines[span.line - 1].expandtabs(1)
        gutter = f"{span.line:>4} | "
        out.append(gutter + text)
        code_end = len(text.split("#", 1)[0].rstrip()) + 1
        end = span.end_column if span.end_line == span.line else code_end
        width = max(1, min(end, max(code_end, span.column + 1)) - span.column)
        out.append(" " * (len(gutter) - 2) + "| " + " " * (span.column - 1) + "^" * width)
    if diagnostic.hint:
        out.append(f"     = hint: {diagnostic.hint}")
    return "\n".join(out)


def render_all(diagnostics: Sequence[Diagnostic], filename: str, source: str) -> str:
    return "\n\n".join(render(d, filename, source) for d in sort(diagnostics))


def sort(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Source order, so output is stable and reads top to bottom."""
    return sorted(diagnostics, key=lambda d: (d.span, d.code, d.message))


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts) if parts else "no problems"
