"""What a store gives back: the read models of recorded sessions (every store builds the same
ones from what it holds, with the rules here), and the columns of its typed tables."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import socket
from dataclasses import dataclass
from typing import NamedTuple

from movecoach.signal.exercises import REGISTRY
from movecoach.signal.types import SwayMetrics
from movecoach.store.values import local_day, stored_num

# The sway table's measures: SwayMetrics' fields (migration 1 froze the twelve of v1; a new
# metric is a new migration, see store/migrations.py).
SWAY_FIELDS = tuple(SwayMetrics.__dataclass_fields__)
# The walks table's measures (the `walk` event's fields of the same names; units in the names).
WALK_FIELDS = ("duration_s", "walking_s", "distance_m", "speed_m_s", "cadence_spm", "strides",
               "stride_time_s", "stride_time_cv", "stance_frac", "stride_length_m", "turns",
               "test_time_s", "test_distance_m")
BOUT_FIELDS = ("t_start", "t_end", "strides", "cadence_spm", "stride_time_s", "stride_time_cv",
               "stance_frac", "stride_length_m", "speed_m_s", "distance_m", "turns")
STRIDE_FIELDS = ("t_start", "t_end", "time_s", "length_m", "stance_s", "swing_s", "turn_deg")
STEP_FIELDS = ("step", "exercise", "set_no", "sets", "target_reps", "hold_target_s", "placement", "t_s")
REP_FIELDS = ("step", "exercise", "kind", "count", "set_no", "amplitude_deg", "depth_deg", "hold_s",
              "hold_target_s", "hold_met", "t_start", "t_peak", "t_end", "t_s")
REP_MEASURES = ("amplitude_deg", "depth_deg", "hold_s")  # averaged per exercise in a Session

STALE_S = 60.0  # a session whose heartbeat is older than this is not 'recording' any more


@dataclass(frozen=True)
class ExerciseSummary:
    """One exercise within one session. Angles in degrees, holds in seconds."""

    exercise: str
    sets: int
    reps: int
    mean_amplitude_deg: float | None
    mean_depth_deg: float | None  # wall slides: thigh inclination at the deepest point
    mean_hold_s: float | None
    holds_met: int
    holds_total: int  # reps that had a hold target


@dataclass(frozen=True)
class Walk:
    """One walk step: when (t_s: host unix time of its result; day), what (test: None, '25ft',
    '2min'; trial: which trial of a test done several times, else 1), and its measures: duration_s (the step, s), walking_s (the bouts, s), distance_m,
    speed_m_s (distance / walking time), cadence_spm (steps/min), strides (of the sensor's foot),
    stride_time_s, stride_time_cv (fraction), stance_frac, stride_length_m, turns; a timed test's
    test_time_s (25 ft: the time) and test_distance_m (2 min: the distance), test_done. Damaged
    values read as None."""

    session_id: int
    step: int | None
    t_s: float
    day: str
    test: str | None
    duration_s: float | None
    walking_s: float | None
    distance_m: float | None
    speed_m_s: float | None
    cadence_spm: float | None
    strides: int | None
    stride_time_s: float | None
    stride_time_cv: float | None
    stance_frac: float | None
    stride_length_m: float | None
    turns: int | None
    test_time_s: float | None
    test_distance_m: float | None
    test_done: bool | None
    trial: int | None = 1


@dataclass(frozen=True)
class StrideRow:
    """One stride of the sensor's foot (sensor clock s, m, deg; see movecoach.signal.gait.Stride)."""

    session_id: int
    step: int | None
    t_start: float | None
    t_end: float | None
    time_s: float | None
    length_m: float | None
    stance_s: float | None
    swing_s: float | None
    turn_deg: float | None


class _Total:
    """A Session's sum over its exercises of the ExerciseSummary count of the same name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, session: Session | None, owner: type | None = None) -> int:
        if session is None:
            return self  # type: ignore[return-value]  # the class's attribute
        return sum(getattr(e, self.name) for e in session.exercises)


@dataclass(frozen=True)
class Session:
    """One recorded session as the review commands see it.

    status: 'complete' (finished), 'incomplete' (stopped, crashed or killed before finishing),
    or 'recording' (its process is still alive and writing). problems: what is damaged in it
    (non-empty = shown as CORRUPT); the rest of the session is still shown.
    sway: the session's balance trial (mean of its trials if several), or None.
    walks: its walk steps, in order (:attr:`walk` is the one review follows week by week).
    """

    id: int
    device_id: str
    routine: str
    source: str
    fs: float | None
    started_at: float
    ended_at: float | None
    day: str
    status: str
    n_samples: int
    exercises: tuple[ExerciseSummary, ...]
    sway: SwayMetrics | None
    sway_trials: int
    feel_score: int | None
    feel_note: str | None
    problems: tuple[str, ...] = ()
    walks: tuple[Walk, ...] = ()

    @property
    def corrupt(self) -> bool:
        return bool(self.problems)

    @property
    def walk(self) -> Walk | None:
        """The walk whose speed, cadence and stride-time variation are followed week by week:
        the session's last walk at the person's own pace (not a timed test: a 25-foot walk is
        walked as fast as is safe and is too short to measure the variation, a 2-minute walk is
        walked as far as one can), else None. The tests are told on their own."""
        return next((w for w in reversed(self.walks) if w.test is None), None)

    def walk_test(self, name: str) -> Walk | None:
        """The session's last timed walk test called name ('25ft', '2min'), or None."""
        return next((w for w in reversed(self.walks) if w.test == name), None)

    def test_score(self, name: str) -> float | None:
        """A timed distance test's score (the 25-foot walk's time, s): the mean over its trials
        completed in this session, None when none was."""
        from movecoach.coach.timed_walk import trials_mean

        return trials_mean([w.test_time_s for w in self.walks if w.test == name and w.test_done])

    reps = _Total()
    sets = _Total()
    holds_met = _Total()
    holds_total = _Total()

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.started_at)

    def exercise(self, name: str) -> ExerciseSummary | None:
        return next((e for e in self.exercises if e.exercise == name), None)


@dataclass(frozen=True)
class StepRow:
    session_id: int
    step: int | None
    exercise: str
    set_no: int | None
    sets: int | None
    target_reps: int | None
    hold_target_s: float | None
    placement: str | None
    t_s: float


@dataclass(frozen=True)
class RepRow:
    """One counted rep. t_s: host unix time of the rep event; t_start/t_peak/t_end: sensor clock s."""

    session_id: int
    step: int | None
    exercise: str
    kind: str | None
    count: int | None
    set_no: int | None
    amplitude_deg: float | None
    depth_deg: float | None
    hold_s: float | None
    hold_target_s: float | None
    hold_met: bool | None
    t_start: float | None
    t_peak: float | None
    t_end: float | None
    t_s: float


@dataclass(frozen=True)
class SwayTrial:
    """One balance trial: its metrics and where its raw samples are (session, step)."""

    session_id: int
    step: int | None
    t_s: float
    day: str
    metrics: SwayMetrics


@dataclass(frozen=True)
class FeelEntry:
    """How the person felt (1-10) on a day, attached to a session or standalone."""

    day: str
    score: int
    note: str | None
    session_id: int | None
    created_at: float


class SessionRecord(NamedTuple):
    """A session as stored: started_at/ended_at/heartbeat_at unix s; summary the JSON text;
    pid and host of the process writing it (to tell 'recording' from 'incomplete')."""

    id: int
    started_at: float
    ended_at: float | None
    complete: int
    summary: str | None
    day: str | None
    device_id: str
    routine: str
    source: str
    fs: float | None
    pid: int | None
    host: str | None
    heartbeat_at: float | None
    n_samples: int | None


class RepTotals(NamedTuple):
    """One exercise's reps in one session: counts, the means of REP_MEASURES over their numeric
    values, holds met of those that had a target, and how many values were damaged."""

    reps: int
    sets: int
    mean_amplitude_deg: float | None
    mean_depth_deg: float | None
    mean_hold_s: float | None
    holds_met: int
    holds_total: int
    damaged: int


class SwayTotals(NamedTuple):
    """A session's balance trials: how many, damaged values, the mean of each SWAY_FIELDS."""

    trials: int
    damaged: int
    means: tuple[float | None, ...]


def process_alive(pid: int | None, host: str | None) -> bool:
    if not pid or host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, ValueError, OverflowError):
        return False
    return True


def assemble_session(rec: SessionRecord, *, reps: dict[str, RepTotals], step_sets: dict[str, int],
                     sway: SwayTotals | None, feel: tuple[int | None, str | None],
                     walks: list[Walk], walk_damaged: int, now: float) -> Session:
    """The Session review sees, from what a store holds about it.

    reps: per exercise (in the store's order); step_sets: the sets each exercise's steps had, in
    routine order; walk_damaged: damaged values in its walks; now: unix s (for 'recording').
    """
    problems: list[str] = []
    if rec.summary is not None:
        try:
            json.loads(rec.summary)
        except (TypeError, ValueError):
            problems.append("summary unreadable")
    if rec.complete:
        status = "complete"
    elif (rec.ended_at is None and process_alive(rec.pid, rec.host) and rec.heartbeat_at
          and now - rec.heartbeat_at < STALE_S):
        status = "recording"
    else:
        status = "incomplete"
    exercises = []
    names = list(step_sets)
    names += [ex for ex in reps if ex not in names]
    for ex in names:
        if ex in REGISTRY and REGISTRY[ex].analysis != "reps":
            continue  # a balance trial, a walk: their own tables
        t = reps.get(ex, RepTotals(0, 0, None, None, None, 0, 0, 0))
        if t.damaged:
            problems.append(f"{t.damaged} damaged {ex} rep value(s)")
        exercises.append(ExerciseSummary(
            exercise=ex, sets=max(step_sets.get(ex, 0), t.sets), reps=t.reps,
            mean_amplitude_deg=t.mean_amplitude_deg, mean_depth_deg=t.mean_depth_deg,
            mean_hold_s=t.mean_hold_s, holds_met=int(t.holds_met), holds_total=int(t.holds_total)))
    metrics = None
    if sway is not None:
        if sway.damaged:
            problems.append(f"{sway.damaged} damaged sway value(s)")
        metrics = SwayMetrics(*(math.nan if v is None else float(v) for v in sway.means))
    if walk_damaged:
        problems.append(f"{walk_damaged} damaged walk value(s)")
    score, note = feel
    return Session(
        id=rec.id, device_id=rec.device_id, routine=rec.routine, source=rec.source, fs=rec.fs,
        started_at=float(rec.started_at), ended_at=rec.ended_at,
        day=rec.day or local_day(rec.started_at), status=status, n_samples=int(rec.n_samples or 0),
        exercises=tuple(exercises), sway=metrics, sway_trials=0 if sway is None else int(sway.trials),
        feel_score=score, feel_note=note, problems=tuple(problems), walks=tuple(walks))


def rep_row(session_id: int, values: tuple) -> RepRow:
    """A RepRow from the stored REP_FIELDS values (damaged numeric values read as None)."""
    v = dict(zip(REP_FIELDS, values, strict=True))
    for k in ("amplitude_deg", "depth_deg", "hold_s", "hold_target_s", "t_start", "t_peak", "t_end"):
        v[k] = stored_num(v[k])
    v["hold_met"] = None if v["hold_met"] is None else bool(v["hold_met"])
    return RepRow(session_id, **v)


def sway_metrics(values: tuple) -> SwayMetrics:
    """SwayMetrics from the stored SWAY_FIELDS values (missing or damaged: NaN)."""
    return SwayMetrics(*(math.nan if stored_num(v) is None else float(v) for v in values))


def walk_row(session_id: int, step: int | None, t_s: float, day: str, test, trial,
             values: tuple, done) -> tuple[Walk, int]:
    """A Walk from its stored values (WALK_FIELDS in order) and its count of damaged values."""
    clean = [stored_num(v) for v in values]
    bad = sum(1 for v, c in zip(values, clean, strict=True) if v is not None and c is None)
    fields = dict(zip(WALK_FIELDS, clean, strict=True))
    for k in ("strides", "turns"):
        fields[k] = None if fields[k] is None else int(fields[k])
    trial = stored_num(trial)
    return (Walk(int(session_id), step, float(t_s), day, test if isinstance(test, str) else None,
                 **fields, test_done=None if done is None else bool(done),
                 trial=None if trial is None else int(round(trial))), bad)


def stride_row(session_id: int, step: int | None, values: tuple) -> StrideRow:
    """A StrideRow from the stored STRIDE_FIELDS values (damaged ones read as None)."""
    return StrideRow(int(session_id), step, *(stored_num(v) for v in values))
