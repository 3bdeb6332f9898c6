"""The coach says how to start when the person moves in the wrong posture (nothing would count)."""

import asyncio
import contextlib

from movecoach.coach.routine import single_exercise
from movecoach.coach.session import SessionOptions, SessionRunner
from movecoach.samples import SampleBlock
from movecoach.signal.streaming import RepAnalyzer
from movecoach.sim import simulate


class RecordingSource:
    """Every set gets the same recording, in 0.1 s blocks (what a replayed link would give)."""

    def __init__(self, rec):
        self.rec = rec

    @contextlib.asynccontextmanager
    async def open(self, step, set_index):
        async def blocks():
            r, n = self.rec, max(1, int(self.rec.fs / 10))
            for i in range(0, len(r), n):
                yield SampleBlock(r.t_s[i:i + n], r.acc_m_s2[i:i + n], r.gyr_rad_s[i:i + n], fs=r.fs)
                await asyncio.sleep(0)

        yield blocks()

    async def aclose(self):
        pass


class Collect:
    def __init__(self):
        self.events = []

    def handle(self, event):
        self.events.append(event)

    def close(self):
        pass


def _standing_knee_bends():
    # standing with bent-knee dips of the thigh (wall slides): rep-sized thigh movements from an
    # upright rest, which a seated march must not count
    return simulate("wall-slide", reps=4, fs=52.0, seed=5, hold_s=2.0)


def test_movements_while_standing_are_not_marches_and_are_counted_as_wrong_posture():
    rec = _standing_knee_bends()
    an = RepAnalyzer("march", rec.fs)
    an.push(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s)
    an.finish()
    assert an.counts_ == {"lift": 0}
    assert an.wrong_posture_moves >= 3


def test_the_coach_cues_the_posture_once_when_a_march_set_is_done_standing():
    sink = Collect()
    runner = SessionRunner(single_exercise("march", reps=5, sets=1), RecordingSource(_standing_knee_bends()),
                           [sink], device_id="test", options=SessionOptions(ready_s=0, speed=100))
    asyncio.run(asyncio.wait_for(runner.run(), 60))
    cues = [e.data for e in sink.events if e.kind == "cue" and e.data["cue"] == "posture"]
    assert len(cues) == 1 and "sitting" in cues[0]["text"]  # (the sensor may sit anywhere round the thigh)
    assert not [e for e in sink.events if e.kind == "rep"]


def test_a_seated_march_set_gets_no_posture_cue():
    sink = Collect()
    rec = simulate("march", reps=5, fs=52.0, seed=5)
    runner = SessionRunner(single_exercise("march", reps=5, sets=1), RecordingSource(rec), [sink],
                           device_id="test", options=SessionOptions(ready_s=0, speed=100))
    asyncio.run(asyncio.wait_for(runner.run(), 60))
    assert [e.data["count"] for e in sink.events if e.kind == "rep"] == [1, 2, 3, 4, 5]
    assert not [e for e in sink.events if e.kind == "cue" and e.data["cue"] == "posture"]
