"""The sway path (AP vs ML acceleration) of a balance trial, recomputed from its raw samples.

The report plots the path of a trial with its 95% confidence ellipse. The path is recomputed
from the recorded samples (samples table, the sway step's index) with
:mod:`movecoach.signal.sway` rather than stored at sway time, so the recording stays raw and an
improved analysis re-draws old trials consistently.

Frame: lower-back sensor, +x up, +y left, +z backward. AP (forward) = -z, ML (left) = +y, both
taken orthogonal to the trial's mean gravity direction (tilt correction), 3.5 Hz zero-phase
4th-order Butterworth low-pass, means removed — the same definition as
:class:`movecoach.signal.types.SwayMetrics`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from movecoach.signal.types import SwayMetrics

log = logging.getLogger(__name__)

CHI2_2DOF_95 = 5.991464547107979  # chi-square quantile, 2 degrees of freedom, p = 0.95


@dataclass(frozen=True)
class Ellipse:
    """A confidence ellipse in the AP/ML plane: centre, full axis lengths, angle, area.

    width/height: full lengths of the major/minor axes in m/s^2; angle_deg: major axis from the
    AP axis towards ML; area in (m/s^2)^2.
    """

    center_ap: float
    center_ml: float
    width: float
    height: float
    angle_deg: float
    area: float

    def outline(self, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """(ap, ml) points in m/s^2 around the ellipse, closed."""
        th = np.linspace(0.0, 2 * np.pi, n)
        a, b = self.width / 2, self.height / 2
        c, s = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        x, y = a * np.cos(th), b * np.sin(th)
        return self.center_ap + c * x - s * y, self.center_ml + s * x + c * y


def sway_path(t_s: np.ndarray, acc_m_s2: np.ndarray, *, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """AP and ML sway acceleration (m/s^2, each (n,)) from lower-back acc_m_s2 (n, 3) m/s^2.

    t_s (n,) s; fs Hz. Uses :func:`movecoach.signal.sway.sway_signals` (uniform grid, tilt
    correction, 3.5 Hz low-pass) when available, else the same steps without regridding.
    """
    try:
        from movecoach.signal.sway import sway_signals
    except ImportError:  # pragma: no cover - only while movecoach.signal.sway is missing
        return _sway_path_fallback(acc_m_s2, fs)
    s = sway_signals(np.asarray(t_s, float), np.asarray(acc_m_s2, float), fs=fs)
    return s.ap_m_s2, s.ml_m_s2


def trial_metrics(t_s: np.ndarray, acc_m_s2: np.ndarray, *, fs: float) -> SwayMetrics:
    """SwayMetrics of one trial's raw samples (t_s s, acc_m_s2 (n, 3) m/s^2, fs Hz)."""
    try:
        from movecoach.signal.sway import sway_metrics
    except ImportError:  # pragma: no cover
        ap, ml = _sway_path_fallback(acc_m_s2, fs)
        return path_metrics(ap, ml, fs)
    return sway_metrics(np.asarray(t_s, float), np.asarray(acc_m_s2, float), fs=fs)


def _sway_path_fallback(acc_m_s2: np.ndarray, fs: float, *, cutoff_hz: float = 3.5) -> tuple[np.ndarray, np.ndarray]:
    """AP, ML (m/s^2) from acc_m_s2 (n, 3) m/s^2 at fs Hz: tilt-corrected, low-passed, zero-mean."""
    acc = np.asarray(acc_m_s2, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError(f"acc_m_s2 must be (n, 3), got {acc.shape}")
    n = acc.shape[0]
    if n < 2 or fs <= 0:
        raise ValueError(f"need at least 2 samples and fs > 0, got n={n}, fs={fs}")
    up = acc.mean(axis=0)
    norm = float(np.linalg.norm(up))
    if norm < 1e-6:
        raise ValueError("no gravity in the samples (mean acceleration is zero)")
    up /= norm
    # AP and ML unit vectors: sensor -z and +y, made orthogonal to `up` (Gram-Schmidt).
    ap_axis = np.array([0.0, 0.0, -1.0])
    ap_axis -= ap_axis.dot(up) * up
    ap_axis /= np.linalg.norm(ap_axis)
    ml_axis = np.cross(up, ap_axis)  # up x forward = left
    ap = acc @ ap_axis
    ml = acc @ ml_axis
    if cutoff_hz < fs / 2:
        sos = sps.butter(4, cutoff_hz, btype="low", fs=fs, output="sos")
        padlen = min(n - 1, 3 * (2 * sos.shape[0] + 1))
        ap = sps.sosfiltfilt(sos, ap, padlen=padlen)
        ml = sps.sosfiltfilt(sos, ml, padlen=padlen)
    return ap - ap.mean(), ml - ml.mean()


def confidence_ellipse(ap: np.ndarray, ml: np.ndarray, *, level_chi2: float = CHI2_2DOF_95) -> Ellipse:
    """The 95% confidence ellipse of a sway path (ap, ml in m/s^2): principal axes of the covariance."""
    ap, ml = np.asarray(ap, float), np.asarray(ml, float)
    cov = np.cov(np.vstack([ap, ml]))
    vals, vecs = np.linalg.eigh(cov)
    vals = np.clip(vals, 0.0, None)
    major = vecs[:, 1]
    angle = math.degrees(math.atan2(major[1], major[0]))
    width = 2 * math.sqrt(level_chi2 * vals[1])
    height = 2 * math.sqrt(level_chi2 * vals[0])
    area = math.pi * level_chi2 * math.sqrt(max(vals[0] * vals[1], 0.0))
    return Ellipse(float(ap.mean()), float(ml.mean()), width, height, angle, area)


def path_metrics(ap: np.ndarray, ml: np.ndarray, fs: float) -> SwayMetrics:
    """SwayMetrics of a path (ap, ml in m/s^2 at fs Hz), units as in SwayMetrics."""
    ap, ml = np.asarray(ap, float), np.asarray(ml, float)
    n = len(ap)
    duration_s = n / fs
    step = np.hypot(np.diff(ap), np.diff(ml))
    path_length = float(step.sum())
    d_ap, d_ml = np.gradient(ap) * fs, np.gradient(ml) * fs
    jerk = float(0.5 * np.trapezoid(d_ap**2 + d_ml**2, dx=1 / fs))

    def centroid(x: np.ndarray) -> float:
        f, p = sps.welch(x, fs=fs, nperseg=min(n, int(10 * fs)))
        keep = f <= 3.5
        return float((f[keep] * p[keep]).sum() / max(p[keep].sum(), 1e-30))

    rms_ap, rms_ml = float(np.sqrt(np.mean(ap**2))), float(np.sqrt(np.mean(ml**2)))
    return SwayMetrics(
        rms_ap=rms_ap, rms_ml=rms_ml, rms=float(math.hypot(rms_ap, rms_ml)),
        range_ap=float(np.ptp(ap)), range_ml=float(np.ptp(ml)), path_length=path_length,
        mean_velocity=path_length / duration_s, jerk=jerk,
        ellipse_area_95=confidence_ellipse(ap, ml).area,
        centroid_freq_ap=centroid(ap), centroid_freq_ml=centroid(ml), duration_s=duration_s,
    )
