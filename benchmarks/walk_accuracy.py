"""Accuracy of the walk analysis on real recordings: the issue-18 figures.

    .venv/bin/python benchmarks/walk_accuracy.py

IPOL 2023 healthy gait set (../shared/real/walking, 68 foot recordings: 10 m, U-turn, 10 m
back; AGPL, read from there): stride count exact / within one (target exact in 95 %, within one
everywhere), each recording's median stride time against the checked events' (target within
20 ms), the path's farthest point against 10 m (target within 5 %) and its end's distance from
its start. gaitmap 2.6.0's example 2x20 m walk (tests/data/gaitmap, MIT): mocap contacts found,
distance against 40 m.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from movecoach.signal.gait import analyze_walk
from movecoach.signal.gait_evaluate import score_walk
from movecoach.store.csvio import read_csv

ROOT = Path(__file__).resolve().parents[1]
# ../shared beside the checkout, or beside the folder holding it (a worktree under wt/)
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared").is_dir()), ROOT.parent / "shared")
REAL = SHARED / "real" / "walking"
GAITMAP = ROOT / "tests" / "data" / "gaitmap"


def ipol() -> None:
    if not (REAL / "truth.json").exists():
        print(f"IPOL walking set not found at {REAL}: skipped")
        return
    rows = []
    trials: dict[tuple[int, int], list[float]] = {}
    for entry in json.loads((REAL / "truth.json").read_text()):
        rec = read_csv(REAL / entry["file"])
        res = analyze_walk(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, fs=entry["fs_hz"])
        rows.append((entry["file"], score_walk(res, entry["footstep_events_s"])))
        trials.setdefault((entry["subject"], entry["trial"]), []).append(rows[-1][1].farthest_m)
    n = len(rows)
    sc = [s for _, s in rows]
    exact = sum(s.count_error == 0 for s in sc)
    within1 = sum(abs(s.count_error) <= 1 for s in sc)
    terr = np.array([s.stride_time_err_s for s in sc])
    serr = np.array([s.stride_err_s for s in sc])
    far = np.array([s.farthest_m for s in sc])
    end = np.array([s.end_m for s in sc])
    print(f"IPOL real walks ({n} foot recordings):")
    print(f"  stride count exact {exact}/{n} ({100 * exact / n:.0f} %; target 95 %: gap "
          f"{max(0, int(np.ceil(0.95 * n)) - exact)} recordings), within one {within1}/{n} "
          f"(target all)")
    print(f"  errors: {sorted(s.count_error for s in sc if s.count_error)}")
    print(f"  median stride time vs the events': within 20 ms in {int(np.sum(terr <= 0.0205))}/{n}, "
          f"median error {1000 * np.median(terr):.0f} ms, worst {1000 * terr.max():.0f} ms; "
          f"stride by stride: median {1000 * np.nanmedian(serr):.0f} ms")
    print(f"  farthest point vs 10 m: within 5 % in {int(np.sum(np.abs(far - 10) <= 0.5))}/{n} "
          f"(median {np.median(far):.2f} m, {far.min():.2f}-{far.max():.2f} m)")
    # the truth has events, not positions: each foot's farthest landing lies where that foot
    # turned, and the two feet land a step (~0.7 m) apart, so one foot's farthest point is 10 m
    # only to within about half a step (the two feet's differ by 0.27 m in the median trial);
    # both feet's mean takes that out
    both = np.array([np.mean(v) for v in trials.values() if len(v) == 2])
    print(f"  per trial, both feet's mean farthest point: within 5 % in "
          f"{int(np.sum(np.abs(both - 10) <= 0.5))}/{both.size} (median {np.median(both):.2f} m, "
          f"{both.min():.2f}-{both.max():.2f} m; the two feet differ by "
          f"{np.median([abs(v[0] - v[1]) for v in trials.values() if len(v) == 2]):.2f} m "
          f"in the median trial)")
    print(f"  path end from its start: median {np.median(end):.2f} m, 90 % {np.percentile(end, 90):.2f} m, "
          f"worst {end.max():.2f} m")
    for f, s in rows:
        if s.count_error:
            print(f"    {f}: {s.n_found} strides, truth {s.n_true}")


def gaitmap() -> None:
    truth = json.loads((GAITMAP / "truth.json").read_text())
    print("gaitmap 2.6.0 example 2x20 m walk:")
    for foot in ("left", "right"):
        with gzip.open(GAITMAP / f"healthy_2x20m_{foot}.csv.gz", "rt") as f:
            x = np.loadtxt(f, delimiter=",", skiprows=1)
        res = analyze_walk(x[:, 0], x[:, 1:4], x[:, 4:7])
        found = np.array([s.t_end for s in res.strides])
        ic = np.array(truth["feet"][foot]["ic_s"])
        err = np.array([np.min(np.abs(found - c)) for c in ic])
        print(f"  {foot}: {int(np.sum(err < 0.1))}/{len(ic)} mocap contacts found (median "
              f"{1000 * np.median(err):.0f} ms off), {len(res.strides)} strides, "
              f"{res.distance_m:.2f} m of {truth['path_m']:.0f} m, turns "
              f"{[b.turns for b in res.bouts]}")


if __name__ == "__main__":
    ipol()
    gaitmap()
