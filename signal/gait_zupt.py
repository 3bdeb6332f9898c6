"""Stage 3 of the walk analysis: the foot's orientation and its movement through one swing, by
zero-velocity-update (ZUPT) strapdown integration.

Between two stances the foot's orientation follows the gyroscope alone (a swing lasts ~0.4 s:
a gyro bias of 1 deg/s tilts it by 0.4 deg, 0.07 m/s^2 of gravity left in the horizontal
acceleration); at each stance the accelerometer shows where "up" is and the tilt is set right
(:func:`level`), while the heading, which gravity cannot show, carries on from the gyroscope.
The gravity-removed acceleration is turned into the world frame and integrated twice from the
last still sample of the stance before to the first of the stance after. The foot is still at
both ends, so whatever velocity the integral ends with is error (bias, tilt, scale); it is
taken out as a straight line over the swing (Skog et al. 2010; gaitmap's
``ForwardBackwardIntegration`` without the backward pass), which removes a constant
acceleration error exactly and most of a slowly changing one.

Quaternions are (w, x, y, z) arrays; ``q`` turns sensor-frame vectors into the world frame
(z up): v_world = q v q*. The world frame's x and y are the foot's heading at the first stance.
"""

from __future__ import annotations

import numpy as np

from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2 as G_M_S2

_Z = np.array([0.0, 0.0, 1.0])


def _shape(a: np.ndarray, b: np.ndarray) -> tuple[int, ...]:
    """The broadcast shape of a and b (the common cases first: np.broadcast_shapes costs more
    than the arithmetic on a stride's ~100 samples)."""
    if a.shape == b.shape or b.ndim == 1:
        return a.shape
    if a.ndim == 1:
        return b.shape
    return np.broadcast_shapes(a.shape, b.shape)


# _QMUL[4 i + j, k]: the sign of p_i q_j in component k of the Hamilton product p q (0: absent).
# The product is then the 16 pairwise products times this matrix: two numpy calls instead of
# the ~30 of writing each component out, which on a stride's ~100 samples cost more in call
# overhead than in arithmetic (the orientation scan makes ~15 products per stride).
_QMUL = np.zeros((16, 4))
for _i, _j, _k, _s in ((0, 0, 0, 1), (1, 1, 0, -1), (2, 2, 0, -1), (3, 3, 0, -1),
                       (0, 1, 1, 1), (1, 0, 1, 1), (2, 3, 1, 1), (3, 2, 1, -1),
                       (0, 2, 2, 1), (1, 3, 2, -1), (2, 0, 2, 1), (3, 1, 2, 1),
                       (0, 3, 3, 1), (1, 2, 3, 1), (2, 1, 3, -1), (3, 0, 3, 1)):
    _QMUL[4 * _i + _j, _k] = _s
del _i, _j, _k, _s


def qmul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product p q of quaternions (..., 4), broadcast (float arrays)."""
    pq = p[..., :, None] * q[..., None, :]
    return pq.reshape(pq.shape[:-2] + (16,)) @ _QMUL


def qconj(q: np.ndarray) -> np.ndarray:
    """The inverse of unit quaternion(s) q (..., 4)."""
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a x b for (..., 3) arrays (np.cross costs more than the arithmetic at these sizes)."""
    out = np.empty(_shape(a, b))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def qrotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectors v (..., 3) turned by unit quaternions q (..., 4): q v q*, broadcast."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * _cross(u, v)
    return v + w * t + _cross(u, t)


def rotvec_quat(r: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) of rotation vectors r (..., 3) in rad."""
    r = np.asarray(r, float)
    ang = np.linalg.norm(r, axis=-1, keepdims=True)
    half = 0.5 * ang
    # sin(half) / ang, with its limit 0.5 at ang -> 0
    k = np.where(ang > 1e-12, np.sin(half) / np.where(ang > 1e-12, ang, 1.0), 0.5)
    return np.concatenate([np.cos(half), k * r], axis=-1)


def propagate(q0: np.ndarray, gyr_rad_s: np.ndarray, fs: float) -> np.ndarray:
    """Orientations (m, 4) at m consecutive samples, the first q0 (4,), turned on by the
    bias-free gyro gyr_rad_s (m, 3), sensor frame, sampled at fs Hz: between samples k-1 and k
    the foot turns at the mean of their two rates (trapezoid).

    The running product is an inclusive scan (Hillis-Steele, log2(m) vectorised steps): q_k =
    q0 dq_1 ... dq_k, each dq from the rates; unit length is restored at the end."""
    m = gyr_rad_s.shape[0]
    out = np.empty((m, 4))
    out[0] = q0
    if m == 1:
        return out
    w = 0.5 * (gyr_rad_s[1:] + gyr_rad_s[:-1]) / fs
    acc = rotvec_quat(w)
    s = 1
    while s < m - 1:
        acc[s:] = qmul(acc[:-s], acc[s:])
        s *= 2
    out[1:] = qmul(q0, acc)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def level(q: np.ndarray, acc_m_s2: np.ndarray) -> np.ndarray:
    """q (4,) with its tilt set from the accelerometer: the smallest world-frame rotation that
    turns the measured up direction (acc_m_s2 (3,), sensor frame, of a still foot) onto +z.
    It turns about a horizontal axis only, so the heading stays as it was."""
    up = qrotate(q, acc_m_s2 / np.linalg.norm(acc_m_s2))
    axis = _cross(up, _Z)
    s = float(np.linalg.norm(axis))
    c = float(up[2])
    if s < 1e-12:
        return q
    ang = np.arctan2(s, c)
    corr = np.concatenate([[np.cos(0.5 * ang)], np.sin(0.5 * ang) * axis / s])
    out = qmul(corr, q)
    return out / np.linalg.norm(out)


def initial_orientation(acc_m_s2: np.ndarray) -> np.ndarray:
    """The orientation (4,) of a still foot whose accelerometer reads acc_m_s2 (3,): level, and
    heading 0 for the sensor's own x axis seen from above (or its y axis if x points up)."""
    q = level(np.array([1.0, 0.0, 0.0, 0.0]), acc_m_s2)
    x = qrotate(q, np.array([1.0, 0.0, 0.0]))
    if np.hypot(x[0], x[1]) < 0.2:
        x = qrotate(q, np.array([0.0, 1.0, 0.0]))
    yaw = np.arctan2(x[1], x[0])
    turn = np.array([np.cos(-0.5 * yaw), 0.0, 0.0, np.sin(-0.5 * yaw)])
    return qmul(turn, q)


def yaw_rad(q_from: np.ndarray, q_to: np.ndarray) -> float:
    """Heading change (rad, + counter-clockwise seen from above: a left turn) from orientation
    q_from to q_to (4,) each: the twist about world z of the rotation q_to q_from*."""
    d = qmul(q_to, qconj(q_from))
    return float(2.0 * np.arctan2(d[3], d[0]) if d[0] >= 0 else 2.0 * np.arctan2(-d[3], -d[0]))


def integrate_swing(q: np.ndarray, acc_m_s2: np.ndarray, fs: float, *,
                    g_m_s2: float = G_M_S2) -> tuple[np.ndarray, np.ndarray]:
    """Velocity (m, 3) m/s and position (m, 3) m, world frame, through one swing.

    q (m, 4): the foot's orientation at each sample; acc_m_s2 (m, 3): its specific force, sensor
    frame, scale corrected; fs in Hz. The foot is still at the first and the last sample: the
    velocity starts at 0 and the velocity it ends with is removed as a straight line in time
    (see the module docstring). Position starts at 0 (trapezoid integration both times)."""
    m = acc_m_s2.shape[0]
    a = qrotate(q, acc_m_s2)
    a[:, 2] -= g_m_s2
    dt = 1.0 / fs
    v = np.zeros((m, 3))
    v[1:] = np.cumsum(0.5 * (a[1:] + a[:-1]) * dt, axis=0)
    if m > 1:
        v -= np.linspace(0.0, 1.0, m)[:, None] * v[-1]
    p = np.zeros((m, 3))
    p[1:] = np.cumsum(0.5 * (v[1:] + v[:-1]) * dt, axis=0)
    return v, p
