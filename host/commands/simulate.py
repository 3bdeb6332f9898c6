"""`movecoach simulate`: write a simulated recording as an analyze CSV plus its ground truth JSON."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from movecoach.coach.routine import REPS_HELP
from movecoach.errors import UserError
from movecoach.limits import HOLD_S, SWAY_DURATION_S, check_seconds
from movecoach.signal.exercises import EXERCISES

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "simulate",
        help="write a simulated wearable recording (CSV) and its ground truth (JSON)",
        description="Simulate the wearable during an exercise (rigid-body physics, realistic sensor "
                    "errors) and write FILE.csv for `movecoach analyze` plus FILE.json with the true reps.",
    )
    p.add_argument("--exercise", required=True, choices=EXERCISES)
    p.add_argument("--reps", type=int, default=10, metavar="N", help=f"{REPS_HELP} (default %(default)s)")
    p.add_argument("--out", required=True, type=Path, help="CSV file to write (truth goes to the .json beside it)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same recording)")
    p.add_argument("--rate", type=float, default=None, help="sample rate in Hz (default 104, or the preset's)")
    p.add_argument("--condition", choices=("clean", "hard"), default="clean",
                   help="clean: typical sensor, cooperative person; hard: tremor, fatigue, distractors, "
                        "packet loss, jitter, strap errors, 50-208 Hz (default %(default)s)")
    p.add_argument("--hold", type=float, default=None, help="hold per rep in seconds")
    p.add_argument("--duration", type=float, default=None, help="sway trial length in seconds (default 30)")
    p.add_argument("--pattern", choices=("alternate", "blocked"), default="alternate",
                   help="heel-toe order (default %(default)s)")
    p.add_argument("--digits", type=int, default=6,
                   help="significant digits of acc/gyr values, times get digits-1 decimals (default %(default)s)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from movecoach.sim import Conditions, save_csv, simulate

    if args.reps < 1:
        raise UserError(f"--reps must be at least 1, got {args.reps}")
    if args.rate is not None and not 25.0 <= args.rate <= 400.0:
        raise UserError(f"--rate must be within 25-400 Hz, got {args.rate:g}")
    check_seconds("--hold", args.hold, HOLD_S)
    check_seconds("--duration", args.duration, SWAY_DURATION_S)
    if not 3 <= args.digits <= 17:
        raise UserError(f"--digits must be within 3-17, got {args.digits}")
    out: Path = args.out
    if out.suffix.lower() != ".csv":
        raise UserError(f"--out {out}: expected a .csv file name")
    if not out.parent.exists():
        raise UserError(f"--out {out}: directory {out.parent} does not exist")
    cond = Conditions.preset(args.condition, args.seed)
    if args.rate is not None:
        cond = dataclasses.replace(cond, fs_hz=args.rate)
    rec = simulate(args.exercise, args.reps, fs=args.rate or 104.0, seed=args.seed, conditions=cond,
                   duration_s=args.duration, hold_s=args.hold, pattern=args.pattern)
    try:
        save_csv(rec, out, significant_digits=args.digits, time_decimals=args.digits - 1)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write ({exc.strerror})") from None
    counts = ", ".join(f"{v} {k}" for k, v in rec.truth["counts"].items()) or "sway trial"
    dur = rec.t_s[-1] - rec.t_s[0]
    print(f"wrote {out} ({len(rec)} samples, {dur:.1f} s at {rec.fs:g} Hz; {counts}) "
          f"and {out.with_suffix('.json')}")
    return 0
