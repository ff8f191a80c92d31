"""Grammar fuzzing: text generated from grammar/loyal.lark, and example programs with
lines and characters deleted, duplicated or swapped, must get diagnostics from the
checker (and the test checker, and the test runner), never an exception.

hypothesis.extra.lark generates from the grammar but does not lex: the Indenter's
`%declare _INDENT _DEDENT` need strategies passed as `explicit=` (from_lark refuses a
declared terminal without one), and %ignore'd terminals are inserted between any two
tokens at random (a COMMENT there would swallow the rest of a line), while no space is
put between tokens (`earn5`). So the generator grammar drops the %ignore lines, every
terminal is drawn followed by one space, `_NL` is a plain newline, and _INDENT/_DEDENT
are marker characters that `layout` turns into two spaces per level.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from loyaldsl.check import check_source
from loyaldsl.check.scenario_checks import check_tests
from loyaldsl.diagnostics import render_all
from loyaldsl.harness.scenarios import run_tests
from loyaldsl.syntax.parser import GRAMMAR_PATH

ROOT = Path(__file__).resolve().parents[2]
INDENT, DEDENT = "\x01", "\x02"
HEADER = 'program "Generated"\n  currency RUB\n  timezone "Europe/Moscow"\n  categories a, b\n\n'
EXAMPLES = [ROOT / "docs" / "example-all-clauses.loyal", *sorted((ROOT / "programs").glob("*.loyal"))]


@lru_cache(maxsize=1)
def generator_grammar() -> Lark:
    text = GRAMMAR_PATH.read_text(encoding="utf-8")
    return Lark(re.sub(r"^%ignore.*$", "", text, flags=re.M), parser="lalr", lexer="contextual")


@lru_cache(maxsize=1)
def programs_from_grammar() -> st.SearchStrategy[str]:
    grammar = generator_grammar()
    alphabet = st.characters(codec="utf-8", exclude_characters=INDENT + DEDENT)
    explicit = {t.name: st.from_regex(t.pattern.to_regexp(), fullmatch=True, alphabet=alphabet).map(lambda s: s + " ") for t in grammar.terminals}
    explicit.update({"_NL": st.just("\n"), "_INDENT": st.just(INDENT), "_DEDENT": st.just(DEDENT)})
    return from_lark(grammar, explicit=explicit).map(layout)


def layout(raw: str) -> str:
    """Markers to indentation: each line starts with two spaces per open block."""
    out: list[str] = []
    depth, at_start = 0, True
    for char in raw:
        if char == INDENT:
            depth += 1
        elif char == DEDENT:
            depth = max(0, depth - 1)
        elif char == "\n":
            out.append("\n")
            at_start = True
        elif at_start and char == " ":
            continue
        else:
            if at_start:
                out.append("  " * depth)
                at_start = False
            out.append(char)
    return "".join(out)


def everything_reports(source: str) -> None:
    """Check, check the tests, render every diagnostic, and run the tests of a program
    that checks: none of it may raise."""
    checked = check_source(source, "fuzzed.loyal")
    found = [*checked.diagnostics, *check_tests(checked.program, checked.symbols, checked.source)]
    lines = checked.source.splitlines()
    for diagnostic in found:
        assert 1 <= diagnostic.span.line <= max(len(lines), 1) + 1, diagnostic
    render_all(found, "fuzzed.loyal", checked.source)
    if checked.ok and not any(d.is_error for d in found):
        run_tests(checked)


def test_the_generator_grammar_keeps_every_rule():
    assert {rule.origin.name for rule in generator_grammar().rules} >= {"test", "invariant", "expect", "test_buy", "program"}


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(programs_from_grammar(), st.booleans())
def test_text_from_the_grammar_gets_diagnostics_not_exceptions(text, with_header):
    everything_reports((HEADER if with_header else "") + text)


def test_the_layout_indents_blocks_and_nested_blocks():
    raw = f'points bonus \n{INDENT}earn monthly on spend in previous month : \n{INDENT}from 0 RUB : 3 % \n{DEDENT}worth 1 RUB \n{DEDENT}'
    assert layout(raw) == "points bonus \n  earn monthly on spend in previous month : \n    from 0 RUB : 3 % \n  worth 1 RUB \n"
    assert check_source(HEADER + layout(raw)).diagnostics == ()


MUTATION = st.tuples(
    st.sampled_from(["delete line", "duplicate line", "swap lines", "delete char", "duplicate char", "swap chars", "insert char"]),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.characters(codec="utf-8"),
)


def mutate(source: str, mutations: list[tuple[str, int, int, str]]) -> str:
    for kind, first, second, char in mutations:
        if kind.endswith(("line", "lines")):
            lines = source.split("\n")
            i, j = first % len(lines), second % len(lines)
            if kind == "delete line":
                del lines[i]
            elif kind == "duplicate line":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            source = "\n".join(lines)
        elif not source:
            source = char
        else:
            i = first % len(source)
            if kind == "delete char":
                source = source[:i] + source[i + 1 :]
            elif kind == "duplicate char":
                source = source[:i] + source[i] + source[i:]
            elif kind == "swap chars":
                source = source[:i] + source[i + 1 : i + 2] + source[i] + source[i + 2 :]
            else:
                source = source[:i] + char + source[i:]
    return source


@given(st.sampled_from(EXAMPLES), st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_example_programs_get_diagnostics_not_exceptions(path, mutations):
    everything_reports(mutate(path.read_text(encoding="utf-8"), mutations))


def test_a_mutation_that_breaks_a_test_step_is_reported():
    source = (ROOT / "docs" / "example-all-clauses.loyal").read_text(encoding="utf-8")
    broken = mutate(source, [("delete line", source.split("\n").index("  customer anna signed up 2026-01-01, born 1990-05-17"), 0, "")])
    checked = check_source(broken)
    codes = {d.code for d in check_tests(checked.program, checked.symbols, checked.source)}
    assert "S001" in codes
