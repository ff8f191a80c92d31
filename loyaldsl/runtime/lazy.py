"""Slots filled on first use. Most records the engine makes per event are dropped
unread (an outcome's empty lists, a purchase record or a ledger record that no return
ever reads): their lists and dicts are made when something first reads them, so making
the record, and freeing it long after, costs less."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def made_on_first_use(owner: object, name: str, makers: Mapping[str, Callable[[], Any]]) -> Any:
    """For `__getattr__` of a slots class, which Python calls only when the slot is
    empty: the slot's first value, kept in it, or AttributeError for any other name."""
    make = makers.get(name)
    if make is None:
        raise AttributeError(f"{type(owner).__name__!r} object has no attribute {name!r}")
    value = make()
    object.__setattr__(owner, name, value)
    return value
