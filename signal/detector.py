"""The one causal rep detector behind both the batch functions and the live analyzers.

It runs on a uniform grid (see :mod:`movecoach.signal.resample`) of pre-filtered samples and
keeps its per-sample state in plain floats. Per sample it:

1. updates the up direction (complementary filter, :class:`~movecoach.signal.orientation.GravityTracker`),
2. measures the angle from the current rest up-direction (degrees),
3. finds rest postures from still periods (low angular rate, no impacts) and adopts a new rest
   when the person settles somewhere else for good (sitting down, standing up),
4. runs a small state machine: an *excursion* starts when the angle leaves rest, becomes a rep
   once it reaches ``min_amplitude_deg`` and is finished when it comes back near the same rest.
   Excursions during walking or other impact-rich activity, across long gaps, that never come
   back, or that settle into a new posture are dropped.

Each finished rep is then *measured* over its own window (:func:`measure_rep`): the angle is
zero-phase low-passed at ``tremor_cutoff_hz`` (tremor removed) and amplitude, peak, start/end and
hold time are read from it. Batch and streaming run exactly this code on exactly the same
samples, so they report the same reps whatever the block sizes.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from movecoach.signal.filters import lowpass
from movecoach.signal.orientation import GravityTracker, rotation_to_z
from movecoach.signal.types import Rep, RepEvent

log = logging.getLogger(__name__)

# Causal pre-filter applied (vectorised) before the detector; its low-frequency group delay is
# subtracted from reported times.
PREFILTER_CUTOFF_HZ = 2.0
PREFILTER_ORDER = 2
PREFILTER_DELAY_S = math.sqrt(2.0) / (2.0 * math.pi * PREFILTER_CUTOFF_HZ)


@dataclass(frozen=True)
class ExerciseParams:
    """Detector settings for one exercise (angles in degrees, durations in seconds)."""

    exercise: str
    kinds: tuple[str, ...]
    min_amplitude_deg: float = 10.0
    arm_deg: float = 5.0  # an excursion starts above this angle from rest
    end_frac: float = 0.3  # ... and ends below max(end_deg, end_frac * peak)
    end_deg: float = 4.0
    hold_frac: float = 0.8
    min_rep_s: float = 0.4  # shortest excursion (above arm_deg) that can be a rep
    max_settle_s: float = 6.0  # settled this long away from rest = a new posture, not a rep
    still_rate_dps: float = 8.0  # pre-filtered angular rate below this counts as still
    rest_settle_s: float = 1.0  # still this long to (re)acquire a rest posture
    activity_m_s2: float = 2.5  # impact activity (rms of |acc| - g) above this = walking etc.
    tremor_cutoff_hz: float = 2.0
    hold_tick_s: float = 0.2
    hold_rate_dps: float = 12.0  # holding (live) = near the running peak and slower than this
    signed_pitch: bool = False  # heel-toe: kind from the sign of pitch about the foot's y axis


PARAMS: dict[str, ExerciseParams] = {
    "heel-toe": ExerciseParams(
        "heel-toe", ("heel_raise", "toe_raise"), signed_pitch=True, max_settle_s=8.0,
    ),
    "march": ExerciseParams("march", ("lift",), max_settle_s=6.0),
    "wall-slide": ExerciseParams("wall-slide", ("slide",), min_rep_s=1.0, max_settle_s=180.0),
}


def params_for(exercise: str) -> ExerciseParams:
    try:
        return PARAMS[exercise]
    except KeyError:
        raise ValueError(
            f"unknown exercise {exercise!r}; expected one of {', '.join(PARAMS)}"
        ) from None


@dataclass
class _Window:
    """Samples of one excursion (plus pre-roll), kept for measuring the rep when it ends."""

    t: list[float] = field(default_factory=list)
    ang: list[float] = field(default_factory=list)
    sgn: list[float] = field(default_factory=list)


def measure_rep(
    t_s: np.ndarray, angle_deg: np.ndarray, sign: np.ndarray, fs: float, p: ExerciseParams
) -> Rep | None:
    """Measure one rep from its window: t_s (n,) s, angle_deg (n,) degrees from rest, sign (n,)
    (+1 heel/-1 toe for heel-toe, else +1), uniform at fs Hz. Returns None if too small."""
    if t_s.shape[0] < 3:
        return None
    a = lowpass(angle_deg, p.tremor_cutoff_hz, fs, order=4)
    i_pk = int(np.argmax(a))
    amp = float(a[i_pk])
    if amp < p.min_amplitude_deg:
        return None
    edge = max(1.0, 0.1 * amp)
    below = np.flatnonzero(a[:i_pk] < edge)
    i0 = int(below[-1]) + 1 if below.size else 0
    after = np.flatnonzero(a[i_pk:] < edge)
    i1 = i_pk + int(after[0]) if after.size else a.shape[0] - 1
    hold_s = float(np.count_nonzero(a[i0 : i1 + 1] >= p.hold_frac * amp)) / fs
    if p.signed_pitch:
        s = float(np.sum(sign[i0 : i1 + 1] * a[i0 : i1 + 1]))
        kind = p.kinds[0] if s >= 0 else p.kinds[1]
    else:
        kind = p.kinds[0]
    d = PREFILTER_DELAY_S
    return Rep(
        kind=kind,
        t_start=float(t_s[i0]) - d,
        t_peak=float(t_s[i_pk]) - d,
        t_end=float(t_s[i1]) - d,
        amplitude_deg=amp,
        hold_s=hold_s,
    )


_IDLE, _EXC, _BLOCKED, _NOREST = 0, 1, 2, 3


class RepDetector:
    """Causal rep detector on uniform, pre-filtered samples (see module docstring).

    fs: grid rate in Hz. Feed it with :meth:`push` (arrays of any length); it returns the new
    :class:`RepEvent` s. ``reps_`` holds every finished :class:`Rep`; ``angle_deg`` the current
    angle from rest (0 while no rest is known).
    """

    def __init__(self, exercise: str, fs: float):
        self.p = params_for(exercise)
        self.fs = float(fs)
        self.dt = 1.0 / self.fs
        self.reps_: list[Rep] = []
        self.counts_: dict[str, int] = {k: 0 for k in self.p.kinds}
        self.angle_deg = 0.0
        self._grav = GravityTracker(self.fs)
        self._state = _NOREST
        self._rest: tuple[float, float, float] | None = None
        self._rx: tuple[float, float, float] = (1.0, 0.0, 0.0)  # row 0 of strap correction
        self._rz: tuple[float, float, float] = (0.0, 0.0, 1.0)  # row 2
        self._still_n = 0  # consecutive still samples
        self._prev_ang = 0.0
        self._pre: deque[tuple[float, float, float]] = deque(maxlen=int(round(1.5 * self.fs)))
        self._win: _Window | None = None
        self._reset_excursion()
        # per-exercise constants in samples
        p = self.p
        self._n_settle_rest = int(round(p.rest_settle_s * self.fs))
        self._n_settle_new = int(round(p.max_settle_s * self.fs))
        self._n_min_rep = int(round(p.min_rep_s * self.fs))
        self._n_after = int(round(0.25 * self.fs))

    def _reset_excursion(self) -> None:
        self._peak = 0.0
        self._peak_announced = False
        self._started = False
        self._walked = False
        self._ending = False
        self._end_n = 0
        self._exc_n = 0
        self._settle_n = 0
        self._held_s = 0.0
        self._next_tick_s = 0.0
        self._kind_live = self.p.kinds[0]

    # -- rest handling -------------------------------------------------------------------------
    def _set_rest(self, g: tuple[float, float, float]) -> None:
        self._rest = g
        if self.p.signed_pitch:
            r = rotation_to_z(np.array(g))
            self._rx = (float(r[0, 0]), float(r[0, 1]), float(r[0, 2]))
            self._rz = (float(r[2, 0]), float(r[2, 1]), float(r[2, 2]))
        log.debug("rest posture set: up=(%.3f, %.3f, %.3f)", *g)

    # -- main loop -----------------------------------------------------------------------------
    def push(
        self,
        t_s: np.ndarray,
        acc_m_s2: np.ndarray,
        gyr_rad_s: np.ndarray,
        activity_m_s2: np.ndarray,
        valid: np.ndarray,
    ) -> list[RepEvent]:
        """Process uniform samples: t_s (n,) s; acc (n, 3) m/s^2 and gyr (n, 3) rad/s, both
        causally low-passed; activity (n,) m/s^2 rms impact level; valid (n,) bool (False in
        long gaps). Returns the events these samples caused."""
        p = self.p
        events: list[RepEvent] = []
        if t_s.shape[0] == 0:
            return events
        grav = self._grav
        still_rate = math.radians(p.still_rate_dps)
        still_rate2 = still_rate * still_rate
        act_thr = p.activity_m_s2
        signed = p.signed_pitch
        pre = self._pre
        acos, atan2, degrees = math.acos, math.atan2, math.degrees
        for t, a, w, act, ok in zip(
            t_s.tolist(), acc_m_s2.tolist(), gyr_rad_s.tolist(), activity_m_s2.tolist(),
            valid.tolist(), strict=True,
        ):
            gx, gy, gz = grav.update(a[0], a[1], a[2], w[0], w[1], w[2])
            still = (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]) < still_rate2 and act < act_thr
            self._still_n = self._still_n + 1 if still else 0
            rest = self._rest
            sgn = 1.0
            if rest is None:
                ang = 0.0
            else:
                c = gx * rest[0] + gy * rest[1] + gz * rest[2]
                ang = degrees(acos(1.0 if c > 1.0 else -1.0 if c < -1.0 else c))
                if signed:
                    rx = self._rx
                    rz = self._rz
                    px = rx[0] * gx + rx[1] * gy + rx[2] * gz
                    pz = rz[0] * gx + rz[1] * gy + rz[2] * gz
                    sgn = 1.0 if atan2(-px, pz) >= 0.0 else -1.0
            self.angle_deg = ang
            state = self._state

            if not ok:  # inside a long gap: drop anything in progress, never count across it
                if state == _EXC:
                    log.info("excursion dropped: long gap in the data at t=%.2f s", t)
                    self._win = None
                if self._rest is not None:
                    self._state = _BLOCKED
                pre.clear()
                self._prev_ang = ang
                continue

            if state == _EXC:
                events.extend(self._excursion_step(t, ang, sgn, act, still, gx, gy, gz))
                state = self._state
                if state == _EXC:
                    self._prev_ang = ang
                    continue
                # the excursion just ended; this sample may start the next one below
                if state == _IDLE and ang >= p.arm_deg and act < act_thr:
                    self._start_excursion(t, ang, sgn)
                    self._prev_ang = ang
                    continue
            elif state == _NOREST:
                if self._still_n >= self._n_settle_rest:
                    self._set_rest((gx, gy, gz))
                    self._state = _IDLE
                    pre.clear()
            elif state == _BLOCKED:
                # after a gap, walking or a dropped excursion: wait to be back near rest, or to
                # settle somewhere new for long enough to call it the new rest
                if ang < p.end_deg and still:
                    self._state = _IDLE
                elif self._still_n >= self._n_settle_rest and ang >= p.arm_deg:
                    self._set_rest((gx, gy, gz))
                    self._state = _IDLE
                    pre.clear()
                    ang = 0.0
            elif state == _IDLE:
                if ang >= p.arm_deg and act < act_thr:
                    self._start_excursion(t, ang, sgn)
                    self._prev_ang = ang
                    continue
                if self._still_n >= self._n_settle_rest and ang < p.arm_deg:
                    # follow slow drift of the rest posture (strap settling, small weight shifts)
                    b = self.dt / 5.0
                    r = self._rest
                    x = r[0] + b * (gx - r[0])
                    y = r[1] + b * (gy - r[1])
                    z = r[2] + b * (gz - r[2])
                    nn = math.sqrt(x * x + y * y + z * z)
                    self._rest = (x / nn, y / nn, z / nn)
            pre.append((t, ang, sgn))
            self._prev_ang = ang
        return events

    def _start_excursion(self, t: float, ang: float, sgn: float) -> None:
        w = _Window()
        for tt, aa, ss in self._pre:
            w.t.append(tt)
            w.ang.append(aa)
            w.sgn.append(ss)
        w.t.append(t)
        w.ang.append(ang)
        w.sgn.append(sgn)
        self._pre.clear()
        self._win = w
        self._reset_excursion()
        self._peak = ang
        self._exc_n = 1
        self._next_tick_s = self.p.hold_tick_s
        self._kind_live = self.p.kinds[0] if (sgn > 0 or not self.p.signed_pitch) else self.p.kinds[1]
        self._state = _EXC

    def _finalize(self, t: float, ang: float) -> list[RepEvent]:
        w = self._win
        self._win = None
        self._state = _IDLE
        self._pre.clear()
        rep = measure_rep(np.array(w.t), np.array(w.ang), np.array(w.sgn), self.fs, self.p)
        if rep is None:
            return []
        self.reps_.append(rep)
        self.counts_[rep.kind] = self.counts_.get(rep.kind, 0) + 1
        return [RepEvent("rep_end", t, rep.kind, self.counts_[rep.kind], ang, rep.hold_s, rep)]

    def _excursion_step(self, t, ang, sgn, act, still, gx, gy, gz) -> list[RepEvent]:
        p = self.p
        w = self._win
        if self._ending:
            # after-roll: let the angle settle so the rep's end can be measured
            if ang >= p.arm_deg and ang > self._prev_ang:
                return self._finalize(t, ang)  # straight into the next excursion
            w.t.append(t)
            w.ang.append(ang)
            w.sgn.append(sgn)
            self._end_n += 1
            if ang < max(1.0, 0.1 * self._peak) or self._end_n >= self._n_after:
                return self._finalize(t, ang)
            return []
        w.t.append(t)
        w.ang.append(ang)
        w.sgn.append(sgn)
        self._exc_n += 1
        out: list[RepEvent] = []
        if act >= p.activity_m_s2:
            self._walked = True
        if ang > self._peak:
            self._peak = ang
            if p.signed_pitch:
                self._kind_live = p.kinds[0] if sgn > 0 else p.kinds[1]
        peak = self._peak
        rk = self._kind_live
        if not self._started and peak >= p.min_amplitude_deg and not self._walked:
            self._started = True
            out.append(RepEvent("rep_start", t, rk, self.counts_.get(rk, 0), ang, 0.0))
        # live hold: near the running peak and turning slowly
        rate_dps = abs(ang - self._prev_ang) * self.fs
        if self._started and ang >= p.hold_frac * peak and rate_dps < p.hold_rate_dps:
            self._held_s += self.dt
            if self._held_s >= self._next_tick_s - 1e-9:
                self._next_tick_s += p.hold_tick_s
                out.append(RepEvent("hold_tick", t, rk, self.counts_.get(rk, 0), ang, self._held_s))
        if self._started and not self._peak_announced and ang < peak - max(2.0, 0.1 * peak):
            self._peak_announced = True
            out.append(RepEvent("rep_peak", t, rk, self.counts_.get(rk, 0), peak, self._held_s))
        # settled away from rest for good -> a new posture (sat down, stood up), not a rep
        if still and ang >= p.arm_deg:
            self._settle_n += 1
            if self._settle_n >= self._n_settle_new:
                log.info("new rest posture at t=%.2f s (%.0f deg from the old one)", t, ang)
                self._win = None
                self._set_rest((gx, gy, gz))
                self._state = _IDLE
                self._pre.clear()
                return out
        else:
            self._settle_n = 0
        if ang < max(p.end_deg, p.end_frac * peak):
            if self._started and not self._walked and self._exc_n >= self._n_min_rep:
                self._ending = True
                self._end_n = 0
                if ang < max(1.0, 0.1 * peak):
                    out.extend(self._finalize(t, ang))
            else:
                if self._started:
                    log.info("excursion at t=%.2f s not counted (walking or too short)", t)
                self._win = None
                self._state = _IDLE
                self._pre.clear()
        return out

    @property
    def in_rep(self) -> bool:
        """True while a rep (an excursion past min_amplitude_deg) is under way."""
        return self._state == _EXC and self._started

    def finish(self) -> list[RepEvent]:
        """End of stream: finish a rep that is already on its way back (after-roll cut short)."""
        if self._state == _EXC and self._ending and self._win is not None:
            return self._finalize(self._win.t[-1], self.angle_deg)
        return []
