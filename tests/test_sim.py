"""The IMU simulator: physics you can check by hand, truth that matches the request, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from movecoach.sim import Conditions, SimRecording, simulate

G = 9.81


def integrate_gyro(gyr_rad_s: np.ndarray, fs: float) -> Rotation:
    """Orientation relative to the first sample, by integrating body rates (trapezoid)."""
    steps = Rotation.from_rotvec((gyr_rad_s[1:] + gyr_rad_s[:-1]) / 2 / fs)
    out = [Rotation.identity()]
    for s in steps:
        out.append(out[-1] * s)
    return Rotation.concatenate(out)


def pitch_from_gravity_deg(acc_m_s2: np.ndarray) -> np.ndarray:
    """Foot pitch (toes down positive) from the direction of gravity in the foot frame."""
    up = acc_m_s2 / np.linalg.norm(acc_m_s2, axis=1, keepdims=True)
    return np.degrees(np.arcsin(-up[:, 0]))


def at(rec: SimRecording, t_s: float) -> int:
    return int(np.argmin(np.abs(rec.t_s - t_s)))


def test_heel_toe_at_rest_the_foot_feels_gravity_on_plus_z():
    rec = simulate("heel-toe", reps=2, seed=1, conditions=Conditions(noise=False, bias=False, quantise=False))
    first_rep = rec.truth["reps"][0]["t_start"]
    rest = rec.acc_m_s2[rec.t_s < first_rep - 0.5]
    assert np.allclose(np.linalg.norm(rest, axis=1), G, atol=1e-3)
    assert np.allclose(rest.mean(axis=0), [0.0, 0.0, G], atol=1e-3)
    assert np.abs(rec.gyr_rad_s[rec.t_s < first_rep - 0.5]).max() < 1e-6


def test_ten_heel_toe_reps_give_ten_heel_raises_and_ten_toe_raises():
    rec = simulate("heel-toe", reps=10, seed=4)
    assert rec.truth["counts"] == {"heel_raise": 10, "toe_raise": 10}
    kinds = [r["kind"] for r in rec.truth["reps"]]
    assert kinds == ["heel_raise", "toe_raise"] * 10
    for r in rec.truth["reps"]:
        assert r["t_start"] < r["t_peak"] < r["t_end"]
        lo, hi = (12, 38) if r["kind"] == "heel_raise" else (8, 27)
        assert lo <= r["amplitude_deg"] <= hi
        assert 0.5 <= r["hold_s"] <= 3.5


def test_blocked_pattern_does_all_heel_raises_first():
    rec = simulate("heel-toe", reps=3, seed=2, pattern="blocked")
    assert [r["kind"] for r in rec.truth["reps"]] == ["heel_raise"] * 3 + ["toe_raise"] * 3


def test_integrated_gyro_matches_the_tilt_seen_by_the_accelerometer():
    """Consistency of the two sensors: the pitch from integrating the gyro equals the pitch of the
    gravity direction wherever the foot is still (rest and holds), to a fraction of a degree."""
    rec = simulate("heel-toe", reps=3, seed=2).clean
    rot = integrate_gyro(rec.gyr_rad_s, rec.fs)
    up_int = rot.inv().apply([0.0, 0.0, 1.0])  # the foot starts level
    pitch_int = np.degrees(np.arcsin(-up_int[:, 0]))
    pitch_acc = pitch_from_gravity_deg(rec.acc_m_s2)
    for r in rec.truth["reps"]:
        i = at(rec, r["t_peak"])
        sign = 1 if r["kind"] == "heel_raise" else -1
        assert pitch_int[i] == pytest.approx(sign * r["amplitude_deg"], abs=0.3)
        assert pitch_acc[i] == pytest.approx(pitch_int[i], abs=0.3)


def test_same_seed_same_recording_other_seed_other_recording():
    a = simulate("march", reps=3, seed=11, conditions=Conditions.preset("hard", 11))
    b = simulate("march", reps=3, seed=11, conditions=Conditions.preset("hard", 11))
    c = simulate("march", reps=3, seed=12, conditions=Conditions.preset("hard", 11))
    assert np.array_equal(a.t_s, b.t_s) and np.array_equal(a.acc_m_s2, b.acc_m_s2)
    assert a.truth == b.truth
    assert a.acc_m_s2.shape != c.acc_m_s2.shape or not np.array_equal(a.acc_m_s2, c.acc_m_s2)


@pytest.mark.parametrize("exercise,kind", [("march", "lift"), ("wall-slide", "slide")])
def test_truth_counts_equal_the_requested_reps(exercise, kind):
    rec = simulate(exercise, reps=4, seed=3)
    assert rec.truth["counts"] == {kind: 4}
    assert len(rec.truth["reps"]) == 4


def test_sway_has_metrics_and_no_reps():
    rec = simulate("sway", seed=5, duration_s=30.0)
    assert rec.truth["reps"] == [] and rec.truth["counts"] == {}
    m = rec.truth["metrics"]
    assert 0.01 < m["rms"] < 0.3
    assert m["duration_s"] == pytest.approx(30.0, abs=0.05)
    assert rec.t_s[-1] == pytest.approx(30.0, abs=0.05)
