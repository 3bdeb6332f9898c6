"""Orientation stage: which filter tracks "up" best on the project's data, and at what cost.

    .venv/bin/pip install -e ".[bench]"   # vqf and imufusion, pinned in pyproject.toml
    .venv/bin/python benchmarks/orientation.py [--seeds N] [--start S]

Side by side, on the same simulated recordings (the simulator knows the true orientation), on
the detector's grid (pre-filtered at 50 Hz, then 25 Hz; gaps bridged as the detector sees them):

- complementary: the session-start tracker (a complementary filter, tau 0.8 s, gyro bias not
  learnt), kept here as the baseline;
- movecoach: :class:`movecoach.signal.orientation.OrientationTracker` (time constant from what
  the segment does, gyro bias from the accelerometer's view of the rotation, gap handling);
- vqf: VQF 2.1 (Laidig & Seel 2023, 6D: rest and motion bias estimation), pip ``vqf``;
- imufusion: x-io's Fusion AHRS 1.3 (6D, gain 0.5), pip ``imufusion`` (optional: the row is
  left out if it is not installed).

Prints the angle between the estimated and the true up direction (degrees; median and 95th
percentile over every sample, and over the samples inside reps, where the amplitude is read),
and the CPU time per hour of data. The detector keeps the filter that is best inside reps.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import conditions  # noqa: E402

from movecoach.signal.filters import StreamingSOS  # noqa: E402
from movecoach.signal.measure import prefilter_delay_s, prefilter_sos  # noqa: E402
from movecoach.signal.orientation import G_M_S2, OrientationTracker  # noqa: E402
from movecoach.signal.resample import resample_uniform  # noqa: E402
from movecoach.signal.streaming import ANALYSIS_FS, DECIMATION, DETECTOR_FS  # noqa: E402
from movecoach.sim import core  # noqa: E402

CONDITIONS = ("clean", "hard", "wobble", "tremor", "loss")


def complementary(acc: np.ndarray, gyr: np.ndarray, fs: float, tau_s: float = 0.8,
                  gate_m_s2: float = 0.5) -> np.ndarray:
    """The session-start GravityTracker: gyro-propagated up, pulled toward the accelerometer."""
    dt = 1.0 / fs
    al0 = tau_s / (tau_s + dt)
    out = np.empty_like(acc)
    g = acc[0] / np.linalg.norm(acc[0])
    for i, (a, w) in enumerate(zip(acc, gyr, strict=True)):
        an = math.sqrt(a @ a)
        al = 1.0 if abs(an - G_M_S2) > gate_m_s2 else al0
        p = g + dt * np.cross(g, w)
        g = al * p + (1 - al) * a / G_M_S2
        g = g / math.sqrt(g @ g)
        out[i] = g
    return out


def movecoach(acc, gyr, fs, shake, valid, span) -> np.ndarray:
    n = acc.shape[0]
    return OrientationTracker(fs).push(np.arange(n) / fs, acc, gyr, shake, valid, span).up


def vqf(acc, gyr, fs) -> np.ndarray:
    from scipy.spatial.transform import Rotation
    from vqf import VQF

    out = VQF(1.0 / fs).updateBatch(np.ascontiguousarray(gyr), np.ascontiguousarray(acc))
    q = out["quat6D"]
    return Rotation.from_quat(q[:, [1, 2, 3, 0]]).inv().apply([0.0, 0.0, 1.0])


def imufusion(acc, gyr, fs) -> np.ndarray | None:
    try:
        import imufusion as fu
    except ImportError:
        return None
    ahrs = fu.Ahrs()
    settings = fu.AhrsSettings()
    settings.gain = 0.5
    settings.gyroscope_range = 2000
    settings.acceleration_rejection = 10
    settings.magnetic_rejection = 0
    settings.rejection_timeout = int(5 * fs)
    settings.sample_rate = int(fs)
    ahrs.set_settings(settings)
    ahrs.set_sample_period(1.0 / fs)
    out = np.empty_like(acc)
    for i, (a, w) in enumerate(zip(acc, gyr, strict=True)):
        ahrs.update_no_magnetometer(np.degrees(w), a / G_M_S2)
        out[i] = ahrs.get_gravity()  # unit up direction in the sensor frame
    return out


def recording(exercise: str, cond_name: str, seed: int):
    """The grid samples the detector sees, the true up direction on that grid, and a mask of
    the samples inside reps."""
    cond, fs = conditions(cond_name, seed)
    captured = {}
    ideal = core.ideal_imu

    def spy(rot, pos, fs_i, extra):
        captured["rot"] = rot  # the last call: the motion with tremor, as the sensor felt it
        return ideal(rot, pos, fs_i, extra)

    core.ideal_imu = spy
    try:
        rec = core.simulate(exercise, reps=5 if exercise == "wall-slide" else 10, fs=fs, seed=seed,
                            conditions=cond)
    finally:
        core.ideal_imu = ideal
    full = resample_uniform(rec.t_s, np.hstack([rec.acc_m_s2, rec.gyr_rad_s]), ANALYSIS_FS)
    # pre-filtered on the 50 Hz grid, then every DECIMATION-th sample: what the detector's
    # stages see (DETECTOR_FS)
    x = StreamingSOS(prefilter_sos(ANALYSIS_FS))(full.x)[::DECIMATION]
    grid = SimpleNamespace(t_s=full.t_s[::DECIMATION], valid=full.valid[::DECIMATION],
                           span_s=full.span_s[::DECIMATION])
    true_up = captured["rot"].inv().apply([0.0, 0.0, 1.0])
    t_true = np.arange(true_up.shape[0]) / core.FS_INTERNAL_HZ + cond.t0_s
    # the pre-filter delays what every filter sees by its group delay: compare with the truth then
    t_seen = grid.t_s - prefilter_delay_s(ANALYSIS_FS)
    up = np.column_stack([np.interp(t_seen, t_true, true_up[:, k]) for k in range(3)])
    in_rep = np.zeros(grid.t_s.shape[0], dtype=bool)
    for r in rec.truth["reps"]:
        in_rep |= (grid.t_s >= r["t_start"]) & (grid.t_s <= r["t_end"])
    return x[:, :3], x[:, 3:], grid, up / np.linalg.norm(up, axis=1, keepdims=True), in_rep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--start", type=int, default=1000)
    args = ap.parse_args(argv)
    filters = ("complementary", "movecoach", "vqf", "imufusion")
    errs = {f: {"all": [], "reps": []} for f in filters}
    cpu = {f: 0.0 for f in filters}
    n_samples = 0
    for ex in ("heel-toe", "march", "wall-slide"):
        for c in CONDITIONS:
            for seed in range(args.start, args.start + args.seeds):
                acc, gyr, grid, true_up, in_rep = recording(ex, c, seed)
                n_samples += acc.shape[0]
                shake = np.zeros(acc.shape[0])
                for f in filters:
                    t0 = time.process_time()
                    if f == "complementary":
                        up = complementary(acc, gyr, DETECTOR_FS)
                    elif f == "movecoach":
                        up = movecoach(acc, gyr, DETECTOR_FS, shake, grid.valid, grid.span_s)
                    elif f == "vqf":
                        up = vqf(acc, gyr, DETECTOR_FS)
                    else:
                        up = imufusion(acc, gyr, DETECTOR_FS)
                    cpu[f] += time.process_time() - t0
                    if up is None:
                        continue
                    e = np.degrees(np.arccos(np.clip(np.sum(up * true_up, axis=1), -1, 1)))
                    errs[f]["all"].append(e[grid.valid])
                    errs[f]["reps"].append(e[in_rep & grid.valid])
    hours = n_samples / DETECTOR_FS / 3600
    print(f"{n_samples / DETECTOR_FS / 60:.0f} min of {DETECTOR_FS:g} Hz data, seeds {args.start}-{args.start + args.seeds - 1}, "
          f"conditions {', '.join(CONDITIONS)}, heel-toe/march/wall-slide")
    print(f"{'filter':<14} {'all p50':>8} {'all p95':>8} {'reps p50':>9} {'reps p95':>9} {'CPU s/h':>8}")
    for f in filters:
        if not errs[f]["all"]:
            print(f"{f:<14} (not installed)")
            continue
        a, r = np.concatenate(errs[f]["all"]), np.concatenate(errs[f]["reps"])
        print(f"{f:<14} {np.median(a):7.2f}\N{DEGREE SIGN} {np.percentile(a, 95):7.2f}\N{DEGREE SIGN} "
              f"{np.median(r):8.2f}\N{DEGREE SIGN} {np.percentile(r, 95):8.2f}\N{DEGREE SIGN} {cpu[f] / hours:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
