"""Walks cut short: finishing, from its recorded samples, a walk whose session ended mid-walk.

A walk's result (its ``walk`` event: distance, speed, cadence, bouts, strides) is made when the
walk ends. When the session ends first (Ctrl-C while walking, the laptop closed, the process
killed) the walk's samples are in the store (committed every half second) but its result is not,
so history, trends and the report would show no walk for that day. :func:`recover_walks` finds
such walk steps in sessions that are no longer recording and analyses their samples as the walk
would have ended there: the same analysis and the same summary as the live walk, marked
``recovered``. It runs when the coach stops or starts and before the review commands read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from movecoach import events as ev
from movecoach.coach.routine import Step
from movecoach.errors import UserError
from movecoach.signal.exercises import REGISTRY
from movecoach.store.base import Store
from movecoach.store.models import Session
from movecoach.store.rows import event_row, typed_rows
from movecoach.store.values import dumps

log = logging.getLogger(__name__)

# Fewer samples than this (s of data) is no walk to finish: the session ended on "go".
MIN_WALK_S = 2.0


@dataclass(frozen=True)
class RecoveredWalk:
    """A walk finished afterwards: which session and step, and what it measured."""

    session_id: int
    step: int | None
    day: str
    distance_m: float | None
    strides: int


def recover_walks(store: Store, *, session_ids: Iterable[int] | None = None) -> list[RecoveredWalk]:
    """Finish every walk cut short in the store's sessions (or only ``session_ids``) that are no
    longer recording; the walks finished. Nothing is written for a session still recording, a
    walk that has its result, or one with under MIN_WALK_S of samples. A store that cannot be
    written (a read-only copy) is left as it is, with a warning."""
    if store.empty:
        return []
    walk_exercises = [name for name, ex in REGISTRY.items() if ex.analysis == "walk"]
    cut = store.steps_without_walk(walk_exercises)
    if session_ids is not None:
        wanted = set(session_ids)
        cut = {(sid, step) for sid, step in cut if sid in wanted}
    if not cut:
        return []
    done: list[RecoveredWalk] = []
    for session in store.sessions(ids={sid for sid, _ in cut}):
        if session.status != "incomplete":  # still recording: its walk may still end
            continue
        starts = {e.t_s: e for e in store.events(session.id) if isinstance(e, ev.StepStart)}
        for row in store.steps(session.id):
            if (session.id, row.step) not in cut:
                continue
            finished = _finish_walk(store, session, row.step, _step_of(row.exercise, starts.get(row.t_s)))
            if finished is None:
                continue
            ops, walk = finished
            try:
                store.add_rows(session.id, ops)
            except UserError as exc:
                log.warning("a walk cut short in session %d was not finished: %s", session.id, exc)
                return done
            done.append(RecoveredWalk(session.id, row.step, session.day, walk["distance_m"],
                                      walk["strides"]))
            log.info("session %d: finished its walk cut short from its samples (%d strides)",
                     session.id, walk["strides"])
    return done


def _step_of(exercise: str, start: ev.StepStart | None) -> Step:
    """The walk step as its step_start announced it (a plain walk if that event is missing)."""
    if start is None:
        return Step(exercise, reps=None)
    return Step(exercise, reps=None, duration_s=start.duration_s, test=start.test,
                trial=start.trial, trials=start.trials)


def _finish_walk(store: Store, session: Session, step_no: int | None,
                 step: Step) -> tuple[list, dict] | None:
    """The writes of one walk analysed from its samples and the walk's summary (as in its
    ``walk`` event); None: too little to analyse."""
    from movecoach.coach.session import walk_summary  # here: review stays quick to start
    from movecoach.signal.gait import WalkAnalyzer

    session_id = session.id
    block = store.read_samples(session_id, step_no)
    if len(block) == 0 or float(block.t_s[-1] - block.t_s[0]) < MIN_WALK_S:
        return None
    try:
        analyzer = WalkAnalyzer(fs=block.fs)
        analyzer.push(block.t_s, block.acc_m_s2, block.gyr_rad_s)
        result = analyzer.finish()
    except (ValueError, RuntimeError) as exc:  # samples the analysis cannot take
        log.warning("session %d: the walk cut short could not be analysed: %s", session_id, exc)
        return None
    t0, t_end = float(block.t_s[0]), float(block.t_s[-1])
    data = walk_summary(step, [result], t0=t0, end_t=t_end)
    data.update(recovered=True, session_id=session.id, device_id=session.device_id)
    # when the walk's last sample reached the host (else when the session ended, or began)
    if block.t_host_s is not None:
        t_s = float(block.t_host_s[-1])
    else:
        t_s = session.ended_at if session.ended_at is not None else session.started_at
    event = ev.from_dict("walk", t_s, data)
    payload = ev.to_dict(event)
    return [event_row("walk", t_s, dumps(payload)), *typed_rows("walk", payload, step_no, t_s)], data

