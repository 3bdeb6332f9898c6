"""Postural sway metrics: definitions, tilt correction, lost packets, sensor noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from movecoach.signal.filters import lowpass
from movecoach.signal.sway import lowpass_denoised_edges, sway_metrics, sway_signals
from movecoach.sim import Conditions, simulate


def _rel(a, b):
    return abs(a - b) / abs(b)


@pytest.fixture(scope="module")
def trial():
    return simulate("sway", seed=12, fs=104.0, duration_s=40.0)


def test_metrics_agree_with_the_noise_free_truth(trial):
    m = sway_metrics(trial.t_s, trial.acc_m_s2, fs=trial.fs).to_json()
    truth = trial.truth["metrics"]
    for k in ("rms_ap", "rms_ml", "rms", "ellipse_area_95", "duration_s"):
        assert _rel(m[k], truth[k]) < 0.05, k
    for k in ("path_length", "mean_velocity", "jerk"):
        assert _rel(m[k], truth[k]) < 0.10, k
    plain = sway_metrics(trial.t_s, trial.acc_m_s2, fs=trial.fs, noise_correction=False)
    assert plain.jerk > m["jerk"] and plain.path_length > m["path_length"]  # noise inflates them


def test_definitions_on_a_known_signal():
    """Pure 0.5 Hz AP sway of 0.1 m/s^2 (sensor +x up, +z backward) and no noise."""
    fs = 100.0
    t = np.arange(0, 60, 1 / fs)
    ap = 0.1 * np.sin(2 * np.pi * 0.5 * t)
    acc = np.column_stack([np.full_like(t, 9.81), 0 * t, -ap])
    m = sway_metrics(t, acc, fs=fs, noise_correction=False)
    assert abs(m.rms_ap - 0.1 / np.sqrt(2)) < 1e-3
    assert m.rms_ml < 1e-6 and m.ellipse_area_95 < 1e-9
    assert abs(m.range_ap - 0.2) < 2e-3
    assert abs(m.path_length - 0.4 * 30) < 0.05  # 30 cycles of 4 x amplitude
    assert abs(m.mean_velocity - m.path_length / 60.0) < 1e-3
    jerk = 0.5 * 60 * 0.5 * (0.1 * 2 * np.pi * 0.5) ** 2
    assert _rel(m.jerk, jerk) < 0.01
    assert abs(m.centroid_freq_ap - 0.5) < 0.05


def test_a_tilted_sensor_gives_the_same_metrics(trial):
    tilt = Rotation.from_euler("yx", [7, -5], degrees=True)
    tilted = tilt.apply(trial.acc_m_s2)
    a = sway_metrics(trial.t_s, trial.acc_m_s2, fs=trial.fs)
    b = sway_metrics(trial.t_s, tilted, fs=trial.fs)
    for k, v in a.to_json().items():
        assert _rel(b.to_json()[k], v) < 0.03, k
    s = sway_signals(trial.t_s, tilted, fs=trial.fs)
    assert abs(s.up @ tilt.apply([1.0, 0, 0]) - 1) < 1e-3


def test_lost_packets_do_not_distort_the_metrics(trial):
    keep = np.ones(len(trial), bool)
    rng = np.random.default_rng(1)
    for i in rng.integers(100, len(trial) - 100, 6):
        keep[i : i + 30] = False  # six bursts of 30 lost samples
    a = sway_metrics(trial.t_s, trial.acc_m_s2, fs=trial.fs)
    b = sway_metrics(trial.t_s[keep], trial.acc_m_s2[keep], fs=trial.fs)
    for k in ("rms", "ellipse_area_95", "path_length", "jerk", "duration_s"):
        assert _rel(getattr(b, k), getattr(a, k)) < 0.05, k


def test_hard_conditions_stay_close():
    rec = simulate("sway", seed=1001, conditions=Conditions.preset("hard", seed=1001))
    m = sway_metrics(rec.t_s, rec.acc_m_s2, fs=rec.fs).to_json()
    for k in ("rms", "ellipse_area_95"):
        assert _rel(m[k], rec.truth["metrics"][k]) < 0.10, k


def test_the_noise_correction_moves_a_noisy_trial_toward_the_noise_free_metrics():
    """Hard sensor noise (0.05 m/s^2 at 104 Hz) inflates every metric; the corrected ones are closer."""
    rec = simulate("sway", seed=7, fs=104.0, duration_s=40.0, conditions=Conditions(acc_noise_m_s2=0.05))
    truth = rec.truth["metrics"]
    plain = sway_metrics(rec.t_s, rec.acc_m_s2, fs=rec.fs, noise_correction=False).to_json()
    fixed = sway_metrics(rec.t_s, rec.acc_m_s2, fs=rec.fs).to_json()
    for k in ("rms", "ellipse_area_95", "path_length", "jerk", "centroid_freq_ap", "centroid_freq_ml"):
        assert plain[k] > truth[k], k  # noise inflates it ...
        assert _rel(fixed[k], truth[k]) < _rel(plain[k], truth[k]) / 2, k  # ... the correction undoes most of it


def test_one_noisy_end_sample_does_not_pin_the_filtered_signal(trial):
    """The plain filter (odd padding) passes through the raw first sample; a 0.3 m/s^2 glitch there
    drags the start of the filtered AP signal all the way. The corrected analysis anchors its ends
    on a quadratic fit over 0.4 s, where one sample weighs about a quarter."""
    acc = trial.acc_m_s2.copy()
    acc[0, 2] -= 0.3  # forward glitch on the very first sample
    for denoised, most in ((False, 1.0), (True, 0.3)):
        before = sway_signals(trial.t_s, trial.acc_m_s2, fs=trial.fs, denoised_edges=denoised)
        after = sway_signals(trial.t_s, acc, fs=trial.fs, denoised_edges=denoised)
        shift = after.ap_m_s2[0] - before.ap_m_s2[0]
        assert 0.2 * most < shift <= 0.3 * most + 1e-3, denoised


def test_denoised_edges_match_the_plain_filter_on_a_smooth_signal():
    """Without noise the fitted ends differ from the plain ones only by the fit's bias on the
    faster (1.7 Hz) component, a few mm/s^2 at the very ends, and not at all 1 s in."""
    fs = 104.0
    t = np.arange(0, 30, 1 / fs)
    x = 0.05 * np.sin(2 * np.pi * 0.3 * t + 1.0) + 0.02 * np.sin(2 * np.pi * 1.7 * t)
    a = lowpass(x, 3.5, fs, order=4)
    b = lowpass_denoised_edges(x, fs)
    assert np.max(np.abs(a - b)) < 0.004
    assert np.max(np.abs(a - b)[int(fs) : -int(fs)]) < 1e-4


def test_too_short_is_a_value_error():
    t = np.arange(0, 2, 0.01)
    with pytest.raises(ValueError, match="at least"):
        sway_metrics(t, np.tile([9.81, 0, 0], (len(t), 1)))
