"""A walk step's results from its strides: the timed tests, the totals, what is said and shown."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from movecoach import words
from movecoach.coach.routine import walk_step
from movecoach.coach.session import walk_summary
from movecoach.coach.timed_walk import FEET_25_M, distance_by, time_to, totals
from movecoach.events import Rest, StepStart, Walk, WalkMinute, WalkProgress
from movecoach.sinks.console import ConsoleSink
from movecoach.sinks.speech import SpeechSink


def strides(n: int, *, t0: float = 10.0, time_s: float = 1.1, length_m: float = 1.3) -> list:
    """n even strides from t0 (s): each swing 40 % of the stride, the stance before it 60 %."""
    out = []
    for i in range(n):
        start = t0 + i * time_s
        out.append(SimpleNamespace(t_start=start, t_end=start + 0.4 * time_s, time_s=time_s,
                                   length_m=length_m, stance_s=0.6 * time_s, swing_s=0.4 * time_s,
                                   turn_deg=0.0))
    return out


def bout(ss: list, **kw) -> SimpleNamespace:
    walking = ss[-1].t_end - ss[0].t_start
    distance = sum(s.length_m for s in ss)
    fields = dict(t_start=ss[0].t_start, t_end=ss[-1].t_end, strides=len(ss),
                  cadence_spm=120 * len(ss) / walking, stride_time_s=ss[0].time_s,
                  stride_time_cv=0.02, stance_frac=0.6, stride_length_m=ss[0].length_m,
                  speed_m_s=distance / walking, distance_m=distance, turns=0)
    return SimpleNamespace(**{**fields, **kw})


def test_the_25_foot_time_runs_from_the_first_lift_to_7_62_m_within_the_stride_that_passes_it():
    ss = strides(8)  # 1.3 m each: 7.62 m falls 0.86 of the way through the 6th stride
    frac = (FEET_25_M - 5 * 1.3) / 1.3
    expected = (ss[5].t_start + frac * (ss[5].t_end - ss[5].t_start)) - ss[0].t_start
    assert time_to(ss, FEET_25_M) == pytest.approx(expected)
    assert time_to(ss[:5], FEET_25_M) is None  # 6.5 m: not there


def test_the_2_minute_distance_counts_the_part_of_the_stride_under_way_at_2_minutes():
    ss = strides(3, t0=0.0, time_s=1.0, length_m=1.0)  # strides 0-0.4, 1-1.4, 2-2.4 s
    assert distance_by(ss, 1.2) == pytest.approx(1.5)  # the first, and half of the second
    assert distance_by(ss, 5.0) == pytest.approx(3.0)


def test_totals_weigh_each_bout_by_its_strides_and_leave_the_pauses_out():
    a, b = strides(10, t0=0.0), strides(30, t0=100.0, length_m=1.5)
    t = totals(a + b, [bout(a, stride_time_cv=0.05), bout(b, stride_time_cv=0.01)])
    assert (t.strides, t.bouts) == (40, 2)
    assert t.distance_m == pytest.approx(13 + 45)
    walking = (a[-1].t_end - a[0].t_start) + (b[-1].t_end - b[0].t_start)
    assert t.walking_s == pytest.approx(walking) and t.speed_m_s == pytest.approx(58 / walking)
    assert t.stride_time_cv == pytest.approx((10 * 0.05 + 30 * 0.01) / 40)


def test_a_25_foot_walk_is_told_in_seconds_and_a_2_minute_walk_in_metres():
    ss = strides(8)
    quick = walk_summary(walk_step(test="25ft"), [SimpleNamespace(strides=ss, bouts=[bout(ss)])],
                         t0=9.0, end_t=16.0)
    assert quick["test"] == "25ft" and quick["test_done"] is True
    assert quick["test_time_s"] == pytest.approx(time_to(ss, FEET_25_M), abs=0.01)
    assert len(quick["stride_list"]) == 8 and quick["bouts"][0]["strides"] == 8
    assert words.walk_text(quick) == (
        f"Timed 25-foot walk: {quick['test_time_s']:.1f} seconds, at "
        f"{FEET_25_M / quick['test_time_s']:.1f} metres a second.")
    assert words.walk_summary_words(quick) == f"a timed 25-foot walk in {quick['test_time_s']:.1f} seconds"

    long = strides(100, t0=0.0, time_s=1.25, length_m=1.5)  # 100 strides in 125 s
    two = walk_summary(walk_step(test="2min"), [SimpleNamespace(strides=long, bouts=[bout(long)])],
                       t0=0.0, end_t=120.0)
    assert two["test_distance_m"] == pytest.approx(96 * 1.5 + 1.5 * 0.0, abs=0.01)  # 96 by 120 s
    assert words.walk_text(two).startswith("Two-minute walk test: 144 metres in 2 minutes, at ")
    assert words.walk_summary_words(two) == "a two-minute walk test of 144 metres"


def test_a_walk_with_no_strides_says_so_instead_of_zero_metres():
    empty = walk_summary(walk_step(duration_s=60), [SimpleNamespace(strides=[], bouts=[])],
                         t0=0.0, end_t=60.0)
    assert empty["strides"] == 0 and empty["speed_m_s"] is None and empty["stride_time_cv"] is None
    assert words.walk_text(empty) == "Walk done: no walking steps were found."
    not_there = walk_summary(walk_step(test="25ft"), [SimpleNamespace(strides=strides(3), bouts=[])],
                             t0=0.0, end_t=180.0)
    assert not_there["test_done"] is False and not_there["test_time_s"] is None
    assert words.walk_text(not_there) == ("Timed 25-foot walk: the 7.6 metres were not reached "
                                          "(3.9 metres walked).")


def test_the_walk_step_is_introduced_counted_each_minute_and_its_result_spoken(tmp_path):
    start = {"exercise": "walk", "set": 1, "sets": 1, "target_reps": None, "duration_s": 120.0,
             "placement": "Strap the sensor on the top of your foot."}
    assert words.step_header(start) == "Walking: walk for 2 minutes"
    assert words.step_header({**start, "test": "25ft"}) == (
        "Timed 25-foot walk: 25 feet (7.6 metres), as quickly as you safely can")
    result = {"exercise": "walk", "test": None, "duration_s": 120.0, "distance_m": 151.6,
              "speed_m_s": 1.27, "cadence_spm": 108.4, "strides": 110}
    stride = {"t_start": 60.1, "t_end": 61.2, "time_s": 1.1, "length_m": 1.4, "stance_s": 0.66,
              "swing_s": 0.44, "turn_deg": 1.0}
    events = [StepStart(t_s=1.0, **start),
              WalkMinute(t_s=61.0, exercise="walk", minute=1, distance_m=76.2, strides=54),
              WalkProgress(t_s=62.0, exercise="walk", strides=55, distance_m=77.5, elapsed_s=61.2,
                           stride=stride),
              Walk(t_s=122.0, **result)]
    with SpeechSink(wav_dir=tmp_path) as voice:
        for e in events:
            voice.handle(e)
    assert voice.spoken == [
        "Walking: walk for 2 minutes. Get ready: strap the sensor on the top of your foot.",
        "1 minute: 76 metres so far.",
        "You walked 152 metres in 2 minutes, at 1.3 metres a second and 108 steps a minute.",
    ]
    assert words.summary_words({"steps": [], "sway": {"rms": 0.1}, "walk": result}) == (
        "a balance trial and a walk of 152 metres")


def test_the_console_shows_the_walk_as_it_goes_and_its_result():
    import io

    out = io.StringIO()
    console = ConsoleSink(out, tty=False)
    console.handle(StepStart(t_s=0.0, exercise="walk", set=1, sets=1, duration_s=120.0,
                             placement="On your foot."))
    console.handle(WalkProgress(t_s=1.0, exercise="walk", strides=42, distance_m=55.4, elapsed_s=83.0,
                                stride={"t_end": 83.0, "length_m": 1.3}))
    console.status("walk", 42, None, None, 83.0)
    assert console.live_text() == "Walking · 1:23 of 2:00 · 55 metres · 42 strides"
    console.handle(WalkMinute(t_s=2.0, exercise="walk", minute=1, distance_m=40.0, strides=30))
    console.handle(Walk(t_s=3.0, exercise="walk", distance_m=90.0, duration_s=120.0, strides=70,
                        speed_m_s=0.8, cadence_spm=96))
    lines = [ln.split(" ", 1)[1] for ln in out.getvalue().splitlines()]
    assert lines[-2:] == ["  1 minute: 40 metres so far.",
                          "  You walked 90 metres in 2 minutes, at 0.8 metres a second and 96 steps a minute."]


def test_the_25_foot_walk_is_done_twice_and_scored_as_the_mean_of_its_trials(tmp_path):
    first = {"exercise": "walk", "test": "25ft", "trial": 1, "trials": 2, "test_time_s": 6.7,
             "test_done": True, "distance_m": 8.4}
    second = {**first, "trial": 2, "test_time_s": 6.3, "trial_times_s": [6.7, 6.3], "test_mean_s": 6.5}
    assert words.step_header({**first, "placement": "x"}) == (
        "Timed 25-foot walk (trial 1 of 2): 25 feet (7.6 metres), as quickly as you safely can")
    with SpeechSink(wav_dir=tmp_path) as voice:
        for event in (Walk(t_s=1.0, **first), Rest(t_s=2.0, seconds=30.0, walk_back=True),
                      Walk(t_s=3.0, **second)):
            voice.handle(event)
    assert voice.spoken == [
        "Timed 25-foot walk (trial 1 of 2): 6.7 seconds, at 1.1 metres a second.",
        "Walk back to the start, turn round and stand still.",
        "Timed 25-foot walk (trial 2 of 2): 6.3 seconds, at 1.2 metres a second. Your time, the "
        "mean of your trials: 6.5 seconds.",
    ]
    assert words.walk_summary_words(second) == "a timed 25-foot walk in 6.5 seconds (the mean of your trials)"
