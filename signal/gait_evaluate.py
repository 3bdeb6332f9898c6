"""Scoring a walk analysis against footstep truth (hand-checked events of a real recording, or
the simulator's), for ``benchmarks/walk_accuracy.py`` and the walking tests.

Truth: the footsteps of the sensor's foot as (start, end) pairs in s (toe off, foot down).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from movecoach.signal.gait import WalkResult

# A found stride is the true footstep whose landing is this close (s): strides take ~1 s, and
# the foot-down events of the IPOL truth and of the analysis differ by 0.0-0.05 s.
MATCH_S = 0.2
# A stride time longer than this (s) spans a stop, not a stride.
MAX_STRIDE_S = 2.0


@dataclass(frozen=True)
class WalkScore:
    """n_found, n_true: strides; matched: true footsteps with a found stride landing within
    MATCH_S; stride_time_err_s: |median found stride time - median true stride time| (s);
    stride_err_s: median |found - true| stride time over matched consecutive strides (s);
    farthest_m: farthest point of the path from its start (horizontal, m); end_m: distance of
    the path's end from its start (m)."""

    n_found: int
    n_true: int
    matched: int
    stride_time_err_s: float
    stride_err_s: float
    farthest_m: float
    end_m: float

    @property
    def count_error(self) -> int:
        return self.n_found - self.n_true


def score_walk(result: WalkResult, footsteps_s) -> WalkScore:
    """Compare result with footsteps_s ((n, 2) s: start and end of each true footstep)."""
    ev = np.asarray(footsteps_s, dtype=float).reshape(-1, 2)
    land = ev[:, 1]
    found = np.array([s.t_end for s in result.strides])
    matched = int(sum(found.size and np.min(np.abs(found - x)) <= MATCH_S for x in land))
    true_t = np.diff(land)
    true_t = true_t[true_t < MAX_STRIDE_S]
    ours = np.array([s.time_s for s in result.strides], dtype=float)
    ours = ours[np.isfinite(ours) & (ours < MAX_STRIDE_S)]
    med_err = (abs(float(np.median(ours)) - float(np.median(true_t)))
               if ours.size and true_t.size else float("nan"))
    errs = []
    for s in result.strides:
        if not np.isfinite(s.time_s):
            continue
        j = int(np.argmin(np.abs(land - s.t_end)))
        if j > 0 and abs(land[j] - s.t_end) <= MATCH_S and land[j] - land[j - 1] < MAX_STRIDE_S:
            errs.append(abs(s.time_s - (land[j] - land[j - 1])))
    p = result.path_m[:, :2] - result.path_m[:1, :2] if len(result.path_m) else np.zeros((1, 2))
    d = np.linalg.norm(p, axis=1)
    return WalkScore(len(result.strides), len(ev), matched, med_err,
                     float(np.median(errs)) if errs else float("nan"), float(d.max()),
                     float(d[-1]))
