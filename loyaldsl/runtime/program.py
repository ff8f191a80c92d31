"""The API a shop calls: one class around the engine, with state that is plain JSON.

A compiled module subclasses CompiledProgram with its own SPEC; the interpreter's
`--engine compiled` path and the differential tests use the same class.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any

from .dicts import event_from_dict
from .engine import Engine
from .model import Event, Purchase, Refund
from .outcome import CustomerReport, Outcome
from .persist import state_from_json, state_to_json
from .spec import ProgramSpec
from .state import State

PurchasePath = Callable[[Engine, State, Purchase], Outcome | None]


class CompiledProgram:
    """`process(state, event)` applies one event and says what happened.

    `state` holds every customer the program has seen; keep it between calls, or save
    it with `state_to_json` (one dict per customer under "customers") and load it back
    with `state_from_json`. Events are the records of this module (Purchase, Refund,
    CustomerEvent) or dicts in the JSON Lines shape.
    """

    def __init__(self, spec: ProgramSpec, purchase_path: PurchasePath | None = None) -> None:
        self.spec = spec
        self.engine = Engine(spec)
        # A compiled module's purchase path specialised to its program, if it has one
        # (codegen/specialize.py): it returns None for purchases it leaves to the engine.
        self.purchase_path = purchase_path

    def new_state(self) -> State:
        return self.engine.new_state()

    def process(self, state: State, event: Event | Mapping[str, Any]) -> Outcome:
        # By class name, as event_kind does: loyaldsl's own records are welcome too
        # (this module's own are checked first: one identity test on every purchase).
        kind = type(event)
        if kind is Purchase or kind.__name__ == "Purchase":
            path = self.purchase_path
            if path is not None:
                out = path(self.engine, state, event)  # type: ignore[arg-type]  # a Purchase (typing.cast is a call)
                if out is not None:
                    return out
            return self.engine.process(state, event)  # type: ignore[arg-type]
        if kind is Refund:  # before the Mapping test, which asks the ABC
            return self.engine.process(state, event)  # type: ignore[arg-type]
        if isinstance(event, Mapping):
            return self.process(state, event_from_dict(event, self.engine.zone))
        return self.engine.process(state, event)

    def report(self, state: State, customer: str, as_of: _dt.datetime) -> CustomerReport:
        return self.engine.report(state, customer, as_of)

    def state_to_json(self, state: State) -> dict[str, Any]:
        return state_to_json(state)

    def state_from_json(self, data: Mapping[str, Any]) -> State:
        return state_from_json(dict(data), self.engine.zone)
