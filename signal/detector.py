"""The rep detector: the analysis stages chained, one block at a time, for batch and live alike.

    orientation -> placement -> posture -> segmentation -> rules -> measurement

1. :mod:`~movecoach.signal.orientation`: up direction, gyro bias, still/held, lost data;
2. :mod:`~movecoach.signal.placement`: how the sensor sits on the segment, learnt from the data;
3. :mod:`~movecoach.signal.posture`: seated / standing / walking (thigh exercises);
4. :mod:`~movecoach.signal.segment`: rests and excursions from them;
5. :mod:`~movecoach.signal.rules`: why an excursion is not a rep;
6. :mod:`~movecoach.signal.measure`: amplitude, times and hold of each rep.

Each stage keeps its own state and takes the block the stage before it produced. What the
stages learn is handed on at fixed chunks of the grid (:data:`PLACEMENT_CHUNK_S`,
:data:`BIAS_CHUNK_S`), so the output does not depend on how the samples were split into blocks:
batch analysis and the live coach report the same reps.
"""

from __future__ import annotations

import logging

import numpy as np

from movecoach.signal.exercises import rep_exercise
from movecoach.signal.orientation import OrientationTracker
from movecoach.signal.placement import Placement
from movecoach.signal.posture import UNKNOWN, PostureEvent, PostureTracker
from movecoach.signal.segment import Segmenter
from movecoach.signal.types import Rep, RepEvent

log = logging.getLogger(__name__)

# What the stages learn reaches the later ones at grid-aligned chunk ends, so that batch and live
# see it from the same sample: the placement stage's axes every PLACEMENT_CHUNK_S (a strap's
# axes change only when it is moved, and half a second is well inside a rep: the first lift or
# stride already tells the thigh's axis when it ends), the orientation stage's gyro bias every
# BIAS_CHUNK_S (it drifts over minutes). The orientation stage works on whole BIAS_CHUNK_S
# blocks: its per-block set-up is vectorised and costs about as much as 12 samples.
PLACEMENT_CHUNK_S = 0.5
BIAS_CHUNK_S = 2.0


class RepDetector:
    """The chained stages for one exercise on a uniform grid of fs Hz (see the module
    docstring). :meth:`push` takes the pre-filtered grid samples and returns the new
    :class:`RepEvent` s; ``reps_``, ``counts_``, ``angle_deg``, ``wrong_posture_moves_``,
    ``posture`` and ``posture_events_`` tell what it has found so far. delay_s: the group delay
    of the filters before it (s), taken off the reported times."""

    def __init__(self, exercise: str, fs: float, *, delay_s: float = 0.0):
        self.exercise = rep_exercise(exercise)
        self.fs = float(fs)
        self.orientation = OrientationTracker(self.fs)
        self._placement_chunk = max(1, int(round(PLACEMENT_CHUNK_S * self.fs)))
        self._bias_chunk = self._placement_chunk * max(1, int(round(BIAS_CHUNK_S / PLACEMENT_CHUNK_S)))
        self.placement = Placement(self.exercise.site, fs, self._placement_chunk)
        self.postures = (PostureTracker(self.fs, self.placement, settle_s=self.exercise.rules.rest_settle_s)
                         if self.exercise.site == "thigh" else None)
        self.segmenter = Segmenter(self.exercise, self.fs, self.placement, delay_s,
                                   self.postures.classify if self.postures is not None else None)
        self.posture_events_: list[PostureEvent] = []
        self._k = 0  # grid samples seen

    @property
    def reps_(self) -> list[Rep]:
        return self.segmenter.reps_

    @property
    def counts_(self) -> dict[str, int]:
        return self.segmenter.counts_

    @property
    def angle_deg(self) -> float:
        return self.segmenter.angle_deg

    @property
    def wrong_posture_moves_(self) -> int:
        return self.segmenter.wrong_posture_moves_

    @property
    def posture(self) -> str:
        return self.postures.posture if self.postures is not None else UNKNOWN

    @property
    def in_rep(self) -> bool:
        return self.segmenter.in_rep

    def push(self, t_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray,
             shake_m_s2: np.ndarray, valid: np.ndarray, span_s: np.ndarray) -> list[RepEvent]:
        """Uniform, pre-filtered samples: t_s (n,) s; acc (n, 3) m/s^2; gyr (n, 3) rad/s; shake
        (n,) m/s^2 high-passed acceleration magnitude; valid (n,) bool (False in long gaps);
        span_s (n,) s between the received samples each point was interpolated from."""
        events: list[RepEvent] = []
        n = t_s.shape[0]
        i = 0
        while i < n:  # blocks that end at BIAS_CHUNK_S boundaries of the grid
            j = min(n, i + self._bias_chunk - self._k % self._bias_chunk)
            o = self.orientation.push(t_s[i:j], acc_m_s2[i:j], gyr_rad_s[i:j], shake_m_s2[i:j],
                                      valid[i:j], span_s[i:j])
            self.placement.push(o.gyr_rad_s, o.up, o.valid & ~o.lost, self._k)
            if self.postures is not None:
                posture, pev = self.postures.push(o.t_s, o.up, o.gyr_rad_s, o.held_s, self._k)
                self.posture_events_ += pev
            else:
                posture = [UNKNOWN] * o.t_s.shape[0]
            events += self.segmenter.push(o, posture, self._k)
            self._k += j - i
            if self._k % self._bias_chunk == 0:
                self.orientation.commit()
            i = j
        return events

    def finish(self) -> list[RepEvent]:
        """End of stream: finish a rep that is already back near rest."""
        return self.segmenter.finish()
