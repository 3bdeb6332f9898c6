"""Postural sway from trunk (lower back) acceleration during quiet standing.

Sensor frame at the lower back: +x up, +y left, +z backward (within ~10 deg). Method:

1. the samples are put on a uniform grid at the recording's own rate (short and long gaps filled
   by linear interpolation, :mod:`movecoach.signal.resample`) so lost packets do not distort
   filters, path length or jerk;
2. static tilt correction (Moe-Nilssen 1998): the accelerations are projected on two axes
   orthogonal to the mean gravity direction of the whole trial: AP (forward, from sensor -z)
   and ML (left, +y);
3. means removed, zero-phase 4th-order Butterworth low-pass at 3.5 Hz (odd padding about the end
   samples: the filtered signal starts and ends at the end samples' values);
4. metrics (units of acceleration, m/s^2):

   - rms_ap, rms_ml: root mean square; rms: of the resultant sqrt(AP^2 + ML^2)
   - range_ap, range_ml: max - min
   - path_length: sum of distances between consecutive (AP, ML) samples
   - mean_velocity: path_length / duration
   - jerk: 0.5 * integral((dAP/dt)^2 + (dML/dt)^2) dt
   - ellipse_area_95: pi * 5.991 * sqrt(det(cov(AP, ML)))  (95 % confidence ellipse)
   - centroid_freq_ap/ml: spectral centroid sqrt(m2 / m0) of the Welch PSD (Prieto et al. 1996;
     10 s segments, the whole band: the 3.5 Hz low-pass and the mean removal bound it)
   - duration_s: (n - 1) / fs of the uniform grid.

Sensor noise correction: white sensor noise survives the 3.5 Hz low-pass and inflates every
metric (path length and jerk most, as they difference the signal). The noise density of the AP
and ML signals is estimated from second differences of the raw samples (where the slow sway
cancels), and its expected contribution, computed through the same filter and difference
operators, is removed: from the variances (rms, ellipse), from the mean squared derivative
(jerk), from each step's squared length (path length) and from the power spectrum (centroid
frequencies). The filter's odd padding pins each end of the filtered signal to one raw end
sample, noise included (0.03-0.1 m/s^2 at 50-208 Hz, several times the filtered noise); with the
correction on, each end is instead anchored at a quadratic fit over its first/last 0.4 s (the
padding is 2 s long). ``sway_metrics(..., noise_correction=False)`` gives the plain definitions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from movecoach.signal.filters import lowpass, lowpass_sos
from movecoach.signal.resample import estimate_fs, resample_uniform
from movecoach.signal.types import SwayMetrics

log = logging.getLogger(__name__)

SWAY_CUTOFF_HZ = 3.5
CHI2_95_2DOF = 5.991
MIN_DURATION_S = 5.0
# Noise widens max - min by about this many (filtered) noise standard deviations (1.0 leaves no
# mean bias on tuning seeds 0-39; 1.5 left -1.2 % AP, -1.6 % ML).
RANGE_NOISE_K = 1.0
# Denoised filter ends (noise_correction): quadratic fit over EDGE_FIT_S, odd padding of EDGE_PAD_S.
EDGE_FIT_S = 0.4
EDGE_PAD_S = 2.0


@dataclass(frozen=True)
class SwaySignals:
    """Tilt-corrected, low-passed trunk accelerations on a uniform grid.

    t_s (n,) s; ap_m_s2 (n,) forward; ml_m_s2 (n,) left; fs Hz; up (3,) mean up direction in the
    sensor frame; noise_psd_ap/ml: estimated one-sided white-noise density of the unfiltered AP/ML
    signals, (m/s^2)^2/Hz."""

    t_s: np.ndarray
    ap_m_s2: np.ndarray
    ml_m_s2: np.ndarray
    fs: float
    up: np.ndarray
    noise_psd_ap: float = 0.0
    noise_psd_ml: float = 0.0


def _noise_psd(t: np.ndarray, x: np.ndarray, fs: float) -> float:
    """White-noise density (one-sided, units^2/Hz) of samples x at irregular times t (s).

    Second differences cancel slow movement; for white noise of variance s^2 the residual
    x_k - interp(x_{k-1}, x_{k+1}) has variance s^2 (1 + w^2 + (1-w)^2). A robust (MAD) scale.
    """
    if x.shape[0] < 5:
        return 0.0
    dt1 = t[1:-1] - t[:-2]
    dt2 = t[2:] - t[1:-1]
    w = dt2 / (dt1 + dt2)  # weight of the earlier neighbour in the interpolation
    r = x[1:-1] - (w * x[:-2] + (1 - w) * x[2:])
    gain = 1.0 + w**2 + (1 - w) ** 2
    sigma2 = (1.4826 * np.median(np.abs(r / np.sqrt(gain)))) ** 2
    return float(2.0 * sigma2 / fs)


def _edge_value(x: np.ndarray, m: int) -> float:
    """Value at x[0] of a quadratic least-squares fit to x[:m] (any units)."""
    c = np.polynomial.polynomial.polyfit(np.arange(m, dtype=float), x[:m], 2)
    return float(c[0])


def lowpass_denoised_edges(x: np.ndarray, fs: float) -> np.ndarray:
    """The sway low-pass of x (n,) (any units; fs Hz) with odd padding about fitted end values.

    Odd padding (what :func:`movecoach.signal.filters.lowpass` does) reflects the signal about its
    end sample, so the filtered signal passes through that one raw, noisy sample. Here the
    reflection is about a quadratic fit over the first/last EDGE_FIT_S seconds, EDGE_PAD_S long
    (the filter's own start-up transient then dies out inside the padding)."""
    n = x.shape[0]
    m = int(round(EDGE_FIT_S * fs))
    pad = min(int(round(EDGE_PAD_S * fs)), n - 1)
    if m < 5 or n < 2 * m or pad < 1:
        return lowpass(x, SWAY_CUTOFF_HZ, fs, order=4)
    a0 = _edge_value(x, m)
    a1 = _edge_value(x[::-1], m)
    ext = np.concatenate([2 * a0 - x[pad:0:-1], x, 2 * a1 - x[-2 : -pad - 2 : -1]])
    return lowpass(ext, SWAY_CUTOFF_HZ, fs, order=4)[pad : pad + n]


def sway_signals(
    t_s: np.ndarray, acc_m_s2: np.ndarray, *, fs: float | None = None, denoised_edges: bool = False
) -> SwaySignals:
    """AP/ML accelerations (m/s^2) from lower-back acc (n, 3) m/s^2, sensor frame +x up, +y left,
    +z backward; t_s (n,) s may be irregular or gappy; fs Hz (default: from the timestamps).
    denoised_edges: anchor the filter's ends on fitted values, not on the raw (noisy) end samples
    (:func:`lowpass_denoised_edges`; the plain definition is False)."""
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
    if denoised_edges:
        ap = lowpass_denoised_edges(ap - ap.mean(), fs)
        ml = lowpass_denoised_edges(ml - ml.mean(), fs)
    else:
        ap = lowpass(ap - ap.mean(), SWAY_CUTOFF_HZ, fs, order=4)
        ml = lowpass(ml - ml.mean(), SWAY_CUTOFF_HZ, fs, order=4)
    keep = np.concatenate(([True], np.diff(t) > 0))
    n_ap = _noise_psd(t[keep], acc[keep] @ fwd, fs)
    n_ml = _noise_psd(t[keep], acc[keep] @ left, fs)
    return SwaySignals(grid.t_s, ap, ml, float(fs), up, n_ap, n_ml)


def _noise_gains(fs: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frequency grid (Hz) and the zero-phase filter's power gain |H|^4, alone, after a first
    difference (per sample) and after np.gradient (per second)."""
    f = np.linspace(0.0, fs / 2.0, 4097)
    _, h = sps.sosfreqz(np.array(lowpass_sos(SWAY_CUTOFF_HZ, fs, 4)), worN=f, fs=fs)
    p = np.abs(h) ** 4
    diff = (2.0 * np.sin(np.pi * f / fs)) ** 2
    grad = (fs * np.sin(2.0 * np.pi * f / fs)) ** 2
    return f, p, p * diff, p * grad


def _centroid_freq(x: np.ndarray, fs: float, noise_psd: float = 0.0) -> float:
    """sqrt(m2 / m0) of the Welch PSD (10 s segments) of x, less the filtered noise floor."""
    nper = int(min(x.shape[0], round(10.0 * fs)))
    f, pxx = sps.welch(x, fs=fs, nperseg=nper)
    if noise_psd > 0:
        _, h = sps.sosfreqz(np.array(lowpass_sos(SWAY_CUTOFF_HZ, fs, 4)), worN=f, fs=fs)
        pxx = np.maximum(pxx - noise_psd * np.abs(h) ** 4, 0.0)
    m0 = float(np.sum(pxx))
    m2 = float(np.sum(f**2 * pxx))
    return float(np.sqrt(m2 / m0)) if m0 > 0 else 0.0


def metrics_from_signals(s: SwaySignals, *, noise_correction: bool = True) -> SwayMetrics:
    """The :class:`SwayMetrics` of tilt-corrected, filtered AP/ML signals (definitions above)."""
    ap, ml, fs = s.ap_m_s2, s.ml_m_s2, s.fs
    n = ap.shape[0]
    duration = (n - 1) / fs
    na, nm = (s.noise_psd_ap, s.noise_psd_ml) if noise_correction else (0.0, 0.0)
    f, p, p_diff, p_grad = _noise_gains(fs)
    var_a, var_m = na * np.trapezoid(p, f), nm * np.trapezoid(p, f)
    dvar = (na + nm) * np.trapezoid(p_diff, f)  # per-step squared length added by noise
    gvar = (na + nm) * np.trapezoid(p_grad, f)  # mean squared derivative added by noise
    d_ap = np.diff(ap)
    d_ml = np.diff(ml)
    step2 = d_ap**2 + d_ml**2
    path = float(np.sum(np.sqrt(step2)))
    if dvar > 0:  # noise lengthens every step: scale by the noise-free share of the step power
        path *= float(np.sqrt(max(1.0 - dvar / max(float(np.mean(step2)), 1e-300), 0.0)))
    g_ap = np.gradient(ap, 1.0 / fs)
    g_ml = np.gradient(ml, 1.0 / fs)
    jerk = 0.5 * float(np.trapezoid(g_ap**2 + g_ml**2, dx=1.0 / fs))
    jerk = max(jerk - 0.5 * duration * gvar, 0.0)
    cov = np.cov(np.vstack([ap, ml])) - np.diag([var_a, var_m])
    det = max(float(np.linalg.det(cov)), 0.0)
    ms_ap = max(float(np.mean(ap**2)) - var_a, 0.0)
    ms_ml = max(float(np.mean(ml**2)) - var_m, 0.0)
    return SwayMetrics(
        rms_ap=float(np.sqrt(ms_ap)),
        rms_ml=float(np.sqrt(ms_ml)),
        rms=float(np.sqrt(ms_ap + ms_ml)),
        range_ap=max(float(np.ptp(ap)) - RANGE_NOISE_K * np.sqrt(var_a), 0.0),
        range_ml=max(float(np.ptp(ml)) - RANGE_NOISE_K * np.sqrt(var_m), 0.0),
        path_length=path,
        mean_velocity=path / duration,
        jerk=jerk,
        ellipse_area_95=float(np.pi * CHI2_95_2DOF * np.sqrt(det)),
        centroid_freq_ap=_centroid_freq(ap, fs, na),
        centroid_freq_ml=_centroid_freq(ml, fs, nm),
        duration_s=float(duration),
    )


def sway_metrics(
    t_s: np.ndarray, acc_m_s2: np.ndarray, *, fs: float | None = None, noise_correction: bool = True
) -> SwayMetrics:
    """Sway metrics of one quiet-standing trial.

    t_s (n,) seconds (irregular/gappy allowed); acc_m_s2 (n, 3) m/s^2, lower-back sensor frame
    (+x up, +y left, +z backward); fs in Hz, default estimated from t_s. noise_correction: remove
    the expected contribution of white sensor noise and anchor the filter's ends on fitted values
    (see module docstring); False gives the plain definitions.
    """
    s = sway_signals(t_s, acc_m_s2, fs=fs, denoised_edges=noise_correction)
    return metrics_from_signals(s, noise_correction=noise_correction)
