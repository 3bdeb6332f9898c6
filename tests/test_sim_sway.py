"""Simulated quiet standing: an inverted pendulum seen from the lower back, and its true sway metrics."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from movecoach.signal.types import SwayMetrics
from movecoach.sim import Conditions, simulate


def brief_definitions(acc_m_s2: np.ndarray, fs: float) -> dict[str, float]:
    """The sway metrics transcribed independently from their written definitions (not the
    analysis code): tilt-corrected AP (-z made orthogonal to mean gravity) and ML (up x AP), means
    removed, zero-phase 4th-order Butterworth at 3.5 Hz."""
    up = acc_m_s2.mean(axis=0) / np.linalg.norm(acc_m_s2.mean(axis=0))
    fwd = np.array([0.0, 0.0, -1.0]) - np.dot([0.0, 0.0, -1.0], up) * up
    fwd /= np.linalg.norm(fwd)
    left = np.cross(up, fwd)
    sos = butter(4, 3.5, fs=fs, output="sos")
    ap = sosfiltfilt(sos, acc_m_s2 @ fwd - np.mean(acc_m_s2 @ fwd))
    ml = sosfiltfilt(sos, acc_m_s2 @ left - np.mean(acc_m_s2 @ left))
    duration = (len(ap) - 1) / fs
    path = np.sum(np.hypot(np.diff(ap), np.diff(ml)))
    vel_ap, vel_ml = np.gradient(ap, 1 / fs), np.gradient(ml, 1 / fs)
    return {
        "rms_ap": np.sqrt(np.mean(ap**2)), "rms_ml": np.sqrt(np.mean(ml**2)),
        "rms": np.sqrt(np.mean(ap**2 + ml**2)),
        "range_ap": np.ptp(ap), "range_ml": np.ptp(ml),
        "path_length": path, "mean_velocity": path / duration,
        "jerk": 0.5 * np.trapezoid(vel_ap**2 + vel_ml**2, dx=1 / fs),
        "ellipse_area_95": np.pi * 5.991 * np.sqrt(np.linalg.det(np.cov(ap, ml))),
        "duration_s": duration,
    }


def test_sway_truth_metrics_follow_the_written_definitions():
    rec = simulate("sway", seed=3, duration_s=40.0, fs=100.0)
    truth = rec.truth["metrics"]
    mine = brief_definitions(rec.clean.acc_m_s2, rec.fs)
    for k in ("rms_ap", "rms_ml", "rms", "range_ap", "range_ml", "path_length", "mean_velocity",
              "ellipse_area_95", "duration_s"):
        assert truth[k] == pytest.approx(mine[k], rel=1e-4), k
    assert truth["jerk"] == pytest.approx(mine["jerk"], rel=0.1)  # differences vs gradient
    assert 0.05 < truth["centroid_freq_ap"] < 2.0


def test_the_truth_names_every_metric_the_analysis_measures():
    truth = simulate("sway", seed=5, duration_s=10.0, fs=52.0).truth["metrics"]
    assert set(truth) == {f.name for f in fields(SwayMetrics)}


def test_quiet_standing_lower_back_sensor_reads_gravity_on_plus_x():
    rec = simulate("sway", seed=1, duration_s=30.0, conditions=Conditions(noise=False, bias=False, quantise=False))
    mean = rec.acc_m_s2.mean(axis=0)
    assert np.linalg.norm(mean) == pytest.approx(9.81, abs=0.01)
    assert mean[0] > 9.7  # +x up, leaning less than ~8 deg
    assert rec.truth["counts"] == {} and rec.truth["reps"] == []


def test_centre_of_mass_sway_is_millimetres_and_the_trunk_feels_hundredths_of_g():
    for seed in range(4):
        rec = simulate("sway", seed=seed, duration_s=30.0)
        body = rec.truth["body"]
        assert 0.0015 <= body["com_rms_ap_m"] <= 0.008 and 0.0015 <= body["com_rms_ml_m"] <= 0.008
        m = rec.truth["metrics"]
        assert 0.02 < m["rms"] < 0.15  # m/s^2
        assert m["range_ap"] < 1.0 and m["range_ml"] < 1.0


def test_some_people_sway_more_forward_others_more_sideways():
    metrics = [simulate("sway", seed=s, duration_s=20.0, fs=52.0).truth["metrics"] for s in range(8)]
    bigger_ap = [m["rms_ap"] > m["rms_ml"] for m in metrics]
    assert any(bigger_ap) and not all(bigger_ap)


def test_sway_length_and_rate_follow_the_request():
    rec = simulate("sway", seed=2, duration_s=45.0, fs=52.0)
    assert rec.fs == 52.0
    assert rec.t_s[-1] - rec.t_s[0] == pytest.approx(45.0, abs=0.05)
    assert np.median(np.diff(rec.t_s)) == pytest.approx(1 / 52.0, rel=1e-3)
