"""Up direction from accelerometer and gyroscope; strap tilt correction."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from movecoach.signal.orientation import (
    G_M_S2,
    GravityTracker,
    angle_between_deg,
    gravity_direction,
    rotation_to_z,
)


def test_rotation_to_z_undoes_a_strap_tilt():
    up = Rotation.from_euler("xy", [12, -20], degrees=True).apply([0, 0, 1.0])
    r = rotation_to_z(up)
    np.testing.assert_allclose(r @ up, [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(rotation_to_z(np.array([0, 0, 1.0])), np.eye(3))


def test_tracker_follows_a_fast_tilt_that_accelerations_alone_would_get_wrong():
    """A 30 deg pitch in 0.5 s about a pivot 0.3 m away: the gyro carries the estimate through
    the movement's own accelerations; at rest it agrees with the accelerometer."""
    fs = 100.0
    t = np.arange(0, 4, 1 / fs)
    tau = np.clip((t - 1.0) / 0.5, 0, 1)
    pitch = np.radians(30) * (10 * tau**3 - 15 * tau**4 + 6 * tau**5)
    rate = np.gradient(pitch, 1 / fs)
    rot = Rotation.from_rotvec(np.outer(pitch, [0, 1, 0]))
    r_m = 0.3
    tang = r_m * np.gradient(rate, 1 / fs)  # tangential acceleration along sensor x
    acc = rot.inv().apply([0, 0, G_M_S2]) + np.column_stack([tang, 0 * t, -r_m * rate**2])
    gyr = np.column_stack([0 * t, rate, 0 * t])
    up = gravity_direction(acc, gyr, fs)
    true_up = rot.inv().apply([0, 0, 1.0])
    err = angle_between_deg(up, true_up)
    assert err[-1] < 0.5
    assert err.max() < 4.0  # the accelerometer only nudges the estimate (tau 0.8 s)
    tr = GravityTracker(fs)
    for a, w in zip(acc, gyr, strict=True):
        g = tr.update(*a, *w)
    np.testing.assert_allclose(g, up[-1])
