"""The hold countdown a person hears is the hold that is recorded: it reaches "done", and every
rep held until "done" is recorded as held long enough (one definition of a hold, live and after)."""

import asyncio

from test_session_posture import Collect, RecordingSource

from movecoach.coach.routine import reps_counted, single_exercise
from movecoach.coach.session import SessionOptions, SessionRunner
from movecoach.coach.step_sources import SimulatedWearables
from movecoach.sim import simulate


def _run(routine, source) -> list:
    sink = Collect()
    runner = SessionRunner(routine, source, [sink], device_id="test",
                           options=SessionOptions(ready_s=0, speed=100))
    asyncio.run(asyncio.wait_for(runner.run(), 120))
    return sink.events


def _holds(events) -> tuple[list[dict], list[dict]]:
    done = [e.data for e in events if e.kind == "hold_done"]
    reps = [e.data for e in events if e.kind == "rep" and e.data.get("hold_target_s")]
    return done, reps


def test_a_replayed_recording_of_full_holds_hears_done_each_time_and_records_them_met():
    # heel raises and toe lifts held 2.4 s against the routine's 2 s
    rec = simulate("heel-toe", reps=3, fs=104.0, seed=12, hold_s=2.4)
    events = _run(single_exercise("heel-toe", reps=reps_counted("heel-toe", 3), sets=1), RecordingSource(rec))
    done, reps = _holds(events)
    assert len(reps) == 3  # the heel raises carry the hold (toe lifts are not held)
    assert len(done) == len(reps)
    for d, rep in zip(done, reps, strict=True):
        assert rep["hold_met"] is True
        assert d["held_s"] >= d["target_s"]
        assert rep["hold_s"] >= rep["hold_target_s"]


def test_the_demo_person_holds_until_done_and_the_countdown_finishes():
    source = SimulatedWearables(speed=100, seed=3)
    events = _run(single_exercise("wall-slide", reps=2, sets=1), source)
    done, reps = _holds(events)
    ticks = [e.data for e in events if e.kind == "hold_tick"]
    assert len(reps) == 2 and len(done) == 2
    assert min(t["remaining_s"] for t in ticks) <= 1
    assert all(rep["hold_met"] for rep in reps)
