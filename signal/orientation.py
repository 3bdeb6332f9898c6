"""Orientation from gravity: the direction of "up" in the sensor frame, and angles from a rest.

The accelerometer measures specific force: at rest it reads +9.81 m/s^2 along the sensor axis
that points up, so the low-passed acceleration gives the up direction, but it is disturbed by
movement accelerations (tremor, impacts). The gyroscope gives how that direction turns (a
world-fixed vector u seen from a sensor turning at w obeys du/dt = u x w), smoothly but with
drift. :class:`GravityTracker` fuses both with a complementary filter (time constant tau_s): the
gyro propagates the estimate and the accelerometer pulls it back with weight dt / tau_s.

Angles are measured between the current and a rest up-direction, so they do not depend on how
the strap sits (any orientation) and are blind to turning (rotation about vertical).
"""

from __future__ import annotations

import logging
import math

import numpy as np

log = logging.getLogger(__name__)

G_M_S2 = 9.80665


def unit(v: np.ndarray) -> np.ndarray:
    """Rows of v (n, 3) (or one vector (3,)) scaled to unit length (zero rows stay zero)."""
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 0)


def angle_between_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in degrees between unit vectors u and v, (n, 3) or (3,) each (broadcast)."""
    c = np.clip(np.sum(np.asarray(u) * np.asarray(v), axis=-1), -1.0, 1.0)
    return np.degrees(np.arccos(c))


def rotation_to_z(up: np.ndarray) -> np.ndarray:
    """3x3 rotation matrix R (smallest rotation) with R @ up = +z; up: (3,) unit, sensor frame.

    Used to undo a strap tilt: after R, the rest "up" is +z and pitch/roll are measured about the
    body's own axes (a strap twist about the up axis cannot be seen from gravity and stays).
    """
    u = np.asarray(up, dtype=float) / np.linalg.norm(up)
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(u, z)
    s = np.linalg.norm(axis)
    c = float(np.dot(u, z))
    if s < 1e-12:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    ang = math.atan2(s, c)
    return np.eye(3) + math.sin(ang) * kx + (1 - math.cos(ang)) * (kx @ kx)


class GravityTracker:
    """Complementary filter for the up direction in the sensor frame, one sample at a time.

    fs in Hz (uniform samples); tau_s: how slowly the accelerometer corrects the gyro (s);
    gate_m_s2: the accelerometer is ignored while its magnitude is further than this from g
    (the sensor is accelerating).
    ``update(ax, ay, az, wx, wy, wz)`` takes m/s^2 and rad/s as plain floats (the streaming path
    keeps per-sample state in floats, no numpy per sample) and returns the unit up vector.
    """

    def __init__(self, fs: float, *, tau_s: float = 0.8, gate_m_s2: float = math.inf):
        self.dt = 1.0 / float(fs)
        self.alpha = tau_s / (tau_s + self.dt)
        self.gate_m_s2 = gate_m_s2
        self.g: tuple[float, float, float] | None = None

    def update(self, ax: float, ay: float, az: float, wx: float, wy: float, wz: float):
        g = self.g
        if g is None:
            n = math.sqrt(ax * ax + ay * ay + az * az) or 1.0
            self.g = (ax / n, ay / n, az / n)
            return self.g
        gx, gy, gz = g
        dt, al = self.dt, self.alpha
        an = math.sqrt(ax * ax + ay * ay + az * az)
        if abs(an - G_M_S2) > self.gate_m_s2:
            al = 1.0  # the accelerometer sees more than gravity now: trust the gyro alone
        be = (1.0 - al) / G_M_S2
        # propagate by the gyro: du/dt = u x w
        px = gx + dt * (gy * wz - gz * wy)
        py = gy + dt * (gz * wx - gx * wz)
        pz = gz + dt * (gx * wy - gy * wx)
        x = al * px + be * ax
        y = al * py + be * ay
        z = al * pz + be * az
        n = math.sqrt(x * x + y * y + z * z) or 1.0
        self.g = (x / n, y / n, z / n)
        return self.g


def gravity_direction(acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, fs: float, *, tau_s: float = 0.8) -> np.ndarray:
    """Unit up direction (n, 3) in the sensor frame from uniform acc (n, 3) m/s^2 and gyro
    (n, 3) rad/s sampled at fs Hz, by the complementary filter of :class:`GravityTracker`."""
    tr = GravityTracker(fs, tau_s=tau_s)
    out = np.empty((acc_m_s2.shape[0], 3))
    for i, (a, w) in enumerate(zip(acc_m_s2.tolist(), gyr_rad_s.tolist(), strict=True)):
        out[i] = tr.update(a[0], a[1], a[2], w[0], w[1], w[2])
    return out
