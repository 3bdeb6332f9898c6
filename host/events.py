"""Coach events: what the session runner tells its sinks (MQTT, speech, console) and the recorder.

Each kind of event is one frozen dataclass below, defined here once: its fields are the MQTT
payload's fields (``docs/mqtt.md``, checked against these classes by a test) and the recorder's
stored JSON. :func:`to_dict` is the one serialiser (event -> JSON-ready dict) and
:func:`from_dict` reads one back (a stored event of a kind this code does not know, or whose
fields do not fit, comes back as an :class:`OtherEvent` holding its dict as it was)::

    rep = Rep(t_s=time.time(), exercise="march", rep_kind="lift", count=3, target_reps=10, set=1,
              amplitude_deg=31.5, hold_s=0.4, t_start_s=12.1, t_peak_s=12.6, t_end_s=13.4)
    doc = to_dict(rep)           # {"exercise": "march", "kind": "lift", "count": 3, ...}
    from_dict("rep", rep.t_s, doc) == rep

Python names carry their units; where the wire name is older and shorter (``kind`` of a rep,
``t_start`` on the sensor clock) the field says its wire name (``wire=``) and the JSON keeps it.
Times: ``t_s`` is the host's wall clock (unix seconds) when the event happened; ``t_*_s`` of a
rep are on the sensor's own clock. Floats are rounded by the producer.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

_frozen = dataclass(frozen=True, kw_only=True)


def _wire(name: str, **kw: Any) -> Any:
    """A field published and stored under an older name (``wire``) than its Python name."""
    return field(metadata={"wire": name}, **kw)


def _optional(**kw: Any) -> Any:
    """A field left out of the JSON while it is None (the message has it only sometimes)."""
    return field(default=None, metadata={"optional": True, **kw.pop("metadata", {})}, **kw)


@_frozen
class Event:
    """One thing that happened in a session (the common part of every kind).

    t_s: host wall-clock time, unix seconds. session_id, device_id: stamped by the session
    runner on every event it sends.
    """

    kind: ClassVar[str] = ""
    t_s: float
    session_id: int | str | None = None
    device_id: str | None = None

    @property
    def data(self) -> dict:
        """The event's fields as JSON (what :func:`to_dict` gives)."""
        return to_dict(self)


@_frozen
class SessionStart(Event):
    kind: ClassVar[str] = "session_start"
    routine: str
    source: str
    steps: list[str]


@_frozen
class StepStart(Event):
    """One set of a step (a timed step: its one trial) is about to start."""

    kind: ClassVar[str] = "step_start"
    exercise: str
    title: str | None = None
    set: int
    sets: int
    target_reps: int | None = None
    hold_target_s: float | None = None
    placement: str | None = None
    duration_s: float | None = None
    test: str | None = None
    target_m: float | None = None
    trial: int = 1
    trials: int = 1


@_frozen
class Countdown(Event):
    """"Starting in 3, 2, 1, go": seconds 3, 2, 1, then 0 for "go"."""

    kind: ClassVar[str] = "countdown"
    exercise: str
    seconds: int


@_frozen
class RepMoment(Event):
    """The common part of the events of one rep: its exercise and its kind (``heel_raise``,
    ``toe_raise``, ``lift``, ``slide``; ``kind`` on the wire)."""

    exercise: str
    rep_kind: str = _wire("kind")


@_frozen
class RepStart(RepMoment):
    kind: ClassVar[str] = "rep_start"
    set: int


@_frozen
class Rep(RepMoment):
    """A finished repetition. count: reps so far in the set, all kinds together, this one too."""

    kind: ClassVar[str] = "rep"
    count: int
    target_reps: int | None = None
    set: int
    amplitude_deg: float
    depth_deg: float | None = None
    hold_s: float
    hold_target_s: float | None = None
    hold_met: bool | None = None
    t_start_s: float | None = _wire("t_start", default=None)
    t_peak_s: float | None = _wire("t_peak", default=None)
    t_end_s: float | None = _wire("t_end", default=None)
    t_end_host_s: float | None = _wire("t_end_host", default=None)


@_frozen
class HoldStart(RepMoment):
    """The rep numbered count is held: target_s to go."""

    kind: ClassVar[str] = "hold_start"
    target_s: float
    count: int


@_frozen
class HoldTick(RepMoment):
    """Sent when the whole seconds remaining change."""

    kind: ClassVar[str] = "hold_tick"
    held_s: float
    remaining_s: float


@_frozen
class HoldDone(RepMoment):
    kind: ClassVar[str] = "hold_done"
    held_s: float
    target_s: float


@_frozen
class Cue(Event):
    """A coaching hint: cue is its short id (``hold_short``, ``idle``, ...), text what is said."""

    kind: ClassVar[str] = "cue"
    exercise: str
    cue: str
    text: str


@_frozen
class SetComplete(Event):
    kind: ClassVar[str] = "set_complete"
    exercise: str
    set: int
    sets: int
    reps: int
    counts: dict[str, int] = field(default_factory=dict)


@_frozen
class Rest(Event):
    """A rest before the next set, or (walk_back) the walk back between a timed walk's trials."""

    kind: ClassVar[str] = "rest"
    seconds: float
    walk_back: bool | None = _optional()


@_frozen
class Sway(Event):
    """A balance trial's metrics (`movecoach.signal.types.SwayMetrics.to_json`)."""

    kind: ClassVar[str] = "sway"
    exercise: str
    metrics: dict[str, float | None]


@_frozen
class WalkMoment(Event):
    """The common part of a walk's events: the exercise (``walk``) and, for a timed test, which
    (``25ft``, ``2min``; None for a plain walk)."""

    exercise: str
    test: str | None = None


@_frozen
class WalkProgress(WalkMoment):
    """One stride completed (stride: t_start, t_end, time_s, length_m, stance_s, swing_s, turn_deg)."""

    kind: ClassVar[str] = "walk_progress"
    strides: int
    distance_m: float | None
    elapsed_s: float | None
    stride: dict[str, float | None]


@_frozen
class WalkMinute(WalkMoment):
    kind: ClassVar[str] = "walk_minute"
    minute: int
    distance_m: float | None
    strides: int


@_frozen
class Walk(WalkMoment):
    """A walk's result: totals, the timed test's result, its bouts and (recorded, not published)
    its strides; after the last trial of a test done several times, trial_times_s and test_mean_s."""

    kind: ClassVar[str] = "walk"
    trial: int = 1
    trials: int = 1
    # None where there was nothing to measure (no strides; a CV needs a few)
    duration_s: float | None = None
    walking_s: float | None = None
    distance_m: float | None = None
    speed_m_s: float | None = None
    cadence_spm: float | None = None
    strides: int = 0
    stride_time_s: float | None = None
    stride_time_cv: float | None = None
    stance_frac: float | None = None
    stride_length_m: float | None = None
    turns: int = 0
    test_time_s: float | None = None
    test_distance_m: float | None = None
    test_done: bool | None = None
    bouts: list[dict] = field(default_factory=list)
    stride_list: list[dict] | None = _optional()
    trial_times_s: list[float | None] | None = _optional()
    test_mean_s: float | None = _optional(metadata={"with": "trial_times_s"})
    recovered: bool | None = _optional()


@_frozen
class StepEnd(Event):
    kind: ClassVar[str] = "step_end"
    exercise: str
    set: int
    reps: int


@_frozen
class Link(Event):
    """The wearable's link lost or restored (state), after gap_s without data."""

    kind: ClassVar[str] = "link"
    exercise: str | None = None
    state: str
    gap_s: float | None
    lost_packets: int


@_frozen
class SessionEnd(Event):
    kind: ClassVar[str] = "session_end"
    summary: dict
    complete: bool


@_frozen
class Feel(Event):
    """How the person feels, 1 (worst) to 10 (best); the free-text note travels apart (FeelNote)."""

    kind: ClassVar[str] = "feel"
    score: int | float
    note: str | None = _optional()


@_frozen
class FeelNote(Event):
    kind: ClassVar[str] = "feel_note"
    note: str


@_frozen
class OtherEvent(Event):
    """A stored event this code cannot type (an unknown kind, or fields that do not fit its
    kind: old databases hold whatever was written then). fields: its JSON as stored, ids too."""

    kind: str  # type: ignore[misc]  # an instance's own kind, not one class's
    fields: dict = field(default_factory=dict)


KINDS: dict[str, type[Event]] = {cls.kind: cls for cls in (
    SessionStart, StepStart, Countdown, RepStart, Rep, HoldStart, HoldTick, HoldDone, Cue,
    SetComplete, Rest, Sway, WalkProgress, WalkMinute, Walk, StepEnd, Link, SessionEnd, Feel,
    FeelNote)}
_IDS = ("session_id", "device_id")


def wire_fields(cls: type[Event]) -> dict[str, dataclasses.Field]:
    """A kind's own fields by their JSON name (t_s and the ids left out), in order."""
    return {f.metadata.get("wire", f.name): f for f in dataclasses.fields(cls)
            if f.name not in ("t_s", *_IDS)}


def to_dict(event: Event) -> dict:
    """The event as a JSON-ready dict (its kind and t_s are not in it): the ids, then its fields
    under their wire names; nan and infinity become None, tuples lists. An OtherEvent gives
    back the dict it was read from."""
    if isinstance(event, OtherEvent):
        return _jsonable(event.fields)
    doc = {k: getattr(event, k) for k in _IDS}
    for name, f in wire_fields(type(event)).items():
        value = getattr(event, f.name)
        if f.metadata.get("optional") and getattr(event, f.metadata.get("with", f.name)) is None:
            continue  # unset (or, "with" another field, that one is)
        doc[name] = value
    return {k: _jsonable(v) for k, v in doc.items()}


def from_dict(kind: str, t_s: float, data: dict) -> Event:
    """The event of ``kind`` at ``t_s`` from its JSON dict (as :func:`to_dict` made it).

    A kind not in KINDS, a field it does not have, or a field it needs that is missing gives
    an :class:`OtherEvent` with the dict as it was (never an exception: stored data is old)."""
    stored = dict(data) if isinstance(data, dict) else {"damaged": True}
    data = dict(stored)
    ids = {k: data.pop(k) for k in _IDS if k in data}
    cls = KINDS.get(kind)
    if cls is not None:
        known = wire_fields(cls)
        needed = {name for name, f in known.items()
                  if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        if set(data) <= set(known) and needed <= set(data):
            try:
                return cls(t_s=t_s, **ids, **{known[k].name: v for k, v in data.items()})
            except TypeError:
                pass
    return OtherEvent(kind=kind, t_s=t_s, fields=stored, **ids)


def _jsonable(value: Any) -> Any:
    """Floats that JSON cannot carry (nan, inf) become None; nested containers are walked."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "to_json"):
        return _jsonable(value.to_json())
    return value


class Sink(Protocol):
    """Anything that consumes events. `handle` must return quickly (never block analysis)."""

    def handle(self, event: Event) -> None: ...

    def close(self) -> None: ...
