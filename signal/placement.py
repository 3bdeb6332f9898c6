"""Stage 2 of the rep analysis: placement. How the sensor sits on its segment, learnt from the
data: the one place that knows the strap rules.

- Foot (heel-toe): the strap puts +x toward the toes and +z up out of the foot, give or take
  ~25 deg. The rest up-direction fixes the tilt (:func:`~movecoach.signal.orientation.rotation_to_z`);
  the axis the foot pitches about (raises and strides alike) fixes how the sensor is turned on
  the foot (:attr:`Placement.yaw_deg`), so pitch (toes down +, toes up -) and roll are measured
  about the foot's own axes wherever the arrow points within +-60 deg.
- Thigh (march, wall slide): flat on the thigh, anywhere around it, turned any way. The thigh
  turns about the hip's (or knee's) side-to-side axis in lifts, slides, strides and when sitting
  down or standing up: that axis, seen by the gyro, is :attr:`Placement.turn_axis`. The thigh's
  long axis lies across it and in the sensor's face (a flat strap), so it is known where the two
  are far from parallel: within ~60 deg of the front or the back of the thigh. On the side of the
  thigh the sensor's face is nearly across the turning axis itself and the long axis cannot be
  seen; :meth:`Placement.thigh_inclination_deg` then says so (None), and the posture stage falls
  back on other evidence.

The learning is causal and cheap: the gyro's second moment over moving samples, per block; the
later stages read it as snapshots (:class:`PlacementView`) that change at fixed grid chunks.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from scipy import signal as sps

from movecoach.signal.orientation import rotation_to_z

log = logging.getLogger(__name__)

# Samples turning faster than this teach the turning axis: a lift, a slide or a sit-down turns a
# thigh at 30-100 deg/s, tremor after the 2 Hz pre-filter stays below. A standing foot rolls
# with its balance at up to ~30 deg/s (+-12 deg/s in the independent simulator's recordings,
# more in ours at 3 deg of wobble), so it learns only from faster turning (raises: 40-120 deg/s,
# strides: more).
LEARN_RATE_DPS = {"thigh": 25.0, "foot": 40.0}
# ... but slow raises (speed 0.6: 13-25 deg/s) never reach that, and a single fidget then taught
# the strap's turn 45-50 deg off, so every raise read as a foot roll (hard 4604, 4613: 16 and 8 of
# 20 lost). So a foot also learns from turning faster than SLOW_RATE_DPS while it is more than
# SLOW_TILT_DEG from where it has been on average over SLOW_TAU_S: balance rolling stays within
# +-3 deg of its average, a raise goes 10 deg or more away from it.
SLOW_RATE_DPS = 10.0
SLOW_TILT_DEG = 6.0
SLOW_TAU_S = 2.0
# The turning axis is trusted once the gyro's second moment along it (the integral of the
# squared rate) is this many (rad/s)^2 s (about one lift or raise: 25 deg in 0.6 s) and it
# dominates the other axes by AXIS_DOMINANCE (a lift adds a few degrees of abduction, a raise a
# little roll).
AXIS_MIN_ENERGY = 0.1
AXIS_DOMINANCE = 4.0
# The foot's strap prior: the pitch axis is the sensor's y axis, worth this much energy, so a
# few fidgets do not turn it ((rad/s)^2 s); and it is never taken as more than FOOT_MAX_YAW_DEG
# from y.
FOOT_PRIOR_ENERGY = 0.1
FOOT_MAX_YAW_DEG = 60.0
# The thigh's long axis is taken from the turning axis only where the sensor's face is at least
# this far from being across it (|z x axis| = cos of the angle around the thigh from the front):
# beyond ~60 deg round to the side a 3 deg error in the learnt axis tilts the long axis by 6 deg
# or more, and on the side itself (80-100 deg) it cannot be found at all.
THIGH_AXIS_MIN_COS = 0.5


class PlacementView:
    """How the sensor sits, as learnt up to a point: a frozen snapshot the later stages read.

    site: 'foot' or 'thigh'; m: the second moment of the gyro's turning about horizontal axes
    ((rad/s)^2 s, sensor frame); version: grows with each snapshot that learnt something.
    The angle helpers take unit up-directions (3,) in the sensor frame.
    """

    def __init__(self, site: str, m: np.ndarray, version: int, prev_axis: np.ndarray | None = None):
        self.site = site
        self.m = m
        self.version = version
        vals, vecs = np.linalg.eigh(m)
        v1, v2 = vals[1:].tolist()
        axis = vecs[:, 2] if v2 >= AXIS_MIN_ENERGY and v2 >= AXIS_DOMINANCE * max(v1, 1e-12) else None
        if axis is not None and prev_axis is not None and float(axis @ prev_axis) < 0.0:
            axis = -axis  # (an eigenvector's sign is arbitrary: keep the one learnt before)
        self.turn_axis: np.ndarray | None = axis
        """Unit axis (3,) the segment turns about, sensor frame, or None while not yet clear.
        Its sign is arbitrary at first and then kept from view to view (prev_axis: the last
        view's), so a rate about it does not flip sign when a view is renewed."""
        # the long axis is worked out when first asked for: a thigh moving for an hour makes
        # ~3600 views, and the posture stage reads the long axis of few of them
        self._long_axis: np.ndarray | None | bool = False

    # -- foot ----------------------------------------------------------------------------------
    def foot_frame(self, rest_up: np.ndarray) -> np.ndarray:
        """Foot: 3x3 rotation from the sensor frame to the foot's (x toes, y left, z up at
        rest), given the rest up-direction (3,) in the sensor frame: the tilt from gravity, the
        turn on the foot from the pitch axis (within FOOT_MAX_YAW_DEG)."""
        r = rotation_to_z(rest_up)
        m = (r @ self.m @ r.T)[:2, :2]
        vals, vecs = np.linalg.eigh(m)
        ax = vecs[:, 1] if vecs[1, 1] >= 0 else -vecs[:, 1]  # the pitch axis, toward +y
        # the turn is taken as far as that axis dominates the one across it (1 - smaller / larger
        # energy): raises and strides turn a foot about one axis (a hard set, wobble and all:
        # 0.5), a fidget that rolls the foot onto its edge and taps its toes about both (hard
        # 5794: 0.2-0.3, with the axis 72-82 deg round, and the first raise read as a foot
        # roll); there the strap's own axis (the prior, y) stands
        sure = 1.0 - max(vals[0], 0.0) / vals[1] if vals[1] > 0.0 else 0.0
        yaw = sure * math.degrees(math.atan2(ax[0], ax[1]))
        yaw = max(-FOOT_MAX_YAW_DEG, min(FOOT_MAX_YAW_DEG, yaw))
        c, s = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
        # the sensor's x is turned by yaw from the toes: turn it back
        rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        return rz @ r

    # -- thigh ---------------------------------------------------------------------------------
    def thigh_long_axis(self) -> np.ndarray | None:
        """Thigh: unit long axis (3,) in the sensor frame (sign arbitrary), or None where it
        cannot be seen (sensor on the side of the thigh, or no movement yet)."""
        if self._long_axis is False:
            self._long_axis = self._find_long_axis()
        return self._long_axis

    def _find_long_axis(self) -> np.ndarray | None:
        a = self.turn_axis
        if self.site != "thigh" or a is None:
            return None
        ln = np.array([-a[1], a[0], 0.0])  # z x a: in the sensor's face, across the axis
        s = float(np.linalg.norm(ln))
        if s < THIGH_AXIS_MIN_COS:
            return None
        return ln / s

    def thigh_inclination_deg(self, up: np.ndarray) -> float | None:
        """Thigh: inclination of the long axis from vertical (0 standing, ~90 seated), from the
        unit up-direction (3,) in the sensor frame; None where the long axis cannot be seen."""
        ln = self.thigh_long_axis()
        if ln is None:
            return None
        c = abs(float(np.dot(ln, up)))
        return math.degrees(math.acos(min(1.0, c)))


class Placement:
    """The placement stage: learns how the sensor sits on the segment (see the module docstring).

    site: 'foot' or 'thigh' (the exercise registry's ``site``); fs: Hz of the samples pushed;
    chunk: samples per learning step. :meth:`push` takes each block's bias-removed gyro and up-directions with the grid index
    of its first sample; what a chunk of the grid teaches counts from the chunk's end on, so any
    split into blocks gives the later stages the same :class:`PlacementView` at every sample
    (:meth:`view_at`), batch and live alike.
    """

    def __init__(self, site: str, fs: float, chunk: int):
        self.site = site
        self.dt = 1.0 / fs
        self.chunk = max(1, int(chunk))
        m = np.zeros((3, 3))
        if site == "foot":
            m[1, 1] = FOOT_PRIOR_ENERGY
        self._rate2 = math.radians(LEARN_RATE_DPS.get(site, 25.0)) ** 2
        self._slow2 = math.radians(SLOW_RATE_DPS) ** 2 if site == "foot" else math.inf
        self._cos_tilt = math.cos(math.radians(SLOW_TILT_DEG))
        self._avg_k = self.dt / SLOW_TAU_S
        self._avg_up: np.ndarray | None = None  # the foot's up averaged over SLOW_TAU_S
        self._pending = np.zeros((3, 3))  # learnt in the chunk under way
        self._views: list[tuple[int, PlacementView]] = [(0, PlacementView(site, m, 0))]

    @property
    def view(self) -> PlacementView:
        """What is known after everything pushed so far."""
        return self._views[-1][1]

    def view_at(self, k: int) -> PlacementView:
        """The view in force at grid sample k (one not older than the last pushed block)."""
        for k_from, v in reversed(self._views):
            if k_from <= k:
                return v
        return self._views[0][1]

    def _away_from_average(self, up: np.ndarray) -> np.ndarray:
        """(n,) bool: each unit up (n, 3) more than SLOW_TILT_DEG from the running average up
        before it (a first-order average over SLOW_TAU_S, carried between blocks)."""
        if self._avg_up is None:
            self._avg_up = up[0].copy()
        k = self._avg_k
        zi = ((1.0 - k) * self._avg_up)[None, :]
        avg, zf = sps.lfilter([k], [1.0, -(1.0 - k)], up, axis=0, zi=zi)
        self._avg_up = zf[0] / (1.0 - k)
        before = np.vstack([zi / (1.0 - k), avg[:-1]])
        norm = np.sqrt(np.einsum("ij,ij->i", before, before))
        return np.einsum("ij,ij->i", up, before) < self._cos_tilt * norm

    def push(self, gyr_rad_s: np.ndarray, up: np.ndarray, ok: np.ndarray, k0: int) -> None:
        """Add a block: bias-removed gyro (n, 3) rad/s, unit up-directions (n, 3), sensor frame;
        ok (n,) bool, samples measured (not lost); k0 the grid index of its first sample. Only
        turning about horizontal axes counts: raises, lifts, slides, strides and sitting down all
        turn the segment about its side-to-side axis, which is level; turning about vertical is
        the person turning round (about the thigh's own long axis when standing)."""
        n = gyr_rad_s.shape[0]
        w = gyr_rad_s - np.einsum("ij,ij->i", gyr_rad_s, up)[:, None] * up
        rate2 = np.einsum("ij,ij->i", w, w)
        use = ok & (rate2 > self._rate2)
        if self._slow2 < math.inf and n:
            use |= ok & (rate2 > self._slow2) & self._away_from_average(up)
        # keep the views the block's samples may still ask for (from k0 on)
        while len(self._views) > 1 and self._views[1][0] <= k0:
            self._views.pop(0)
        if not self._pending.any() and not use.any():
            return  # nothing learnt, and nothing under way for a chunk end to pass on (at rest)
        ends = list(range(self.chunk - k0 % self.chunk, n + 1, self.chunk))  # chunk ends in it
        start = 0
        for e in ends + ([n] if not ends or ends[-1] != n else []):
            piece = w[start:e][use[start:e]]
            if piece.shape[0]:
                self._pending += (piece.T @ piece) * self.dt
            if e in ends:  # a chunk is complete: what it taught counts from its end
                if self._pending.any():
                    v = self.view
                    self._views.append((k0 + e, PlacementView(self.site, v.m + self._pending,
                                                              v.version + 1, v.turn_axis)))
                    self._pending = np.zeros((3, 3))
            start = e
