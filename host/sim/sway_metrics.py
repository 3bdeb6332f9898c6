"""Reference sway metrics for the simulator's ground truth (same definitions as the analysis).

Kept here until `movecoach.signal.sway.sway_metrics` exists; then one implementation should serve
both (the definitions below are the contract).
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.signal import butter, sosfiltfilt, welch

from movecoach.signal.types import SwayMetrics

log = logging.getLogger(__name__)


def ap_ml_acc(acc_m_s2: np.ndarray, forward: tuple[float, float, float] = (0.0, 0.0, -1.0)) -> tuple[np.ndarray, np.ndarray]:
    """AP (forward) and ML (left) acceleration in m/s^2, orthogonal to the trial's mean gravity.

    acc_m_s2: (n, 3) m/s^2 specific force in the sensor frame. forward: the sensor axis that
    points forward (lower back: +x up, +y left, +z backward, so forward is -z). Static tilt
    correction (Moe-Nilssen 1998): vertical = direction of the mean specific force; AP = forward
    made orthogonal to it; ML = vertical x AP. Returns two (n,) arrays (means not removed).
    """
    acc = np.asarray(acc_m_s2, dtype=float)
    up = acc.mean(axis=0)
    up /= np.linalg.norm(up)
    f = np.asarray(forward, dtype=float)
    ap_dir = f - np.dot(f, up) * up
    ap_dir /= np.linalg.norm(ap_dir)
    ml_dir = np.cross(up, ap_dir)
    return acc @ ap_dir, acc @ ml_dir


def sway_metrics(acc_m_s2: np.ndarray, fs: float, *, forward: tuple[float, float, float] = (0.0, 0.0, -1.0),
                 cutoff_hz: float = 3.5) -> SwayMetrics:
    """Sway metrics of one quiet-standing trial from lower-back acceleration.

    acc_m_s2: (n, 3) m/s^2 sensor frame, regularly sampled at fs Hz.
    AP/ML from :func:`ap_ml_acc`, means removed, low-passed zero-phase (4th-order Butterworth at
    cutoff_hz, run forward and backward). rms_ap, rms_ml, rms (2-D vector), range = max - min,
    path_length = sum of distances between consecutive (AP, ML) samples, mean_velocity =
    path_length / duration (duration = (n - 1) / fs), jerk = 0.5 * integral((dAP/dt)^2 +
    (dML/dt)^2) dt, ellipse_area_95 = pi * 5.991 * sqrt(det(cov(AP, ML))), centroid_freq_* =
    sqrt(m2 / m0) of the Welch power spectrum (10 s segments).
    """
    ap, ml = ap_ml_acc(acc_m_s2, forward)
    sos = butter(4, cutoff_hz, fs=fs, output="sos")
    ap = sosfiltfilt(sos, ap - ap.mean())
    ml = sosfiltfilt(sos, ml - ml.mean())
    n = len(ap)
    duration = (n - 1) / fs
    path = float(np.sum(np.hypot(np.diff(ap), np.diff(ml))))
    dap = np.gradient(ap, 1.0 / fs)
    dml = np.gradient(ml, 1.0 / fs)
    jerk = 0.5 * float(np.trapezoid(dap**2 + dml**2, dx=1.0 / fs))
    cov = np.cov(np.vstack([ap, ml]))
    area = float(np.pi * 5.991 * np.sqrt(max(np.linalg.det(cov), 0.0)))

    def centroid(x: np.ndarray) -> float:
        f, p = welch(x, fs=fs, nperseg=min(n, int(10 * fs)))
        return float(np.sqrt(np.sum(f**2 * p) / np.sum(p))) if np.sum(p) > 0 else 0.0

    return SwayMetrics(
        rms_ap=float(np.sqrt(np.mean(ap**2))),
        rms_ml=float(np.sqrt(np.mean(ml**2))),
        rms=float(np.sqrt(np.mean(ap**2 + ml**2))),
        range_ap=float(ap.max() - ap.min()),
        range_ml=float(ml.max() - ml.min()),
        path_length=path,
        mean_velocity=path / duration,
        jerk=jerk,
        ellipse_area_95=area,
        centroid_freq_ap=centroid(ap),
        centroid_freq_ml=centroid(ml),
        duration_s=float(duration),
    )
