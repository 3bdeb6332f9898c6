"""The IMU simulator: physics you can check by hand, truth that matches the request, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, find_peaks, sosfiltfilt
from scipy.spatial.transform import Rotation

from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2 as G
from movecoach.sim import Conditions, SimRecording, simulate
from movecoach.sim.conditions import max_tremor_deg


def integrate_gyro(gyr_rad_s: np.ndarray, fs: float) -> Rotation:
    """Orientation relative to the first sample, by integrating body rates (trapezoid)."""
    steps = Rotation.from_rotvec((gyr_rad_s[1:] + gyr_rad_s[:-1]) / 2 / fs)
    out = [Rotation.identity()]
    for s in steps:
        out.append(out[-1] * s)
    return Rotation.concatenate(out)


def pitch_from_gravity_deg(acc_m_s2: np.ndarray) -> np.ndarray:
    """Foot pitch (toes down positive) from the direction of gravity in the foot frame."""
    up = acc_m_s2 / np.linalg.norm(acc_m_s2, axis=1, keepdims=True)
    return np.degrees(np.arcsin(-up[:, 0]))


def at(rec: SimRecording, t_s: float) -> int:
    return int(np.argmin(np.abs(rec.t_s - t_s)))


def angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))))


def quiet() -> Conditions:
    """An ideal sensor: no noise, bias, scale errors or quantisation."""
    return Conditions(noise=False, bias=False, quantise=False)


def test_heel_toe_at_rest_the_foot_feels_gravity_on_plus_z():
    rec = simulate("heel-toe", reps=2, seed=1, conditions=quiet())
    first_rep = rec.truth["reps"][0]["t_start"]
    rest = rec.acc_m_s2[rec.t_s < first_rep - 0.5]
    assert np.allclose(np.linalg.norm(rest, axis=1), G, atol=1e-3)
    assert np.allclose(rest.mean(axis=0), [0.0, 0.0, G], atol=1e-3)
    assert np.abs(rec.gyr_rad_s[rec.t_s < first_rep - 0.5]).max() < 1e-6


def test_ten_heel_toe_reps_give_ten_heel_raises_and_ten_toe_raises():
    rec = simulate("heel-toe", reps=10, seed=4)
    assert rec.truth["counts"] == {"heel_raise": 10, "toe_raise": 10}
    kinds = [r["kind"] for r in rec.truth["reps"]]
    assert kinds == ["heel_raise", "toe_raise"] * 10
    for r in rec.truth["reps"]:
        assert r["t_start"] < r["t_peak"] < r["t_end"]
        lo, hi = (12, 38) if r["kind"] == "heel_raise" else (8, 27)
        assert lo <= r["amplitude_deg"] <= hi
        assert 0.5 <= r["hold_s"] <= 3.5


def test_blocked_pattern_does_all_heel_raises_first():
    rec = simulate("heel-toe", reps=3, seed=2, pattern="blocked")
    assert [r["kind"] for r in rec.truth["reps"]] == ["heel_raise"] * 3 + ["toe_raise"] * 3


def test_integrated_gyro_matches_the_tilt_seen_by_the_accelerometer():
    """Consistency of the two sensors: the pitch from integrating the gyro equals the pitch of the
    gravity direction wherever the foot is still (rest and holds), to a fraction of a degree."""
    rec = simulate("heel-toe", reps=3, seed=2).clean
    rot = integrate_gyro(rec.gyr_rad_s, rec.fs)
    up_int = rot.inv().apply([0.0, 0.0, 1.0])  # the foot starts level
    pitch_int = np.degrees(np.arcsin(-up_int[:, 0]))
    pitch_acc = pitch_from_gravity_deg(rec.acc_m_s2)
    for r in rec.truth["reps"]:
        i = at(rec, r["t_peak"])
        sign = 1 if r["kind"] == "heel_raise" else -1
        assert pitch_int[i] == pytest.approx(sign * r["amplitude_deg"], abs=0.3)
        assert pitch_acc[i] == pytest.approx(pitch_int[i], abs=0.3)


def test_a_crooked_strap_changes_the_axes_but_not_the_angles():
    """A 25 deg strap error (about a random axis): at rest gravity is off +z by up to 25 deg, yet
    each raise still turns the gravity direction by its amplitude (a turn about the horizontal
    toe/heel axis)."""
    rec = simulate("heel-toe", reps=2, seed=2, conditions=Conditions(strap_error_deg=25.0)).clean
    rest = rec.acc_m_s2[rec.t_s < rec.truth["reps"][0]["t_start"] - 0.5].mean(axis=0)
    assert 10.0 < angle_deg(rest, [0.0, 0.0, 1.0]) < 25.1
    for r in rec.truth["reps"]:
        assert angle_deg(rest, rec.acc_m_s2[at(rec, r["t_peak"])]) == pytest.approx(r["amplitude_deg"], abs=0.3)


def test_same_seed_same_recording_other_seed_other_recording():
    a = simulate("march", reps=3, seed=11, conditions=Conditions.preset("hard", 11))
    b = simulate("march", reps=3, seed=11, conditions=Conditions.preset("hard", 11))
    c = simulate("march", reps=3, seed=12, conditions=Conditions.preset("hard", 11))
    assert np.array_equal(a.t_s, b.t_s) and np.array_equal(a.acc_m_s2, b.acc_m_s2)
    assert a.truth == b.truth
    assert a.acc_m_s2.shape != c.acc_m_s2.shape or not np.array_equal(a.acc_m_s2, c.acc_m_s2)


@pytest.mark.parametrize("exercise,kind", [("march", "lift"), ("wall-slide", "slide")])
def test_truth_counts_equal_the_requested_reps(exercise, kind):
    rec = simulate(exercise, reps=4, seed=3)
    assert rec.truth["counts"] == {kind: 4}
    assert len(rec.truth["reps"]) == 4


def test_sway_has_metrics_and_no_reps():
    rec = simulate("sway", seed=5, duration_s=30.0)
    assert rec.truth["reps"] == [] and rec.truth["counts"] == {}
    m = rec.truth["metrics"]
    assert 0.01 < m["rms"] < 0.3
    assert m["duration_s"] == pytest.approx(30.0, abs=0.05)
    assert rec.t_s[-1] == pytest.approx(30.0, abs=0.05)


def test_wall_slide_depth_is_the_thigh_inclination_the_accelerometer_sees_in_the_hold():
    """Standing, the thigh sensor's +x (along the thigh) points up; at the deepest point of each
    slide gravity makes the truth depth with it."""
    rec = simulate("wall-slide", reps=2, seed=8, conditions=quiet())
    first = rec.truth["reps"][0]["t_start"]
    standing = rec.acc_m_s2[rec.t_s < first - 0.5].mean(axis=0)
    assert angle_deg(standing, [1.0, 0.0, 0.0]) < 0.5
    for r in rec.truth["reps"]:
        assert 42 <= r["depth_deg"] <= 90
        assert angle_deg(rec.acc_m_s2[at(rec, r["t_peak"])], [1.0, 0.0, 0.0]) == pytest.approx(r["depth_deg"], abs=0.3)


@pytest.mark.parametrize("strap_roll_deg", [0.0, 120.0, -170.0])
def test_march_lift_angle_is_the_same_whatever_the_strap_rotation_about_the_thigh(strap_roll_deg):
    """Seated, the front of the thigh faces up; a lift rotates the thigh about the hip. The angle
    between gravity at rest and at the top, and the rotation integrated from the gyro, both equal
    the truth amplitude, however the sensor is turned about the thigh."""
    cond = Conditions(noise=False, bias=False, quantise=False, strap_roll_deg=strap_roll_deg)
    rec = simulate("march", reps=3, seed=9, conditions=cond)
    assert rec.truth["counts"] == {"lift": 3}
    if strap_roll_deg == 0.0:
        rest = rec.acc_m_s2[rec.t_s < rec.truth["reps"][0]["t_start"] - 0.5].mean(axis=0)
        assert angle_deg(rest, [0.0, 0.0, 1.0]) < 10  # thigh within ~8 deg of horizontal
    for r in rec.truth["reps"]:
        i0, ip = at(rec, r["t_start"] - 0.05), at(rec, r["t_peak"])
        assert angle_deg(rec.acc_m_s2[i0], rec.acc_m_s2[ip]) == pytest.approx(r["amplitude_deg"], abs=0.6)
        turned = integrate_gyro(rec.gyr_rad_s[i0:ip + 1], rec.fs)[-1]
        assert np.degrees(turned.magnitude()) == pytest.approx(r["amplitude_deg"], abs=0.6)
        assert 13 <= r["amplitude_deg"] <= 42


@pytest.mark.parametrize("exercise", ["heel-toe", "march", "wall-slide"])
def test_hard_conditions_have_distractors_that_are_not_in_the_truth(exercise):
    seed = 21
    cond = Conditions.preset("hard", seed)
    rec = simulate(exercise, reps=3, seed=seed, conditions=cond)
    expected = {"heel-toe": {"heel_raise": 3, "toe_raise": 3}, "march": {"lift": 3}, "wall-slide": {"slide": 3}}
    assert rec.truth["counts"] == expected[exercise]
    spans = rec.truth["distractors"]
    assert len(spans) >= 3 and {s["kind"] for s in spans} <= set(cond.distractors) | {"sit_stand"}
    for s in spans:
        for r in rec.truth["reps"]:
            assert r["t_end"] <= s["t_start"] or s["t_end"] <= r["t_start"], (s, r)
        inside = (rec.clean.t_s >= s["t_start"]) & (rec.clean.t_s <= s["t_end"])
        assert np.abs(rec.clean.gyr_rad_s[inside]).max() > 0.02, s  # the distractor really moves
    walk = next(s for s in spans if s["kind"] == "walk")
    inside = (rec.clean.t_s >= walk["t_start"]) & (rec.clean.t_s <= walk["t_end"])
    assert np.linalg.norm(rec.clean.acc_m_s2[inside], axis=1).max() > 12  # swing and heel strikes


def test_hard_conditions_lose_samples_jitter_and_start_the_clock_late():
    cond = Conditions.preset("hard", 3)
    rec = simulate("march", reps=2, seed=3, conditions=cond)
    assert 50 <= rec.fs <= 208 and rec.fs == cond.fs_hz
    dt = np.diff(rec.t_s)
    assert np.all(dt > 0)
    assert dt.max() > 4.5 / rec.fs  # a burst of >= 5 lost samples
    assert np.std(dt[dt < 1.5 / rec.fs]) > 0.05 / rec.fs  # jitter
    assert rec.t_s[0] == pytest.approx(cond.t0_s, abs=1.0 / rec.fs)
    assert len(rec) < len(rec.clean)
    assert rec.truth["reps"][0]["t_start"] > cond.t0_s


def test_tremor_is_capped_at_one_g_of_shaking_at_a_thigh_sensor():
    # r * theta * (2 pi f)^2 <= 9.81 m/s^2 with r = 0.3 m: big tremors only come slow
    assert max_tremor_deg(4.0) == pytest.approx(2.97, abs=0.01)
    assert max_tremor_deg(10.0) == pytest.approx(0.47, abs=0.01)
    fast = [c for c in (Conditions.preset("hard", s) for s in range(60)) if c.tremor_hz > 8]
    assert fast and all(c.tremor_amp_deg <= 0.75 for c in fast)


def test_hard_presets_vary_with_the_seed_within_realistic_bounds():
    presets = [Conditions.preset("hard", s) for s in range(30)]
    assert all(0.5 <= c.speed <= 2.0 and 4 <= c.tremor_hz <= 10 for c in presets)
    assert all(min(0.5, max_tremor_deg(c.tremor_hz)) <= c.tremor_amp_deg <= min(3.0, max_tremor_deg(c.tremor_hz))
               for c in presets)
    assert all(c.strap_error_deg <= 25 and -180 <= c.strap_roll_deg <= 180 for c in presets)
    assert all(c.fs_hz in (50.0, 52.0, 100.0, 104.0, 208.0) and 1 <= c.loss_bursts <= 4 for c in presets)
    assert len({c.fs_hz for c in presets}) >= 3 and len({c.distractors for c in presets}) >= 10
    assert Conditions.preset("clean", 5) == Conditions()


def test_sensor_noise_and_bias_are_the_configured_size_and_samples_are_int16_counts():
    cond = Conditions(acc_noise_m_s2=0.04, gyr_noise_rad_s=0.005, acc_bias_m_s2=0.1, gyr_bias_rad_s=0.02,
                      scale_error=0.0)
    rec = simulate("wall-slide", reps=1, seed=4, conditions=cond)
    assert np.array_equal(rec.t_s, rec.clean.t_s)  # no loss or jitter asked for
    err_acc = rec.acc_m_s2 - rec.clean.acc_m_s2
    err_gyr = rec.gyr_rad_s - rec.clean.gyr_rad_s
    assert err_acc.std(axis=0) == pytest.approx([0.04] * 3, rel=0.1)
    assert err_gyr.std(axis=0) == pytest.approx([0.005] * 3, rel=0.1)
    assert np.all(np.abs(err_acc.mean(axis=0)) <= 0.1 + 0.003)
    assert np.all(np.abs(err_gyr.mean(axis=0)) <= 0.02 + 0.0005)
    lsb_acc = 122e-6 * 9.80665  # the firmware default: +-4 g, 122 micro-g per count
    lsb_gyr = np.deg2rad(17.5e-3)  # +-500 dps, 17.5 mdps per count
    assert np.allclose(rec.acc_m_s2 / lsb_acc, np.round(rec.acc_m_s2 / lsb_acc), atol=1e-6)
    assert np.allclose(rec.gyr_rad_s / lsb_gyr, np.round(rec.gyr_rad_s / lsb_gyr), atol=1e-6)


def test_scale_errors_and_slow_gyro_bias_wander_are_there_when_asked_for():
    cond = Conditions(noise=False, quantise=False, acc_bias_m_s2=0.0, gyr_bias_rad_s=0.0, scale_error=0.03,
                      gyr_bias_drift_rad_s=0.003)
    rec = simulate("sway", seed=3, duration_s=120.0, conditions=cond)
    ratio = np.linalg.norm(rec.acc_m_s2, axis=1) / np.linalg.norm(rec.clean.acc_m_s2, axis=1)
    assert 0.95 < ratio.min() and ratio.max() < 1.05 and np.abs(ratio - 1).max() > 0.001
    wander = rec.gyr_rad_s - rec.clean.gyr_rad_s
    assert 0.0005 < np.abs(wander).max() < 0.02
    assert np.abs(wander[:100].mean(axis=0) - wander[-100:].mean(axis=0)).max() > 1e-4  # it drifts


def test_heel_strikes_saturate_a_2g_range_like_the_real_chip():
    cond = Conditions(noise=False, bias=False, acc_range_g=2, distractors=("walk",))
    rec = simulate("heel-toe", reps=1, seed=1, conditions=cond)
    lsb = 61e-6 * 9.80665
    assert rec.acc_m_s2.max() == pytest.approx(32767 * lsb) or rec.acc_m_s2.min() == pytest.approx(-32768 * lsb)
    assert np.all((rec.acc_m_s2 <= 32767 * lsb + 1e-9) & (rec.acc_m_s2 >= -32768 * lsb - 1e-9))
    full_scale = 32767 * lsb
    assert np.abs(rec.clean.acc_m_s2).max() > full_scale + 5  # the true peak is well beyond
    with pytest.raises(ValueError, match="acc_range_g"):
        Conditions(acc_range_g=3)


def test_tremor_shakes_the_reps_but_not_the_clean_reference():
    cond = Conditions(noise=False, bias=False, quantise=False, tremor_amp_deg=2.0, tremor_hz=6.0)
    rec = simulate("heel-toe", reps=2, seed=6, conditions=cond)
    r = rec.truth["reps"][0]
    hold = (rec.t_s > r["t_peak"] + 0.2) & (rec.t_s < r["t_peak"] + 0.8)
    gy = rec.gyr_rad_s[hold, 1]
    # 2 deg at 6 Hz: rate amplitude 2 pi 6 * 2 deg = 1.3 rad/s (+-15 % amplitude wander)
    assert 0.9 < np.abs(gy).max() < 1.8
    assert np.abs(rec.clean.gyr_rad_s[hold, 1]).max() < 0.1
    f = np.fft.rfftfreq(4096, 1 / rec.fs)
    spec = np.abs(np.fft.rfft(rec.gyr_rad_s[:, 1] - rec.clean.gyr_rad_s[:, 1], 4096))
    assert f[np.argmax(spec)] == pytest.approx(6.0, abs=0.5)


def test_fatigue_makes_later_reps_smaller_and_holds_shorter():
    cond = Conditions(fatigue=1.0, amplitude_spread=0.0)
    rec = simulate("wall-slide", reps=6, seed=2, conditions=cond, hold_s=10.0)
    depths = [r["depth_deg"] for r in rec.truth["reps"]]
    holds = [r["hold_s"] for r in rec.truth["reps"]]
    assert depths[-1] < 0.85 * depths[0] and holds[-1] < 0.6 * holds[0]
    assert holds[0] == pytest.approx(10.0, abs=0.3)


def test_requested_hold_is_the_time_at_or_beyond_80_percent_of_the_amplitude():
    rec = simulate("heel-toe", reps=3, seed=3, hold_s=2.5)
    assert [r["hold_s"] for r in rec.truth["reps"]] == pytest.approx([2.5] * 6, abs=0.05)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="exercise"):
        simulate("squat")
    with pytest.raises(ValueError, match="reps"):
        simulate("march", reps=0)
    with pytest.raises(ValueError, match="pattern"):
        simulate("heel-toe", reps=1, pattern="random")
    with pytest.raises(ValueError, match="hold_s"):
        simulate("wall-slide", reps=1, hold_s=-2.0)
    with pytest.raises(ValueError, match="duration_s"):
        simulate("sway", duration_s=1.0)
    with pytest.raises(ValueError, match="distractor"):
        Conditions(distractors=("juggling",))
    with pytest.raises(ValueError, match="preset"):
        Conditions.preset("medium", 0)


def span(rec: SimRecording, kind: str) -> np.ndarray:
    s = next(s for s in rec.truth["distractors"] if s["kind"] == kind)
    return (rec.clean.t_s >= s["t_start"]) & (rec.clean.t_s <= s["t_end"])


def test_walking_is_foot_swing_at_about_one_stride_per_second_with_heel_strikes():
    rec = simulate("heel-toe", reps=1, seed=2, conditions=Conditions(distractors=("walk",)))
    inside = span(rec, "walk")
    assert np.abs(rec.clean.gyr_rad_s[inside, 1]).max() > 4.0  # rad/s, the foot swings through
    assert np.linalg.norm(rec.clean.acc_m_s2[inside], axis=1).max() > 2.5 * 9.81
    # heel strikes: short 20-35 Hz transients, one per stride of ~0.8-1.5 s
    sos = butter(4, 12.0, "highpass", fs=rec.fs, output="sos")
    shock = np.linalg.norm(sosfiltfilt(sos, rec.clean.acc_m_s2[inside], axis=0), axis=1)
    strikes, _ = find_peaks(shock, height=5.0, distance=int(0.5 * rec.fs))
    assert len(strikes) >= 2
    assert np.all((np.diff(strikes) / rec.fs > 0.8) & (np.diff(strikes) / rec.fs < 1.5))


def test_standing_up_swings_the_thigh_about_90_degrees_in_a_second_or_two():
    rec = simulate("march", reps=1, seed=5, conditions=Conditions(distractors=("sit_stand", "walk")))
    inside = span(rec, "sit_stand")
    acc = rec.clean.acc_m_s2[inside]
    # thigh axis = sensor +x: inclination from vertical from the gravity direction
    incl = np.degrees(np.arccos(np.clip(acc[:, 0] / np.linalg.norm(acc, axis=1), -1, 1)))
    assert incl[0] < 10 or incl[-1] < 10  # standing at one end ...
    assert max(incl[0], incl[-1]) > 75  # ... seated at the other
    moving = np.flatnonzero(np.abs(rec.clean.gyr_rad_s[inside]).max(axis=1) > 0.2)
    assert 0.7 <= (moving[-1] - moving[0]) / rec.fs <= 2.5
