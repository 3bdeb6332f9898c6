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

from movecoach.signal.sway import sway_metrics, sway_signals
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


def sway_path(t_s: np.ndarray, acc_m_s2: np.ndarray, *, fs: float | None) -> tuple[np.ndarray, np.ndarray]:
    """AP and ML sway acceleration (m/s^2, each (n,)) from lower-back acc_m_s2 (n, 3) m/s^2.

    t_s (n,) s; fs Hz (None: from the timestamps). The analysis' own definition:
    :func:`movecoach.signal.sway.sway_signals` (uniform grid, tilt correction, 3.5 Hz low-pass).
    """
    s = sway_signals(np.asarray(t_s, float), np.asarray(acc_m_s2, float), fs=fs)
    return s.ap_m_s2, s.ml_m_s2


def trial_metrics(t_s: np.ndarray, acc_m_s2: np.ndarray, *, fs: float) -> SwayMetrics:
    """SwayMetrics of one trial's raw samples (t_s s, acc_m_s2 (n, 3) m/s^2, fs Hz)."""
    return sway_metrics(np.asarray(t_s, float), np.asarray(acc_m_s2, float), fs=fs)


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
