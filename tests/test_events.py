"""Coach events: one frozen dataclass a kind, one JSON form for MQTT and the recording, and
docs/mqtt.md listing exactly their fields."""

import re
from pathlib import Path

import pytest

from movecoach.events import KINDS, OtherEvent, Rep, Rest, Walk, from_dict, to_dict, wire_fields
from movecoach.sinks.mqtt import SINK_FIELDS

DOC = Path(__file__).resolve().parents[1] / "docs" / "mqtt.md"


def test_a_rep_is_made_with_units_in_its_names_and_published_under_its_wire_names():
    rep = Rep(t_s=1_764_072_004.12, session_id=12, device_id="foot1", exercise="heel-toe",
              rep_kind="heel_raise", count=3, target_reps=20, set=1, amplitude_deg=24.5, hold_s=2.1,
              hold_target_s=2.0, hold_met=True, t_start_s=21.42, t_peak_s=22.31, t_end_s=25.03,
              t_end_host_s=1_764_072_003.95)
    doc = to_dict(rep)
    assert doc == {"session_id": 12, "device_id": "foot1", "exercise": "heel-toe",
                   "kind": "heel_raise", "count": 3, "target_reps": 20, "set": 1,
                   "amplitude_deg": 24.5, "depth_deg": None, "hold_s": 2.1, "hold_target_s": 2.0,
                   "hold_met": True, "t_start": 21.42, "t_peak": 22.31, "t_end": 25.03,
                   "t_end_host": 1_764_072_003.95}
    assert rep.kind == "rep" and rep.data == doc
    assert from_dict("rep", rep.t_s, doc) == rep  # what the recording holds reads back the same


def test_fields_a_message_has_only_sometimes_are_left_out_while_unset():
    assert to_dict(Rest(t_s=0.0, seconds=60.0)) == {"session_id": None, "device_id": None, "seconds": 60.0}
    walk_back = Rest(t_s=0.0, seconds=30.0, walk_back=True)
    assert to_dict(walk_back)["walk_back"] is True
    first = Walk(t_s=0.0, exercise="walk", test="25ft", trial=1, trials=2, test_time_s=6.7)
    assert "trial_times_s" not in to_dict(first) and "test_mean_s" not in to_dict(first)
    unfinished = Walk(t_s=0.0, exercise="walk", test="25ft", trial=2, trials=2,
                      trial_times_s=[None, None], test_mean_s=None)
    assert to_dict(unfinished)["trial_times_s"] == [None, None]
    assert to_dict(unfinished)["test_mean_s"] is None  # the mean of no finished trial: null


def test_numbers_json_cannot_carry_become_null():
    walk = Walk(t_s=0.0, exercise="walk", strides=2, stride_time_cv=float("nan"),
                bouts=[{"speed_m_s": float("inf")}])
    doc = to_dict(walk)
    assert doc["stride_time_cv"] is None and doc["bouts"] == [{"speed_m_s": None}]


@pytest.mark.parametrize("stored", [
    {"damaged": True},  # what the recorder reads where the JSON was unreadable
    {"exercise": "march", "kind": "lift", "count": 1},  # fields missing (an old recording)
    {"exercise": "march", "kind": "lift", "count": 1, "set": 1, "amplitude_deg": 30.0,
     "hold_s": 0.2, "spin_rpm": 3},  # a field this version does not know
])
def test_a_stored_event_that_does_not_fit_its_kind_still_loads_as_it_was(stored):
    event = from_dict("rep", 5.0, {"session_id": 4, **stored})
    assert isinstance(event, OtherEvent)
    assert (event.kind, event.t_s, event.session_id) == ("rep", 5.0, 4)
    assert event.data == {"session_id": 4, **stored}


def test_an_unknown_kind_loads_as_it_was():
    event = from_dict("heartbeat", 1.0, {"bpm": 71})
    assert isinstance(event, OtherEvent) and event.kind == "heartbeat" and event.data == {"bpm": 71}


def _documented_fields() -> dict[str, set[str]]:
    """docs/mqtt.md's table of each kind's fields: kind -> the `names` written at the top level
    of its row (names inside parentheses or braces explain a field: values, nested keys)."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("plus the event's own fields", 1)[1].split("\n\n")[1]
    out = {}
    for line in table.splitlines():
        m = re.match(r"\| `([a-z_]+)` \| (.*) \|$", line)
        if not m or m.group(1) == "type":  # the header row
            continue
        depth, top = 0, []
        for ch in m.group(2):
            if ch in "({":
                depth += 1
            elif ch in ")}":
                depth -= 1
            elif depth == 0:
                top.append(ch)
        out[m.group(1)] = set(re.findall(r"`([a-z_][a-z0-9_]*)`", "".join(top)))
    return out


def test_docs_mqtt_lists_every_field_of_every_kind_and_no_other():
    documented = _documented_fields()
    assert set(documented) == set(KINDS)
    for kind, cls in KINDS.items():
        fields = set(wire_fields(cls)) | set(SINK_FIELDS.get(kind, ()))
        assert documented[kind] - fields == set(), f"{kind}: documented but not in {cls.__name__}"
        assert fields - documented[kind] == set(), f"{kind}: {cls.__name__} has fields docs/mqtt.md lacks"
