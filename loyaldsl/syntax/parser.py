"""Text -> AST. lark parses (LALR, contextual lexer, cached tables); a transformer turns
the tree into the frozen nodes of `nodes.py`, each with its source span.

Each top-level block is parsed on its own, so one mistake does not hide the others:
a user sees every syntax error of a file in one run.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Any

import attrs
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import DedentError, Indenter

from loyaldsl.diagnostics import Diagnostic, Span, did_you_mean, error
from loyaldsl.syntax import nodes as n

# The grammar ships inside the package (grammar/loyal.lark at the top is a link to it),
# so a plain, non-editable install finds it too.
GRAMMAR_PATH = FsPath(__file__).resolve().parents[1] / "grammar" / "loyal.lark"


class _LoyalIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LSQB", "LPAR"]
    CLOSE_PAREN_types = ["RSQB", "RPAR"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8


@lru_cache(maxsize=1)
def _lark() -> Lark:
    """The parser, built once per process; lark caches the LALR tables on disk so a
    cold `loyaldsl check` does not rebuild them."""
    return Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=_LoyalIndenter(),
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )


@attrs.frozen
class UnparsedBlock:
    """A block dropped for a syntax error, and the names it would have declared (read
    from its header line; for a tiers block, the first word of each clause line). The
    checker stays silent about uses of these names: the syntax error is the news."""

    kind: str  # the first word of the header line: "points", "rule", "tiers", "program", ...
    names: tuple[str, ...]
    span: Span


@attrs.frozen
class ParsedProgram(n.Program):
    """A program as parsed, with the blocks that could not be."""

    unparsed: tuple[UnparsedBlock, ...] = ()


@attrs.frozen
class ParseResult:
    program: n.Program
    diagnostics: tuple[Diagnostic, ...]


def parse(source: str, filename: str = "<program>") -> ParseResult:
    """Parse a whole program, collecting every block's syntax errors."""
    source = unicodedata.normalize("NFC", source)  # as events are: one spelling per name
    declarations: list[n.Decl] = []
    diagnostics: list[Diagnostic] = []
    unparsed: list[UnparsedBlock] = []
    for first_line, text in _blocks(source):
        found, built = _parse_block(first_line, text, source)
        diagnostics.extend(found)
        if built is None:
            unparsed.append(_unparsed(first_line, text))
        else:
            declarations.extend(built)
    return ParseResult(ParsedProgram(tuple(declarations), filename, tuple(unparsed)), tuple(diagnostics))


def _parse_block(first_line: int, text: str, source: str) -> tuple[list[Diagnostic], list[n.Decl] | None]:
    """One block: its diagnostics, and its declarations (None when it could not be
    parsed at all)."""
    problems = _line_problems(first_line, text)
    if problems:
        return problems, None
    padded = "\n" * (first_line - 1) + text
    try:
        tree = _lark().parse(padded)
    except UnexpectedInput as exc:
        return [_syntax_error(exc, source)], None
    except DedentError as exc:
        return [_dedent_error(exc, first_line, text)], None
    builder = _Builder()
    try:
        built = builder.transform(tree)
    except VisitError as exc:  # a literal that lark accepted but is not valid
        if isinstance(exc.orig_exc, _LiteralError):
            return [exc.orig_exc.diagnostic], None
        raise
    return builder.diagnostics, list(built.children)


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str]:
    """The grammar's NAME terminal, to read names off lines lark could not parse."""
    return re.compile(next(t.pattern.value for t in _lark().terminals if t.name == "NAME"))


def _unparsed(first_line: int, text: str) -> UnparsedBlock:
    """What a block that failed to parse would have declared, read from its lines."""
    lines = text.splitlines()
    # The first block also holds the comments and blank lines above its header.
    at = next((i for i, line in enumerate(lines) if _code(line).strip()), 0)
    header = _code(lines[at]).split() if lines else []
    kind = header[0] if header else ""
    names: list[str] = []
    if kind == "tiers":
        for line in lines[at + 1 :]:
            words = _code(line).split()
            if words and _name_pattern().fullmatch(words[0]):
                names.append(words[0])
    elif len(header) > 1:
        name = _name_pattern().match(header[1])
        if name:
            names.append(name.group())
    line = first_line + at
    return UnparsedBlock(kind, tuple(names), Span(line, 1, line, len(lines[at]) + 1 if lines else 2))


def _scan(line: str) -> tuple[list[tuple[int, str]], int]:
    """The characters of a line outside its strings (with their index), and where its
    comment starts (the line's length when it has none)."""
    outside: list[tuple[int, str]] = []
    in_string = False
    escaped = False
    for index, char in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == "#":
            return outside, index
        elif char == '"':
            in_string = True
        else:
            outside.append((index, char))
    return outside, len(line)


def _code(line: str) -> str:
    """A line without its comment (a `#` inside a string does not start one)."""
    return line[: _scan(line)[1]]


_CLOSING = {"(": ")", "[": "]"}


def _line_problems(first_line: int, text: str) -> list[Diagnostic]:
    """Problems lark would report far from where they are, found line by line before
    the block is parsed: a tab in the indentation (lark counts it as 8 columns), and a
    `(` or `[` not closed on its line (inside brackets lark's indenter ignores line
    ends, so the error would land on a later line). Brackets never span lines here."""
    found: list[Diagnostic] = []
    lines = text.splitlines()
    tab = _tab_problem(first_line, lines)
    if tab is not None:
        found.append(tab)
    for offset, raw in enumerate(lines):
        opened: list[tuple[str, int]] = []
        for index, char in _scan(raw)[0]:
            if char in _CLOSING:
                opened.append((char, index))
            elif char in ")]" and opened and _CLOSING[opened[-1][0]] == char:
                opened.pop()
        if opened:
            char, index = opened[-1]
            line = first_line + offset
            found.append(
                error(
                    "P001",
                    Span(line, index + 1, line, index + 2),
                    f"this `{char}` is not closed on its line",
                    f"add `{_CLOSING[char]}` before the end of the line",
                )
            )
    return found


def _indent_of(raw: str) -> str:
    return raw[: len(raw) - len(raw.lstrip(" \t"))]


def _tab_problem(first_line: int, lines: list[str]) -> Diagnostic | None:
    """The first line of a block indented with a tab. Its message says what lark would
    make of it (a tab is 8 columns to lark, whatever it looks like in an editor)."""
    levels = [0]
    expects_indent = False  # the line before opens a nested level (the header, or `:`)
    header_seen = False
    for offset, raw in enumerate(lines):
        code = _code(raw).strip()
        if not code:
            continue
        indent = _indent_of(raw)
        width = indent.count(" ") + indent.count("\t") * _LoyalIndenter.tab_len
        if "\t" in indent:
            line = first_line + offset
            if width > levels[-1]:
                message = "this line is indented with a tab" if expects_indent else "unexpected indentation: this line is indented more than the clauses above it"
            elif width in levels:
                message = "this line is indented with a tab"
            else:
                message = "this line is indented with a tab, which matches no enclosing block"
            where = "starts with a tab" if indent.startswith("\t") else "has a tab in its indentation"
            return error("P003", Span(line, 1, line, len(indent) + 1), message, f"indent with spaces: this line {where}")
        if width > levels[-1]:
            levels.append(width)
        else:
            while width < levels[-1]:
                levels.pop()
        expects_indent = not header_seen or code.endswith(":")
        header_seen = True
    return None


_BLOCK_START = re.compile(r"^[^\s#]", re.UNICODE)


def _blocks(source: str) -> Iterator[tuple[int, str]]:
    """Split a program at lines that start in column 0 (block headers)."""
    lines = source.splitlines()
    start = 0
    for index, line in enumerate(lines):
        if index > start and _BLOCK_START.match(line):
            yield start + 1, "\n".join(lines[start:index]) + "\n"
            start = index
    if lines[start:]:
        yield start + 1, "\n".join(lines[start:]) + "\n"


# ------------------------------------------------------------------ syntax errors

_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a quoted string",
    "DATE": "a date such as 2026-03-31",
    "TIME": "a time such as 16:00",
    "_NL": "the end of the line",
    "_INDENT": "an indented clause",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
    "COMPARE": "a comparison such as >=",
    "EDGE": "`from` or `over`",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    for terminal in _lark().terminals:
        if terminal.name == name:
            value = terminal.pattern.value
            if terminal.pattern.type == "str":
                return f"`{value}`"
            alternatives = [re.sub(r"\\(.)", r"\1", a) for a in re.split(r"(?<!\\)\|", value.strip("(?:)")) if a]
            return " or ".join(f"`{a}`" for a in alternatives) if alternatives else name
    return name


def _keyword_values(expected: set[str]) -> list[str]:
    words = []
    for terminal in _lark().terminals:
        if terminal.name in expected and terminal.pattern.type == "str":
            words.append(terminal.pattern.value)
    return words


def _syntax_error(exc: UnexpectedInput, source: str) -> Diagnostic:
    line = getattr(exc, "line", 1) or 1
    column = getattr(exc, "column", 1) or 1
    if not isinstance(exc, UnexpectedEOF):
        not_a_date = _not_a_date(source, line, column)
        if not_a_date is not None:
            return not_a_date
    if isinstance(exc, UnexpectedCharacters):
        char = exc.char
        span = Span.point(line, column)
        hint = None
        if char in "“”":
            hint = 'use plain double quotes "..."'
        return error("P002", span, f"unexpected character `{char}`", hint)
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        accepts = getattr(exc, "accepts", None) or exc.expected
        expected = set(accepts) - {"$END"} if token.type != "$END" else set(accepts)
        described = sorted({_describe_terminal(e) for e in expected})
        listing = ", ".join(described[:12]) + (", ..." if len(described) > 12 else "")
        if token.type in ("_NL", "$END"):
            found = "end of line"
            span = _end_of_line_span(source, line, column)
        elif token.type == "_DEDENT":
            found = "end of block"
            span = _end_of_line_span(source, max(1, line - 1), column)
        elif token.type == "_INDENT":
            indented = _next_code_line(source, token.line or line)
            width = len(token.value) if isinstance(token.value, str) else 1
            return error(
                "P003",
                Span(indented, 1, indented, width + 1),
                "unexpected indentation: this line is indented more than the clauses above it",
                "clauses of a block share one indentation; nested lines only follow a line ending in `:`",
            )
        else:
            found = f"`{token.value}`"
            span = Span(token.line, token.column, token.end_line or token.line, token.end_column or token.column + 1)
        hint = None
        if token.type == "NAME":
            hint = did_you_mean(str(token.value), _keyword_values(expected))
        if hint is None and expected == {"_INDENT"}:
            hint = "indent the clauses of a block by two spaces"
        if hint is None:
            hint = _token_hint(token, _line_text(source, token.line or line))
        return error("P001", span, f"unexpected {found}; expected {listing}", hint)
    if isinstance(exc, UnexpectedEOF):
        return error("P001", _end_of_line_span(source, line, column), "unexpected end of file")
    return error("P001", Span.point(line, column), str(exc).splitlines()[0])


_DATE_LIKE = re.compile(r"(?<![\w.-])\d{1,4}([-/.])\d{1,2}\1\d{1,4}(?![\w-])")


def _line_text(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def _not_a_date(source: str, line: int, column: int) -> Diagnostic | None:
    """`2026-1-15`, `15.01.2026`, `2026/01/15`: lark stops inside them at a `-`, `.`
    or `/`; say that the whole thing is not a date."""
    for match in _DATE_LIKE.finditer(_line_text(source, line)):
        if match.start() < column <= match.end():
            return error(
                "P004",
                Span(line, match.start() + 1, line, match.end() + 1),
                f"`{match.group()}` is not a date",
                "write dates as YYYY-MM-DD",
            )
    return None


def _token_hint(token: Token, text: str) -> str | None:
    """A hint for mistakes people bring from elsewhere: `1,000 RUB`, `==`."""
    start = (token.column or 1) - 1
    before = text[:start]
    after = text[start + len(str(token.value)) :]
    if token.type == "COMMA" and before[-1:].isdigit() and after[:1].isdigit():
        return "write numbers without thousands separators: 10000 or 10_000"
    if token.type == "NUMBER" and re.fullmatch(r"\d{3}", str(token.value)) and re.search(r"\d[, ]$", before):
        return "write numbers without thousands separators: 10000 or 10_000"
    if token.type == "COMPARE" and str(token.value) == "=" and before.endswith("="):
        return "compare with a single `=`"
    return None


def _next_code_line(source: str, line: int) -> int:
    lines = source.splitlines()
    for number in range(line + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return line


def _end_of_line_span(source: str, line: int, column: int) -> Span:
    lines = source.splitlines()
    if 1 <= line <= len(lines):
        text = lines[line - 1]
        code = text.split("#", 1)[0].rstrip()
        end = max(len(code), 0) + 1
        return Span(line, end, line, end + 1)
    return Span.point(max(line, 1), max(column, 1))


def _dedent_error(exc: DedentError, first_line: int, text: str) -> Diagnostic:
    # Find the first line whose indentation matches no enclosing level.
    levels = [0]
    for offset, raw in enumerate(text.splitlines()):
        stripped = raw.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(stripped)
        if indent > levels[-1]:
            levels.append(indent)
            continue
        popped = levels[-1]
        while indent < levels[-1]:
            popped = levels.pop()
        if indent != levels[-1]:
            line = first_line + offset
            return error(
                "P003",
                Span(line, 1, line, indent + 1),
                f"this line is indented by {indent} spaces, which matches no enclosing block",
                f"indent it by {popped} spaces like the clauses above it",
            )
    return error("P003", Span.point(first_line, 1), "inconsistent indentation")


# ------------------------------------------------------------------ tree -> AST


class _LiteralError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _tspan(token: Token) -> Span:
    return Span(token.line, token.column, token.end_line or token.line, token.end_column or token.column + len(token))


def _mspan(meta: Any) -> Span:
    if getattr(meta, "empty", True):
        return Span.point(1, 1)
    end_line, end_column = meta.end_line, meta.end_column
    # Clause rules end with their newline token; show the span on the clause's line.
    if end_line > meta.line:
        end_line, end_column = meta.line, 10_000
    return Span(meta.line, meta.column, end_line, end_column)


def _name(token: Token) -> n.Name:
    return n.Name(str(token), _tspan(token))


def _decimal(token: Token) -> Decimal:
    return Decimal(str(token).replace("_", ""))  # the lexer lets only digits through


def _date(token: Token) -> dt.date:
    try:
        return dt.date.fromisoformat(str(token))
    except ValueError:
        raise _LiteralError(error("P004", _tspan(token), f"`{token}` is not a real date", "write dates as YYYY-MM-DD")) from None


def _time(token: Token) -> dt.time:
    try:
        hours, minutes = str(token).split(":")
        if hours == "24" and minutes == "00":
            return dt.time.max
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise _LiteralError(error("P004", _tspan(token), f"`{token}` is not a time of day", "write times as HH:MM, 00:00 to 24:00")) from None


@v_args(meta=True)
class _Builder(Transformer):
    """Builds nodes bottom-up. Clauses become (keyword, value, span) triples that the
    block rules fold into their declaration, reporting clauses written twice."""

    def __init__(self) -> None:
        super().__init__()
        self.diagnostics: list[Diagnostic] = []

    # ---- helpers
    def _fold(self, block: str, clauses: list[tuple[str, Any, Span]], repeatable: set[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        seen: dict[str, Span] = {}
        for key, value, span in clauses:
            if key in repeatable:
                found.setdefault(key, []).append(value)
                continue
            if key in seen:
                self.diagnostics.append(
                    error(
                        "P005",
                        span,
                        f"`{key}` is stated twice in this {block}",
                        f"the first is on line {seen[key].line}; keep one",
                    )
                )
                continue
            seen[key] = span
            found[key] = value
        return found

    # ---- tokens and small pieces
    def start(self, meta, children):
        return _Declarations(children)

    def name_list(self, meta, children):
        return tuple(_name(t) for t in children)

    def product_list(self, meta, children):
        return tuple(_name(t) if t.type == "NAME" else n.Name(_unquote(t), _tspan(t)) for t in children)

    def filter_category(self, meta, children):
        return n.ItemFilter("category", children[0], _mspan(meta))

    def filter_product(self, meta, children):
        return n.ItemFilter("product", children[0], _mspan(meta))

    def quantity(self, meta, children):
        number, unit = children
        return n.Quantity(_decimal(number), _name(unit), _mspan(meta))

    def percent(self, meta, children):
        return n.Percent(_decimal(children[0]), _mspan(meta))

    def factor(self, meta, children):
        return _decimal(children[0])

    def number(self, meta, children):
        return n.Number(_decimal(children[0]), _tspan(children[0]))

    def date(self, meta, children):
        return n.DateLit(_date(children[0]), _tspan(children[0]))

    def time(self, meta, children):
        return n.TimeLit(_time(children[0]), _tspan(children[0]))

    def path(self, meta, children):
        return n.Path(tuple(_name(t) for t in children), _mspan(meta))

    def binop(self, meta, children):
        left, op, right = children
        return n.BinOp(str(op), left, right, _mspan(meta))

    def compare(self, meta, children):
        left, op, right = children
        return n.Compare(str(op), left, right, _mspan(meta))

    def membership(self, meta, children):
        return n.Membership(children[0], children[1], _mspan(meta))

    def between(self, meta, children):
        return n.Between(children[0], children[1], children[2], _mspan(meta))

    def during(self, meta, children):
        return n.During(_name(children[0]), _mspan(meta))

    def and_(self, meta, children):
        return n.BoolOp("and", children[0], children[1], _mspan(meta))

    def or_(self, meta, children):
        return n.BoolOp("or", children[0], children[1], _mspan(meta))

    def not_(self, meta, children):
        return n.Not(children[0], _mspan(meta))

    def when(self, meta, children):
        return children[0]

    def when_line(self, meta, children):
        return ("when", children[0], _mspan(meta))

    def band(self, meta, children):
        edge, threshold, rate = children
        return n.Band(str(edge) == "from", threshold, rate, _mspan(meta))

    def window_rolling(self, meta, children):
        return n.Window("rolling", children[0], _mspan(meta))

    def window_calendar_year(self, meta, children):
        return n.Window("calendar-year", None, _mspan(meta))

    def window_calendar_month(self, meta, children):
        return n.Window("calendar-month", None, _mspan(meta))

    def window_lifetime(self, meta, children):
        return n.Window("lifetime", None, _mspan(meta))

    # ---- program header
    def program(self, meta, children):
        name_token, *clauses = children
        found = self._fold("program header", clauses, set())
        timezone = found.get("timezone")
        return n.Header(
            name=_unquote(name_token),
            span=_tspan(name_token),
            version=found.get("version"),
            currency=found.get("currency"),
            timezone=timezone[0] if timezone else None,
            timezone_span=timezone[1] if timezone else None,
            rounding=found.get("rounding", "half-even"),
            categories=found.get("categories", ()),
            refund_window=found.get("refunds"),
        )

    def version(self, meta, children):
        return ("version", _unquote(children[0]), _mspan(meta))

    def currency(self, meta, children):
        return ("currency", _name(children[0]), _mspan(meta))

    def timezone(self, meta, children):
        return ("timezone", (_unquote(children[0]), _tspan(children[0])), _mspan(meta))

    def rounding(self, meta, children):
        return ("rounding", str(children[0]), _mspan(meta))

    def categories(self, meta, children):
        return ("categories", children[0], _mspan(meta))

    def refunds(self, meta, children):
        return ("refunds", children[0], _mspan(meta))

    # ---- points
    def points(self, meta, children):
        name_token, *clauses = children
        found = self._fold("points block", clauses, {"earn", "multiplier"})
        available = found.get("available", (None, None))
        redeem = found.get("redeem", (None, None, None))
        return n.PointsDecl(
            name=_name(name_token),
            span=_tspan(name_token),
            worth=found.get("worth"),
            precision=found.get("precision"),
            earns=tuple(found.get("earn", ())),
            multipliers=tuple(found.get("multiplier", ())),
            available_after=available[0],
            available_span=available[1],
            expiry=found.get("expire"),
            redeem_cap=redeem[0],
            redeem_base=redeem[1],
            redeem_span=redeem[2],
            allow_negative=found.get("negative", False),
            combine=found.get("multipliers"),
        )

    def worth(self, meta, children):
        return ("worth", children[0], _mspan(meta))

    def precision(self, meta, children):
        return ("precision", n.Number(_decimal(children[0]), _tspan(children[0])), _mspan(meta))

    def earn_per_money(self, meta, children):
        points, per, base, when = children
        span = _mspan(meta)
        return ("earn", n.EarnPerMoney(n.Number(_decimal(points), _tspan(points)), per, base, when, span), span)

    def earn_percent(self, meta, children):
        rate, base, when = children
        span = _mspan(meta)
        return ("earn", n.EarnPercent(rate, base, when, span), span)

    def earn_per_item(self, meta, children):
        points, items, when = children
        span = _mspan(meta)
        items = items or n.ItemFilter("all", (), span)
        return ("earn", n.EarnPerItem(n.Number(_decimal(points), _tspan(points)), items, when, span), span)

    def earn_per_visit(self, meta, children):
        points, when = children
        span = _mspan(meta)
        return ("earn", n.EarnPerVisit(n.Number(_decimal(points), _tspan(points)), when, span), span)

    def earn_on(self, meta, children):
        points, trigger, when = children
        span = _mspan(meta)
        kind, action = trigger
        return ("earn", n.EarnOn(n.Number(_decimal(points), _tspan(points)), kind, action, when, span), span)

    def trigger_signup(self, meta, children):
        return ("signup", None)

    def trigger_birthday(self, meta, children):
        return ("birthday", None)

    def trigger_first_purchase(self, meta, children):
        return ("first purchase", None)

    def trigger_action(self, meta, children):
        return ("action", _unquote(children[0]))

    def earn_monthly(self, meta, children):
        span = _mspan(meta)
        return ("earn", n.EarnMonthly(tuple(children), span), span)

    def multiplier(self, meta, children):
        factor, items, days, when = children
        names, start, end = days if days else ((), None, None)
        span = _mspan(meta)
        return ("multiplier", n.Multiplier(factor, items, names, start, end, when, span), span)

    def multiplier_items(self, meta, children):
        return children[0] or n.ItemFilter("all", (), _mspan(meta))

    def day_window(self, meta, children):
        names, start, end = children
        return (names, _time(start) if start else None, _time(end) if end else None)

    def available_after(self, meta, children):
        return ("available", (children[0], _mspan(meta)), _mspan(meta))

    def available_now(self, meta, children):
        return ("available", (None, _mspan(meta)), _mspan(meta))

    def expire_after_earned(self, meta, children):
        span = _mspan(meta)
        return ("expire", n.Expiry("after-earned", children[0], children[1] is not None, span), span)

    def end_of_month(self, meta, children):
        return True

    def expire_inactive(self, meta, children):
        span = _mspan(meta)
        return ("expire", n.Expiry("inactivity", children[0], False, span), span)

    def expire_never(self, meta, children):
        span = _mspan(meta)
        return ("expire", n.Expiry("never", None, False, span), span)

    def redeem(self, meta, children):
        return ("redeem", (children[0], children[1], _mspan(meta)), _mspan(meta))

    def allow_negative(self, meta, children):
        return ("negative", True, _mspan(meta))

    def multipliers_combine(self, meta, children):
        return ("multipliers", str(children[0]), _mspan(meta))

    # ---- tiers
    def tiers(self, meta, children):
        metric, window, *clauses = children
        found = self._fold("tiers block", clauses, {"tier"})
        upgrade = found.get("upgrade", (None, None))
        review = found.get("review", (None, None, None))
        return n.TiersDecl(
            metric=metric,
            window=window,
            span=_mspan(meta),
            tiers=tuple(found.get("tier", ())),
            upgrade=upgrade[0],
            upgrade_span=upgrade[1],
            review=review[0],
            downgrade=review[1],
            review_span=review[2],
            demote_monthly=found.get("demote", False),
            returns_lower_at_once=found.get("returns", False),
        )

    def metric_spend(self, meta, children):
        return n.Metric("spend", None, _mspan(meta))

    def metric_visits(self, meta, children):
        return n.Metric("visits", None, _mspan(meta))

    def metric_points(self, meta, children):
        return n.Metric("points", _name(children[0]), _mspan(meta))

    def tier(self, meta, children):
        name, edge, threshold, benefit = children
        span = _mspan(meta)
        return ("tier", n.TierDef(_name(name), str(edge), threshold, benefit, span), span)

    def tier_by_hand(self, meta, children):
        name, benefit = children
        span = _mspan(meta)
        return ("tier", n.TierDef(_name(name), "hand", None, benefit, span), span)

    def tier_benefit(self, meta, children):
        return children[0]

    def upgrade_now(self, meta, children):
        return ("upgrade", ("immediately", _mspan(meta)), _mspan(meta))

    def upgrade_next(self, meta, children):
        return ("upgrade", ("next purchase", _mspan(meta)), _mspan(meta))

    def review(self, meta, children):
        every, downgrade = children
        return ("review", (str(every), " ".join(str(downgrade).split()), _mspan(meta)), _mspan(meta))

    def returns_at_once(self, meta, children):
        return ("returns", True, _mspan(meta))

    def returns_at_review(self, meta, children):
        return ("returns", False, _mspan(meta))

    def demote(self, meta, children):
        return ("demote", True, _mspan(meta))

    # ---- offers
    def _offer(self, kind: str, children: list) -> n.OfferDecl:
        name_token, *clauses = children
        found = self._fold(kind, clauses, {"effect", "not with"})
        valid = found.get("valid", {})
        uses_span = next((span for key, _, span in clauses if key in ("uses", "uses unlimited")), None)
        return n.OfferDecl(
            kind=kind,
            name=_name(name_token),
            span=_tspan(name_token),
            when=found.get("when"),
            once_per_customer=found.get("once", False),
            effects=tuple(found.get("effect", ())),
            valid_from=valid.get("from"),
            valid_to=valid.get("to"),
            valid_for=valid.get("for"),
            valid_forever=valid.get("forever", False),
            valid_span=valid.get("span"),
            limit_per_customer=found.get("limit per customer"),
            limit_total=found.get("limit in total"),
            exclusions=tuple(found.get("not with", ())),
            uses=found.get("uses"),
            uses_unlimited=found.get("uses unlimited", False),
            uses_span=uses_span,
        )

    def rule(self, meta, children):
        return self._offer("rule", children)

    def code(self, meta, children):
        return self._offer("code", children)

    def coupon(self, meta, children):
        return self._offer("coupon", children)

    def once(self, meta, children):
        return ("once", True, _mspan(meta))

    def discount(self, meta, children):
        amount, target, cap = children
        span = _mspan(meta)
        return ("effect", n.Discount(amount, target, cap, span), span)

    def cap(self, meta, children):
        return children[0]

    def target_order(self, meta, children):
        return n.Target("order", n.ItemFilter("all", (), _mspan(meta)), _mspan(meta))

    def _target(self, kind: str, meta, children) -> n.Target:
        items = children[0] or n.ItemFilter("all", (), _mspan(meta))
        return n.Target(kind, items, _mspan(meta))

    def target_items(self, meta, children):
        return self._target("items", meta, children)

    def target_each(self, meta, children):
        return self._target("each", meta, children)

    def target_cheapest(self, meta, children):
        return self._target("cheapest", meta, children)

    def multi_buy(self, meta, children):
        buy, get, deal, items, repeat = children
        span = _mspan(meta)
        items = items or n.ItemFilter("all", (), span)
        effect = n.MultiBuy(
            n.Number(_decimal(buy), _tspan(buy)),
            n.Number(_decimal(get), _tspan(get)),
            deal,
            items,
            str(repeat) == "repeating",
            span,
        )
        return ("effect", effect, span)

    def deal_free(self, meta, children):
        return n.Percent(Decimal(100), _mspan(meta))

    def deal_percent(self, meta, children):
        return children[0]

    def give_points(self, meta, children):
        span = _mspan(meta)
        return ("effect", n.GivePoints(children[0], span), span)

    def give_coupon(self, meta, children):
        span = _mspan(meta)
        return ("effect", n.GiveCoupon(_name(children[0]), span), span)

    def valid_dates(self, meta, children):
        span = _mspan(meta)
        return ("valid", {"from": _date(children[0]), "to": _date(children[1]), "span": span}, span)

    def valid_for(self, meta, children):
        span = _mspan(meta)
        return ("valid", {"for": children[0], "span": span}, span)

    def valid_forever(self, meta, children):
        span = _mspan(meta)
        return ("valid", {"forever": True, "span": span}, span)

    def limit_per_customer(self, meta, children):
        return ("limit per customer", n.Number(_decimal(children[0]), _tspan(children[0])), _mspan(meta))

    def limit_total(self, meta, children):
        return ("limit in total", n.Number(_decimal(children[0]), _tspan(children[0])), _mspan(meta))

    def not_with(self, meta, children):
        other, cancel = children
        span = _mspan(meta)
        return ("not with", n.Exclusion(_name(other), cancel is not None, span), span)

    def cancel(self, meta, children):
        return True

    def uses_count(self, meta, children):
        return ("uses", n.Number(_decimal(children[0]), _tspan(children[0])), _mspan(meta))

    def uses_unlimited(self, meta, children):
        return ("uses unlimited", True, _mspan(meta))

    # ---- scales
    def scale(self, meta, children):
        name, base, window, mode, *clauses = children
        bands = tuple(c for c in clauses if isinstance(c, n.Band))
        found = self._fold("scale", [c for c in clauses if not isinstance(c, n.Band)], set())
        kind, expr, items = base
        span = _tspan(name)
        return n.ScaleDecl(
            name=_name(name),
            base_kind=kind,
            base_expr=expr,
            items=items or n.ItemFilter("all", (), span),
            window=window,
            marginal=" ".join(str(mode).split()) == "each part",
            bands=bands,
            when=found.get("when"),
            span=span,
        )

    def base_quantity(self, meta, children):
        return ("quantity", None, children[0])

    def base_amount(self, meta, children):
        return ("amount", None, children[0])

    def base_expr(self, meta, children):
        return ("expr", children[0], None)

    def __default__(self, data, children, meta):  # pragma: no cover - grammar and builder kept in step
        raise NotImplementedError(f"no builder for grammar rule {data!r}")

    # ---- stamps
    def stamps(self, meta, children):
        name, *clauses = children
        found = self._fold("stamp card", clauses, set())
        full = found.get("when full", (None, "reset"))
        return n.StampsDecl(
            name=_name(name),
            span=_tspan(name),
            card_size=found.get("card"),
            stamp=found.get("stamp"),
            reward=full[0],
            overflow=full[1],
            expiry=found.get("stamps expire"),
        )

    def card(self, meta, children):
        return ("card", n.Number(_decimal(children[0]), _tspan(children[0])), _mspan(meta))

    def _stamp(self, meta, kind, count, items=None, per=None, base=None, carry=False, when=None):
        span = _mspan(meta)
        rule = n.StampRule(
            kind,
            n.Number(_decimal(count), _tspan(count)),
            items or n.ItemFilter("all", (), span),
            per,
            base,
            carry,
            when,
            span,
        )
        return ("stamp", rule, span)

    def stamp_per_item(self, meta, children):
        count, items, when = children
        return self._stamp(meta, "item", count, items=items, when=when)

    def stamp_per_purchase(self, meta, children):
        count, when = children
        return self._stamp(meta, "purchase", count, when=when)

    def stamp_per_money(self, meta, children):
        count, per, base, carry, when = children
        return self._stamp(meta, "money", count, per=per, base=base, carry=carry is not None, when=when)

    def carry(self, meta, children):
        return True

    def when_full(self, meta, children):
        reward, overflow = children
        return ("when full", (reward, " ".join(str(overflow).split())), _mspan(meta))

    def reward_free_item(self, meta, children):
        span = _mspan(meta)
        return n.Reward("free-item", children[0] or n.ItemFilter("all", (), span), None, None, span)

    def reward_coupon(self, meta, children):
        return n.Reward("coupon", None, _name(children[0]), None, _mspan(meta))

    def reward_points(self, meta, children):
        return n.Reward("points", None, None, children[0], _mspan(meta))

    def stamp_expiry(self, meta, children):
        return ("stamps expire", children[0], _mspan(meta))

    # ---- stacking and periods
    def stacking(self, meta, children):
        return n.StackingDecl(tuple(children), _mspan(meta))

    def stack_best(self, meta, children):
        return n.StackGroup("best", children[0], _mspan(meta))

    def stack_first(self, meta, children):
        return n.StackGroup("first", children[0], _mspan(meta))

    def stack_rest(self, meta, children):
        return n.StackGroup("rest", (), _mspan(meta))

    # ---- scenario tests and invariants
    def test(self, meta, children):
        name, *steps = children
        return n.TestDecl(_unquote(name), tuple(steps), _tspan(name))

    def moment(self, meta, children):
        day, clock = children
        return dt.datetime.combine(_date(day), _time(clock) if clock else dt.time(0, 0))

    def test_customer(self, meta, children):
        name, signed_up, born = children
        return n.TestCustomer(_name(name), signed_up, born, _mspan(meta))

    def signed_up(self, meta, children):
        return _date(children[0])

    def born(self, meta, children):
        return _date(children[0])

    def buy_line(self, meta, children):
        quantity, product, category, price = children
        return n.BuyLine(
            n.Number(_decimal(quantity), _tspan(quantity)),
            _product(product),
            _name(category) if category is not None else None,
            price,
            _mspan(meta),
        )

    def test_buy(self, meta, children):
        at, customer, *rest = children
        alias = rest.pop()
        redeem = rest.pop()
        codes = rest.pop()
        amount, wallet = redeem if redeem else (None, None)
        return n.TestBuy(at, _name(customer), tuple(rest), codes or (), amount, wallet, _name(alias) if alias else None, _mspan(meta))

    def with_codes(self, meta, children):
        return tuple(_product(c) for c in children)

    def redeem_amount(self, meta, children):
        return (children[0], None)

    def redeem_max(self, meta, children):
        return (None, _name(children[0]))

    def test_return(self, meta, children):
        at, customer, purchase, units = children
        return n.TestReturn(at, _name(customer), _name(purchase), units or (), _mspan(meta))

    def return_units(self, meta, children):
        pairs = []
        for count, product in zip(children[::2], children[1::2], strict=True):
            pairs.append((n.Number(_decimal(count), _tspan(count)), _product(product)))
        return tuple(pairs)

    def test_signup(self, meta, children):
        return n.TestCustomerEvent(children[0], _name(children[1]), "signup", None, None, _mspan(meta))

    def test_birthday(self, meta, children):
        return n.TestCustomerEvent(children[0], _name(children[1]), "birthday", None, None, _mspan(meta))

    def test_grant(self, meta, children):
        return n.TestCustomerEvent(children[0], _name(children[1]), "tier", _name(children[2]), None, _mspan(meta))

    def test_action(self, meta, children):
        return n.TestCustomerEvent(children[0], _name(children[1]), "action", None, _unquote(children[2]), _mspan(meta))

    def expect(self, meta, children):
        kind, fields = children[0]
        return n.Expect(kind, _mspan(meta), **fields)

    def expect_paid(self, meta, children):
        return ("paid", {"value": children[0]})

    def expect_discount(self, meta, children):
        value, offer = children
        return ("discount", {"value": value, "offer": _name(offer) if offer else None})

    def expect_no_discount(self, meta, children):
        offer = children[0]
        return ("no-discount", {"offer": _name(offer) if offer else None})

    def expect_earned(self, meta, children):
        return ("earned", {"value": children[0]})

    def expect_code_refused(self, meta, children):
        code, reason = children
        return ("code-refused", {"offer": _product(code), "reason": _unquote(reason) if reason else None})

    def expect_coupon_issued(self, meta, children):
        return ("coupon-issued", {"offer": _name(children[0])})

    def expect_cancelled(self, meta, children):
        return ("cancelled", {})

    def expect_refunded(self, meta, children):
        return ("refunded", {"value": children[0]})

    def expect_rejected(self, meta, children):
        return ("rejected", {"reason": _unquote(children[0]) if children[0] else None})

    def expect_customer(self, meta, children):
        customer, wallet, kind, value, as_of = children
        return ("balance", {"customer": _name(customer), "wallet": _name(wallet), "balance": kind or "available", "value": value, "as_of": as_of})

    def available_kind(self, meta, children):
        return "available"

    def pending_kind(self, meta, children):
        return "pending"

    def expect_tier(self, meta, children):
        customer, tier, as_of = children
        return ("tier", {"customer": _name(customer), "tier": tier, "as_of": as_of})

    def tier_ref(self, meta, children):
        return _name(children[0])

    def no_tier(self, meta, children):
        return None

    def expect_stamps(self, meta, children):
        customer, card, value, as_of = children
        return ("stamps", {"customer": _name(customer), "wallet": _name(card), "value": value, "as_of": as_of})

    def as_of(self, meta, children):
        return children[0]

    def invariant(self, meta, children):
        name, (kind, fields) = children
        return n.InvariantDecl(_unquote(name), kind, _tspan(name), **fields)

    def always(self, meta, children):
        return ("always", {"cond": children[0]})

    def tier_order(self, meta, children):
        higher, lower, op = children
        return ("compare", {"higher": _name(higher), "lower": _name(lower), "op": str(op)})

    def period(self, meta, children):
        name, start, end = children
        return n.PeriodDecl(_name(name), _date(start), _date(end), _mspan(meta))


@attrs.frozen
class _Declarations:
    children: list


def _product(token: Token) -> n.Name:
    if token.type == "STRING":
        return n.Name(_unquote(token), _tspan(token))
    return _name(token)


def _unquote(token: Token) -> str:
    text = str(token)[1:-1]
    return re.sub(r"\\(.)", r"\1", text)
