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


def set_slots(owner: object) -> tuple[None, dict[str, Any]]:
    """For `__getstate__` of such a class: the slots that are set, read through their
    descriptors so that an empty one stays empty. A copy (a report settles a copy of
    the customer) or a pickle then leaves the original's unmade slots unmade, where the
    default state reads every slot and so makes each one."""
    slots: dict[str, Any] = {}
    for cls in type(owner).__mro__:
        for name in cls.__dict__.get("__slots__", ()):
            try:
                slots[name] = cls.__dict__[name].__get__(owner, cls)
            except AttributeError:
                continue
    return None, slots
