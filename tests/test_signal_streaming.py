"""Live analyzers: the same reps as batch analysis, on time, whatever the block sizes."""

from __future__ import annotations

import numpy as np
import pytest

from movecoach.signal.reps import count_reps
from movecoach.signal.streaming import ANALYSIS_FS, DETECTOR_FS, RepAnalyzer, SwayAnalyzer
from movecoach.signal.sway import sway_metrics
from movecoach.sim import Conditions, simulate


def _push_in_random_blocks(an, rec, seed):
    rng = np.random.default_rng(seed)
    events, i, n = [], 0, len(rec)
    while i < n:
        k = int(rng.choice([1, 1, 1, 3, 8, 26, 104, 400]))
        s = slice(i, min(n, i + k))
        events += an.push(rec.t_s[s], rec.acc_m_s2[s], rec.gyr_rad_s[s])
        i += k
    return events + an.finish()


@pytest.mark.parametrize(
    ("exercise", "seed", "kwargs"),
    [("heel-toe", 4, {"hold_s": 2.0}), ("wall-slide", 5, {"hold_s": 15.0}), ("march", 6, {})],
)
def test_live_reps_equal_batch_reps_and_each_end_is_announced_within_300_ms(exercise, seed, kwargs):
    cond = Conditions(irregular_dt=True, loss_bursts=3, tremor_amp_deg=1.0, t0_s=1234.5)
    rec = simulate(exercise, reps=5, fs=104.0, seed=seed, conditions=cond, **kwargs)
    batch = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise=exercise, fs=rec.fs)
    an = RepAnalyzer(exercise, rec.fs)
    events = _push_in_random_blocks(an, rec, seed)
    live = an.reps_
    assert len(live) == len(batch) == sum(rec.truth["counts"].values())
    period = 1.0 / ANALYSIS_FS
    for a, b in zip(live, batch, strict=True):
        assert a.kind == b.kind
        for f in ("t_start", "t_peak", "t_end"):
            assert abs(getattr(a, f) - getattr(b, f)) <= period
        assert abs(a.amplitude_deg - b.amplitude_deg) < 1e-6
        assert abs(a.hold_s - b.hold_s) <= period
    ends = [e for e in events if e.kind == "rep_end"]
    assert [e.rep for e in ends] == live
    for e in ends:
        assert 0.0 <= e.t_s - e.rep.t_end <= 0.3
    assert [e.count for e in ends] == list(range(1, len(ends) + 1)) or exercise == "heel-toe"
    starts = [e for e in events if e.kind == "rep_start"]
    assert len(starts) >= len(ends)


def test_a_hold_is_counted_down_live_with_hold_ticks():
    rec = simulate("wall-slide", reps=2, fs=104.0, seed=9, hold_s=12.0)
    an = RepAnalyzer("wall-slide", rec.fs)
    events = _push_in_random_blocks(an, rec, 9)
    for rep in an.reps_:
        ticks = [e for e in events if e.kind == "hold_tick" and rep.t_start <= e.t_s <= rep.t_end]
        assert ticks, "no hold ticks during a 12 s hold"
        # once the slide is at its depth the countdown ticks steadily (before that, going on
        # deeper re-measures the hold against the new depth)
        gaps = np.diff([e.t_s for e in ticks if e.t_s >= rep.t_peak])
        assert gaps.max() <= 0.25 + 1e-9
        # the countdown counts the recorded hold (one definition): they differ by at most a tick
        assert abs(ticks[-1].hold_s - rep.hold_s) <= 0.2 + 1.0 / DETECTOR_FS + 1e-9
        assert all(abs(e.angle_deg - rep.amplitude_deg) < 0.3 * rep.amplitude_deg for e in ticks)


def test_angle_follows_the_movement_for_a_status_line():
    rec = simulate("march", reps=2, fs=104.0, seed=10)
    an = RepAnalyzer("march", rec.fs)
    peak_angle = 0.0
    for i in range(0, len(rec), 10):
        an.push(rec.t_s[i : i + 10], rec.acc_m_s2[i : i + 10], rec.gyr_rad_s[i : i + 10])
        peak_angle = max(peak_angle, an.angle_deg)
    assert abs(peak_angle - max(q["amplitude_deg"] for q in rec.truth["reps"])) < 3.0
    assert an.angle_deg < 3.0


def test_sway_analyzer_gives_the_batch_metrics():
    rec = simulate("sway", seed=3, duration_s=30.0)
    an = SwayAnalyzer(rec.fs)
    for i in range(0, len(rec), 37):
        an.push(rec.t_s[i : i + 37], rec.acc_m_s2[i : i + 37])
    assert abs(an.duration_s - 30.0) < 0.1
    assert an.finish() == sway_metrics(rec.t_s, rec.acc_m_s2, fs=rec.fs)
    with pytest.raises(ValueError):
        SwayAnalyzer(100.0).finish()


@pytest.mark.parametrize("seed", [42, 47])
def test_a_wall_slide_set_that_starts_seated_says_nothing_until_the_person_stands(seed):
    # sensor on the front of the thigh: seated, gravity runs through the sensor's z axis, which
    # a standing thigh never does, so standing up is not announced as the start of a slide
    cond = Conditions(distractors=("sit_stand",), strap_roll_deg=20.0)
    rec = simulate("wall-slide", reps=3, fs=104.0, seed=seed, conditions=cond)
    assert rec.truth["distractors"][0]["kind"] == "sit_stand"  # stands up before the first slide
    an = RepAnalyzer("wall-slide", rec.fs)
    events = an.push(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s) + an.finish()
    first_slide = rec.truth["reps"][0]["t_start"]
    assert [e.kind for e in events if e.t_s < first_slide] == []
    assert an.counts_ == rec.truth["counts"]


def test_a_sensor_that_sends_another_rate_than_it_was_set_to_is_said_once(caplog):
    rec = simulate("march", reps=2, fs=52.0, seed=3)
    with caplog.at_level("WARNING", logger="movecoach.signal.streaming"):
        an = RepAnalyzer("march", 104.0)  # set to 104 Hz, sends 52
        for i in range(0, len(rec), 13):
            an.push(rec.t_s[i:i + 13], rec.acc_m_s2[i:i + 13], rec.gyr_rad_s[i:i + 13])
        RepAnalyzer("march", 52.0).push(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s)  # as set: no word
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "52 Hz" in warnings[0] and "104 Hz" in warnings[0]
    assert an.fs == 104.0
