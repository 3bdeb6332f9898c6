"""How fast recording and review are: a 30-minute session at 104 Hz, and history / trends /
report over 1000 daily sessions (targets: history and trends < 1 s, report < 5 s).

    .venv/bin/python benchmarks/review_speed.py [--sessions 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from movecoach.events import from_dict
from movecoach.review.history import history_lines
from movecoach.review.report import write_report
from movecoach.review.synthetic import record_synthetic_history
from movecoach.review.trends import compute_trends, format_trends
from movecoach.samples import SampleBlock
from movecoach.store import open_store, read_samples

FS = 104.0


def bench_recording(directory: Path, minutes: float = 30.0, block_n: int = 8) -> None:
    """Record `minutes` of samples as fast as possible in blocks of block_n, with a rep every 3 s."""
    n_total = int(minutes * 60 * FS)
    rng = np.random.default_rng(0)
    acc = rng.normal(0, 1, (n_total, 3)) + [9.81, 0, 0]
    gyr = rng.normal(0, 0.5, (n_total, 3))
    t = np.arange(n_total) / FS
    latencies = []
    with open_store(directory, record=True) as rec:
        sess = rec.start_session(device_id="bench", routine="daily", source="bench", fs=FS)
        t0 = time.perf_counter()
        for k in range(0, n_total, block_n):
            sl = slice(k, k + block_n)
            c0 = time.perf_counter()
            sess.add_samples(SampleBlock(t[sl], acc[sl], gyr[sl], FS, 1.7e9 + t[sl]), step=0)
            if k % int(3 * FS) < block_n:
                sess.handle(from_dict("rep", time.time(), {"exercise": "march", "kind": "lift", "count": k,
                                                           "set": 1, "amplitude_deg": 30.0}))
            latencies.append(time.perf_counter() - c0)
        enqueue_s = time.perf_counter() - t0
        sess.finish()
        total_s = time.perf_counter() - t0
        sess.close()
        sid = sess.id
    c0 = time.perf_counter()
    back = read_samples(directory, sid)
    read_s = time.perf_counter() - c0
    assert len(back) == n_total
    lat = np.array(latencies) * 1e6
    size_mb = os.path.getsize(directory / "movecoach.sqlite") / 1e6
    real_s = n_total / FS
    print(f"record {minutes:.0f} min at {FS:g} Hz ({n_total} samples, blocks of {block_n}): "
          f"{total_s:.2f} s = {real_s / total_s:.0f}x real time; "
          f"add_samples/handle per call median {np.median(lat):.0f} us, p99 {np.percentile(lat, 99):.0f} us, "
          f"max {lat.max() / 1000:.1f} ms (enqueue only: {enqueue_s:.2f} s)")
    print(f"  read back {n_total} samples: {read_s * 1000:.0f} ms; database {size_mb:.1f} MB "
          f"({size_mb * 1e6 / n_total:.0f} bytes/sample)")


def timed(label: str, fn, target_s: float):
    t0 = time.perf_counter()
    result = fn()
    dt_s = time.perf_counter() - t0
    print(f"{label:<44} {dt_s:6.3f} s  (target < {target_s:g} s: {'ok' if dt_s < target_s else 'SLOW'})")
    return result


def cli_time(args: list[str]) -> float:
    code = ("import sys, movecoach.cli as c; c.COMMAND_MODULES = ('movecoach.commands.review',); "
            "sys.exit(c.main(sys.argv[1:]))")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, stdout=subprocess.DEVNULL,
                   cwd=tempfile.gettempdir())
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--keep", metavar="DIR", help="keep the generated data here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_recording(Path(tmp) / "rec")
        directory = Path(args.keep or Path(tmp) / "history")
        t0 = time.perf_counter()
        record_synthetic_history(directory, days=args.sessions, seed=1)
        gen_s = time.perf_counter() - t0
        print(f"recorded {args.sessions} synthetic sessions through the recorder in {gen_s:.1f} s "
              f"({args.sessions / gen_s:.0f} sessions/s)")
        store = open_store(directory)
        lines = timed(f"history ({args.sessions} sessions, in process)", lambda: history_lines(store), 1.0)
        assert len(lines) >= args.sessions
        trends = timed("trends (weekly table, in process)", lambda: format_trends(compute_trends(store)), 1.0)
        assert trends
        timed("report (HTML + 7 figures, in process)", lambda: write_report(store, Path(tmp) / "r"), 5.0)
        for cmd in ("history", "trends"):
            print(f"{'`movecoach ' + cmd + '` end to end (new process)':<44} "
                  f"{cli_time([cmd, '--data-dir', str(directory)]):6.3f} s")
        print(f"{'`movecoach report` end to end (new process)':<44} "
              f"{cli_time(['report', '--data-dir', str(directory), '--out', str(Path(tmp) / 'r2')]):6.3f} s")


if __name__ == "__main__":
    main()
