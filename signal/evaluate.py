"""Scoring analysis results against ground truth (simulated or hand-labelled recordings).

Used by ``benchmarks/accuracy.py`` and the accuracy tests. Ground truth comes in the analyze JSON
shape: ``{"counts": {...}, "reps": [{"kind", "t_start", "t_peak", "t_end", "amplitude_deg" |
"depth_deg", "hold_s"}, ...]}`` (sway: ``{"metrics": {...}}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from movecoach.signal.exercises import rep_exercise
from movecoach.signal.resample import DEFAULT_MAX_GAP_S
from movecoach.signal.types import Rep, SwayMetrics

# A true rep this close to the size from which the exercise counts a rep may fairly be counted
# or not: measurement error decides. Counts are "exact" when every kind lies between the sure
# count (reps past the full minimum, RepRules.min_amplitude_deg, by this much) and the possible
# count (reps past the smallest minimum, within a set RepRules.min_amplitude_in_set_deg, less
# this much).
BORDERLINE_DEG = 0.5


def _amp(q: dict) -> float:
    return float(q["depth_deg"] if "depth_deg" in q else q["amplitude_deg"])


@dataclass
class RepScore:
    """How one recording's reps compare with the truth.

    exact: counts right (borderline true reps may go either way); strict: counts equal the
    truth's counts as given; amp_err_deg / hold_err_s: per matched rep, measured minus true."""

    exact: bool
    strict: bool
    counts: dict[str, int]
    truth_counts: dict[str, int]
    amp_err_deg: list[float] = field(default_factory=list)
    hold_err_s: list[float] = field(default_factory=list)
    unmatched: int = 0


def score_reps(reps: list[Rep], truth: dict, exercise: str, t_s: np.ndarray | None = None,
               max_gap_s: float = DEFAULT_MAX_GAP_S) -> RepScore:
    """Compare reps found in a recording with its truth (see module docstring).

    t_s: the recording's sample times (s); a true rep overlapping a data gap longer than
    max_gap_s may be missing (the analysis never counts across a long gap), so it is optional.
    """
    ex = rep_exercise(exercise)
    kinds = ex.rep_kinds
    full_deg = ex.rules.min_amplitude_deg
    least_deg = min(full_deg, ex.rules.min_amplitude_in_set_deg or full_deg)
    gaps: list[tuple[float, float]] = []
    if t_s is not None and len(t_s) > 1:
        d = np.diff(t_s)
        for i in np.flatnonzero(d > max_gap_s):
            gaps.append((float(t_s[i]), float(t_s[i + 1])))

    def in_gap(q: dict) -> bool:
        return any(a < q["t_end"] and b > q["t_start"] for a, b in gaps)

    counts = {k: 0 for k in kinds}
    for r in reps:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    exact = True
    for k in kinds:
        amps = [_amp(q) for q in truth["reps"] if q["kind"] == k]
        sure = sum(_amp(q) >= full_deg + BORDERLINE_DEG and not in_gap(q)
                   for q in truth["reps"] if q["kind"] == k)
        possible = sum(a >= least_deg - BORDERLINE_DEG for a in amps)
        exact &= sure <= counts[k] <= possible
    truth_counts = {k: int(truth["counts"].get(k, 0)) for k in kinds}
    score = RepScore(exact, counts == truth_counts, counts, truth_counts)
    used: set[int] = set()
    for r in reps:
        best, best_d = None, None
        for i, q in enumerate(truth["reps"]):
            if i in used or q["kind"] != r.kind:
                continue
            if q["t_start"] - 0.5 <= r.t_peak <= q["t_end"] + 0.5:
                d = abs(0.5 * (q["t_start"] + q["t_end"]) - r.t_peak)
                if best_d is None or d < best_d:
                    best, best_d = i, d
        if best is None:
            score.unmatched += 1
            continue
        used.add(best)
        q = truth["reps"][best]
        score.amp_err_deg.append(r.amplitude_deg - _amp(q))
        score.hold_err_s.append(r.hold_s - float(q["hold_s"]))
    return score


def sway_relative_errors(measured: SwayMetrics, truth_metrics: dict) -> dict[str, float]:
    """(measured - true) / true for every metric with a non-zero true value."""
    m = measured.to_json()
    return {k: (m[k] - v) / v for k, v in truth_metrics.items() if k in m and v}
