"""Postural sway from trunk (lower back) acceleration during quiet standing.

Sensor frame at the lower back: +x up, +y left, +z backward (within ~10 deg). Method:

1. the samples are put on a uniform grid at the recording's own rate (short and long gaps filled
   by linear interpolation, :mod:`movecoach.signal.resample`) so lost packets do not distort
   filters, path length or jerk;
2. static tilt correction (Moe-Nilssen 1998): the accelerations are projected on two axes
   orthogonal to the mean gravity direction of the whole trial: AP (forward, from sensor -z)
   and ML (left, +y);
3. means removed, zero-phase 4th-order Butterworth low-pass at 3.5 Hz;
4. metrics (units of acceleration, m/s^2):

   - rms_ap, rms_ml: root mean square; rms: of the resultant sqrt(AP^2 + ML^2)
   - range_ap, range_ml: max - min
   - path_length: sum of distances between consecutive (AP, ML) samples
   - mean_velocity: path_length / duration
   - jerk: 0.5 * integral((dAP/dt)^2 + (dML/dt)^2) dt
   - ellipse_area_95: pi * 5.991 * sqrt(det(cov(AP, ML)))  (95 % confidence ellipse)
   - centroid_freq_ap/ml: spectral centroid sqrt(m2 / m0) of the Welch PSD (Prieto et al. 1996)
     between 0.15 and 5 Hz
   - duration_s: last minus first sample time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from movecoach.signal.filters import lowpass
from movecoach.signal.resample import estimate_fs, resample_uniform
from movecoach.signal.types import SwayMetrics

log = logging.getLogger(__name__)

SWAY_CUTOFF_HZ = 3.5
CHI2_95_2DOF = 5.991
MIN_DURATION_S = 5.0


@dataclass(frozen=True)
class SwaySignals:
    """Tilt-corrected, low-passed trunk accelerations on a uniform grid.

    t_s (n,) s; ap_m_s2 (n,) forward; ml_m_s2 (n,) left; fs Hz; up (3,) mean up direction in the
    sensor frame."""

    t_s: np.ndarray
    ap_m_s2: np.ndarray
    ml_m_s2: np.ndarray
    fs: float
    up: np.ndarray


def sway_signals(t_s: np.ndarray, acc_m_s2: np.ndarray, *, fs: float | None = None) -> SwaySignals:
    """AP/ML accelerations (m/s^2) from lower-back acc (n, 3) m/s^2, sensor frame +x up, +y left,
    +z backward; t_s (n,) s may be irregular or gappy; fs Hz (default: from the timestamps)."""
    t = np.asarray(t_s, dtype=float)
    acc = np.asarray(acc_m_s2, dtype=float)
    if acc.ndim != 2 or acc.shape[1] != 3 or acc.shape[0] != t.shape[0]:
        raise ValueError(f"acc_m_s2 must be (n, 3) with n = len(t_s) = {t.shape[0]}, got {acc.shape}")
    if fs is None:
        fs = estimate_fs(t)
    grid = resample_uniform(t, acc, fs, max_gap_s=np.inf)
    a = grid.x
    if a.shape[0] < 2 or grid.t_s[-1] - grid.t_s[0] < MIN_DURATION_S:
        raise ValueError(f"sway needs at least {MIN_DURATION_S:.0f} s of standing")
    up = a.mean(axis=0)
    up /= np.linalg.norm(up)
    fwd = np.array([0.0, 0.0, -1.0])
    fwd = fwd - np.dot(fwd, up) * up
    fwd /= np.linalg.norm(fwd)
    left = np.cross(up, fwd)
    ap = a @ fwd
    ml = a @ left
    ap = lowpass(ap - ap.mean(), SWAY_CUTOFF_HZ, fs, order=4)
    ml = lowpass(ml - ml.mean(), SWAY_CUTOFF_HZ, fs, order=4)
    return SwaySignals(grid.t_s, ap, ml, float(fs), up)


def _centroid_freq(x: np.ndarray, fs: float) -> float:
    nper = int(min(x.shape[0], round(20.0 * fs)))
    f, pxx = sps.welch(x, fs=fs, nperseg=nper, detrend="linear")
    band = (f >= 0.15) & (f <= 5.0)
    m0 = float(np.sum(pxx[band]))
    m2 = float(np.sum(f[band] ** 2 * pxx[band]))
    return float(np.sqrt(m2 / m0)) if m0 > 0 else 0.0


def metrics_from_signals(s: SwaySignals) -> SwayMetrics:
    """The :class:`SwayMetrics` of tilt-corrected, filtered AP/ML signals (definitions above)."""
    ap, ml, fs = s.ap_m_s2, s.ml_m_s2, s.fs
    duration = float(s.t_s[-1] - s.t_s[0])
    d_ap = np.diff(ap)
    d_ml = np.diff(ml)
    path = float(np.sum(np.hypot(d_ap, d_ml)))
    jerk = float(0.5 * np.sum((d_ap * fs) ** 2 + (d_ml * fs) ** 2) / fs)
    cov = np.cov(np.vstack([ap, ml]))
    det = max(float(np.linalg.det(cov)), 0.0)
    return SwayMetrics(
        rms_ap=float(np.sqrt(np.mean(ap**2))),
        rms_ml=float(np.sqrt(np.mean(ml**2))),
        rms=float(np.sqrt(np.mean(ap**2 + ml**2))),
        range_ap=float(np.ptp(ap)),
        range_ml=float(np.ptp(ml)),
        path_length=path,
        mean_velocity=path / duration,
        jerk=jerk,
        ellipse_area_95=float(np.pi * CHI2_95_2DOF * np.sqrt(det)),
        centroid_freq_ap=_centroid_freq(ap, fs),
        centroid_freq_ml=_centroid_freq(ml, fs),
        duration_s=duration,
    )


def sway_metrics(t_s: np.ndarray, acc_m_s2: np.ndarray, *, fs: float | None = None) -> SwayMetrics:
    """Sway metrics of one quiet-standing trial.

    t_s (n,) seconds (irregular/gappy allowed); acc_m_s2 (n, 3) m/s^2, lower-back sensor frame
    (+x up, +y left, +z backward); fs in Hz, default estimated from t_s.
    """
    return metrics_from_signals(sway_signals(t_s, acc_m_s2, fs=fs))
