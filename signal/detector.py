"""The one causal rep detector behind both the batch functions and the live analyzers.

It runs on a uniform grid (see :mod:`movecoach.signal.resample`) of causally low-passed samples
and keeps its per-sample state in plain floats. Per sample it:

1. updates the up direction (complementary filter,
   :class:`~movecoach.signal.orientation.GravityTracker`) and measures the angle from the rest
   up-direction (degrees; independent of how the strap sits, blind to turning);
2. finds rest postures from still periods (low angular rate);
3. runs a small state machine. An *excursion* starts when the angle leaves rest after the person
   was quiet; it becomes a rep once it reaches ``min_amplitude_deg`` and is finished when it comes
   back near the same rest (``end_frac`` of its peak). Not counted: excursions that start while
   the person is moving without a pause (walking), that are too short (a step, a stride) or too
   large (sitting down, standing up), that contain an impact (landing on a seat, heel strikes,
   where ``impact_m_s2`` is set), that never come back, that run into a long data gap before
   they are back near rest, (held reps) whose size was only seen across a gap while the limb
   shook, (heel-toe) during which the accelerometer shows the foot accelerating through the air
   (a step), (march) that swing straight through rest to the other side (a stride) or start long
   after the thigh was last still, or (wall slide) that swing back and forth (walking).

The exercise's start posture: a strap holds the sensor flat on the thigh, so gravity runs across
its face when standing and through it when seated with the sensor on the front of the thigh
(:data:`STANDING_MAX_NORMAL`). March lifts count only from a seated rest and wall slides only
from a standing one; movements from the wrong posture are counted in ``wrong_posture_moves_``
(the coach then says how to start).

Lost packets: across a bridged gap the gyro is only interpolated, so the accelerometer leads the
up direction there (unless the limb shakes) and corrects it quickly just after the gap, and no
stride or new rest is inferred from the angle while it settles (:data:`GRAVITY_TAU_GAP_S`,
:data:`POST_GAP_TAU_S`, :data:`GAP_DOUBT_S`). Nothing is counted across a long gap; the
accelerometer always leads across one, and a person at rest on both sides of it is taken to
have stayed at rest (a rep may start right after it).

Two rests at once: while an excursion is settled somewhere still (a hold at the bottom of a wall
slide, or standing after getting up from a chair) that posture becomes a *candidate* rest. A
return to the old rest finishes the excursion as a rep (it was a hold); a rep made from and back
to the candidate (the first slide after standing up) makes the candidate the rest.

Each finished rep is then *measured* over its own window (:func:`measure_rep`): the angle is
zero-phase low-passed at ``tremor_cutoff_hz`` (tremor removed) and amplitude, peak time,
start/end and hold time are read from it. Batch and streaming run exactly this code on exactly the
same samples, so they report the same reps whatever the block sizes.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from movecoach.signal.filters import lowpass
from movecoach.signal.orientation import GravityTracker, rotation_to_z
from movecoach.signal.types import Rep, RepEvent

log = logging.getLogger(__name__)

# Causal pre-filter applied (vectorised) before the detector: a 2nd-order Bessel low-pass, as
# strong as a Butterworth against tremor but without its step overshoot (which would add ~4 % to
# the amplitude of quick reps). Its low-frequency group delay is subtracted from reported times.
PREFILTER_CUTOFF_HZ = 2.0
PREFILTER_ORDER = 2


def prefilter_sos(fs: float) -> np.ndarray:
    """SOS of the causal pre-filter at sample rate fs (Hz)."""
    return sps.bessel(PREFILTER_ORDER, PREFILTER_CUTOFF_HZ, fs=fs, output="sos", norm="phase")


def _prefilter_delay_s(fs: float = 50.0) -> float:
    b, a = sps.sos2tf(prefilter_sos(fs))
    _, gd = sps.group_delay((b, a), w=[0.01], fs=fs)
    return float(gd[0]) / fs


PREFILTER_DELAY_S = _prefilter_delay_s()

Vec = tuple[float, float, float]
# Complementary filter time constant: long enough that the accelerations of quick movements
# barely tilt the estimate (the gyro bias is learnt at rest, so the gyro can be trusted longer).
GRAVITY_TAU_S = 0.8
# ... and during an excursion, where movement (and the centripetal pull of tremor about the joint)
# would bias the accelerometer, the gyro (bias learnt at rest) carries the estimate.
GRAVITY_TAU_MOVING_S = 8.0
# The accelerometer only corrects the estimate while it reads about 1 g.
GRAVITY_GATE_M_S2 = 0.5
# Mean high-passed acceleration above which a held segment counts as shaking (tremor).
SHAKE_M_S2 = 0.8
# A grid point interpolated across a gap longer than FILLED_SPAN_S (lost packets) has a gyro
# reading that is only a line between the samples around the gap: over a longer gap a
# movement's angular rate is far from it (a quick lift turns the thigh ~70 deg/s). While the limb
# shakes (mean high-passed acceleration above TREMOR_M_S2; ~0.07 m/s^2 when steady, 0.5 or
# more with tremor) even FILLED_SPAN_TREMOR_S is too long: each end of the line then carries a
# random phase of a tremor of 50 deg/s or more. Shorter gaps (a lost sample or two) are a small
# part of a movement and the line is fine.
FILLED_SPAN_S = 0.2
FILLED_SPAN_TREMOR_S = 0.1
TREMOR_M_S2 = 0.25
# Across a bridged gap (lost packets) the gyro readings are interpolated, not measured, so the
# rotation during the gap is unknown: the accelerometer (interpolated between the orientations
# before and after the gap) then leads the estimate, until the pre-filter has settled after it.
# Not while the limb shakes (tremor): single accelerometer samples then carry the shaking (up to
# 1 g), and the interpolated gyro is the better guess.
GRAVITY_TAU_GAP_S = 0.1
GAP_SETTLE_S = 0.2
# ... ungated on the interpolated samples (their magnitude is below 1 g on a chord between two
# orientations), but the measured samples just after a gap that ends mid-movement still carry
# that movement's acceleration: those that read more than this away from 1 g are left out.
GRAVITY_GATE_AFTER_GAP_M_S2 = 2.0
# For this long after a gap the angle may still be converging from the gap's error: a rise in
# it then is no evidence of a stride (the rules that drop a rep as a stride are suspended).
GAP_DOUBT_S = 0.6
# After a gap the estimate may be off by the rotation the gap hid: when the gap was bridged on
# the (interpolated) gyro because the limb shook, or the limb shakes after it (the accelerometer
# then ends the gap on a few samples carrying tremor, and the pre-filter lags the jump there).
# From POST_GAP_FROM_S after the gap, once the pre-filter no longer remembers the interpolated
# stretch, until GAP_DOUBT_S, the accelerometer corrects it quickly (tau POST_GAP_TAU_S).
POST_GAP_TAU_S = 0.15
POST_GAP_FROM_S = 0.2
# An excursion whose size was reached only across a gap bridged on the gyro (the limb shook), or
# while the estimate settled after it (GAP_DOUBT_S), must be seen at SEEN_PEAK_FRAC of that size
# outside it too (where the exercise holds its reps: ExerciseParams.seen_after_gap). A walking
# foot's swing hidden by lost packets otherwise reads as a raise of 30-50 deg. (Not also
# min_amplitude_deg outside the gap: an 11 deg toe raise whose top is lost is seen at ~9 deg.)
SEEN_PEAK_FRAC = 0.5
# Once the limb has been still for STILL_SETTLE_S the accelerometer reads gravity (tremor averaged
# out by the pre-filter): the estimate then follows it faster, undoing any error left behind by
# the movement or a gap.
GRAVITY_TAU_STILL_S = 0.25
STILL_SETTLE_S = 0.2


@dataclass(frozen=True)
class ExerciseParams:
    """Detector settings for one exercise (angles in degrees, durations in seconds)."""

    exercise: str
    kinds: tuple[str, ...]
    min_amplitude_deg: float = 10.0
    max_amplitude_deg: float = 60.0  # beyond this it is a change of posture (sit/stand), not a rep
    arm_deg: float = 5.0  # an excursion starts above this angle from rest
    end_frac: float = 0.3  # ... and ends below max(end_deg, end_frac * peak)
    end_deg: float = 4.0
    end_max_deg: float = 10.0  # ... but at most this far from rest: a rep comes back to rest
    hold_frac: float = 0.8
    min_rep_s: float = 0.3  # shortest excursion (above arm_deg) that can be a rep
    max_settle_s: float = 6.0  # settled this long away from rest = a new posture, not a hold
    still_rate_dps: float = 10.0  # (low-passed) angular rate below this counts as still
    rest_settle_s: float = 1.0  # still this long to (re)acquire a rest posture
    new_rest_s: float = 4.0  # after walking etc., still this long somewhere new = the new rest
    new_rest_max_deg: float = math.inf  # ... but only if at most this far from the old rest (once
    # a rep has come from the old rest: before that it may have been the wrong posture)
    quiet_s: float = 0.15  # a rep starts from a still spell at least this long ...
    quiet_lead_s: float = 1.5  # ... that ended at most this long before the angle left rest
    dwell_s: float = 0.25  # a rep from rest starts after at least this long near rest (not mid-stride)
    impact_m_s2: float = math.inf  # high-passed acceleration above this = an impact
    reverse_deg: float = math.inf  # swinging this far past rest to the other side = a stride
    after_min_s: float = 0.0  # watch at least this long after the return before calling a rep
    after_max_s: float = 0.25  # ... and at most this long (the rep's end is then measured)
    start_still_lead_s: float = math.inf  # a rep starts at most this long after a quiet spell
    chain: bool = True  # a new excursion straight after the return finishes the rep (heel, toe)
    same_way_as_sitting: bool = False  # march: a lift turns the thigh the way sitting down did
    tremor_cutoff_hz: float = 2.0
    hold_tick_s: float = 0.2
    hold_rate_dps: float = 12.0  # holding (live) = near the running peak and slower than this
    signed_pitch: bool = False  # heel-toe: kind from the sign of pitch about the foot's y axis
    min_pitch_share: float = 0.0  # heel-toe: pitch / total angle at the peak (not a foot roll)
    min_hold_s: float = 0.0  # a rep holds at least this long at >= hold_frac of its amplitude
    start_posture: str = ""  # 'standing' or 'seated': reps start only from it (see _posture_ok)
    max_swings: float = math.inf  # more reversals than this in one excursion = walking, not a rep
    seen_after_gap: bool = False  # held reps: confirm a size reached across a gap (SEEN_PEAK_FRAC)
    # the (pre-filtered) accelerometer points this far from the estimated up direction: the limb
    # is accelerating through the air (heel-toe: a walking step, even one whose pitch a gap hid),
    # not pivoting on the floor; measured samples only, not while settling after a gap
    max_accel_off_deg: float = math.inf


PARAMS: dict[str, ExerciseParams] = {
    "heel-toe": ExerciseParams(
        "heel-toe", ("heel_raise", "toe_raise"), signed_pitch=True, min_pitch_share=0.7,
        min_rep_s=0.7, max_settle_s=8.0, max_amplitude_deg=50.0, min_hold_s=0.3,
        seen_after_gap=True,
        # heel and toe raises pivot on the floor: <= 11.4 deg on 2800 hard-condition reps
        # (tremor, quick raises); walking >= 39 deg
        max_accel_off_deg=20.0,
    ),
    "march": ExerciseParams(
        "march", ("lift",), min_rep_s=0.3, max_settle_s=6.0, reverse_deg=6.0, after_min_s=0.2,
        chain=False, new_rest_s=2.0, same_way_as_sitting=True,
        # a seated thigh rests on the seat before a lift; a walking thigh never stops
        start_still_lead_s=1.0, start_posture="seated",
    ),
    "wall-slide": ExerciseParams(
        "wall-slide", ("slide",), min_rep_s=2.0, max_amplitude_deg=120.0, max_settle_s=600.0,
        new_rest_max_deg=30.0, min_hold_s=0.5, start_posture="standing",
        max_swings=3,  # a slide goes down and comes up once; walking swings the thigh every step
    ),
}


def params_for(exercise: str) -> ExerciseParams:
    try:
        return PARAMS[exercise]
    except KeyError:
        raise ValueError(f"unknown exercise {exercise!r}; expected one of {', '.join(PARAMS)}") from None


class _Ref:
    """A reference (rest) up-direction and, for heel-toe, its strap-correction rows."""

    __slots__ = ("g", "rx", "rz")

    def __init__(self, g: Vec, signed: bool):
        self.g = g
        if signed:
            r = rotation_to_z(np.array(g))
            self.rx = (float(r[0, 0]), float(r[0, 1]), float(r[0, 2]))
            self.rz = (float(r[2, 0]), float(r[2, 1]), float(r[2, 2]))
        else:
            self.rx = self.rz = None

    def angle_deg(self, gx: float, gy: float, gz: float) -> float:
        r = self.g
        c = gx * r[0] + gy * r[1] + gz * r[2]
        return math.degrees(math.acos(1.0 if c > 1.0 else -1.0 if c < -1.0 else c))


def _angles(ref: _Ref, g: np.ndarray, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Angle from ref (deg) and, for heel-toe, signed pitch (deg, + = toes down) of g (n, 3)."""
    ang = np.degrees(np.arccos(np.clip(g @ np.asarray(ref.g), -1.0, 1.0)))
    if not signed:
        return ang, ang
    px = g @ np.asarray(ref.rx)
    pz = g @ np.asarray(ref.rz)
    return ang, np.degrees(np.arctan2(-px, pz))


def measure_rep(
    t_s: np.ndarray, up: np.ndarray, ref: _Ref, fs: float, p: ExerciseParams
) -> Rep | None:
    """Measure one rep from its window: t_s (n,) s uniform at fs Hz, up (n, 3) unit up-directions
    in the sensor frame, ref the rest it left from. Returns None if it does not qualify."""
    if t_s.shape[0] < 3:
        return None
    ang, pitch = _angles(ref, up, p.signed_pitch)
    a = lowpass(ang, p.tremor_cutoff_hz, fs, order=4)
    i_pk = int(np.argmax(a))
    amp = float(a[i_pk])
    if amp < p.min_amplitude_deg or amp > p.max_amplitude_deg:
        return None
    edge = max(1.0, 0.1 * amp)
    below = np.flatnonzero(a[:i_pk] < edge)
    i0 = int(below[-1]) + 1 if below.size else 0
    after = np.flatnonzero(a[i_pk:] < edge)
    i1 = i_pk + int(after[0]) if after.size else a.shape[0] - 1
    hold_s = float(np.count_nonzero(a[i0 : i1 + 1] >= p.hold_frac * amp)) / fs
    if hold_s < p.min_hold_s:
        log.info("excursion at t=%.2f s too brief at its top for a rep", t_s[i_pk])
        return None
    kind = p.kinds[0]
    if p.signed_pitch:
        pf = lowpass(pitch, p.tremor_cutoff_hz, fs, order=4)
        if abs(pf[i_pk]) < p.min_pitch_share * amp:
            log.info("excursion at t=%.2f s is a foot roll, not a heel or toe raise", t_s[i_pk])
            return None
        kind = p.kinds[0] if pf[i_pk] >= 0 else p.kinds[1]
    d = PREFILTER_DELAY_S
    return Rep(
        kind=kind,
        t_start=float(t_s[i0]) - d,
        t_peak=float(t_s[i_pk]) - d,
        t_end=float(t_s[i1]) - d,
        amplitude_deg=amp,
        hold_s=hold_s,
    )


class _Excursion:
    """One departure from a reference posture, followed sample by sample."""

    def __init__(self, ref: _Ref, pre: deque, fs: float, p: ExerciseParams, near_n0: int = 0):
        self.ref = ref
        self.t: list[float] = [x[0] for x in pre]
        self.g: list[Vec] = [x[1] for x in pre]
        self.peak = 0.0
        self.peak_g: Vec = ref.g
        self.started = False  # reached min_amplitude_deg (a rep candidate)
        self.spoiled = ""  # why it cannot be a rep (impact, stride, ...) or ""
        self.n = 0
        self.near_n0 = near_n0  # samples the person had dwelt near rest before it
        self.ending = False
        self.end_n = 0
        self.settle_n = 0  # samples still away from rest (a new posture?)
        self.hold_n = 0  # ... of them within HOLD_DRIFT_DEG of hold_ang (a hold: candidate rest)
        self.hold_ang = 0.0
        self.held_s = 0.0
        self.next_tick_s = p.hold_tick_s
        self.peak_announced = False
        self.prev_ang = 0.0
        self.kind_live = p.kinds[0]
        self.swings = 0  # reversals of direction by more than SWING_DEG (walking, bobbing)
        self.swing_ext = 0.0  # the angle's extreme since the last reversal ...
        self.swing_up = True  # ... and whether it was rising
        self.seen_peak = 0.0  # largest angle outside gaps bridged on the gyro (and their settling)

    def swing(self, ang: float) -> None:
        """Follow the angle's reversals of direction by more than SWING_DEG."""
        if self.swing_up:
            if ang > self.swing_ext:
                self.swing_ext = ang
            elif ang < self.swing_ext - SWING_DEG:
                self.swings += 1
                self.swing_up, self.swing_ext = False, ang
        elif ang < self.swing_ext:
            self.swing_ext = ang
        elif ang > self.swing_ext + SWING_DEG:
            self.swings += 1
            self.swing_up, self.swing_ext = True, ang

    def add(self, t: float, g: Vec) -> None:
        self.t.append(t)
        self.g.append(g)

    def reversal_deg(self, g: Vec) -> float:
        """How far g has swung past the reference, opposite to the peak's direction (deg)."""
        r, pk = self.ref.g, self.peak_g
        dx, dy, dz = pk[0] - r[0], pk[1] - r[1], pk[2] - r[2]
        n = math.sqrt(dx * dx + dy * dy + dz * dz) or 1.0
        s = ((g[0] - r[0]) * dx + (g[1] - r[1]) * dy + (g[2] - r[2]) * dz) / n
        return math.degrees(-s)


# A reversal of the angle's direction by more than this counts as a swing (see max_swings).
SWING_DEG = 10.0
# Held away from rest (where a candidate rest is taken) = still, and within this of where the
# hold began (a slow slide, 45 deg over 7 s, turns the thigh at ~6 deg/s: "still" by its rate).
HOLD_DRIFT_DEG = 3.0

_IDLE, _EXC, _BLOCKED, _NOREST = 0, 1, 2, 3
_LONG_AGO = 1 << 30  # samples since a gap, when there has been none
LARGE_CHANGE_DEG = 40.0  # a change of rest this large is sitting down or standing up
# A strap holds the sensor flat on the thigh, so the thigh's long axis lies in the sensor's x-y
# plane whatever way the sensor is turned. Standing, that axis is vertical: gravity then runs
# nearly perpendicular to the sensor's z axis (within the strap's tilt and a slightly bent
# knee). Seated with the sensor on the front of the thigh (where the placement guide puts it),
# the thigh is horizontal and gravity runs along z. |up_z| at or below this = upright (standing).
STANDING_MAX_NORMAL = 0.45
# Of two postures, one whose |up_z| is smaller by this much is the more upright one (the thigh's
# axis closer to vertical), wherever around the thigh the sensor sits.
UPRIGHT_MARGIN = 0.15
# ... and a rest with |up_z| below this is upright for sure (strap tilt and a bent knee stay within
# ~15 deg), so it is never swapped for a more upright one.
UPRIGHT_SURE_NORMAL = 0.3


def _unit_cross(a: Vec, b: Vec) -> Vec:
    x = a[1] * b[2] - a[2] * b[1]
    y = a[2] * b[0] - a[0] * b[2]
    z = a[0] * b[1] - a[1] * b[0]
    n = math.sqrt(x * x + y * y + z * z) or 1.0
    return (x / n, y / n, z / n)


class RepDetector:
    """Causal rep detector on uniform, causally low-passed samples (see module docstring).

    fs: grid rate in Hz. Feed it with :meth:`push` (arrays of any length); it returns the new
    :class:`RepEvent` s. ``reps_`` holds every finished :class:`Rep`; ``angle_deg`` the current
    angle from rest (0 while no rest is known); ``wrong_posture_moves_`` counts rep-sized
    movements ignored because the person was not in the exercise's start posture.
    """

    def __init__(self, exercise: str, fs: float):
        self.p = p = params_for(exercise)
        self.fs = float(fs)
        self.dt = 1.0 / self.fs
        self.reps_: list[Rep] = []
        self.wrong_posture_moves_ = 0  # rep-sized movements from a rest that is not start_posture
        self.counts_: dict[str, int] = {k: 0 for k in p.kinds}
        self.angle_deg = 0.0
        self._grav = GravityTracker(self.fs, tau_s=GRAVITY_TAU_S, gate_m_s2=GRAVITY_GATE_M_S2)
        self._bias: Vec = (0.0, 0.0, 0.0)  # gyro bias (rad/s), learnt while still at rest
        self._bias_k = self.dt / 5.0
        self._bias_n = 0
        self._imp_avg = 0.0
        self._imp_k = self.dt / 0.5
        self._bias_pending: deque[Vec] = deque()
        self._n_bias_delay = int(round(1.0 * self.fs))
        self._alpha_rest = self._grav.alpha
        self._alpha_move = GRAVITY_TAU_MOVING_S / (GRAVITY_TAU_MOVING_S + self.dt)
        self._alpha_gap = GRAVITY_TAU_GAP_S / (GRAVITY_TAU_GAP_S + self.dt)
        self._n_gap_settle = int(round(GAP_SETTLE_S * self.fs))
        self._alpha_still = GRAVITY_TAU_STILL_S / (GRAVITY_TAU_STILL_S + self.dt)
        self._n_still_settle = int(round(STILL_SETTLE_S * self.fs))
        # samples since the last one interpolated across a gap (0 inside a gap); the phases after
        # a gap follow from it: settling (_n_gap_settle), doubt (_n_gap_doubt), post-gap correction
        self._since_gap = _LONG_AGO
        # cosine of the angle between the accelerometer and the estimate (max_accel_off_deg)
        self._cos_off_max = math.cos(math.radians(min(p.max_accel_off_deg, 180.0)))
        self._cos_off = 1.0
        self._gap_acc = False  # whether the accelerometer leads across the gap (not shaking)
        self._gap_span = 0.0  # span_s of the gap being crossed (0 outside gaps)
        self._gap_fill = False  # ... and whether it is bridged as lost data (FILLED_SPAN_S)
        self._n_gap_doubt = int(round(GAP_DOUBT_S * self.fs))
        self._alpha_post_gap = POST_GAP_TAU_S / (POST_GAP_TAU_S + self.dt)
        self._n_post_gap0 = int(round(POST_GAP_FROM_S * self.fs))
        self._state = _NOREST
        self._rest: _Ref | None = None
        self._cand: _Ref | None = None  # candidate rest while an excursion is settled
        self._rest_proven = False  # a rep has been counted from the current rest
        self._exc: _Excursion | None = None
        self._rest_ok = True  # False while the rest cannot be the exercise's start posture
        self._sec: _Excursion | None = None  # excursion from the candidate rest
        self._entry_axis: Vec | None = None
        self._near_n = 0  # consecutive samples near rest (angle below arm_deg)
        self._near_n_before = 0  # ... up to the previous sample
        self._still_n = 0
        self._quiet_t = -math.inf  # last time the person had been still for quiet_s
        self._impact_t = -math.inf
        # at rest (idle) when a long gap began: if the estimate settles near rest after it, the
        # person is taken to have stayed there (a lift may start at once)
        self._idle_at_gap = False
        self._pre: deque[tuple[float, Vec]] = deque(maxlen=int(round(1.5 * self.fs)))
        self._pre_c: deque[tuple[float, Vec]] = deque(maxlen=int(round(1.5 * self.fs)))
        r = self.fs
        self._n_settle_rest = int(round(p.rest_settle_s * r))
        self._n_settle_new = int(round(p.max_settle_s * r))
        self._n_new_rest = int(round(p.new_rest_s * r))
        self._n_min_rep = int(round(p.min_rep_s * r))
        self._n_quiet = max(1, int(round(p.quiet_s * r)))
        self._n_dwell = max(1, int(round(p.dwell_s * r)))
        self._n_after_min = int(round(p.after_min_s * r))
        self._n_after_max = max(self._n_after_min, int(round(p.after_max_s * r)))
        self._still_rate2 = math.radians(p.still_rate_dps) ** 2

    # -- rest handling -------------------------------------------------------------------------
    def _set_rest(self, g: Vec) -> None:
        old = self._rest
        was_ok = self._rest_ok
        self._rest_ok = self._posture_ok(g, after_change_from_wrong=(
            old is not None and not was_ok and old.angle_deg(*g) >= LARGE_CHANGE_DEG))
        if not self._rest_ok:
            log.info("rest posture is not %s: no reps until the person changes posture",
                     self.p.start_posture)
        if old is not None and old.angle_deg(*g) >= LARGE_CHANGE_DEG:
            self._entry_axis = _unit_cross(old.g, g)  # how we got here (sat down, stood up)
        self._rest = _Ref(g, self.p.signed_pitch)
        self._cand = None
        self._rest_proven = False
        self._exc = None
        self._sec = None
        self._state = _IDLE
        self._pre.clear()
        log.debug("rest posture set: up=(%.3f, %.3f, %.3f)", *g)

    def _posture_ok(self, g: Vec, *, after_change_from_wrong: bool) -> bool:
        """May reps start from a rest with up-direction g (see STANDING_MAX_NORMAL)?

        Standing exercises: only from an upright rest. Seated ones: from a rest that is not
        upright, or that was reached by a large change (sitting down) from a wrong one (the
        sensor sits on the side of the thigh, where seated and standing both look upright)."""
        upright = abs(g[2]) <= STANDING_MAX_NORMAL
        if self.p.start_posture == "standing":
            return upright
        if self.p.start_posture == "seated":
            return not upright or after_change_from_wrong
        return True

    # -- main loop -----------------------------------------------------------------------------
    def push(
        self,
        t_s: np.ndarray,
        acc_m_s2: np.ndarray,
        gyr_rad_s: np.ndarray,
        impact_m_s2: np.ndarray,
        valid: np.ndarray,
        span_s: np.ndarray | None = None,
    ) -> list[RepEvent]:
        """Process uniform samples: t_s (n,) s; acc (n, 3) m/s^2 and gyr (n, 3) rad/s, both
        causally low-passed; impact_m_s2 (n,) magnitude of high-passed acceleration; valid (n,)
        bool (False in long gaps); span_s (n,) s, the interval between the two received samples
        each point was interpolated from (more than a sample period where packets were lost).
        Returns the events these samples caused."""
        p = self.p
        events: list[RepEvent] = []
        if t_s.shape[0] == 0:
            return events
        grav = self._grav
        still_rate2 = self._still_rate2
        imp_thr = p.impact_m_s2
        n_quiet = self._n_quiet
        if span_s is None:
            span_s = np.zeros(t_s.shape[0])
        for t, a, w, imp, ok, span in zip(
            t_s.tolist(), acc_m_s2.tolist(), gyr_rad_s.tolist(), impact_m_s2.tolist(),
            valid.tolist(), span_s.tolist(), strict=True,
        ):
            b = self._bias
            wx, wy, wz = w[0] - b[0], w[1] - b[1], w[2] - b[2]
            still = (wx * wx + wy * wy + wz * wz) < still_rate2
            # moving during an excursion: the gyro carries the estimate; still (rest or a hold):
            # the accelerometer, which then reads gravity (the pre-filter averages tremor out
            # to ~1 deg), pulls it back and undoes any gyro error of the move; faster once still
            # for a while (STILL_SETTLE_S). In and just after a bridged gap, see GRAVITY_TAU_GAP_S
            # and POST_GAP_TAU_S.
            self._imp_avg += self._imp_k * (imp - self._imp_avg)
            if span > FILLED_SPAN_TREMOR_S:
                if span != self._gap_span:  # a gap's first point decides for all of it
                    self._gap_span = span
                    self._gap_fill = span > FILLED_SPAN_S or self._imp_avg > TREMOR_M_S2
                fill = self._gap_fill
            else:
                self._gap_span = 0.0
                fill = False
            if fill:
                if self._since_gap >= self._n_gap_settle:  # a gap begins: shaking makes single
                    self._gap_acc = self._imp_avg < SHAKE_M_S2 or not ok  # samples unreliable
                self._since_gap = 0
            elif self._since_gap < _LONG_AGO:
                self._since_gap += 1
            settling = self._since_gap < self._n_gap_settle
            if settling and self._gap_acc:
                grav.alpha = self._alpha_gap
                grav.gate_m_s2 = math.inf if fill else GRAVITY_GATE_AFTER_GAP_M_S2
            elif self._n_post_gap0 <= self._since_gap < self._n_gap_doubt and (
                not self._gap_acc or self._imp_avg >= SHAKE_M_S2
            ):
                # (shaking: the pre-filtered magnitude strays from 1 g by more than the gate
                # while its direction is within a few degrees)
                grav.gate_m_s2 = math.inf if self._imp_avg >= SHAKE_M_S2 else GRAVITY_GATE_M_S2
                grav.alpha = self._alpha_post_gap
            else:
                grav.gate_m_s2 = GRAVITY_GATE_M_S2
                if self._still_n >= self._n_still_settle:
                    grav.alpha = self._alpha_still
                else:
                    grav.alpha = self._alpha_rest if still or self._state != _EXC else self._alpha_move
            g = grav.update(a[0], a[1], a[2], wx, wy, wz)
            if self._cos_off_max > -1.0:
                an = math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) or 1.0
                self._cos_off = (a[0] * g[0] + a[1] * g[1] + a[2] * g[2]) / an
            # an interpolated sample is no evidence of stillness (the limb may have moved unseen)
            self._still_n = self._still_n + 1 if still and not fill else 0
            if self._still_n >= n_quiet:
                self._quiet_t = t
            if imp > imp_thr:
                self._impact_t = t
            rest = self._rest
            ang = rest.angle_deg(*g) if rest is not None else 0.0
            self.angle_deg = ang
            self._near_n = self._near_n + 1 if ang < p.arm_deg else 0
            if still and self._still_n >= self._n_settle_rest and ang < p.arm_deg and (
                self._state == _IDLE or self._state == _NOREST
            ):
                # still at rest the gyro should read zero: learn its bias (a running mean at
                # first, then slowly following) from samples a second old, so that the slow
                # start of a movement is never mistaken for bias
                pend = self._bias_pending
                pend.append((wx + b[0], wy + b[1], wz + b[2]))
                if len(pend) > self._n_bias_delay:
                    ox, oy, oz = pend.popleft()
                    self._bias_n += 1
                    k = max(self._bias_k, 1.0 / self._bias_n)
                    self._bias = (b[0] + k * (ox - b[0]), b[1] + k * (oy - b[1]), b[2] + k * (oz - b[2]))
            else:
                self._bias_pending.clear()
            if not ok:  # inside a long gap: drop anything in progress, never count across it
                if self._state == _EXC:
                    # (a rep already back at rest has only its look past the return cut short)
                    done = self._finish_returned()
                    events.extend(done)
                    if not done:
                        log.info("excursion dropped: long gap in the data at t=%.2f s", t)
                if self._state != _BLOCKED:
                    self._idle_at_gap = self._state == _IDLE
                self._exc = self._sec = self._cand = None
                if rest is not None:
                    self._state = _BLOCKED
                self._pre.clear()
                continue
            state = self._state
            if state == _EXC:
                events.extend(self._step_excursions(t, g, ang, still))
                if self._state == _EXC:
                    continue
                rest = self._rest
                ang = rest.angle_deg(*g)
                self.angle_deg = ang
                state = self._state
            if state == _IDLE:
                if ang >= p.arm_deg:
                    if (self._near_n_before >= self._n_dwell and t - self._impact_t > 0.5
                            and t - self._quiet_t <= p.start_still_lead_s):
                        self._exc = _Excursion(rest, self._pre, self.fs, p, self._near_n_before)
                        self._state = _EXC
                        self._pre.clear()
                        events.extend(self._step_excursions(t, g, ang, still))
                        continue
                    self._state = _BLOCKED  # moving off rest without a pause: walking etc.
                elif self._still_n >= self._n_settle_rest:
                    # follow slow drift of the rest posture (strap settling, small weight shifts)
                    b = self.dt / 20.0
                    r = rest.g
                    x = r[0] + b * (g[0] - r[0])
                    y = r[1] + b * (g[1] - r[1])
                    z = r[2] + b * (g[2] - r[2])
                    nn = math.sqrt(x * x + y * y + z * z)
                    rest.g = (x / nn, y / nn, z / nn)
            elif state == _BLOCKED:
                # after a gap, walking or a dropped excursion: wait to be back near rest, or to
                # settle somewhere new for long enough to call it the new rest
                if ang < p.arm_deg and (still or self._idle_at_gap):
                    self._state = _IDLE
                    if self._idle_at_gap:  # the still spell a lift starts from may be in the gap
                        self._quiet_t = t
                elif self._since_gap < self._n_gap_settle:
                    pass  # the estimate is still settling after a gap: no new rest from it yet
                elif (self._still_n >= self._n_new_rest and (
                    ang <= p.new_rest_max_deg or not self._rest_proven
                )) or (self._still_n >= self._n_settle_rest and ang > p.max_amplitude_deg):
                    self._set_rest(g)
                    self.angle_deg = 0.0
            elif state == _NOREST:
                if self._still_n >= self._n_settle_rest:
                    self._set_rest(g)
            if self._since_gap >= self._n_gap_settle:
                self._idle_at_gap = False  # (only while the estimate settles after the gap)
            if self._state == _BLOCKED:
                # away from rest (walking, the end of a movement after a gap): nothing here may
                # lead into the next rep, whose window would then hold this larger movement
                self._pre.clear()
            else:
                self._pre.append((t, g))
            self._near_n_before = self._near_n
        return events

    def _may_start(self, t: float) -> bool:
        p = self.p
        return t - self._quiet_t <= p.quiet_lead_s and t - self._impact_t > 0.5

    def _step_excursions(self, t: float, g: Vec, ang: float, still: bool) -> list[RepEvent]:
        """Advance the excursion from rest (and the one from the candidate rest, if any)."""
        p = self.p
        exc = self._exc
        out: list[RepEvent] = []
        # --- the excursion from the candidate rest (silent: only its end matters) ---
        cand = self._cand
        if cand is not None:
            ang_c = cand.angle_deg(*g)
            sec = self._sec
            if sec is None:
                if ang_c >= p.arm_deg and self._may_start(t):
                    sec = self._sec = _Excursion(cand, self._pre_c, self.fs, p)
                else:
                    self._pre_c.append((t, g))
            if sec is not None:
                res = self._advance(sec, t, g, ang_c, still, live=False)
                if res == "rep":
                    rep_events = self._finish(sec, t, ang_c)
                    if rep_events:
                        log.info("rest moved to where the previous excursion settled (t=%.2f s)", t)
                        self._set_rest(cand.g)
                        self._rest_proven = True  # the rep came from (and back to) it
                        return rep_events
                    self._sec = None
                elif res in ("drop", "abort"):
                    self._sec = None
                    self._pre_c.clear()
        # --- the excursion from rest ---
        res = self._advance(exc, t, g, ang, still, live=True, events=out)
        if res in ("rep", "drop") and exc.started and not self._rest_ok:
            self.wrong_posture_moves_ += 1
        if res == "rep":
            out.extend(self._finish(exc, t, ang))
            self._idle_after_rep()
            return out
        if res == "abort":  # it never reached min_amplitude_deg: a wobble at rest, not a movement
            self._exc = self._sec = self._cand = None
            self._state = _IDLE
            self._pre.extend(zip(exc.t, exc.g, strict=True))
            self._near_n = exc.near_n0 + exc.n
            return out
        if res == "drop":
            self._exc = self._sec = self._cand = None
            self._state = _BLOCKED if ang >= p.arm_deg else _IDLE
            self._pre.clear()
            self._quiet_t = -math.inf  # the next rep must start from a new still spell
            self._near_n = 0  # ... after dwelling at rest again
            return out
        # settled somewhere away from rest
        if still and ang >= p.arm_deg:
            # (a hold: still, and not creeping on: a very slow slide turns below still_rate_dps)
            if exc.settle_n == 0 or abs(ang - exc.hold_ang) > HOLD_DRIFT_DEG:
                exc.hold_n, exc.hold_ang = 0, ang
            exc.settle_n += 1
            exc.hold_n += 1
        else:
            exc.settle_n = exc.hold_n = 0
        if exc.settle_n >= self._n_settle_rest:
            changed_posture = ang >= LARGE_CHANGE_DEG and (
                (not self._rest_ok and self._posture_ok(g, after_change_from_wrong=True))
                # (standing exercises, no rep yet) settled clearly more upright than the rest:
                # standing up from a chair with the sensor towards the side of the thigh
                or (p.start_posture == "standing" and not self._rest_proven
                    and abs(self._rest.g[2]) > UPRIGHT_SURE_NORMAL
                    and abs(g[2]) < abs(self._rest.g[2]) - UPRIGHT_MARGIN))
            if (exc.spoiled or ang > p.max_amplitude_deg or exc.settle_n >= self._n_settle_new
                    or changed_posture):
                log.info("new rest posture at t=%.2f s (%.0f deg from the old one; %s)", t, ang,
                         exc.spoiled or ("changed posture" if changed_posture
                                        else "too far or too long for a rep"))
                self._set_rest(g)
                self.angle_deg = 0.0
                return out
            if self._sec is None and exc.hold_n >= self._n_settle_rest and (
                self._cand is None or self._cand.angle_deg(*g) >= p.arm_deg
            ):
                self._cand = _Ref(g, p.signed_pitch)
                self._sec = None
                self._pre_c.clear()
        return out

    def _advance(self, exc: _Excursion, t: float, g: Vec, ang: float, still: bool, *, live: bool,
                 events: list[RepEvent] | None = None) -> str:
        """One sample of an excursion: returns '' (going on), 'rep' (finished, measure it),
        'drop' (finished, not a rep) or 'abort' (back at rest before it ever reached
        min_amplitude_deg)."""
        p = self.p
        exc.add(t, g)
        if t - self._impact_t <= 0.0 and not exc.spoiled:
            exc.spoiled = "an impact (a step, landing on a seat)"
        if exc.ending:
            exc.end_n += 1
            if exc.spoiled:
                return "drop"
            doubt = self._since_gap < self._n_gap_doubt  # just after a gap: the angle may settle
            if exc.reversal_deg(g) > p.reverse_deg and not doubt:
                exc.spoiled = "it swung through rest to the other side (a stride)"
                return "drop"
            rising = ang >= p.arm_deg and ang > exc.prev_ang and not doubt
            if rising and not p.chain:
                exc.spoiled = "it swung straight into the next movement (a stride)"
                return "drop"
            if rising or (exc.end_n >= self._n_after_min and (
                ang < max(1.0, 0.1 * exc.peak) or exc.end_n >= self._n_after_max
            )):
                return "rep"
            exc.prev_ang = ang
            return ""
        exc.n += 1
        exc.swing(ang)
        if (self._cos_off < self._cos_off_max and self._since_gap >= self._n_gap_doubt
                and not exc.spoiled):
            exc.spoiled = "the accelerometer showed it moving through the air (a step)"
        if p.seen_after_gap and (self._gap_acc or self._since_gap >= self._n_gap_doubt):
            exc.seen_peak = max(exc.seen_peak, ang)
        if exc.swings > p.max_swings and not exc.spoiled:
            exc.spoiled = "the thigh swung back and forth (walking)"
        if ang > exc.peak:
            exc.peak = ang
            exc.peak_g = g
            if p.signed_pitch:
                exc.kind_live = p.kinds[0] if self._pitch_sign(exc.ref, g) > 0 else p.kinds[1]
        elif p.signed_pitch and ang >= p.arm_deg and not exc.spoiled:
            sign_now = self._pitch_sign(exc.ref, g)
            if (sign_now > 0) != (exc.kind_live == p.kinds[0]) and exc.peak >= p.min_amplitude_deg:
                exc.spoiled = "the foot rocked from heel to toes without a pause (a step)"
        peak = exc.peak
        if live and events is not None and self._rest_ok:
            rk = exc.kind_live
            count = self.counts_.get(rk, 0)
            if not exc.started and peak >= p.min_amplitude_deg and not exc.spoiled:
                exc.started = True
                events.append(RepEvent("rep_start", t, rk, count, ang, 0.0))
            rate_dps = abs(ang - exc.prev_ang) * self.fs
            if exc.started and ang >= p.hold_frac * peak and rate_dps < p.hold_rate_dps:
                exc.held_s += self.dt
                if exc.held_s >= exc.next_tick_s - 1e-9:
                    exc.next_tick_s += p.hold_tick_s
                    events.append(RepEvent("hold_tick", t, rk, count, ang, exc.held_s))
            if exc.started and not exc.peak_announced and ang < peak - max(2.0, 0.1 * peak):
                exc.peak_announced = True
                events.append(RepEvent("rep_peak", t, rk, count, peak, exc.held_s))
        elif peak >= p.min_amplitude_deg:
            exc.started = True
        exc.prev_ang = ang
        if ang < min(max(p.end_deg, p.end_frac * peak), p.end_max_deg):
            if not exc.started:
                return "abort"
            if (p.seen_after_gap and not exc.spoiled
                    and exc.seen_peak < max(p.arm_deg, SEEN_PEAK_FRAC * peak)):
                exc.spoiled = "its size was only seen across a gap in the data"
            if exc.spoiled or exc.n < self._n_min_rep or peak > p.max_amplitude_deg:
                log.info("excursion ending at t=%.2f s not counted: %s", t,
                         exc.spoiled or ("too short" if exc.n < self._n_min_rep else "too large"))
                return "drop"
            exc.ending = True
            exc.end_n = 0
            if self._n_after_min == 0 and ang < max(1.0, 0.1 * peak):
                return "rep"
        return ""

    @staticmethod
    def _pitch_sign(ref: _Ref, g: Vec) -> float:
        rx, rz = ref.rx, ref.rz
        px = rx[0] * g[0] + rx[1] * g[1] + rx[2] * g[2]
        pz = rz[0] * g[0] + rz[1] * g[1] + rz[2] * g[2]
        return 1.0 if math.atan2(-px, pz) >= 0.0 else -1.0

    def _finish(self, exc: _Excursion, t: float, ang: float) -> list[RepEvent]:
        if not self._rest_ok:
            log.info("excursion at t=%.2f s not counted: it did not start %s", t,
                     self.p.start_posture)
            return []
        axis = self._entry_axis
        if self.p.same_way_as_sitting and axis is not None:
            turn = _unit_cross(exc.ref.g, exc.peak_g)
            if turn[0] * axis[0] + turn[1] * axis[1] + turn[2] * axis[2] < -0.5:
                log.info("excursion at t=%.2f s turned the thigh the way standing up did: the "
                         "person is standing (a stride or a step), not a seated lift", t)
                return []
        rep = measure_rep(np.array(exc.t), np.array(exc.g), exc.ref, self.fs, self.p)
        if rep is None:
            return []
        self.reps_.append(rep)
        self.counts_[rep.kind] = self.counts_.get(rep.kind, 0) + 1
        self._rest_proven = True
        return [RepEvent("rep_end", t, rep.kind, self.counts_[rep.kind], ang, rep.hold_s, rep)]

    @property
    def in_rep(self) -> bool:
        """True while a rep (an excursion past min_amplitude_deg) is under way."""
        return self._state == _EXC and self._exc is not None and self._exc.started

    def _finish_returned(self) -> list[RepEvent]:
        """Count the excursion in progress if it is a rep already back near rest, whose look past
        the return (after_min_s) is cut short by the end of the data or a long gap."""
        exc = self._exc
        if self._state == _EXC and exc is not None and exc.ending and not exc.spoiled:
            out = self._finish(exc, exc.t[-1], exc.prev_ang)
            self._idle_after_rep()
            return out
        return []

    def _idle_after_rep(self) -> None:
        """Back at rest after an excursion that ended as a rep (counted or not)."""
        self._exc = self._sec = self._cand = None
        self._state = _IDLE
        self._pre.clear()
        if not self.p.chain:
            self._quiet_t = -math.inf  # the next rep must start from a new still spell
            self._near_n = 0  # ... after dwelling at rest again

    def finish(self) -> list[RepEvent]:
        """End of stream: finish a rep that is already back near rest (after-look cut short)."""
        return self._finish_returned()
