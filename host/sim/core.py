"""simulate(): a whole wearable recording of one exercise, with ground truth."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from movecoach.samples import SampleBlock
from movecoach.signal.exercises import EXERCISES
from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2
from movecoach.sim.conditions import Conditions, acc_lsb_m_s2, gyr_lsb_rad_s
from movecoach.sim.kinematics import ideal_imu, sample_imu
from movecoach.sim.motions import BUILDERS, Body, Motion, _band_noise
from movecoach.sim.sway_truth import true_sway_metrics

log = logging.getLogger(__name__)

FS_INTERNAL_HZ = 1000.0
_ACTIVE_TREMOR = 1.0  # tremor size during reps and holds (x tremor_amp_deg) ...
_REST_TREMOR = 0.1  # ... and at rest


@dataclass(frozen=True)
class SimRecording:
    """A simulated recording. t_s: (n,) s sensor clock (gaps where samples were lost);
    acc_m_s2: (n, 3) m/s^2 specific force, gyr_rad_s: (n, 3) rad/s, both in the sensor frame;
    fs: nominal rate in Hz; truth: ground truth (JSON-ready dict); clean: the same motion on a
    regular grid with no noise, bias, quantisation, tremor, jitter or loss (None on itself)."""

    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    fs: float
    truth: dict
    clean: SimRecording | None = field(default=None, repr=False)

    @property
    def exercise(self) -> str:
        return self.truth["exercise"]

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def block(self) -> SampleBlock:
        """The recording as one SampleBlock (what the decoder would deliver)."""
        return SampleBlock(self.t_s, self.acc_m_s2, self.gyr_rad_s, fs=self.fs)


def simulate(exercise: str, reps: int = 10, *, fs: float = 104.0, seed: int = 0,
             conditions: Conditions | None = None, duration_s: float | None = None,
             hold_s: float | None = None, pattern: str = "alternate") -> SimRecording:
    """Simulate a wearable recording of `exercise` done by a person, with ground truth.

    exercise: heel-toe | march | wall-slide | sway | walk. reps: heel-toe: reps heel raises AND reps toe
    raises (20 reps for reps=10); march: lifts of the instrumented thigh; wall-slide: slides;
    ignored for sway and walk. fs: sample rate in Hz (conditions.fs_hz overrides it). seed: everything
    random (person, amplitudes, noise) is drawn from it, so equal arguments give equal arrays.
    duration_s: sway trial length (default 30 s); walk: about how long the walk lasts, standing
    before and after included (default 60 s; bouts, turns and stops, see movecoach.sim.walking). hold_s: hold per rep in s (time at or beyond
    80 % of the rep's amplitude; default: ~2 s heel raises, ~1.5 s toe raises, 5-15 s slides,
    short for march lifts). pattern: heel-toe "alternate" or "blocked".
    """
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; expected one of {EXERCISES}")
    if exercise != "sway" and reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    if hold_s is not None and not 0.0 <= hold_s <= 120.0:
        raise ValueError(f"hold_s must be within 0-120 s, got {hold_s}")
    if duration_s is not None and not 5.0 <= duration_s <= 3600.0:
        raise ValueError(f"duration_s must be within 5-3600 s, got {duration_s}")
    cond = conditions if conditions is not None else Conditions()
    fs_out = float(cond.fs_hz or fs)
    if not 10.0 <= fs_out <= 1000.0:
        raise ValueError(f"fs must be in 10-1000 Hz, got {fs_out}")
    rng = np.random.default_rng(seed)
    if exercise == "walk":
        return _simulate_walk(rng, cond, fs_out, seed, 60.0 if duration_s is None else duration_s)
    body = Body.draw(rng, cond.vary_body)
    if exercise == "sway":
        motion = BUILDERS["sway"](duration_s if duration_s is not None else 30.0, rng, cond, body, FS_INTERNAL_HZ)
    elif exercise == "heel-toe":
        motion = BUILDERS[exercise](reps, rng, cond, body, FS_INTERNAL_HZ, hold_s, pattern)
    else:
        motion = BUILDERS[exercise](reps, rng, cond, body, FS_INTERNAL_HZ, hold_s)

    if cond.wobble_deg > 0 and motion.wobble:
        motion = _wobbled(motion, cond, rng)

    # how the sensor sits on the segment: mount (incl. thigh roll) and a misalignment
    max_err = {"heel-toe": 30.0, "march": 10.0, "wall-slide": 10.0, "sway": 10.0}[exercise]
    err_deg = min(cond.strap_error_deg, max_err)
    axis = rng.standard_normal(3)
    strap = Rotation.from_rotvec(axis / np.linalg.norm(axis) * np.deg2rad(err_deg))
    mount = motion.mount * strap

    t_int = np.arange(motion.n) / FS_INTERNAL_HZ
    rot_clean = motion.rot * mount
    acc_c, gyr_c = ideal_imu(rot_clean, motion.pos_m, FS_INTERNAL_HZ, motion.acc_extra_m_s2)
    if cond.tremor_amp_deg > 0 and motion.tremor:
        trem = _tremor_rad(motion, cond, rng, t_int)
        shaken = dict(motion.channels)
        for k, w in motion.tremor.items():
            shaken[k] = shaken[k] + w * trem
        rot_t, pos_t = motion.pose(shaken)
        acc_r, gyr_r = ideal_imu(rot_t * mount, pos_t, FS_INTERNAL_HZ, motion.acc_extra_m_s2)
    else:
        acc_r, gyr_r = acc_c, gyr_c

    duration = t_int[-1]
    t_reg, t_samp, clean_acc, clean_gyr, acc, gyr, keep = _sensor_output(
        t_int, (acc_c, gyr_c), (acc_r, gyr_r), fs_out, cond, rng)

    t0 = float(cond.t0_s)
    requested = {"reps": reps, "hold_s": hold_s, "pattern": pattern, "duration_s": duration_s}
    truth = _truth(motion, cond, seed, fs_out, t0, requested, err_deg)
    if exercise == "sway":
        # the written definitions, transcribed apart from the analysis they check, on the
        # noise-free regular recording
        metrics = true_sway_metrics(clean_acc, fs_out)
        truth["metrics"] = {k: round(v, 8) for k, v in metrics.items()}
    clean = SimRecording(np.round(t_reg + t0, 6), clean_acc, clean_gyr, fs_out, truth)
    log.info("simulated %s: %d samples at %.0f Hz, %.1f s, %d reps, %d distractors", exercise,
             int(keep.sum()), fs_out, duration, len(truth["reps"]), len(truth["distractors"]))
    return SimRecording(np.round(t_samp[keep] + t0, 6), acc[keep], gyr[keep], fs_out, truth, clean)


def _sensor_output(t_int: np.ndarray, clean: tuple[np.ndarray, np.ndarray],
                   real: tuple[np.ndarray, np.ndarray], fs_out: float, cond: Conditions,
                   rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """What the sensor records of the ideal IMU signals at FS_INTERNAL_HZ (t_int (n,) s;
    clean: (acc m/s^2, gyr rad/s) of the noise-free motion, real: with tremor): sampled at fs_out
    (jittered when cond.irregular_dt), with the sensor's errors, and which samples survive the
    loss bursts. Returns (t_reg, t_samp, clean_acc, clean_gyr, acc, gyr, keep)."""
    n_out = int(np.floor(t_int[-1] * fs_out))  # samples at k / fs for k < n_out stay inside the grid
    t_reg = np.arange(n_out) / fs_out
    t_samp = _jitter(t_reg, fs_out, rng) if cond.irregular_dt else t_reg
    clean_acc, clean_gyr = sample_imu(t_int, clean[0], clean[1], t_reg, fs_out)
    acc, gyr = sample_imu(t_int, real[0], real[1], t_samp, fs_out)
    acc, gyr = sensor_errors(acc, gyr, fs_out, cond, rng)
    keep = _loss_mask(len(t_samp), cond.loss_bursts, rng)
    return t_reg, t_samp, clean_acc, clean_gyr, acc, gyr, keep


def _simulate_walk(rng: np.random.Generator, cond: Conditions, fs_out: float, seed: int,
                   duration_s: float) -> SimRecording:
    """A foot walking for about duration_s (movecoach.sim.walking), through the same sensor
    model as the exercises; truth: counts {"stride": n}, reps (= strides), strides, bouts,
    distance_m."""
    from movecoach.sim import walking

    strides = walking.plan(rng, duration_s)
    rot, pos, walk_truth = walking.foot_motion(strides, FS_INTERNAL_HZ)
    err_deg = min(cond.strap_error_deg, 30.0)
    axis = rng.standard_normal(3)
    strap = Rotation.from_rotvec(axis / np.linalg.norm(axis) * np.deg2rad(err_deg))
    acc_c, gyr_c = ideal_imu(rot * strap, pos, FS_INTERNAL_HZ)
    t_int = np.arange(pos.shape[0]) / FS_INTERNAL_HZ
    t_reg, t_samp, clean_acc, clean_gyr, acc, gyr, keep = _sensor_output(
        t_int, (acc_c, gyr_c), (acc_c, gyr_c), fs_out, cond, rng)
    t0 = float(cond.t0_s)
    for group in [walk_truth["strides"], walk_truth["bouts"]]:
        for r in group:
            for k in ("t_start", "t_end", "t_land"):
                if k in r:
                    r[k] = round(r[k] + t0, 3)
    truth = {"exercise": "walk", "counts": {"stride": len(walk_truth["strides"])},
             "reps": [{"kind": "stride", **r} for r in walk_truth["strides"]], **walk_truth,
             "distractors": [], "fs": fs_out, "seed": seed,
             "requested": {"duration_s": duration_s}, "strap_error_deg": round(err_deg, 2),
             "gravity_m_s2": STANDARD_GRAVITY_M_S2, "conditions": cond.to_json()}
    clean = SimRecording(np.round(t_reg + t0, 6), clean_acc, clean_gyr, fs_out, truth)
    log.info("simulated walk: %d samples at %.0f Hz, %.1f s, %d strides, %.1f m", int(keep.sum()),
             fs_out, t_int[-1], len(walk_truth["strides"]), walk_truth["distance_m"])
    return SimRecording(np.round(t_samp[keep] + t0, 6), acc[keep], gyr[keep], fs_out, truth, clean)


# The natural unsteadiness of a segment (Conditions.wobble_deg) is slow: postural sway of a
# standing person lies at 0.1-1 Hz (foot centre-of-pressure and ankle studies), a little faster
# at a single foot rolling on the floor.
WOBBLE_BAND_HZ = (0.2, 1.5)


def _wobbled(motion: Motion, cond: Conditions, rng: np.random.Generator) -> Motion:
    """The motion with band-limited wobble of cond.wobble_deg RMS (times each channel's weight)
    added to its wobble channels, pose recomputed: part of the motion and of its truth."""
    ch = dict(motion.channels)
    n = motion.n
    for k, w in motion.wobble.items():
        ch[k] = ch[k] + w * _band_noise(rng, n, motion.fs_hz, *WOBBLE_BAND_HZ, np.deg2rad(cond.wobble_deg))
    rot, pos = motion.pose(ch)
    return dataclasses.replace(motion, rot=rot, pos_m=pos, channels=ch)


def _tremor_rad(motion: Motion, cond: Conditions, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """(n,) rad joint tremor at ~tremor_hz (frequency and size wander slowly), full size during
    reps and holds (action tremor, clonus), a tenth of it at rest."""
    n = len(t)
    env = np.full(n, _REST_TREMOR)
    for r in motion.reps:
        env[r.i_start:r.i_end + 1] = _ACTIVE_TREMOR
    # smooth the on/off over ~0.3 s
    k = int(0.3 * motion.fs_hz)
    env = np.convolve(np.pad(env, k, mode="edge"), np.ones(k) / k, mode="same")[k:-k]
    knots = np.arange(int(t[-1]) + 2, dtype=float)  # one random value per second, interpolated
    slow = np.interp(t, knots, rng.standard_normal(len(knots)))
    slow2 = np.interp(t, knots, rng.standard_normal(len(knots)))
    freq = cond.tremor_hz * (1.0 + 0.05 * slow)
    phase = 2 * np.pi * np.cumsum(freq) / motion.fs_hz + rng.uniform(0, 2 * np.pi)
    amp = np.deg2rad(cond.tremor_amp_deg) * env * (1.0 + 0.15 * slow2)
    return amp * np.sin(phase)


def _jitter(t_reg: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
    """Sample instants of a wearable sampling on a software timer: +-30 % jitter, 1 % up to 65 % late."""
    dt = 1.0 / fs
    j = rng.uniform(-0.3, 0.3, len(t_reg)) * dt
    late = rng.random(len(t_reg)) < 0.01
    j[late] += rng.uniform(0.2, 0.35, late.sum()) * dt  # consecutive samples stay >= 0.05 dt apart
    t = t_reg + j
    t[0] = max(t[0], 0.0)
    t[-1] = min(t[-1], t_reg[-1])
    return t


def sensor_errors(acc: np.ndarray, gyr: np.ndarray, fs: float, cond: Conditions,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noise (constant density, RMS given at 104 Hz), constant bias, int16 counts (saturating)."""
    acc = acc.copy()
    gyr = gyr.copy()
    scale = np.sqrt(fs / 104.0)
    if cond.noise:
        acc += rng.normal(0.0, cond.acc_noise_m_s2 * scale, acc.shape)
        gyr += rng.normal(0.0, cond.gyr_noise_rad_s * scale, gyr.shape)
    if cond.bias:
        e = cond.scale_error
        for x in (acc, gyr):  # sensitivity and cross-axis errors: x <- (I + S) x
            s = np.diag(rng.uniform(-e, e, 3)) + rng.uniform(-e / 3, e / 3, (3, 3)) * (1 - np.eye(3))
            x += x @ s.T
        acc += rng.uniform(-cond.acc_bias_m_s2, cond.acc_bias_m_s2, 3)
        gyr += rng.uniform(-cond.gyr_bias_rad_s, cond.gyr_bias_rad_s, 3)
        if cond.gyr_bias_drift_rad_s > 0:
            gyr += _slow_wander(len(gyr), fs, rng) * cond.gyr_bias_drift_rad_s
    if cond.quantise:
        acc = _quantise(acc, acc_lsb_m_s2(cond.acc_range_g))
        gyr = _quantise(gyr, gyr_lsb_rad_s(cond.gyr_range_dps))
    return acc, gyr


def _slow_wander(n: int, fs: float, rng: np.random.Generator) -> np.ndarray:
    """(n, 3) unit-RMS random wander on a minutes time scale (knots every 60 s, cubic-smooth)."""
    from scipy.interpolate import CubicSpline

    t = np.arange(n) / fs
    knots = np.arange(0.0, t[-1] + 120.0, 60.0)
    return CubicSpline(knots, rng.standard_normal((len(knots), 3)))(t)


def _quantise(x: np.ndarray, lsb: float) -> np.ndarray:
    return np.clip(np.round(x / lsb), -32768, 32767) * lsb


def _loss_mask(n: int, bursts: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) bool, False on `bursts` runs of 5-40 lost samples (never the first or last sample)."""
    keep = np.ones(n, dtype=bool)
    for _ in range(bursts):
        m = int(rng.integers(5, 41))
        if n <= m + 2:
            break
        i = int(rng.integers(1, n - m - 1))
        keep[i:i + m] = False
    return keep


def _truth(motion: Motion, cond: Conditions, seed: int, fs: float, t0: float, requested: dict,
           strap_err_deg: float) -> dict:
    fi = motion.fs_hz
    out_reps = []
    for r in motion.reps:
        if r.kind == "slide":  # depth: thigh inclination from vertical
            ang = np.rad2deg(r.sign * (motion.channels[r.channel][r.i_start:r.i_end + 1] - r.rest))
        else:  # angle of the segment's rotation away from its rest orientation (all axes)
            seg = motion.rot[r.i_start:r.i_end + 1]
            ang = np.rad2deg((seg[0].inv() * seg).magnitude())
        amp = float(ang.max())
        i_peak = int(np.argmax(ang))
        hold = float(np.count_nonzero(ang >= 0.8 * amp) / fi)
        rep = {"kind": r.kind, "t_start": round(t0 + r.i_start / fi, 3), "t_peak": round(t0 + (r.i_start + i_peak) / fi, 3),
               "t_end": round(t0 + r.i_end / fi, 3)}
        rep["depth_deg" if r.kind == "slide" else "amplitude_deg"] = round(amp, 2)
        rep["hold_s"] = round(hold, 3)
        out_reps.append(rep)
    counts: dict[str, int] = {}
    for r in motion.reps:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return {
        "exercise": motion.exercise,
        "counts": counts,
        "reps": out_reps,
        "distractors": [{"kind": s.kind, "t_start": round(t0 + s.i_start / fi, 3), "t_end": round(t0 + s.i_end / fi, 3)}
                        for s in motion.spans],
        "fs": fs,
        "seed": seed,
        "requested": requested,
        "strap_error_deg": round(strap_err_deg, 2),
        "gravity_m_s2": STANDARD_GRAVITY_M_S2,
        "conditions": cond.to_json(),
        **({"body": motion.info} if motion.info else {}),
    }


def save_csv(rec: SimRecording, path: str | Path, *, significant_digits: int = 6, time_decimals: int = 6) -> Path:
    """Write rec as an analyze CSV at path and its ground truth as path.with_suffix('.json')."""
    from movecoach.store.csvio import write_csv

    path = Path(path)
    write_csv(path, rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, significant_digits=significant_digits,
              time_decimals=time_decimals)
    path.with_suffix(".json").write_text(json.dumps(rec.truth, indent=1) + "\n")
    return path
