"""The true sway metrics of a simulated standing trial, from its noise-free motion.

The simulator's own plain transcription of the written definitions (the module docstring of
:mod:`movecoach.signal.sway`), kept apart from the analysis it is there to check: no code of
``movecoach.signal`` runs here, only numpy and scipy. Input: the noise-free recording the
simulator made (regular grid, no sensor noise, bias, quantisation, jitter or loss), so there is
no resampling and nothing to correct for noise.

Definitions (lower-back sensor frame: +x up, +y left, +z backward):

- the trial's mean gravity direction ``up`` = the mean specific force, normalised; AP (forward)
  is sensor -z and ML (left) is sensor +y, each made orthogonal to ``up`` (and ML to AP);
- each projection has its mean removed and is low-passed with a zero-phase 4th-order Butterworth
  at 3.5 Hz (odd padding about the end samples, scipy's ``sosfiltfilt``);
- rms_ap, rms_ml: root mean square; rms: of the resultant sqrt(AP^2 + ML^2); range_*: max - min;
  path_length: sum of the distances between consecutive (AP, ML) samples; mean_velocity:
  path_length / duration; jerk: 0.5 * integral((dAP/dt)^2 + (dML/dt)^2) dt (derivatives by
  differences between neighbouring samples, the integral as their sum times dt);
  ellipse_area_95: pi * 5.991 * sqrt(det(cov(AP, ML))); centroid_freq_*: sqrt(m2 / m0) of the
  Welch PSD (10 s segments, the whole band); duration_s: (n - 1) / fs.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt, welch

CUTOFF_HZ = 3.5  # the written definition's low-pass (4th order, zero phase)
CHI2_2DOF_95 = 5.991  # chi-square quantile: 95 % of a 2-D normal lies inside its ellipse
WELCH_SEGMENT_S = 10.0


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def true_sway_metrics(acc_m_s2: np.ndarray, fs: float) -> dict[str, float]:
    """The sway metrics (m/s^2 family, see the module docstring) of a noise-free trial.

    acc_m_s2: (n, 3) m/s^2 specific force in the lower-back sensor frame on a regular grid at
    fs Hz (the simulator's noise-free recording). Returns the metrics by name, as
    ``SwayMetrics`` names them."""
    acc = np.asarray(acc_m_s2, dtype=float)
    up = _unit(acc.mean(axis=0))
    backward, left = np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])
    fwd = _unit(-backward - (-backward @ up) * up)
    left = _unit(left - (left @ up) * up - (left @ fwd) * fwd)
    sos = butter(4, CUTOFF_HZ, btype="lowpass", fs=fs, output="sos")
    ap_raw, ml_raw = acc @ fwd, acc @ left
    ap = sosfiltfilt(sos, ap_raw - ap_raw.mean(), padtype="odd")
    ml = sosfiltfilt(sos, ml_raw - ml_raw.mean(), padtype="odd")

    dt = 1.0 / fs
    duration = (len(ap) - 1) * dt
    path = float(np.sum(np.sqrt(np.diff(ap) ** 2 + np.diff(ml) ** 2)))
    v_ap, v_ml = np.diff(ap) / dt, np.diff(ml) / dt
    jerk = 0.5 * float(np.sum(v_ap**2 + v_ml**2) * dt)
    cov = np.cov(ap, ml)

    def centroid(x: np.ndarray) -> float:
        f, p = welch(x, fs=fs, nperseg=int(min(len(x), round(WELCH_SEGMENT_S * fs))))
        return float(np.sqrt(np.sum(f**2 * p) / np.sum(p)))

    return {
        "rms_ap": float(np.sqrt(np.mean(ap**2))),
        "rms_ml": float(np.sqrt(np.mean(ml**2))),
        "rms": float(np.sqrt(np.mean(ap**2 + ml**2))),
        "range_ap": float(ap.max() - ap.min()),
        "range_ml": float(ml.max() - ml.min()),
        "path_length": path,
        "mean_velocity": path / duration,
        "jerk": jerk,
        "ellipse_area_95": float(np.pi * CHI2_2DOF_95 * np.sqrt(np.linalg.det(cov))),
        "centroid_freq_ap": centroid(ap),
        "centroid_freq_ml": centroid(ml),
        "duration_s": float(duration),
    }
