"""A synthetic history of daily sessions, recorded through a store's real recorder.

For tests, benchmarks and trying the review commands without months of exercise: one session a
day with marches, heel-toe raises, wall slides with holds, a balance trial and a 2-minute walk,
a slow improvement (less sway, deeper slides, longer holds, faster walking, feeling better) plus
session-to-session
noise, a few sessions that stop early (incomplete), and raw samples for some of them. The truth
each session was generated from is returned, so callers can check what review shows.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from movecoach.events import Event, Rep, SessionEnd, SessionStart, StepStart, Sway, Walk
from movecoach.review.swaypath import trial_metrics
from movecoach.samples import SampleBlock
from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2 as G_M_S2
from movecoach.signal.types import SwayMetrics
from movecoach.store import open_store
from movecoach.store.base import Store

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class SyntheticDay:
    """What one generated session was made of (the truth to compare review output with)."""

    session_id: int
    day: str
    complete: bool
    march_amplitude_deg: list[float]
    heel_toe_amplitude_deg: list[float]
    slide_depth_deg: list[float]
    slide_hold_s: list[float]
    sway: SwayMetrics | None
    sway_samples: bool
    feel: int | None
    walk_speed_m_s: float | None = None


@dataclass(frozen=True)
class HistoryModel:
    """The trend the synthetic person follows: value at start, value at the end, session noise SD."""

    slide_depth_deg: tuple[float, float, float] = (38.0, 58.0, 4.0)
    slide_hold_s: tuple[float, float, float] = (3.0, 5.5, 0.8)
    march_amplitude_deg: tuple[float, float, float] = (32.0, 32.0, 3.0)  # no trend: noise only
    heel_toe_amplitude_deg: tuple[float, float, float] = (16.0, 16.0, 2.0)  # no trend
    heel_hold_s: tuple[float, float, float] = (1.6, 2.4, 0.3)  # up on the toes, target 2 s
    sway_rms_m_s2: tuple[float, float, float] = (0.20, 0.12, 0.02)
    feel: tuple[float, float, float] = (5.0, 7.0, 1.0)
    walk_speed_m_s: tuple[float, float, float] = (1.00, 1.15, 0.05)
    walk_cadence_spm: tuple[float, float, float] = (104.0, 104.0, 3.0)  # no trend
    walk_cv: tuple[float, float, float] = (0.040, 0.030, 0.005)
    hold_target_s: float = 5.0
    heel_hold_target_s: float = 2.0


def _val(model: tuple[float, float, float], progress: float, rng: np.random.Generator) -> float:
    start, end, sd = model
    return float(start + (end - start) * progress + rng.normal(0.0, sd))


def synthetic_sway_acc(rms_m_s2: float, *, duration_s: float = 30.0, fs: float = 104.0,
                       tilt_deg: float = 4.0, rng: np.random.Generator) -> np.ndarray:
    """Lower-back acc_m_s2 (n, 3) of quiet standing with AP/ML sway of about rms_m_s2 (m/s^2).

    Sensor frame +x up, +y left, +z backward; the sensor is tilted by tilt_deg (forward) to
    exercise the tilt correction; a little white sensor noise is added.
    """
    n = int(round(duration_s * fs))
    pad = int(5 * fs)  # filter edges are cut off so the trial starts mid-sway
    sos = sps.butter(2, 1.0, fs=fs, output="sos")
    ap = sps.sosfiltfilt(sos, rng.normal(size=n + 2 * pad))[pad:-pad]
    ml = sps.sosfiltfilt(sos, rng.normal(size=n + 2 * pad))[pad:-pad]
    ap *= 0.8 * rms_m_s2 / np.sqrt(np.mean(ap**2))
    ml *= 0.6 * rms_m_s2 / np.sqrt(np.mean(ml**2))
    body = np.column_stack([np.full(n, G_M_S2), ml, -ap])  # (up, left, backward)
    a = math.radians(tilt_deg)
    rot = np.array([[math.cos(a), 0.0, -math.sin(a)], [0.0, 1.0, 0.0], [math.sin(a), 0.0, math.cos(a)]])
    return body @ rot.T + rng.normal(0.0, 0.005, size=(n, 3))


def _sway_from_model(rms: float, rng: np.random.Generator) -> SwayMetrics:
    """Plausible metrics for a trial of the given rms without generating samples."""
    rms_ap, rms_ml = 0.8 * rms, 0.6 * rms
    noise = lambda: float(rng.normal(1.0, 0.05))  # noqa: E731
    mean_velocity = 2.2 * rms * noise()
    return SwayMetrics(
        rms_ap=rms_ap, rms_ml=rms_ml, rms=rms, range_ap=5.0 * rms_ap * noise(),
        range_ml=5.0 * rms_ml * noise(), path_length=mean_velocity * 30.0, mean_velocity=mean_velocity,
        jerk=190.0 * rms**2 * noise(), ellipse_area_95=math.pi * 5.991 * rms_ap * rms_ml * noise(),
        centroid_freq_ap=0.4 * noise(), centroid_freq_ml=0.45 * noise(), duration_s=30.0)


def record_synthetic_history(
    data_dir: str | os.PathLike,
    *,
    days: int = 365,
    end_day: dt.date | None = None,
    seed: int = 0,
    model: HistoryModel | None = None,
    incomplete_days: tuple[int, ...] | None = None,
    sway_sample_days: tuple[int, ...] | None = None,
    feel_skip_p: float = 0.1,
    fs: float = 104.0,
    device_id: str = "movecoach-synth",
    every_days: int = 1,
) -> list[SyntheticDay]:
    """Record `days` daily sessions ending on end_day (default yesterday) into data_dir.

    every_days: one session every this many days (2: 365 sessions span two years with days=365).

    incomplete_days: day indices whose session stops after the marches (no finish); default
    every 45th day. sway_sample_days: day indices that also get 30 s of raw balance samples
    (default: every 60th day and the last day). Every session gets 1 s of raw march samples.
    Returns the truth per day, oldest first.
    """
    model = model or HistoryModel()
    rng = np.random.default_rng(seed)
    end_day = end_day or (dt.date.today() - dt.timedelta(days=1))
    first = end_day - dt.timedelta(days=(days - 1) * every_days)
    if incomplete_days is None:
        incomplete_days = tuple(range(20, days - 1, 45))
    if sway_sample_days is None:
        sway_sample_days = (*range(0, days - 1, 60), days - 1)
    truth: list[SyntheticDay] = []
    with open_store(data_dir, record=True, min_free_mb=10.0, commit_interval_s=0.5) as rec:
        for d in range(days):
            day = first + dt.timedelta(days=d * every_days)
            progress = d / max(days - 1, 1)
            start = dt.datetime.combine(day, dt.time(8, 0)).timestamp() + float(rng.uniform(0, 3600))
            truth.append(_record_day(rec, d, day, start, progress, model, rng,
                                     # the walk has its own draws: the other steps' values stay
                                     # those of a history recorded before there were walks
                                     walk_rng=np.random.default_rng((seed, d)),
                                     incomplete=d in incomplete_days,
                                     sway_samples=d in sway_sample_days,
                                     feel_skip_p=feel_skip_p, fs=fs, device_id=device_id))
    log.info("recorded %d synthetic sessions into %s", days, data_dir)
    return truth


def _record_day(rec: Store, d: int, day: dt.date, start: float, progress: float,
                model: HistoryModel, rng: np.random.Generator, *,
                walk_rng: np.random.Generator, incomplete: bool,
                sway_samples: bool, feel_skip_p: float, fs: float, device_id: str) -> SyntheticDay:
    sess = rec.start_session(device_id=device_id, routine="daily", source="synthetic", fs=fs,
                             started_at=start)
    t = start
    def emit(event_class: type[Event], dt_s: float, **fields) -> None:
        """Record the event dt_s after the previous one."""
        nonlocal t
        t += dt_s
        sess.handle(event_class(t_s=t, session_id=sess.id, device_id=device_id, **fields))

    emit(SessionStart, 0.0, routine="daily", source="synthetic",
         steps=["march", "heel-toe", "wall-slide", "sway", "walk"])
    march, heel_toe, depths, holds = [], [], [], []
    # step 0: seated marches, 2 sets of 10 (and one second of raw thigh samples)
    for set_no in (1, 2):
        emit(StepStart, 5.0, exercise="march", set=set_no, sets=2, target_reps=10, placement="thigh")
        if set_no == 1:
            n = int(fs)
            ts = np.arange(n) / fs
            acc = np.column_stack([np.full(n, G_M_S2), rng.normal(0, 0.3, n), rng.normal(0, 0.3, n)])
            gyr = rng.normal(0, 0.2, (n, 3))
            for lo in range(0, n, n // 4):
                sl = slice(lo, lo + n // 4)
                sess.add_samples(SampleBlock(ts[sl], acc[sl], gyr[sl], fs, start + ts[sl]), step=0)
        for k in range(10):
            amp = _val(model.march_amplitude_deg, progress, rng)
            march.append(amp)
            emit(Rep, 2.0, exercise="march", rep_kind="lift", count=k + 1, set=set_no,
                 amplitude_deg=round(amp, 1), hold_s=0.3, t_start_s=k * 2.0,
                 t_peak_s=k * 2.0 + 0.6, t_end_s=k * 2.0 + 1.4)
    if incomplete:
        sess.close(ended_at=t)  # the person stopped (or the laptop died) after the marches
        return SyntheticDay(sess.id, day.isoformat(), False, march, [], [], [], None, False, None)
    # step 1: heel-toe raises, 1 set of 10 each, alternating, a 2 s hold up on the toes
    emit(StepStart, 20.0, exercise="heel-toe", set=1, sets=1, target_reps=20,
         hold_target_s=model.heel_hold_target_s, placement="foot")
    for k in range(20):
        amp = _val(model.heel_toe_amplitude_deg, progress, rng)
        heel_toe.append(amp)
        if k % 2 == 0:
            hold = max(0.0, _val(model.heel_hold_s, progress, rng))
            hold_rep = {"rep_kind": "heel_raise", "hold_s": round(hold, 2),
                        "hold_target_s": model.heel_hold_target_s,
                        "hold_met": hold + 0.2 >= model.heel_hold_target_s}
        else:
            hold_rep = {"rep_kind": "toe_raise", "hold_s": 0.5}
        emit(Rep, 2.5, exercise="heel-toe", count=k + 1, set=1, amplitude_deg=round(amp, 1),
             **hold_rep)
    # step 2: wall slides with a 5 s hold, 2 sets of 5
    for set_no in (1, 2):
        emit(StepStart, 20.0, exercise="wall-slide", set=set_no, sets=2, target_reps=5,
             hold_target_s=model.hold_target_s, placement="thigh")
        for k in range(5):
            depth = _val(model.slide_depth_deg, progress, rng)
            hold = max(0.0, _val(model.slide_hold_s, progress, rng))
            depths.append(depth)
            holds.append(hold)
            emit(Rep, 8.0, exercise="wall-slide", rep_kind="slide", count=k + 1, set=set_no,
                 amplitude_deg=round(depth, 1), depth_deg=round(depth, 1), hold_s=round(hold, 2),
                 hold_target_s=model.hold_target_s, hold_met=hold + 0.25 >= model.hold_target_s)
    # step 3: the balance trial
    emit(StepStart, 20.0, exercise="sway", set=1, sets=1, placement="lower-back")
    rms = max(0.02, _val(model.sway_rms_m_s2, progress, rng))
    if sway_samples:
        acc = synthetic_sway_acc(rms, fs=fs, rng=rng)
        ts = (t - start) + np.arange(len(acc)) / fs  # the sensor clock runs on from the marches
        gyr = rng.normal(0, 0.01, acc.shape)
        for lo in range(0, len(acc), 26):
            sl = slice(lo, lo + 26)
            sess.add_samples(SampleBlock(ts[sl], acc[sl], gyr[sl], fs, start + ts[sl]), step=3)
        metrics = trial_metrics(ts, acc, fs=fs)
    else:
        metrics = _sway_from_model(rms, rng)
    emit(Sway, 31.0, exercise="sway", metrics={k: round(v, 6) for k, v in metrics.to_json().items()})
    # step 4: a 2-minute walk (its totals and bouts; no raw samples)
    emit(StepStart, 20.0, exercise="walk", set=1, sets=1, placement="foot", duration_s=120.0)
    walk = _synthetic_walk(model, progress, walk_rng)
    emit(Walk, 125.0, **walk)
    feel = None
    if rng.uniform() >= feel_skip_p:
        feel = int(np.clip(round(_val(model.feel, progress, rng)), 1, 10))
        sess.set_feel(feel, None)
    summary = {"routine": "daily", "started_at": start, "duration_s": round(t - start, 1),
               "complete": True, "sway": metrics.to_json(), "feel": feel,
               "walk": {k: v for k, v in walk.items() if k != "bouts"}}
    emit(SessionEnd, 1.0, summary=summary, complete=True)
    sess.finish(summary, ended_at=t)
    sess.close()
    return SyntheticDay(sess.id, day.isoformat(), True, march, heel_toe, depths, holds, metrics,
                        sway_samples, feel, walk["speed_m_s"])


def _synthetic_walk(model: HistoryModel, progress: float, rng: np.random.Generator) -> dict:
    """A 2-minute walk's `walk` event: two bouts (a pause to turn round between), the model's
    speed, cadence and stride-time variation."""
    speed = max(0.3, _val(model.walk_speed_m_s, progress, rng))
    cadence = max(60.0, _val(model.walk_cadence_spm, progress, rng))
    cv = max(0.005, _val(model.walk_cv, progress, rng))
    walking_s = 115.0
    strides = int(round(walking_s * cadence / 120))
    distance = speed * walking_s
    bouts = []
    for i, share in enumerate((0.5, 0.5)):
        n = int(round(strides * share))
        bouts.append({"t_start": 2.0 + i * 62.0, "t_end": 2.0 + i * 62.0 + walking_s * share,
                      "strides": n, "cadence_spm": round(cadence, 1),
                      "stride_time_s": round(120 / cadence, 3), "stride_time_cv": round(cv, 4),
                      "stance_frac": 0.6, "stride_length_m": round(distance / strides, 3),
                      "speed_m_s": round(speed, 3), "distance_m": round(distance * share, 2),
                      "turns": 1})
    return {"exercise": "walk", "test": None, "duration_s": 120.0, "walking_s": walking_s,
            "distance_m": round(distance, 2), "speed_m_s": round(speed, 3),
            "cadence_spm": round(cadence, 1), "strides": strides,
            "stride_time_s": round(120 / cadence, 3), "stride_time_cv": round(cv, 4),
            "stance_frac": 0.6, "stride_length_m": round(distance / strides, 3), "turns": 2,
            "test_time_s": None, "test_distance_m": None, "test_done": None, "bouts": bouts}
