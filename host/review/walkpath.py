"""A walk's path seen from above, recomputed from its raw samples.

As with the sway path (:mod:`movecoach.review.swaypath`), the path is not stored at walk time:
the report reruns :func:`movecoach.signal.gait.analyze_walk` on the recorded samples of the walk
step, so the recording stays raw and an improved analysis redraws old walks consistently.

Frame: the analysis gives the foot's position at each stance in a world frame with z up and an
arbitrary heading (a foot sensor cannot know north). Seen from above, the path is turned so the
way the person set off points up the page (+y, "ahead"), x to the right, both in metres from
where the walk started.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

# The heading the walk set off in: from the start to the first stance this far away (m), about
# one stride, so the first stance's own jitter does not turn the picture.
SET_OFF_M = 1.0


@dataclass(frozen=True)
class WalkPath:
    """The foot's stance positions seen from above: x_m to the right, y_m ahead (m, from the
    start), t_s their sensor times (s)."""

    x_m: np.ndarray
    y_m: np.ndarray
    t_s: np.ndarray

    @property
    def farthest_m(self) -> float:
        """How far from the start the walk got (m)."""
        return float(np.hypot(self.x_m, self.y_m).max()) if len(self.x_m) else 0.0

    @property
    def end_from_start_m(self) -> float:
        """How far from the start the walk ended (m)."""
        return float(math.hypot(self.x_m[-1], self.y_m[-1])) if len(self.x_m) else 0.0


def from_above(path_m: np.ndarray, path_t_s: np.ndarray) -> WalkPath:
    """path_m (n, 3) stance positions in m (world frame, z up) and their times (n,) s -> the
    path seen from above, starting at the origin and setting off up the page."""
    xy = np.asarray(path_m, float)[:, :2]
    xy = xy - xy[0]
    far = np.flatnonzero(np.hypot(xy[:, 0], xy[:, 1]) >= SET_OFF_M)
    if len(far):
        heading = math.atan2(xy[far[0], 1], xy[far[0], 0])
        turn = math.pi / 2 - heading  # the set-off direction onto +y
        c, s = math.cos(turn), math.sin(turn)
        xy = xy @ np.array([[c, s], [-s, c]])
    return WalkPath(xy[:, 0].copy(), xy[:, 1].copy(), np.asarray(path_t_s, float))


def walk_path(t_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, *,
              fs: float | None) -> WalkPath:
    """The path of a recorded walk from its foot sensor's samples: t_s (n,) s, acc_m_s2 (n, 3)
    m/s^2 specific force, gyr_rad_s (n, 3) rad/s, sensor frame; fs Hz (None: from t_s)."""
    from movecoach.signal.gait import analyze_walk

    result = analyze_walk(np.asarray(t_s, float), np.asarray(acc_m_s2, float),
                          np.asarray(gyr_rad_s, float), fs=fs or None)
    if len(result.path_m) == 0:
        return WalkPath(np.zeros(0), np.zeros(0), np.zeros(0))
    return from_above(result.path_m, result.path_t_s)
