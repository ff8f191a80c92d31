"""Customer state survives a JSON round trip exactly: stopping, saving, loading and
going on gives the same outcomes as never stopping."""

from __future__ import annotations

import json

from hypothesis import given

from loyaldsl.runtime.persist import state_from_json, state_to_json
from tests.test_properties import EXAMPLE, engine_for, streams


@given(streams())
def test_state_round_trips_through_json(events):
    engine = engine_for(EXAMPLE)
    straight = engine.new_state()
    expected = [engine.process(straight, e).to_json() for e in events]

    resumed = engine.new_state()
    got = []
    for event in events:
        text = json.dumps(state_to_json(resumed))
        resumed = state_from_json(json.loads(text), engine.zone)
        got.append(engine.process(resumed, event).to_json())
    assert got == expected
    assert state_to_json(resumed) == state_to_json(straight)
