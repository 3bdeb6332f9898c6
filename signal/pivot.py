"""What is left of a segment's acceleration once a turn about a fixed point is taken out.

A foot that rises onto its toes (or its heels) turns about a point on the floor, the ball of the
foot or the heel. The sensor on top of the foot then accelerates along a circle round that point:
with the sensor at r from the pivot (sensor frame, m), its acceleration is
``alpha x r + w x (w x r)`` (w the rate, alpha its derivative), and a quick raise that stops hard
at the top reads the accelerometer 14-23 deg off up for 0.1-0.3 s, as far as a step does. A foot
stepping through the air has no such point below it. :func:`off_up_deg` fits r to the samples
of one excursion (least squares, linear in r) and says how far the accelerometer, less that
turn, points from up: near zero for a raise, still large for a step.

Pure numpy; no state.
"""

from __future__ import annotations

import numpy as np

from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2 as G_M_S2
from movecoach.signal.orientation import angle_between_deg, unit

# The pivot is at most this far from the sensor: from the ball of the foot or the heel to a
# sensor over the laces is 0.05-0.15 m. (Unbounded, the fit explains some of a stride's swing
# too, with a pivot a leg's length away.)
MAX_LEVER_M = 0.2


def _skew(v: np.ndarray) -> np.ndarray:
    """(n, 3) -> (n, 3, 3): the matrices of v x ."""
    z = np.zeros(v.shape[0])
    x, y, w = v[:, 0], v[:, 1], v[:, 2]
    return np.stack([np.stack([z, -w, y], 1), np.stack([w, z, -x], 1), np.stack([-y, x, z], 1)], 1)


def _turn_matrices(gyr_rad_s: np.ndarray, fs: float) -> np.ndarray:
    """(n, 3, 3) per sample: the acceleration (m/s^2) of a point at r (m) from a fixed pivot is
    this @ r, for rate gyr (n, 3) rad/s on a uniform grid of fs Hz (alpha by differencing)."""
    if gyr_rad_s.shape[0] < 2:
        return np.zeros((gyr_rad_s.shape[0], 3, 3))
    alpha = np.gradient(gyr_rad_s, 1.0 / fs, axis=0)
    sw = _skew(gyr_rad_s)
    return _skew(alpha) + sw @ sw


def _fit(acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, up: np.ndarray, turn: np.ndarray,
         use: np.ndarray | None) -> np.ndarray:
    """fit_lever_m, given the turn matrices (:func:`_turn_matrices`) of gyr."""
    n = acc_m_s2.shape[0]
    use = np.ones(n, dtype=bool) if use is None else use
    if n < 3 or use.sum() < 3:
        return np.zeros(3)
    ms = turn[use].reshape(-1, 3)  # a = turn @ r, stacked
    av = (acc_m_s2 - G_M_S2 * up)[use].reshape(-1)
    axis = np.linalg.svd(gyr_rad_s[use], full_matrices=False)[2][0]
    u0 = up[0]
    across = np.cross(axis, u0)
    if np.linalg.norm(across) <= 1e-9:  # turning about up itself: no pivot on the floor does that
        return np.zeros(3)
    p1 = unit(across)  # across the axis and level ...
    p2 = np.cross(p1, axis)  # ... and across the axis, as near up as it goes
    basis = np.stack([p1, p2], 1)
    c = np.linalg.lstsq(ms @ basis, av, rcond=None)[0]
    r = basis @ c
    if r @ u0 < 0.0:  # the best pivot would be above the sensor: the level line only
        c1 = np.linalg.lstsq(ms @ p1[:, None], av, rcond=None)[0]
        r = p1 * c1[0]
    size = float(np.linalg.norm(r))
    if size > MAX_LEVER_M:
        r *= MAX_LEVER_M / size
    return r


def fit_lever_m(acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, up: np.ndarray, fs: float,
                use: np.ndarray | None = None) -> np.ndarray:
    """The sensor's position from a fixed pivot below it (3,) m, sensor frame, that best explains
    the acceleration of samples acc (n, 3) m/s^2 (low-passed), with rate gyr (n, 3) rad/s
    (bias removed) and unit up-direction up (n, 3), sensor frame, on a uniform grid of fs Hz.
    use (n,) bool: the samples to fit on (False where the data was interpolated across a gap).

    The fit keeps to what a pivot on the floor can be: r across the turn's mean axis (along it r
    changes nothing in a turn about that axis and is not seen), the pivot not above the sensor
    (r . up at the start >= 0: a stride's swing hangs from the knee and hip, far above it) and
    at most MAX_LEVER_M from it."""
    return _fit(acc_m_s2, gyr_rad_s, up, _turn_matrices(gyr_rad_s, fs), use)


def off_up_deg(acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, up: np.ndarray, fs: float,
               use: np.ndarray | None = None) -> np.ndarray:
    """Angle (n,) deg between up (n, 3) and the accelerometer acc (n, 3) m/s^2 less the
    acceleration of the fitted turn about a pivot below the sensor (:func:`fit_lever_m`, same
    arguments)."""
    turn = _turn_matrices(gyr_rad_s, fs)
    r = _fit(acc_m_s2, gyr_rad_s, up, turn, use)
    return angle_between_deg(unit(acc_m_s2 - turn @ r), up)
