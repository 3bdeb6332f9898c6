"""Speed of the analysis: `movecoach analyze` as a whole process, and the live analyzers.

    .venv/bin/python benchmarks/analyze_speed.py [--minutes 60] [--exercise march|walk]
        [--against DIR ...]

--against DIR (repeatable) runs the code checked out in DIR (with its own DIR/.venv, e.g. a worktree of an
older commit: `git worktree add --detach ../old 0d6cbaa && (cd ../old && ./scripts/setup)`) side
by side: the same CSV and the same live stream, its runs alternating with this checkout's, so
both see the same load on a busy machine.

Builds a long 100 Hz CSV by repeating a simulated recording (hard conditions, so the detector
works as it would on a real set), runs `movecoach analyze FILE --exercise E --json` in a fresh
process (python start-up, imports and CSV parsing included) and reports x real time (target
>= 1000x), both from the child's CPU time (user + system; meaningful on a loaded machine) and
from wall time. Then pushes a 104 Hz stream through RepAnalyzer / SwayAnalyzer in packet-sized blocks
and reports the CPU cost per sample and the share of one core (target < 1 %).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from movecoach.signal.streaming import RepAnalyzer, SwayAnalyzer


def long_recording(exercise: str, minutes: float, fs: float, seed: int = 5):
    from movecoach.sim import Conditions, simulate

    rec = simulate(exercise, reps=10, fs=fs, seed=seed, conditions=Conditions(irregular_dt=True))
    span = rec.t_s[-1] - rec.t_s[0] + 1.0 / fs
    n_rep = int(np.ceil(minutes * 60.0 / span))
    t = np.concatenate([rec.t_s - rec.t_s[0] + k * span for k in range(n_rep)]) + 100.0
    acc = np.tile(rec.acc_m_s2, (n_rep, 1))
    gyr = np.tile(rec.gyr_rad_s, (n_rep, 1))
    keep = t < 100.0 + minutes * 60.0
    return t[keep], acc[keep], gyr[keep], n_rep * sum(rec.truth["counts"].values())


def _run(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall and CPU (user + system of the child, all its threads) seconds of one run of cmd."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), out


def bench_process(exercise: str, minutes: float, repeat: int = 5, against: tuple[Path, ...] = ()) -> None:
    from movecoach.store.csvio import write_csv

    t, acc, gyr, _ = long_recording(exercise, minutes, 100.0)
    exes = {"this checkout": str(Path(sys.executable).with_name("movecoach"))}
    for other in against:
        exes[f"{other}"] = str(other / ".venv" / "bin" / "movecoach")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "long.csv"
        write_csv(path, t, acc, gyr)
        duration = t[-1] - t[0]
        size_mb = path.stat().st_size / 1e6
        for exe in exes.values():
            _run([exe, "--version"])  # warm the disk cache
        start = {k: [] for k in exes}
        runs = {k: [] for k in exes}
        for _ in range(repeat):  # alternating, so both see the same load
            for name, exe in exes.items():
                start[name].append(_run([exe, "analyze", "--help"])[:2])
                runs[name].append(_run([exe, "analyze", str(path), "--exercise", exercise, "--json"]))
    for name in exes:
        out = runs[name][-1][2]
        n_reps = out.stdout.count('"kind"') + out.stdout.count('"length_m"')
        wall = min(r[0] for r in runs[name])
        cpu = min(r[1] for r in runs[name])
        print(f"movecoach analyze ({name}), {duration / 60:.0f} min at 100 Hz ({len(t)} samples, "
              f"{size_mb:.0f} MB CSV, {n_reps} {'strides' if exercise == 'walk' else 'reps'}), "
              f"whole process, best of {repeat}:")
        print(f"  CPU time (user+sys of the child): {cpu:.2f} s = {duration / cpu:.0f}x real time "
              f"(the figure that holds on a busy machine; median {np.median([r[1] for r in runs[name]]):.2f} s)")
        print(f"  wall time:                        {wall:.2f} s = {duration / wall:.0f}x real time "
              f"(median {np.median([r[0] for r in runs[name]]):.2f} s; rises when other processes share the cores)")
        print(f"  of which start-up (`movecoach analyze --help`: python, numpy, the command's imports): "
              f"{min(s[1] for s in start[name]):.2f} s CPU, {min(s[0] for s in start[name]):.2f} s wall")
    print("  target: >= 1000x real time")


def bench_stream_side_by_side(exercise: str, against: tuple[Path, ...], fs: float = 104.0,
                              seconds: float = 600.0, repeat: int = 3) -> None:
    """The live analyzers of this checkout and of each of `against` on the same stream, alternating."""
    t, acc, gyr, _ = long_recording(exercise, seconds / 60.0, fs)
    pythons = {"this checkout": sys.executable} | {f"{o}": str(o / ".venv" / "bin" / "python") for o in against}
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "stream.npz"
        np.savez(data, t=t, acc=acc, gyr=gyr)
        best: dict[str, tuple[float, str]] = {}
        for _ in range(repeat):
            for name, py in pythons.items():
                out = subprocess.run([py, __file__, "--exercise", exercise, "--live-from", str(data)],
                                     capture_output=True, text=True, check=True).stdout
                share = float(out.split("= ")[1].split(" %")[0])
                if name not in best or share < best[name][0]:
                    best[name] = (share, out.splitlines()[0])
    for name, (_, line) in best.items():
        print(f"{line}  [{name}, best of {repeat}]")


def bench_stream(exercise: str, fs: float = 104.0, block: int = 8, seconds: float = 600.0,
                 data: Path | None = None) -> None:
    if data is None:
        t, acc, gyr, _ = long_recording(exercise, seconds / 60.0, fs)
    else:
        z = np.load(data)
        t, acc, gyr = z["t"], z["acc"], z["gyr"]
    if exercise == "walk":
        from movecoach.signal.gait import WalkAnalyzer

        wa = WalkAnalyzer(fs)
        c0 = time.process_time()
        for i in range(0, len(t), block):
            wa.push(t[i : i + block], acc[i : i + block], gyr[i : i + block])
        wa.finish()
        per = (time.process_time() - c0) / len(t)
        print(f"WalkAnalyzer at {fs:.0f} Hz in blocks of {block}: {per * 1e6:.1f} us/sample "
              f"= {100 * per * fs:.2f} % of one core ({len(wa.strides_)} strides)")
        return
    an = RepAnalyzer(exercise, fs)
    c0 = time.process_time()
    for i in range(0, len(t), block):
        an.push(t[i : i + block], acc[i : i + block], gyr[i : i + block])
    an.finish()
    cpu = time.process_time() - c0
    per = cpu / len(t)
    print(f"RepAnalyzer('{exercise}') at {fs:.0f} Hz in blocks of {block}: {per * 1e6:.1f} us/sample "
          f"= {100 * per * fs:.2f} % of one core ({len(an.reps_)} reps)")
    sw = SwayAnalyzer(fs)
    c0 = time.process_time()
    n = int(60 * fs)
    for i in range(0, n, block):
        sw.push(t[i : i + block], acc[i : i + block])
    push_cpu = time.process_time() - c0
    c0 = time.process_time()
    sw.finish()
    fin = time.process_time() - c0
    print(f"SwayAnalyzer at {fs:.0f} Hz: {push_cpu / n * 1e6:.1f} us/sample while collecting "
          f"({100 * push_cpu / n * fs:.3f} % of one core), finish() on 60 s: {fin * 1e3:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the CSV for analyze")
    ap.add_argument("--exercise", default="march", choices=["heel-toe", "march", "wall-slide", "walk"])
    ap.add_argument("--against", type=Path, action="append", default=[],
                    help="a checkout with its own .venv to measure side by side (see above); repeatable")
    ap.add_argument("--live-from", type=Path, default=None, help=argparse.SUPPRESS)  # (--against's child)
    args = ap.parse_args(argv)
    if args.live_from is not None:
        bench_stream(args.exercise, data=args.live_from)
        return 0
    for other in args.against:
        if not (other / ".venv" / "bin" / "movecoach").exists():
            print(f"analyze_speed: {other} has no .venv/bin/movecoach (run ./scripts/setup there)",
                  file=sys.stderr)
            return 2
    bench_process(args.exercise, args.minutes, against=tuple(args.against))
    if args.against and args.exercise != "walk":
        bench_stream_side_by_side(args.exercise, tuple(args.against))
    else:
        bench_stream(args.exercise)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
