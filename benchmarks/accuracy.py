"""Accuracy of the exercise analysis on simulated recordings, per exercise and condition.

    .venv/bin/python benchmarks/accuracy.py [--seeds N] [--start S] [--exercises ...]

Seeds 0-199 and 1500-8619 have been looked at while tuning the detector (1000-1019 are the test
suite's); for figures on untouched data use --start 8620 or later. Prints per
exercise x condition: exact-count rate (borderline true reps near 10 deg may go either way; the
strict rate compares with the simulator's counts as given), amplitude/depth RMS error, hold mean
absolute error, and for sway the relative error of every metric against the noise-free truth.
Targets: exact >= 98 %, amplitude RMS <= 2 deg, hold MAE <= 0.2 s, sway within 5 % (path length,
jerk 10 %).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from movecoach.signal.evaluate import score_reps, sway_relative_errors
from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2
from movecoach.signal.reps import count_reps
from movecoach.signal.sway import sway_metrics
from movecoach.sim import DISTRACTORS, Conditions, simulate
from movecoach.sim.conditions import max_tremor_deg

RATES = (50.0, 52.0, 100.0, 104.0, 208.0)
# LSM6DSOX (hardware.md) typical noise densities, 70 ug/sqrt(Hz) and 3.8 mdps/sqrt(Hz), as RMS over
# the 52 Hz band of a 104 Hz stream: about 6x (acc) and 10x (gyro) below the simulator's default.
DATASHEET_ACC_NOISE = 70e-6 * STANDARD_GRAVITY_M_S2 * 52**0.5
DATASHEET_GYR_NOISE = float(np.deg2rad(3.8e-3)) * 52**0.5
SWAY_LOOSE = {"path_length": 0.10, "mean_velocity": 0.10, "jerk": 0.10}


def conditions(name: str, seed: int) -> tuple[Conditions, float]:
    """(conditions, fs) for a condition name: clean, hard, or one component of 'hard'."""
    rng = np.random.default_rng([seed, 4242])
    fs = 104.0
    if name == "clean":
        return Conditions(), fs
    if name == "hard":
        return Conditions.preset("hard", seed=seed), fs
    if name == "tremor":
        hz = float(rng.uniform(4.0, 10.0))
        return Conditions(tremor_amp_deg=min(float(rng.uniform(0.5, 3.0)), max_tremor_deg(hz)),
                          tremor_hz=hz), fs
    if name == "strap":
        return Conditions(strap_error_deg=float(rng.uniform(5.0, 25.0)),
                          strap_roll_deg=float(rng.uniform(-180, 180)),
                          strap_turn_deg=float(rng.uniform(-180, 180))), fs
    if name == "loss":
        return Conditions(loss_bursts=int(rng.integers(1, 5)), irregular_dt=True,
                          t0_s=float(rng.uniform(5, 5000))), fs
    if name == "distractors":
        n = int(rng.integers(3, 6))
        d = tuple(str(x) for x in rng.choice(DISTRACTORS, size=n, replace=False))
        return Conditions(distractors=d), fs
    if name == "rates":
        return Conditions(), float(RATES[seed % len(RATES)])
    if name == "slow":  # people who move slowly (a wall slide down over 6-13 s, long raises)
        return Conditions(speed=float(rng.uniform(0.25, 0.5))), fs
    if name == "rhythmic":  # one rep after another, barely held, right after the distractors
        return Conditions(rhythmic=True, distractors=("walk",)), fs
    if name == "wobble":  # a person who is not quite still between reps
        return Conditions(wobble_deg=float(rng.uniform(0.5, 2.0))), fs
    if name == "side":  # the thigh sensor on the side of the thigh (the foot's strap tilted)
        return Conditions(strap_roll_deg=float(rng.choice([-1, 1]) * rng.uniform(60, 120)),
                          strap_turn_deg=float(rng.uniform(-180, 180)),
                          strap_error_deg=float(rng.uniform(10.0, 25.0))), fs
    if name == "datasheet":  # white noise of the recommended LSM6DSOX as its datasheet gives it
        return Conditions(acc_noise_m_s2=DATASHEET_ACC_NOISE, gyr_noise_rad_s=DATASHEET_GYR_NOISE), fs
    raise ValueError(name)


CONDITIONS = ("clean", "hard", "tremor", "strap", "loss", "distractors", "rates", "slow", "rhythmic",
              "wobble", "side")
# conditions a quiet-standing trial has no model for (tremor, distractors, speed, rhythm, a thigh
# strap's placement, unsteadiness between reps)
NOT_FOR_SWAY = ("tremor", "distractors", "slow", "rhythmic", "wobble", "side")
# sway also runs at the datasheet noise of the recommended IMU (information: the targets hold
# against the simulator's default noise, which is several times higher)
SWAY_EXTRA = ("datasheet",)


def run_reps(exercise: str, cond_name: str, seeds: range, reps: int) -> dict:
    exact = strict = 0
    amp, hold = [], []
    failures = []
    for seed in seeds:
        cond, fs = conditions(cond_name, seed)
        rec = simulate(exercise, reps=reps, fs=fs, seed=seed, conditions=cond)
        found = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise=exercise, fs=rec.fs)
        s = score_reps(found, rec.truth, exercise, rec.t_s)
        exact += s.exact
        strict += s.strict
        amp += s.amp_err_deg
        hold += s.hold_err_s
        if not s.exact:
            failures.append((seed, s.counts, s.truth_counts))
    n = len(seeds)
    a = np.asarray(amp)
    h = np.asarray(hold)
    return {
        "exact": exact / n, "strict": strict / n,
        "amp_rms_deg": float(np.sqrt(np.mean(a**2))) if a.size else float("nan"),
        "hold_mae_s": float(np.mean(np.abs(h))) if h.size else float("nan"),
        "failures": failures,
    }


def run_sway(cond_name: str, seeds: range) -> dict[str, np.ndarray]:
    errs: dict[str, list[float]] = {}
    for seed in seeds:
        cond, fs = conditions(cond_name, seed)
        if cond_name in NOT_FOR_SWAY:
            continue
        rec = simulate("sway", fs=fs, seed=seed, conditions=cond, duration_s=30.0 + seed % 31)
        m = sway_metrics(rec.t_s, rec.acc_m_s2, fs=rec.fs)
        for k, v in sway_relative_errors(m, rec.truth["metrics"]).items():
            errs.setdefault(k, []).append(v)
    return {k: np.asarray(v) for k, v in errs.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20, help="recordings per exercise and condition")
    ap.add_argument("--start", type=int, default=1000,
                    help="first seed (0-199 and 1500-8619 were looked at while tuning)")
    ap.add_argument("--exercises", nargs="+", default=["heel-toe", "march", "wall-slide", "sway"])
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS))
    ap.add_argument("-v", "--verbose", action="store_true", help="list the failing seeds")
    args = ap.parse_args(argv)
    seeds = range(args.start, args.start + args.seeds)
    t0 = time.perf_counter()
    print(f"seeds {seeds.start}-{seeds.stop - 1} ({args.seeds} per cell)")
    rep_ex = [e for e in args.exercises if e != "sway"]
    if rep_ex:
        print(f"\n{'exercise':<11} {'condition':<12} {'exact':>6} {'strict':>7} {'amp RMS':>8} {'hold MAE':>9}")
        for ex in rep_ex:
            reps = 5 if ex == "wall-slide" else 10
            for c in args.conditions:
                r = run_reps(ex, c, seeds, reps)
                flag = "" if (r["exact"] >= 0.98 and r["amp_rms_deg"] <= 2.0 and r["hold_mae_s"] <= 0.2) else "  <- misses target"
                print(f"{ex:<11} {c:<12} {100 * r['exact']:5.0f}% {100 * r['strict']:6.0f}% "
                      f"{r['amp_rms_deg']:6.2f}\N{DEGREE SIGN} {r['hold_mae_s']:7.3f} s{flag}", flush=True)
                if args.verbose and r["failures"]:
                    for f in r["failures"]:
                        print(f"      seed {f[0]}: counted {f[1]}, truth {f[2]}")
    if "sway" in args.exercises:
        print("\nsway: relative error vs noise-free truth, mean |err| / max |err| (target 5 %, path/jerk 10 %)")
        for c in [c for c in args.conditions if c not in NOT_FOR_SWAY] + list(SWAY_EXTRA):
            e = run_sway(c, seeds)
            cells = []
            for k, v in e.items():
                if k == "duration_s":
                    continue
                lim = SWAY_LOOSE.get(k, 0.05)
                mark = "" if np.max(np.abs(v)) <= lim else "!"
                cells.append(f"{k} {100 * np.mean(np.abs(v)):.1f}/{100 * np.max(np.abs(v)):.1f}%{mark}")
            print(f"  {c:<6} " + ", ".join(cells), flush=True)
    print(f"\n({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
