"""Memory of `movecoach analyze` against the file's length: bounded (the file is read in blocks).

    .venv/bin/python benchmarks/analyze_memory.py [--minutes 60 240] [--exercise march]
        [--baseline-pythonpath DIR]

Builds 100 Hz CSVs of the given lengths (a simulated set repeated, as benchmarks/analyze_speed.py
does), runs `movecoach analyze FILE --exercise E --json` in a fresh process for each and reports
the child's peak resident memory (ru_maxrss) and its ratio to the file size. Bounded memory means
the peak stays the same as the file grows (the target: the longest file's peak within 1.3x the
shortest's). --baseline-pythonpath runs the same with another movecoach (e.g. a checkout of the
previous code laid out as DIR/movecoach) for a side-by-side figure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def peak_rss_mb(path: Path, exercise: str, pythonpath: str | None) -> tuple[float, int]:
    """(peak RSS in MB, exit status) of one `movecoach analyze` process."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cmd = [sys.executable, "-c", "import sys; from movecoach.cli import main; sys.exit(main())",
           "analyze", str(path), "--exercise", exercise, "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace").strip()
    if proc.returncode:
        print(f"  exit {proc.returncode}: {err[-300:]}")
    return usage.ru_maxrss / 1024.0, proc.returncode


def make_file(path: Path, minutes: float, exercise: str) -> None:
    """Write the CSV in a child process: a forked child's peak RSS counts the parent's pages
    until it execs, so the parent must stay small."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from analyze_speed import long_recording;"
            "from movecoach.store.csvio import write_csv;"
            "t, a, g, _ = long_recording(sys.argv[2], float(sys.argv[3]), 100.0);"
            "write_csv(sys.argv[4], t, a, g)")
    subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), exercise, str(minutes),
                    str(path)], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[60.0, 240.0])
    ap.add_argument("--exercise", default="march", choices=("heel-toe", "march", "wall-slide"))
    ap.add_argument("--baseline-pythonpath", default=None)
    args = ap.parse_args()
    runs = [("this code", None)]
    if args.baseline_pythonpath:
        runs.append(("baseline", args.baseline_pythonpath))
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for minutes in args.minutes:
            path = Path(tmp) / f"{args.exercise}-{minutes:g}min.csv"
            make_file(path, minutes, args.exercise)
            files.append((minutes, path, path.stat().st_size / 1e6))
        for label, pythonpath in runs:
            peaks = []
            for minutes, path, size_mb in files:
                peak, _ = peak_rss_mb(path, args.exercise, pythonpath)
                peaks.append(peak)
                print(f"{label}: {minutes:g} min at 100 Hz, {size_mb:.0f} MB file: peak "
                      f"{peak:.0f} MB resident ({peak / size_mb:.2f}x the file)")
            growth = peaks[-1] / peaks[0]
            verdict = "bounded" if growth <= 1.3 else "grows with the file"
            print(f"{label}: peak x{growth:.2f} from the shortest to the longest file ({verdict}; "
                  "target <= 1.3)")


if __name__ == "__main__":
    main()
