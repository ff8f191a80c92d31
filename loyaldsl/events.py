"""Purchase streams (CSV or JSON Lines) -> the typed events of `runtime.model`.

Why it is built this way:

* Streaming. A file is read one line at a time and an event is yielded as soon as it is
  complete, so memory is bounded by the largest event, not by the file: the interpreter
  reads a stream twice (a validation pass, then a processing pass) and its own memory
  must be bounded by customers.
* Never a float. JSON numbers are parsed from their text straight into `Decimal`, CSV
  cells are text; money keeps at most 4 decimal places and the interpreter rounds it to
  the currency later.
* Every problem at once. A bad row yields one `RowError` per problem (row, column, a
  message saying what is wrong and how to fix it, and the row's original text), and an
  event spanning several CSV rows is rejected whole, so a rejects file holds complete
  events that can be fixed and re-run.
* Problems with the file itself (missing, not UTF-8, no header, unknown columns) raise
  `EventsFileError` with a message naming the file; no raw Python exception escapes.
* Text is stripped and put in Unicode NFC form, so "café" typed on two keyboards is
  one customer, product or category.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import attrs

from loyaldsl.runtime.model import (
    CUSTOMER_EVENT_KINDS,
    EVENT_KINDS,
    CustomerEvent,
    Event,
    Purchase,
    PurchaseLine,
    Refund,
    RefundLine,
)

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "EventsFileError",
    "EventsSource",
    "RowError",
    "detect_format",
    "format_row_error",
    "read_events",
    "write_rejects",
]

#: Columns a CSV events file may have, in the order used in examples.
CSV_COLUMNS: tuple[str, ...] = (
    "type",
    "id",
    "customer",
    "time",
    "product",
    "category",
    "quantity",
    "unit_price",
    "codes",
    "redeem",
    "purchase",
    "birth_date",
    "tier",
    "action",
)

#: The two formats, and the file name endings that select them.
FORMATS: Mapping[str, str] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}

_FORMAT_NAMES = {"csv": "csv", "jsonl": "jsonl", "json": "jsonl", "ndjson": "jsonl"}

TIME_EXAMPLE = "2026-03-01T10:00:00+03:00"
MAX_MONEY_PLACES = 4
# 15 digits before the point plus 4 after stay exact in Decimal's default 28-digit
# context, so the interpreter's arithmetic never rounds silently.
MAX_INTEGER_DIGITS = 15
MAX_QUANTITY = 1_000_000_000
MAX_LINE_CHARS = 1_000_000

_REQUIRED_CSV_COLUMNS = ("id", "customer", "time")
_COMMON_FIELDS = ("type", "id", "customer", "time")
_KIND_FIELDS: Mapping[str, tuple[str, ...]] = {
    "purchase": ("lines", "codes", "redeem"),
    "refund": ("purchase", "lines"),
    "signup": ("birth_date",),
    "birthday": (),
    "tier": ("tier",),
    "action": ("action",),
}
_JSON_FIELDS = _COMMON_FIELDS + ("lines", "codes", "redeem", "purchase", "birth_date", "tier", "action")
_PURCHASE_LINE_FIELDS = ("product", "category", "quantity", "unit_price")
_REFUND_LINE_FIELDS = ("product", "quantity")
_CSV_KIND_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "purchase": ("product", "category", "quantity", "unit_price", "codes", "redeem"),
    "refund": ("purchase", "product", "quantity"),
    "signup": ("birth_date",),
    "birthday": (),
    "tier": ("tier",),
    "action": ("action",),
}
# Fields that describe the event, not one basket line: every CSV row of an event repeats them.
_CSV_EVENT_LEVEL = ("type", "customer", "time", "codes", "redeem", "purchase", "birth_date", "tier", "action")

_WHY = {
    "id": "every event needs an id, unique in the file",
    "customer": "every event must say which customer it is for",
    "time": f"every event needs a time such as {TIME_EXAMPLE}",
    "product": "each line needs a product",
    "quantity": "each line needs a quantity (a whole number of at least 1)",
    "unit_price": "each purchase line needs a unit_price (the price of one unit, such as 12.50)",
    "purchase": "a refund must name the id of the purchase it returns",
    "tier": "a tier event must name the tier it grants",
    "action": "an action event must name the action, such as review",
}


class EventsFileError(Exception):
    """The events file as a whole cannot be read; the message names the file and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@attrs.frozen
class RowError:
    """One problem with one row, kept with the row's original text for the rejects file.

    `row` is the 1-based line number in the file (a CSV header is row 1); `column` is
    the CSV column or JSON field (`lines[2].unit_price`, counting lines from 1), or None
    when the problem is the row as a whole.
    """

    row: int
    column: str | None
    message: str
    raw: str


class _Bad(Exception):
    """A value that cannot be used; carries the message for its RowError."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _DuplicateKey(Exception):
    """A JSON object names a field twice; json.loads would silently keep the last."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


Problem = tuple[str | None, str]


# --------------------------------------------------------------------------- helpers


def _show(value: object) -> str:
    """Quote a value as the user wrote it, so messages point at the exact text."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return str(value)
    text = _render(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _render(value: object) -> str:
    """JSON as the user wrote it (numbers unquoted), for values inside lists and objects."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_show(str(k))}: {_render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return _show(value)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word.strip().lower(), list(options), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """"csv" or "jsonl", from `fmt` when given, else from the file name's ending."""
    if fmt is not None:
        resolved = _FORMAT_NAMES.get(fmt.strip().lower())
        if resolved is None:
            raise EventsFileError(f'unknown events format "{fmt}": expected csv or jsonl')
        return resolved
    resolved = FORMATS.get(Path(path).suffix.lower())
    if resolved is None:
        raise EventsFileError(
            f'cannot tell the format of "{path}" from its name: name it .csv, .jsonl, '
            f".ndjson or .json, or give the format (csv or jsonl)"
        )
    return resolved


# ------------------------------------------------------------------- value parsers

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def _decimal_or_none(value: object) -> Decimal | None:
    """The number a cell or JSON value holds, or None if it is not a plain number."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None


def _not_a_number(value: object) -> str:
    """Why a value is not a number, guessing the usual spreadsheet habits."""
    shown = _show(value)
    if not isinstance(value, str):
        return f"{shown} is not a number such as 12.50"
    text = value.strip()
    if text.lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
        return f"{shown} is not a finite number"
    if "," in text and "." not in text and text.count(",") == 1 and _PLAIN_NUMBER.fullmatch(text.replace(",", ".")):
        return f"{shown} is not a number (use a dot for decimals)"
    grouped = re.sub(r"[,\s_'\u2019]", "", text)
    if grouped != text and _PLAIN_NUMBER.fullmatch(grouped):
        return f"{shown} is not a number (write it without thousands separators, such as {grouped})"
    amount = re.sub(r"[^\d.+-]", "", text)
    if amount and amount != text and _PLAIN_NUMBER.fullmatch(amount):
        return f"{shown} is not a number (write only the amount, such as {amount}, without a currency sign)"
    return f"{shown} is not a number such as 12.50"


def _decimal_places(number: Decimal) -> int:
    """Decimal places that matter ("1.50" has 1), counted without rounding."""
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    if exponent >= 0:
        return 0
    places = -exponent
    for digit in reversed(digits):
        if digit != 0 or places == 0:
            break
        places -= 1
    return places


def _amount(value: object, max_places: int | None = MAX_MONEY_PLACES) -> Decimal:
    """A non-negative finite number (money, or points to redeem)."""
    number = _decimal_or_none(value)
    if number is None:
        raise _Bad(_not_a_number(value))
    shown = _show(value)
    if not number.is_finite():
        raise _Bad(f"{shown} is not a finite number")
    if number == 0:
        number = number.copy_abs()  # "-0" is zero, not a negative amount
    if number < 0:
        raise _Bad(f"{shown} must not be negative")
    if number.adjusted() >= MAX_INTEGER_DIGITS:
        raise _Bad(f"{shown} is too large (at most {MAX_INTEGER_DIGITS} digits before the decimal point)")
    if max_places is not None and _decimal_places(number) > max_places:
        raise _Bad(f"{shown} has more than {max_places} decimal places")
    return number


def _quantity(value: object) -> int:
    number = _decimal_or_none(value)
    shown = _show(value)
    if number is None or not number.is_finite() or number < 1 or number != number.to_integral_value():
        raise _Bad(f"{shown} must be a whole number of at least 1")
    if number > MAX_QUANTITY:
        raise _Bad(f"{shown} is too large for a quantity (at most {MAX_QUANTITY:,})")
    return int(number)


def _text(value: object, example: str = "anna") -> str:
    """Text such as a name or an id; a whole JSON number is accepted as its digits."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent == 0:
        return str(value)
    raise _Bad(f'{_show(value)} must be text, such as "{example}"')


def _localize(naive: dt.datetime, tz: ZoneInfo, shown: str) -> dt.datetime:
    """A wall-clock time in the program's zone; refuse times the clocks skip or repeat."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    back = first.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
    if back != naive:
        raise _Bad(
            f"{shown} does not exist in {tz} (the clocks jump forward then); "
            f"add the offset, such as {_offset(second)}"
        )
    raise _Bad(
        f"{shown} happens twice in {tz} (the clocks go back then); add the offset: "
        f"{_offset(first)} for the first time, {_offset(second)} for the second"
    )


def _offset(moment: dt.datetime) -> str:
    return moment.isoformat()[-6:]


def _time(value: object, tz: ZoneInfo) -> dt.datetime:
    shown = _show(value)
    if not isinstance(value, str):
        raise _Bad(f'{shown} must be text such as "{TIME_EXAMPLE}"')
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Bad(f"{shown} is not an ISO 8601 date-time such as {TIME_EXAMPLE}") from None
    try:
        if parsed.tzinfo is None:
            return _localize(parsed, tz, shown)
        return parsed.astimezone(tz)
    except (OverflowError, ValueError):
        raise _Bad(f"{shown} is out of the range of dates this tool handles") from None


def _date(value: object) -> dt.date:
    shown = _show(value)
    if not isinstance(value, str):
        raise _Bad(f'{shown} must be text such as "1990-05-17"')
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise _Bad(f"{shown} is not a date such as 1990-05-17 (year-month-day)") from None


def _kind(value: object) -> str:
    """The event type; absent or empty means purchase."""
    expected = ", ".join(EVENT_KINDS)
    if _blank(value):
        return "purchase"
    if not isinstance(value, str):
        raise _Bad(f"{_show(value)} must be text: one of {expected}")
    kind = value.strip().lower()
    if kind not in EVENT_KINDS:
        raise _Bad(f"unknown event type {_show(value)}{_did_you_mean(kind, EVENT_KINDS)}; expected one of {expected}")
    return kind


def _redeem_item(name: str, value: object) -> tuple[str, Decimal | None]:
    if isinstance(value, str) and value.strip().lower() == "max":
        return name, None
    if _decimal_or_none(value) is None:
        raise _Bad(f'{_show(value)} is not a number of points or "max"')
    return name, _amount(value, max_places=None)


def _sorted_redeem(items: list[tuple[str, Decimal | None]]) -> tuple[tuple[str, Decimal | None], ...]:
    return tuple(sorted(items, key=lambda item: item[0]))


def _csv_redeem(value: str) -> tuple[tuple[str, Decimal | None], ...]:
    """`bonus=450;miles=max`, or a bare amount / `max` for the only redeemable points."""
    items: list[tuple[str, Decimal | None]] = []
    for part in (p.strip() for p in value.split(";")):
        if not part:
            continue
        if "=" in part:
            name, _, amount = part.partition("=")
            name = _clean(name)
            if not name:
                raise _Bad(f'{_show(part)} has no points name before "=" (write it as bonus=450)')
            items.append(_redeem_item(name, amount))
        else:
            items.append(_redeem_item("", part))
    _check_redeem_names(items)
    return _sorted_redeem(items)


def _check_redeem_names(items: list[tuple[str, Decimal | None]]) -> None:
    names = [name for name, _ in items]
    if "" in names and len(names) > 1:
        raise _Bad(
            "mixes a bare amount with named points; name every kind of points, "
            "such as bonus=450;miles=max"
        )
    for name in names:
        if names.count(name) > 1:
            raise _Bad(f'names the points "{name}" twice')


def _json_redeem(value: object) -> tuple[tuple[str, Decimal | None], ...]:
    if isinstance(value, dict):
        items = []
        for name, amount in value.items():
            if not _clean(name):
                raise _Bad('has a points name that is empty; write it as {"bonus": 450}')
            try:
                items.append(_redeem_item(_clean(name), amount))
            except _Bad as bad:
                raise _Bad(f'"{name}": {bad.message}') from None
        _check_redeem_names(items)
        return _sorted_redeem(items)
    if isinstance(value, (str, Decimal)):
        return (_redeem_item("", value),)
    raise _Bad(f'{_show(value)} must be points to spend: a number, "max", or {{"bonus": 450}}')


def _csv_codes(value: str) -> tuple[str, ...]:
    return tuple(code for code in (_clean(part) for part in value.split(";")) if code)


# ----------------------------------------------------------------- problem sink


class _Sink:
    """Collects every problem of one row, so the marketer sees them all at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, column: str | None, message: str) -> None:
        self.problems.append((column, message))

    def parse(self, column: str, raw: object, parser: Callable[[Any], Any]) -> Any:
        """parser(raw), or None after recording why it failed."""
        try:
            return parser(raw)
        except _Bad as bad:
            self.add(column, bad.message)
            return None


Missing = Callable[[str, str], str]  # (name, why) -> message


def _json_missing(name: str, why: str) -> str:
    return f"no {name} given; {why}"


def _required(
    sink: _Sink,
    column: str,
    raw: object,
    parser: Callable[[Any], Any],
    missing: Missing,
    name: str | None = None,
    why: str | None = None,
) -> Any:
    name = name or column
    if _blank(raw):
        sink.add(column, missing(name, why or _WHY[name]))
        return None
    return sink.parse(column, raw, parser)


def _optional(sink: _Sink, column: str, raw: object, parser: Callable[[Any], Any]) -> Any:
    return None if _blank(raw) else sink.parse(column, raw, parser)


def _purchase_line(
    get: Callable[[str], object], prefix: str, sink: _Sink, missing: Missing
) -> PurchaseLine | None:
    before = len(sink.problems)
    product = _required(sink, prefix + "product", get("product"), _text, missing, "product")
    category = _optional(sink, prefix + "category", get("category"), _text)
    quantity = _required(sink, prefix + "quantity", get("quantity"), _quantity, missing, "quantity")
    unit_price = _required(sink, prefix + "unit_price", get("unit_price"), _amount, missing, "unit_price")
    if len(sink.problems) > before:
        return None
    return PurchaseLine(product=product, category=category or "", quantity=quantity, unit_price=unit_price)


def _refund_line(get: Callable[[str], object], prefix: str, sink: _Sink, missing: Missing) -> RefundLine | None:
    before = len(sink.problems)
    product = _required(
        sink, prefix + "product", get("product"), _text, missing, "product",
        "each refunded line needs a product (leave out the lines to return the whole purchase)",
    )
    quantity = _required(sink, prefix + "quantity", get("quantity"), _quantity, missing, "quantity")
    if len(sink.problems) > before:
        return None
    return RefundLine(product=product, quantity=quantity)


def _not_used(name: str, kind: str, how: str) -> str:
    return f"{name} is not used by a {kind} event; {how} or check the event type"


# ------------------------------------------------------------------- JSON Lines


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _json_event(text: str, tz: ZoneInfo) -> tuple[Event | None, list[Problem]]:
    """One JSON Lines row -> an event, or every problem it has."""
    sink = _Sink()
    try:
        obj = json.loads(
            text,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=Decimal,
            object_pairs_hook=_no_duplicate_keys,
        )
    except _DuplicateKey as dup:
        return None, [(dup.key, f'field "{dup.key}" appears twice; keep one')]
    except json.JSONDecodeError as err:
        return None, [(None, f"this line is not valid JSON: {err.msg} (at character {err.colno})")]
    except (ValueError, RecursionError):
        return None, [(None, "this line is not valid JSON")]
    if not isinstance(obj, dict):
        return None, [(None, 'this line is not a JSON object; each line must be one event such as '
                             '{"type": "purchase", "id": "p1", "customer": "anna", "time": "...", "lines": [...]}')]

    kind = sink.parse("type", obj.get("type"), _kind)
    for key, value in obj.items():
        if key not in _JSON_FIELDS:
            fields = ", ".join(_COMMON_FIELDS + _KIND_FIELDS[kind]) if kind else ", ".join(_JSON_FIELDS)
            where = f"a {kind} event" if kind else "an event"
            sink.add(key, f'unknown field "{key}"{_did_you_mean(key, _JSON_FIELDS)}; {where} has the fields {fields}')
        elif kind is not None and value is not None and key not in _COMMON_FIELDS + _KIND_FIELDS[kind]:
            sink.add(key, _not_used(key, kind, "remove it"))

    event_id = _required(sink, "id", obj.get("id"), lambda v: _text(v, "p1"), _json_missing)
    customer = _required(sink, "customer", obj.get("customer"), _text, _json_missing)
    at = _required(sink, "time", obj.get("time"), lambda v: _time(v, tz), _json_missing)

    if kind == "purchase":
        lines = _json_lines(obj.get("lines"), sink, purchase=True)
        codes = _json_codes(obj.get("codes"), sink)
        redeem = _optional(sink, "redeem", obj.get("redeem"), _json_redeem)
        if sink.problems:
            return None, sink.problems
        return Purchase(event_id, customer, at, lines, codes, redeem or ()), []
    if kind == "refund":
        purchase_id = _required(sink, "purchase", obj.get("purchase"), lambda v: _text(v, "p1"), _json_missing)
        refund_lines = _json_lines(obj.get("lines"), sink, purchase=False)
        if sink.problems:
            return None, sink.problems
        return Refund(event_id, customer, at, purchase_id, refund_lines), []
    if kind in CUSTOMER_EVENT_KINDS:
        birth_date = tier = action = None
        if kind == "signup":
            birth_date = _optional(sink, "birth_date", obj.get("birth_date"), _date)
        elif kind == "tier":
            tier = _required(sink, "tier", obj.get("tier"), lambda v: _text(v, "Gold"), _json_missing)
        elif kind == "action":
            action = _required(sink, "action", obj.get("action"), lambda v: _text(v, "review"), _json_missing)
        if sink.problems:
            return None, sink.problems
        return CustomerEvent(event_id, customer, at, kind, birth_date, tier, action), []
    return None, sink.problems


def _json_lines(value: object, sink: _Sink, purchase: bool) -> Any:
    """The basket lines of a purchase, or the returned lines of a refund."""
    example = (
        '[{"product": "ethiopia-250g", "quantity": 2, "unit_price": "1000"}]'
        if purchase
        else '[{"product": "ethiopia-250g", "quantity": 1}]'
    )
    if value is None and not purchase:
        return ()
    if value is None:
        sink.add("lines", f"no lines given; a purchase needs its basket, such as {example}")
        return None
    if not isinstance(value, list):
        sink.add("lines", f"{_show(value)} must be a list of lines, such as {example}")
        return None
    if purchase and not value:
        sink.add("lines", f"a purchase needs at least one line, such as {example}")
        return None
    allowed = _PURCHASE_LINE_FIELDS if purchase else _REFUND_LINE_FIELDS
    what = "purchase line" if purchase else "refund line"
    result: list[Any] = []
    for number, line in enumerate(value, start=1):
        prefix = f"lines[{number}]."
        if not isinstance(line, dict):
            sink.add(f"lines[{number}]", f"{_show(line)} must be an object, such as {example[1:-1]}")
            continue
        for key, item in line.items():
            if key in allowed or item is None:
                continue
            if key in _PURCHASE_LINE_FIELDS:
                sink.add(prefix + key, f"{key} is not used by a refund line (a refund returns units at the price "
                                       f"they were bought); remove it")
            else:
                sink.add(prefix + key, f'unknown field "{key}"{_did_you_mean(key, allowed)}; '
                                       f"a {what} has the fields {', '.join(allowed)}")
        parse = _purchase_line if purchase else _refund_line
        result.append(parse(line.get, prefix, sink, _json_missing))
    return tuple(result)


def _json_codes(value: object, sink: _Sink) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (_clean(value),) if value.strip() else ()
    if not isinstance(value, list):
        sink.add("codes", f'{_show(value)} must be a code or a list of codes, such as ["SKIDKA30"]')
        return ()
    codes = []
    for number, code in enumerate(value, start=1):
        column = f"codes[{number}]"
        if _blank(code):
            sink.add(column, "the code is empty; remove it or fill it in")
            continue
        parsed = sink.parse(column, code, lambda v: _text(v, "SKIDKA30"))
        if parsed is not None:
            codes.append(parsed)
    return tuple(codes)


# -------------------------------------------------------------------------- CSV


@attrs.frozen
class _CsvRow:
    """One CSV record with its cleaned cells, its own problems and its original text."""

    row: int
    raw: str
    cells: Mapping[str, str]
    problems: tuple[Problem, ...]

    @property
    def key(self) -> str | None:
        """The id that groups adjacent rows into one event (None: this row stands alone)."""
        return self.cells.get("id") or None


@attrs.frozen
class _Header:
    columns: tuple[str, ...]
    row: int
    raw: str


class _Lines:
    """The lines of a binary file, decoded one at a time: bounded memory, and a bad byte
    is reported with its line number. Remembers the lines of the record being read so
    each CSV record keeps its original text."""

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self._handle = handle
        self._name = name
        self.number = 0
        self._pending: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        data = self._handle.readline(MAX_LINE_CHARS + 1)
        if not data:
            raise StopIteration
        self.number += 1
        if len(data) > MAX_LINE_CHARS and not data.endswith(b"\n"):
            raise EventsFileError(
                f'events file "{self._name}": line {self.number} is longer than {MAX_LINE_CHARS:,} '
                f"characters; is it really an events file?"
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise EventsFileError(
                f'events file "{self._name}" is not UTF-8 text (line {self.number} has the byte '
                f'0x{data[err.start]:02x}); save it as UTF-8 (in a spreadsheet: "CSV UTF-8")'
            ) from None
        if self.number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        self._pending.append(text)
        return text

    def take(self) -> tuple[int, str]:
        """The first line number and original text of the lines read since the last take."""
        first = self.number - len(self._pending) + 1
        raw = "".join(self._pending)
        self._pending.clear()
        if raw.endswith("\n"):
            raw = raw[:-1]
        if raw.endswith("\r"):
            raw = raw[:-1]
        return first, raw


def _open(path: Path) -> BinaryIO:
    """Open for reading, turning every OS complaint into a message a marketer can act on."""
    try:
        if path.is_dir():
            raise EventsFileError(f'"{path}" is a folder, not an events file')
        return path.open("rb")
    except FileNotFoundError:
        raise EventsFileError(f'events file "{path}" does not exist') from None
    except PermissionError:
        raise EventsFileError(f'cannot read events file "{path}": permission denied') from None
    except OSError as err:
        raise EventsFileError(f'cannot read events file "{path}": {err.strerror or err}') from None


def _read_header(reader: Iterator[list[str]], lines: _Lines, name: str) -> _Header:
    """The header record; refuse files whose first line does not name known columns."""
    example = ",".join(CSV_COLUMNS[:8])
    for cells in _csv_records(reader, lines, name):
        row, raw = lines.take()
        if not any(cell.strip() for cell in cells):
            continue
        names = [cell.strip().lower() for cell in cells]
        known = [n for n in names if n in CSV_COLUMNS]
        unknown = [n for n in names if n and n not in CSV_COLUMNS]
        # A data row in place of the header names few columns and none of the required ones.
        if len(known) < len(unknown) and not any(n in names for n in _REQUIRED_CSV_COLUMNS) or not known:
            if len(cells) == 1 and any(sep in cells[0] for sep in ";\t"):
                sep = ";" if ";" in cells[0] else "\t"
                parts = [p.strip().lower() for p in cells[0].split(sep)]
                if any(p in CSV_COLUMNS for p in parts):
                    shown = '";"' if sep == ";" else "tabs"
                    raise EventsFileError(
                        f'events file "{name}" separates its columns with {shown}; save it as '
                        f'comma-separated CSV (codes inside one cell are separated by ";")'
                    )
            raise EventsFileError(
                f'events file "{name}" has no header row: its first line must name the columns, such as {example}'
            )
        problems = []
        for column in unknown:
            problems.append(f'unknown column "{column}"{_did_you_mean(column, CSV_COLUMNS)}')
        for column in sorted({n for n in names if n and names.count(n) > 1}):
            problems.append(f'column "{column}" appears twice in the header')
        for column in _REQUIRED_CSV_COLUMNS:
            if column not in names:
                problems.append(f'missing column "{column}" (every event needs id, customer and time)')
        if problems:
            tail = f"; the columns are {', '.join(CSV_COLUMNS)}" if unknown else ""
            raise EventsFileError(f'events file "{name}": ' + "; ".join(problems) + tail)
        return _Header(tuple(names), row, raw)
    raise EventsFileError(f'events file "{name}" is empty')


def _csv_records(reader: Iterator[list[str]], lines: _Lines, name: str) -> Iterator[list[str]]:
    """Records of the csv reader, with its rare errors turned into file errors.

    In its lenient mode the reader fails only on a field of over 128 KiB (a double
    quote never closed swallows the rest of the file) or on a lone carriage return
    (old Mac line endings); neither leaves rows worth reporting one by one.
    """
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            hint = (
                "is a double quote left open?"
                if "field larger" in str(err)
                else "save it with ordinary line endings"
            )
            raise EventsFileError(
                f'events file "{name}" cannot be read as CSV near line {lines.number} ({err}); {hint}'
            ) from None
        yield cells


def _csv_row(cells: list[str], row: int, raw: str, header: _Header) -> _CsvRow:
    problems: list[Problem] = []
    width = len(header.columns)
    if len(cells) != width:
        hint = "; put a value that contains a comma in double quotes" if len(cells) > width else ""
        problems.append((None, f"this row has {len(cells)} values but the header names {width} columns{hint}"))
    values: dict[str, str] = {}
    for column, cell in zip(header.columns, cells, strict=False):
        text = _clean(cell)
        if "\n" in text or "\r" in text:
            start = text if len(text) <= 40 else text[:40] + "..."
            problems.append((column or None, f"{_show(start)} runs over several lines; is a double quote left open?"))
        if column:
            values[column] = text
        elif text:
            problems.append((None, f"the value {_show(text)} is in a column with no name in the header"))
    return _CsvRow(row, raw, values, tuple(problems))


def _csv_missing(header: _Header) -> Missing:
    def missing(name: str, why: str) -> str:
        if name in header.columns:
            return f"no {name} given; {why}"
        return f'the file has no "{name}" column; {why}'

    return missing


def _csv_event(group: list[_CsvRow], header: _Header, tz: ZoneInfo) -> tuple[Event | None, dict[int, list[Problem]]]:
    """Adjacent rows sharing an id -> one event, or the problems of each row."""
    first = group[0]
    sinks = {r.row: _Sink() for r in group}
    for r in group:
        sinks[r.row].problems.extend(r.problems)
    head = sinks[first.row]
    missing = _csv_missing(header)
    event_id = first.key
    kind = head.parse("type", first.cells.get("type", ""), _kind)

    def result(event: Event | None) -> tuple[Event | None, dict[int, list[Problem]]]:
        problems = {row: sink.problems for row, sink in sinks.items()}
        if any(problems.values()):
            return None, problems
        return event, {}

    if event_id is None:
        head.add("id", missing("id", _WHY["id"]))

    # Event-level fields must be repeated identically on every row of the event.
    for r in group[1:]:
        if kind in CUSTOMER_EVENT_KINDS:
            sinks[r.row].add("id", f'repeats the id "{event_id}" of row {first.row}; a {kind} event has exactly '
                                   f"one row (give each event its own id)")
            continue
        for column in _CSV_EVENT_LEVEL:
            mine, theirs = r.cells.get(column, ""), first.cells.get(column, "")
            if column == "type":
                same = (mine.lower() or "purchase") == (theirs.lower() or "purchase")
            else:
                same = mine == theirs
            if not same:
                sinks[r.row].add(column, f'{_show(mine)} differs from {_show(theirs)} on row {first.row}, the first '
                                         f'row of event "{event_id}"; every row of one event must repeat the same '
                                         f"{column} (or give the rows different ids if they are different events)")

    # A value in a column this kind of event does not use is a mistake, not noise.
    if kind is not None:
        allowed = set(_COMMON_FIELDS) | set(_CSV_KIND_COLUMNS[kind])
        for r in group if kind not in CUSTOMER_EVENT_KINDS else group[:1]:
            for column, value in r.cells.items():
                if value and column not in allowed:
                    sinks[r.row].add(column, _not_used(column, kind, "leave it empty"))

    customer = _required(head, "customer", first.cells.get("customer"), _text, missing)
    at = _required(head, "time", first.cells.get("time"), lambda v: _time(v, tz), missing)

    if kind == "purchase":
        lines = tuple(_purchase_line(r.cells.get, "", sinks[r.row], missing) for r in group)
        codes = _csv_codes(first.cells.get("codes", ""))
        redeem = _optional(head, "redeem", first.cells.get("redeem"), _csv_redeem)
        return result(None if event_id is None else Purchase(event_id, customer, at, lines, codes, redeem or ()))
    if kind == "refund":
        purchase_id = _required(head, "purchase", first.cells.get("purchase"), _text, missing)
        refund_lines = []
        whole = [r for r in group if not r.cells.get("product")]
        for r in group:
            if r.cells.get("product"):
                refund_lines.append(_refund_line(r.cells.get, "", sinks[r.row], missing))
            elif r.cells.get("quantity"):
                sinks[r.row].add("quantity", "a refund row with no product returns the whole purchase; "
                                             "leave quantity empty or fill in the product")
            elif len(group) > 1:
                sinks[r.row].add("product", f'no product given, which returns the whole purchase, but other rows of '
                                            f'refund "{event_id}" name products; fill in the product or give the '
                                            f"rows different ids")
        lines_out = () if whole else tuple(refund_lines)
        return result(None if event_id is None else Refund(event_id, customer, at, purchase_id, lines_out))
    if kind in CUSTOMER_EVENT_KINDS:
        cells = first.cells
        birth_date = tier = action = None
        if kind == "signup":
            birth_date = _optional(head, "birth_date", cells.get("birth_date"), _date)
        elif kind == "tier":
            tier = _required(head, "tier", cells.get("tier"), _text, missing)
        elif kind == "action":
            action = _required(head, "action", cells.get("action"), _text, missing)
        if event_id is None:
            return result(None)
        return result(CustomerEvent(event_id, customer, at, kind, birth_date, tier, action))
    return result(None)


# ------------------------------------------------------------------- the stream


class _TimeOrder:
    """Checks that events come in non-decreasing time order.

    Compares in UTC: aware datetimes sharing a ZoneInfo compare by wall clock and
    ignore `fold`, which would misorder the hour repeated when clocks go back.
    """

    def __init__(self) -> None:
        self._last: dt.datetime | None = None
        self._last_utc: dt.datetime | None = None
        self._last_row = 0

    def problem(self, at: dt.datetime) -> str | None:
        if self._last is None or self._last_utc is None or at.astimezone(dt.UTC) >= self._last_utc:
            return None
        return (
            f"events must be in time order: {at.isoformat()} comes after {self._last.isoformat()} "
            f"(row {self._last_row}); sort the file by time"
        )

    def accept(self, at: dt.datetime, row: int) -> None:
        self._last, self._last_utc, self._last_row = at, at.astimezone(dt.UTC), row


def _rejections(rows: list[tuple[int, str]], problems: Mapping[int, list[Problem]]) -> Iterator[RowError]:
    """RowErrors for every row of a rejected event, bad rows first in their own place."""
    first_bad = min(row for row, found in problems.items() if found)
    for row, raw in rows:
        found = problems.get(row)
        if found:
            for column, message in found:
                yield RowError(row, column, message, raw)
        else:
            yield RowError(row, None, f"rejected with its event: row {first_bad} is bad", raw)


@attrs.frozen
class EventsSource:
    """An events file that can be read as many times as needed (validate, then process).

    Use `EventsSource.open` to check the file up front; iterating reopens it each time.
    `header` is the CSV header's original text (for the rejects file), None for JSON Lines.
    """

    path: Path = attrs.field(converter=Path)
    fmt: str
    tz: ZoneInfo
    header: str | None = None

    @classmethod
    def open(cls, path: str | Path, tz: ZoneInfo, fmt: str | None = None) -> EventsSource:
        """Check the file (exists, readable, UTF-8 start, header) and remember its header.

        Raises EventsFileError; a problem further into the file (a byte that is not
        UTF-8) is raised while iterating, which the validation pass finds first.
        """
        path = Path(path)
        resolved = detect_format(path, fmt)
        with _open(path) as handle:
            lines = _Lines(handle, str(path))
            if resolved == "csv":
                header = _read_header(csv.reader(lines), lines, str(path))
                return cls(path, resolved, tz, header.raw)
            for text in lines:
                stripped = text.strip()
                if not stripped:
                    continue
                if stripped.startswith("["):
                    raise EventsFileError(
                        f'events file "{path}" holds a JSON array; write one event object per line '
                        f"(JSON Lines) instead"
                    )
                if stripped == "{":
                    raise EventsFileError(
                        f'events file "{path}" looks like pretty-printed JSON; write each event on one line '
                        f"(JSON Lines)"
                    )
                return cls(path, resolved, tz, None)
        raise EventsFileError(f'events file "{path}" is empty')

    def __iter__(self) -> Iterator[Event | RowError]:
        if self.fmt == "csv":
            return self._read_csv()
        return self._read_jsonl()

    def _read_jsonl(self) -> Iterator[Event | RowError]:
        order = _TimeOrder()
        with _open(self.path) as handle:
            lines = _Lines(handle, str(self.path))
            for text in lines:
                row, raw = lines.take()
                if not text.strip():
                    continue
                event, problems = _json_event(text, self.tz)
                if event is not None:
                    late = order.problem(event.at)
                    if late is not None:
                        problems = [("time", late)]
                    else:
                        order.accept(event.at, row)
                        yield event
                        continue
                for column, message in problems:
                    yield RowError(row, column, message, raw)

    def _read_csv(self) -> Iterator[Event | RowError]:
        order = _TimeOrder()
        name = str(self.path)
        with _open(self.path) as handle:
            lines = _Lines(handle, name)
            reader = csv.reader(lines)
            header = _read_header(reader, lines, name)
            group: list[_CsvRow] = []
            for cells in _csv_records(reader, lines, name):
                row, raw = lines.take()
                if not any(cell.strip() for cell in cells):
                    continue  # blank rows (often left by spreadsheets) are invisible
                record = _csv_row(cells, row, raw, header)
                if group and (record.key is None or record.key != group[0].key):
                    yield from self._finish(group, header, order)
                    group = []
                group.append(record)
            if group:
                yield from self._finish(group, header, order)

    def _finish(self, group: list[_CsvRow], header: _Header, order: _TimeOrder) -> Iterator[Event | RowError]:
        event, problems = _csv_event(group, header, self.tz)
        if event is not None:
            late = order.problem(event.at)
            if late is None:
                order.accept(event.at, group[0].row)
                yield event
                return
            problems = {group[0].row: [("time", late)]}
        yield from _rejections([(r.row, r.raw) for r in group], problems)

    def write_rejects(self, path: str | Path, errors: Iterable[RowError]) -> int:
        """Write the rejected rows of this source to `path`; see `write_rejects`."""
        return write_rejects(path, errors, self.fmt, self.header)


def read_events(path: str | Path, tz: ZoneInfo, fmt: str | None = None) -> Iterator[Event | RowError]:
    """Stream the events of a CSV or JSON Lines file, with a RowError for each bad row.

    Problems with the file itself raise EventsFileError at once (before any event),
    except a byte that is not UTF-8 further in, which is raised when reached.
    """
    return iter(EventsSource.open(path, tz, fmt))


def write_rejects(path: str | Path, errors: Iterable[RowError], fmt: str, header: str | None = None) -> int:
    """Write the original text of each rejected row once, as a valid file of the same
    format (CSV: header first), so it can be fixed and run again. Returns the row count."""
    resolved = detect_format(path, fmt)
    if resolved == "csv" and header is None:
        raise ValueError("write_rejects needs the CSV header (EventsSource.header)")
    written: set[int] = set()
    try:
        with Path(path).open("w", encoding="utf-8", newline="") as out:
            if resolved == "csv":
                out.write(f"{header}\n")
            for err in errors:
                if err.row in written:
                    continue
                written.add(err.row)
                out.write(f"{err.raw}\n")
    except OSError as err:
        raise EventsFileError(f'cannot write rejects file "{path}": {err.strerror or err}') from None
    return len(written)


def format_row_error(source_name: str, err: RowError, fmt: str | None = None) -> str:
    """`events.csv:7: column unit_price: "12,50" is not a number (use a dot for decimals)`.

    JSON Lines problems say "field" instead of "column"; the format comes from `fmt` or
    from the source name's ending.
    """
    resolved = _FORMAT_NAMES.get((fmt or "").lower()) or FORMATS.get(Path(source_name).suffix.lower(), "csv")
    where = f"{source_name}:{err.row}"
    if err.column is None:
        return f"{where}: {err.message}"
    label = "field" if resolved == "jsonl" else "column"
    return f"{where}: {label} {err.column}: {err.message}"
