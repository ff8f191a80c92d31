"""What the golden tests of the example programs share: where a program and its sample
events live, loading a program (it must check clean), running its sample events, and
small readers of an outcome.

Helpers that belong to one program (its purchases, its wallet, a time helper with its
usual hour) stay in that program's test file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from loyaldsl.check import check_source
from loyaldsl.diagnostics import render_all
from loyaldsl.events import RowError, read_events
from loyaldsl.interpret import interpreter

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "programs"


def program_path(name: str) -> Path:
    """programs/<name>.loyal."""
    return PROGRAMS / f"{name}.loyal"


def events_path(name: str) -> Path:
    """programs/<name>.events.jsonl, the program's sample events."""
    return PROGRAMS / f"{name}.events.jsonl"


def program_source(name: str) -> str:
    return program_path(name).read_text(encoding="utf-8")


def check_program(name: str):
    """The checker's result for programs/<name>.loyal (nothing asserted)."""
    return check_source(program_source(name), str(program_path(name)))


def load_engine(name: str, allowed_codes: Iterable[str] = ()):
    """An interpreter for programs/<name>.loyal. The program must check with no errors
    and no diagnostics except those whose code is in `allowed_codes`; on failure the
    message shows every diagnostic as the CLI would."""
    path = program_path(name)
    text = path.read_text(encoding="utf-8")
    checked = check_source(text, str(path))
    assert checked.ok, render_all(checked.diagnostics, str(path), text)
    allowed = frozenset(allowed_codes)
    unexpected = [d for d in checked.diagnostics if d.code not in allowed]
    assert unexpected == [], render_all(checked.diagnostics, str(path), text)
    return interpreter(checked)


def engine_fixture(name: str, allowed_codes: Iterable[str] = ()):
    """A pytest fixture `engine` giving a fresh load_engine(name, allowed_codes) to each
    test; a test module takes it as `engine = engine_fixture(NAME)`."""
    allowed = tuple(allowed_codes)

    @pytest.fixture
    def engine():
        return load_engine(name, allowed)

    return engine


def sample_events(name: str, zone: ZoneInfo) -> list:
    """The events of programs/<name>.events.jsonl; every row must read (no RowError)."""
    events = list(read_events(events_path(name), zone))
    assert [e for e in events if isinstance(e, RowError)] == []
    return events


def run_sample_events(
    name: str,
    zone: ZoneInfo,
    *,
    allowed_codes: Iterable[str] = (),
    count: tuple[int, int] = (10, 40),
    ok_statuses: tuple[str, ...] = ("ok",),
) -> list:
    """Run the program's sample events on a fresh state and return the outcomes.

    Asserts that the program loads (see load_engine), that every row reads, that there
    are count[0] to count[1] events, and that every outcome's status is in
    `ok_statuses` (so none is rejected or a replay)."""
    engine = load_engine(name, allowed_codes)
    state = engine.new_state()
    events = sample_events(name, zone)
    low, high = count
    assert low <= len(events) <= high
    outcomes = [engine.process(state, event) for event in events]
    assert [o.event_id for o in outcomes if o.status not in ok_statuses] == []
    return outcomes


def discounts(out) -> dict[str, Decimal]:
    """An outcome's discounts by name."""
    return {name: amount for name, amount in out.discounts}


def at(text: str, zone: ZoneInfo) -> dt.datetime:
    """A local wall-clock time such as "2026-03-01T12:00" in `zone`."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone)


def text_clock(zone: ZoneInfo) -> Callable[[str], dt.datetime]:
    """`at(text)`: at(text, zone) for a program whose tests give times as text."""

    def at_(text: str) -> dt.datetime:
        return at(text, zone)

    return at_


def day_clock(zone: ZoneInfo, hour: int) -> Callable[..., dt.datetime]:
    """`at(year, month, day, hour=<hour>, minute=0)`: a local time in `zone`, at the
    program's usual hour of the day unless told otherwise."""
    default_hour = hour

    def at_(year: int, month: int, day: int, hour: int = default_hour, minute: int = 0) -> dt.datetime:
        return dt.datetime(year, month, day, hour, minute, tzinfo=zone)

    return at_
