"""Rigid-body kinematics to ideal IMU readings: pose of the sensor in the world -> specific force, rate.

World frame: x forward, y left, z up; gravity g_world = (0, 0, -g), g the standard gravity
(movecoach.signal.gravity). The accelerometer measures specific force f = R^T (p'' - g_world)
(so +g on the axis pointing up at rest), the gyroscope the body-frame angular velocity of R. Everything here works on a fine, regular internal
time grid; :func:`sample_imu` then band-limits (like the IMU's digital filter) and samples it at
the wearable's sample instants.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2

log = logging.getLogger(__name__)

G_WORLD_M_S2 = np.array([0.0, 0.0, -STANDARD_GRAVITY_M_S2])


def min_jerk(m: int) -> np.ndarray:
    """(m,) smooth 0 -> 1 ramp (minimum-jerk: zero velocity and acceleration at both ends).

    The first sample is one step after 0 and the last is exactly 1, so ramps concatenate onto a
    previous sample without repeating it.
    """
    tau = np.arange(1, m + 1, dtype=float) / m
    return tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2)


def bump(m: int) -> np.ndarray:
    """(m,) smooth 0 -> 1 -> 0 bump, 64 tau^3 (1 - tau)^3: zero velocity and acceleration at the ends."""
    tau = np.arange(1, m + 1, dtype=float) / m
    return 64.0 * tau**3 * (1.0 - tau) ** 3


def second_derivative(x: np.ndarray, dt_s: float) -> np.ndarray:
    """(n, k) second time derivative of a regularly sampled (n, k) array (central difference)."""
    a = np.empty_like(x)
    a[1:-1] = (x[2:] - 2.0 * x[1:-1] + x[:-2]) / (dt_s * dt_s)
    a[0] = a[1]
    a[-1] = a[-2]
    return a


def body_rate_rad_s(rot: Rotation, dt_s: float) -> np.ndarray:
    """(n, 3) body-frame angular velocity in rad/s of a regularly sampled rotation sequence.

    Uses the exact relative rotation between neighbours, R_k^T R_{k+1} = exp(w dt), which is
    the rate at the midpoint; averaging neighbouring midpoints gives the rate at each sample.
    """
    rel = rot[:-1].inv() * rot[1:]
    w_mid = rel.as_rotvec() / dt_s
    w = np.empty((len(rot), 3))
    w[1:-1] = 0.5 * (w_mid[:-1] + w_mid[1:])
    w[0] = w_mid[0]
    w[-1] = w_mid[-1]
    return w


def ideal_imu(rot: Rotation, pos_m: np.ndarray, fs_hz: float,
              extra_acc_world_m_s2: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ideal IMU readings of a sensor with orientation rot (sensor -> world) at position pos_m.

    pos_m: (n, 3) m, world frame, sampled at fs_hz. extra_acc_world_m_s2: optional (n, 3) m/s^2
    short transients (impacts) added to p'' in the world frame.
    Returns acc_m_s2 (n, 3) specific force and gyr_rad_s (n, 3), both in the sensor frame.
    """
    dt = 1.0 / fs_hz
    acc_world = second_derivative(np.asarray(pos_m, dtype=float), dt)
    if extra_acc_world_m_s2 is not None:
        acc_world = acc_world + extra_acc_world_m_s2
    acc = rot.inv().apply(acc_world - G_WORLD_M_S2)
    gyr = body_rate_rad_s(rot, dt)
    return acc, gyr


def sample_imu(t_int_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray,
               t_samples_s: np.ndarray, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Band-limit internal-rate readings like the IMU's filter (0.4 fs) and sample them at t_samples_s.

    t_int_s: (n,) s regular internal grid; acc_m_s2, gyr_rad_s: (n, 3) on it; t_samples_s: (m,) s
    sample instants (may be irregular) within the grid; fs_hz: the nominal output rate.
    Returns (acc_m_s2 (m, 3), gyr_rad_s (m, 3)).
    """
    fs_int = 1.0 / (t_int_s[1] - t_int_s[0])
    sos = butter(2, 0.4 * fs_hz, fs=fs_int, output="sos")
    both = sosfiltfilt(sos, np.hstack([acc_m_s2, gyr_rad_s]), axis=0)
    out = np.empty((len(t_samples_s), 6))
    for k in range(6):
        out[:, k] = np.interp(t_samples_s, t_int_s, both[:, k])
    return out[:, :3], out[:, 3:]


def rot_x(angle_rad: np.ndarray | float) -> Rotation:
    """Rotation(s) about the x axis by angle_rad (rad)."""
    return Rotation.from_rotvec(np.multiply.outer(np.atleast_1d(angle_rad), [1.0, 0.0, 0.0]))


def rot_y(angle_rad: np.ndarray | float) -> Rotation:
    """Rotation(s) about the y axis by angle_rad (rad)."""
    return Rotation.from_rotvec(np.multiply.outer(np.atleast_1d(angle_rad), [0.0, 1.0, 0.0]))


def rot_z(angle_rad: np.ndarray | float) -> Rotation:
    """Rotation(s) about the z axis by angle_rad (rad)."""
    return Rotation.from_rotvec(np.multiply.outer(np.atleast_1d(angle_rad), [0.0, 0.0, 1.0]))
