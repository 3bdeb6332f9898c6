"""Stage 1, orientation: up direction, gyro bias, still and held, from accelerometer and gyro."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from movecoach.signal.orientation import (
    G_M_S2,
    OrientationTracker,
    angle_between_deg,
    gravity_direction,
    rotation_to_z,
)

FS = 50.0


def _imu(rot: Rotation, fs: float, bias_rad_s=(0.0, 0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Specific force (m/s^2) and rate (rad/s) in the sensor frame of a sensor turning through
    the orientations rot (sensor -> world) at fs Hz, with no linear acceleration."""
    acc = rot.inv().apply([0.0, 0.0, G_M_S2])
    rv = (rot[:-1].inv() * rot[1:]).as_rotvec() * fs
    gyr = np.vstack([rv, rv[-1:]]) + np.asarray(bias_rad_s)
    return acc, gyr


def _push(tr: OrientationTracker, acc: np.ndarray, gyr: np.ndarray):
    n = acc.shape[0]
    return tr.push(np.arange(n) / tr.fs, acc, gyr, np.zeros(n), np.ones(n, dtype=bool), np.zeros(n))


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
    assert err.max() < 4.0  # the accelerometer only nudges the estimate while moving


def test_the_gyro_bias_is_learnt_from_a_foot_that_is_never_quite_still():
    """A standing foot rocks by +-3 deg at 0.5-1 Hz: the gyro reads up to +-13 deg/s and is never
    still for long. The bias (1 deg/s on x, -0.5 on y) is still found, from the accelerometer's
    view of how far the foot really turned."""
    t = np.arange(0, 40, 1 / FS)
    roll = np.radians(3.0) * np.sin(2 * np.pi * 0.7 * t)
    pitch = np.radians(1.0) * np.sin(2 * np.pi * 0.5 * t + 1.0)
    rot = Rotation.from_euler("xy", np.column_stack([roll, pitch]))
    bias = np.radians([1.0, -0.5, 0.2])
    acc, gyr = _imu(rot, FS, bias)
    tr = OrientationTracker(FS)
    o = _push(tr, acc, gyr)
    tr.commit()
    assert o.still_s.max() < 0.5  # never still for long by the gyro ...
    assert o.held_s[-1] > 1.0  # ... but held in place
    err_dps = np.degrees(np.asarray(tr.bias_rad_s) - bias)
    assert np.all(np.abs(err_dps[:2]) < 0.2), err_dps


def test_a_slow_slide_is_not_held_but_the_hold_at_its_bottom_is():
    """A wall slide down 60 deg over 10 s turns the thigh at ~6 deg/s, slower than "moving";
    it must not look like a hold, or the detector would take a rest half way down."""
    t = np.arange(0, 16, 1 / FS)
    s = np.clip(t / 10.0, 0, 1)
    flex = np.radians(60) * (10 * s**3 - 15 * s**4 + 6 * s**5)
    rot = Rotation.from_rotvec(np.outer(flex, [0, 1, 0]))
    acc, gyr = _imu(rot, FS)
    o = _push(OrientationTracker(FS), acc, gyr)
    sliding = (t > 2.5) & (t < 7.5)
    assert o.held_s[sliding].max() < 1.0
    assert o.held_s[-1] > 4.0


def test_across_lost_packets_the_accelerometer_leads():
    """0.6 s of lost packets while the foot tips 20 deg: the interpolated gyro knows nothing of
    it; right after the gap the estimate is back with the accelerometer."""
    t = np.arange(0, 6, 1 / FS)
    s = np.clip((t - 2.0) / 0.6, 0, 1)
    pitch = np.radians(20) * (10 * s**3 - 15 * s**4 + 6 * s**5)
    rot = Rotation.from_rotvec(np.outer(pitch, [0, 1, 0]))
    acc, gyr = _imu(rot, FS)
    gap = (t >= 2.0) & (t < 2.6)
    i0, i1 = np.flatnonzero(gap)[[0, -1]]
    span = np.zeros(t.shape[0])
    span[gap] = t[i1 + 1] - t[i0 - 1]
    for x in (acc, gyr):  # what the resampler fills in: a line across the gap
        for k in range(3):
            x[gap, k] = np.interp(t[gap], [t[i0 - 1], t[i1 + 1]], [x[i0 - 1, k], x[i1 + 1, k]])
    tr = OrientationTracker(FS)
    o = tr.push(t, acc, gyr, np.zeros(t.shape[0]), np.ones(t.shape[0], dtype=bool), span)
    assert o.lost[gap].all() and not o.lost[~gap].any()
    err = angle_between_deg(o.up, rot.inv().apply([0, 0, 1.0]))
    assert err[(t > 3.0)].max() < 1.0


def test_any_split_into_blocks_gives_the_same_output_and_a_learnt_bias_applies_on_commit():
    """The bias learnt is used from commit() on (the detector commits at the end of each of its
    grid-aligned chunks, so batch and live agree exactly)."""
    t = np.arange(0, 12, 1 / FS)
    roll = np.radians(2.0) * np.sin(2 * np.pi * 0.6 * t)
    pitch = np.radians(25.0) * np.clip(np.sin(2 * np.pi * 0.2 * t), 0, None)
    rot = Rotation.from_euler("xy", np.column_stack([roll, pitch]))
    bias = np.radians([0.5, 0.3, -0.2])
    acc, gyr = _imu(rot, FS, bias)
    whole = _push(OrientationTracker(FS), acc, gyr)
    tr, parts, i = OrientationTracker(FS), [], 0
    for k in [1, 7, 50, 3, 200, 1000]:
        s = slice(i, i + k)
        n = acc[s].shape[0]
        parts.append(tr.push(t[s], acc[s], gyr[s], np.zeros(n), np.ones(n, dtype=bool), np.zeros(n)))
        i += k
    np.testing.assert_array_equal(np.vstack([p.up for p in parts]), whole.up)
    np.testing.assert_array_equal(np.concatenate([p.held_s for p in parts]), whole.held_s)
    assert tr.bias_rad_s == (0.0, 0.0, 0.0)  # learnt, not yet used
    tr.commit()
    assert np.all(np.abs(np.degrees(np.asarray(tr.bias_rad_s) - bias))[:2] < 0.2)  # across gravity


def _with_gap(t, acc, gyr, t0, t1):
    """The grid the resampler makes of acc, gyr (sampled at t, s) when the packets strictly
    between t0 and t1 (s) are lost: a line across the gap, each point's span the gap's length."""
    gap = (t > t0) & (t < t1)
    i0, i1 = np.flatnonzero(gap)[[0, -1]]
    acc, gyr = acc.copy(), gyr.copy()
    for x in (acc, gyr):
        for k in range(3):
            x[gap, k] = np.interp(t[gap], [t[i0 - 1], t[i1 + 1]], [x[i0 - 1, k], x[i1 + 1, k]])
    span = np.zeros(t.shape[0])
    span[gap] = t[i1 + 1] - t[i0 - 1]
    return acc, gyr, span, gap


def test_a_hold_goes_on_across_a_short_gap_whose_ends_agree():
    """Sitting still with a link that drops a quarter of a second of packets: the person is
    still held there after the gap (the gap's own samples are not counted as held). Longer gaps,
    and short ones across which the thigh moved, start the hold again."""
    t = np.arange(0, 4, 1 / FS)
    flex = np.where(t < 2.0, 0.0, np.radians(10.0) * np.clip((t - 2.0) / 0.2, 0, 1))

    def held_after(gap_s: float, moved: bool) -> tuple[float, float]:
        rot = Rotation.from_rotvec(np.outer(flex if moved else 0 * flex, [0, 1, 0]))
        acc, gyr = _imu(rot, FS)
        acc, gyr, span, gap = _with_gap(t, acc, gyr, 1.95, 1.95 + gap_s)
        o = OrientationTracker(FS).push(t, acc, gyr, np.zeros(t.shape[0]), np.ones(t.shape[0], bool), span)
        assert (o.held_s[gap] == 0.0).all()
        before = o.held_s[np.flatnonzero(gap)[0] - 1]
        return before, o.held_s[np.flatnonzero(gap)[-1] + 1]

    before, after = held_after(0.26, moved=False)
    assert before > 1.8 and after > before
    for gap_s, moved in ((0.5, False), (0.26, True)):
        before, after = held_after(gap_s, moved)
        assert after < 0.1, (gap_s, moved)
