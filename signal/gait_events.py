"""Stage 2 of the walk analysis: stance (the foot still on the floor) and swing, per sample.

A foot on the floor is still: it does not turn (gyro magnitude near zero) and it does not
accelerate (accelerometer magnitude near gravity). A sample is *quiet* when both hold
(:func:`quiet`); it is a *zero-velocity* sample when every sample within ZV_HALF_WINDOW_S of it
is quiet (:func:`zero_velocity`; the window keeps single quiet samples of a swing's turning
point out, which a gyro magnitude crossing zero can give, and only costs a few ms at each end
of a stance). A run of zero-velocity samples is a stance (:func:`runs`); what lies between two
stances is a candidate swing, judged in :mod:`movecoach.signal.gait`.

The thresholds are for a foot sensor (dorsum of the foot, over the laces) and do not depend on
how it is turned on the foot (magnitudes only) nor on a scale error of a few % (the gate on the
acceleration is wider than that).
"""

from __future__ import annotations

import numpy as np

from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2 as G_M_S2

# Gyro magnitude (rad/s) below which the foot counts as not turning. On the 68 IPOL foot
# recordings (100 Hz, checked footstep events) the quietest 50 ms of each stance reads 0.02-0.5
# rad/s (its median 0.1), and a swing peaks at 2.4-10 rad/s; at mid-stance the foot rolls
# from the heel onto the forefoot at 1-2 rad/s, which is not still.
STILL_GYR_RAD_S = 0.75
# Accelerometer magnitude within this of gravity (m/s^2). Real units read up to 5 % high at rest
# (10.3 m/s^2; 10.43 on one IPOL unit), and the foot's quietest stance samples read within 0.7
# m/s^2 of its own rest value (1.6 once, just after a hard heel strike); a swing's push-off and
# landing read 5-30 m/s^2 off.
STILL_ACC_M_S2 = 1.5
# Quiet spells of a stance are joined across gaps of up to 2 * GAP_HALF_S (s): a foot rolling
# from heel to forefoot passes the gyro threshold for a sample or two (subject 4 of the IPOL set
# has stances of 4-8 quiet samples at 100 Hz, in pieces).
GAP_HALF_S = 0.01


def margin(fs: float) -> int:
    """Samples of context :func:`zero_velocity` needs on either side, at fs Hz (even)."""
    return 2 * max(1, int(round(GAP_HALF_S * fs)))


def quiet(acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray) -> np.ndarray:
    """(n,) bool: the foot neither turns nor accelerates at each sample. acc (n, 3) m/s^2
    specific force and gyr (n, 3) rad/s, sensor frame (any orientation), any rate."""
    w2 = np.einsum("ij,ij->i", gyr_rad_s, gyr_rad_s)
    a = np.sqrt(np.einsum("ij,ij->i", acc_m_s2, acc_m_s2))
    return (w2 < STILL_GYR_RAD_S ** 2) & (np.abs(a - G_M_S2) < STILL_ACC_M_S2)


def zero_velocity(quiet_: np.ndarray, m: int) -> np.ndarray:
    """(n - 2m,) bool for samples m..n-m-1 of quiet_ (n,) bool: quiet, with gaps of up to m
    samples between quiet samples filled (a binary closing with a window of m + 1 samples;
    m = :func:`margin`, even, the context it needs either side).

    Window sums of running counts rather than scipy.ndimage's filters: the same booleans, and
    ``analyze`` need not import scipy.ndimage (~0.3 s of a process that takes ~3.5 s)."""
    n = quiet_.shape[0]
    if n <= 2 * m:
        return np.zeros(0, dtype=bool)
    r = m // 2
    w = 2 * r + 1
    # dilation: any quiet sample within r, for samples r..n-r-1
    c = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(quiet_, out=c[1:])
    dil = c[w:] > c[:-w]
    # erosion of that: every sample within r dilated, for samples m..n-m-1
    d = np.zeros(dil.shape[0] + 1, dtype=np.int64)
    np.cumsum(dil, out=d[1:])
    return (d[w:] - d[:-w]) == w


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (exclusive) of the runs of True in mask (n,) bool, as index arrays."""
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)
