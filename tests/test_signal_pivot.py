"""The pivot fit (signal/pivot.py) on rigid-body motion worked out here from first principles: a
foot turning about the ball of the foot, and a foot swinging from a knee far above it."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from movecoach.signal.pivot import MAX_LEVER_M, fit_lever_m, off_up_deg

G = 9.80665
FS = 25.0  # the detector's grid (Hz)
FINE = 1000.0  # the motion is differentiated at this rate (Hz), then sampled at FS


def _turn_about(point_m, angle_rad, axis=(0.0, 1.0, 0.0)):
    """What a sensor at point_m (3,) m from a fixed pivot (world = sensor frame at rest, z up)
    reads while the body turns about the pivot through angle_rad (n,) on the FINE grid, about
    axis. Returns (acc m/s^2, gyr rad/s, up) sampled at FS, sensor frame."""
    rot = Rotation.from_rotvec(np.outer(angle_rad, axis))
    pos = rot.apply(point_m)
    acc_world = np.gradient(np.gradient(pos, 1 / FINE, axis=0), 1 / FINE, axis=0)
    rate = np.gradient(angle_rad, 1 / FINE)
    every = int(FINE / FS)
    r = rot[::every]
    acc = r.inv().apply(acc_world[::every] + [0.0, 0.0, G])
    up = r.inv().apply([0.0, 0.0, 1.0])
    gyr = np.outer(rate[::every], axis)  # about a fixed axis: the same in both frames
    return acc, gyr, up


def _quick_raise(peak_deg=30.0, rise_s=0.2):
    """Up onto the toes in rise_s, stopping hard at the top (a raise of the hard sets)."""
    t = np.arange(0.0, 1.0, 1 / FINE)
    s = np.clip(t / rise_s, 0.0, 1.0)
    return np.radians(peak_deg) * (3 * s**2 - 2 * s**3)


def _raw_off_deg(acc, up):
    c = np.einsum("ij,ij->i", acc, up) / np.linalg.norm(acc, axis=1)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def test_a_quick_heel_raise_reads_far_off_up_but_not_once_the_turn_about_the_toes_is_out():
    # sensor over the laces: 0.12 m behind the ball of the foot, 0.05 m above the floor; the heel
    # rises, the foot turning nose-down about the toes (about -y with x forward)
    acc, gyr, up = _turn_about((-0.12, 0.0, 0.05), -_quick_raise(), axis=(0.0, 1.0, 0.0))
    assert _raw_off_deg(acc, up).max() > 14.0  # as far off as a step (20.7 deg)
    # (what is left, 3.9 deg, is the jolt as it starts and stops, between two 25 Hz samples)
    assert off_up_deg(acc, gyr, up, FS).max() < 6.0
    np.testing.assert_allclose(fit_lever_m(acc, gyr, up, FS), (-0.12, 0.0, 0.05), atol=0.015)


def test_a_foot_swinging_from_the_knee_is_not_explained_by_a_pivot_on_the_floor():
    # the swing of a stride: the foot hangs 0.5 m below the knee and swings 20 deg through
    acc, gyr, up = _turn_about((0.0, 0.0, -0.5), _quick_raise(20.0, 0.4), axis=(0.0, 1.0, 0.0))
    assert _raw_off_deg(acc, up).max() > 14.0
    assert off_up_deg(acc, gyr, up, FS).max() > 14.0  # the pivot cannot be above the sensor
    assert np.linalg.norm(fit_lever_m(acc, gyr, up, FS)) <= MAX_LEVER_M + 1e-9


def test_a_foot_carried_through_the_air_without_turning_stays_off_up():
    t = np.arange(0.0, 0.6, 1 / FS)
    acc = np.column_stack([6.0 * np.sin(2 * np.pi * t / 0.6), 0 * t, G + 0 * t])  # forward, level
    gyr = np.zeros_like(acc)
    up = np.tile([0.0, 0.0, 1.0], (t.size, 1))
    np.testing.assert_allclose(off_up_deg(acc, gyr, up, FS), _raw_off_deg(acc, up))


def test_samples_lost_in_a_gap_are_left_out_of_the_fit():
    acc, gyr, up = _turn_about((-0.12, 0.0, 0.05), -_quick_raise(), axis=(0.0, 1.0, 0.0))
    acc[2:4] = (0.0, 0.0, G)  # two samples of the rise lost: the gap's filling reads still
    use = np.ones(acc.shape[0], dtype=bool)
    use[2:4] = False
    truth = np.array((-0.12, 0.0, 0.05))
    left_out = fit_lever_m(acc, gyr, up, FS, use)
    taken_in = fit_lever_m(acc, gyr, up, FS)
    assert np.linalg.norm(left_out - truth) < 0.5 * np.linalg.norm(taken_in - truth)
