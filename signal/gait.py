"""Walking from a foot sensor: strides, cadence, stride-time variability, stance, stride length,
speed, distance, bouts and turns.

Sensor: on the top of the foot (the heel-toe strap), any orientation; acc in m/s^2 (specific
force), gyro in rad/s, sensor frame, any rate 25-400 Hz, irregular or gappy timestamps allowed.

Method (the stages, each its own module):

1. the samples go onto a uniform grid at the sensor's rate (:mod:`movecoach.signal.resample`);
2. stance (zero velocity) and swing per sample from the gyro and accelerometer magnitudes
   (:mod:`movecoach.signal.gait_events`);
3. between two stances the foot's orientation follows the gyro (bias from the last rest
   removed) and its tilt is set from the accelerometer at each stance; the gravity-removed
   acceleration in the world frame is integrated twice through the swing with the velocity
   the integral ends with (which should be zero) removed as a straight line
   (:mod:`movecoach.signal.gait_zupt`; Skog et al. 2010, "Zero-velocity detection: an algorithm
   evaluation", IEEE TBME 57(11); Rampp et al. 2015, "Inertial sensor-based stride parameter
   calculation from gait sequences in geriatric patients", IEEE TBME 62(4), as gaitmap 2.6
   implements them). Orientation is the project's own strapdown integration rather than
   :class:`~movecoach.signal.orientation.OrientationTracker` (which gives "up" only, not the
   heading a path needs) or VQF (whose motion-time accelerometer correction adds nothing
   when the tilt is reset at every stance; see benchmarks/walk_accuracy.py);
4. the accelerometer's scale is corrected from its magnitude at rest (units that read 10.3
   m/s^2 standing still would make every stride 5 % long): the mean magnitude over the last
   rest of at least REST_MIN_S is taken as gravity;
5. a swing counts as a stride when it lasts MIN_SWING_S-MAX_SWING_S and moves the foot at
   least MIN_STRIDE_M across the floor (or turns it as a lifted turning step does): a heel or
   toe raise, a weight shift, a pivot on the heel or a foot fidgeting in place moves it a few
   cm; a movement too small for a stride that stops only for a moment (MERGE_STANCE_S) goes
   on into the next one (a hovering foot); one longer than MAX_HOVER_S that does not turn
   must also swing the foot (HELD_GYR_RAD_S: a raise held at its top drifts far enough to
   pass for a stride); the short closing step that ends a walk (the foot brought up beside
   the other after a whole stance, then a rest) counts from MIN_CLOSE_S and MIN_CLOSE_M; a
   movement with two swings and a stance between them that never went still (a fast walker's
   foot rolling heel to toe, ROLL_S) is two strides;
6. strides with no stop longer than BOUT_GAP_S between them make a bout; a bout's turns are
   runs of turning strides that change the heading by TURN_DEG or more (:func:`count_turns`).

Batch and live are the same code: :func:`analyze_walk` pushes the whole recording through one
:class:`WalkAnalyzer`, which decides each stride from the samples up to a little after the
stance that ends it, whatever the block sizes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from movecoach.signal import gait_events as ev
from movecoach.signal import gait_zupt as zupt
from movecoach.signal.resample import DEFAULT_MAX_GAP_S, UniformResampler, estimate_fs

log = logging.getLogger(__name__)

G_M_S2 = zupt.G_M_S2

# A stance is at least this many seconds of zero-velocity samples (shorter still spells lie in
# a swing's turning points or are a foot rolling through mid-stance).
MIN_STANCE_S = 0.03
# The foot's movement of a stride, from its last still sample to its first still sample again:
# 0.33-1.7 s on the 1185 footsteps of the IPOL recordings (5 % below 0.63 s; the flight itself,
# toe-off to heel strike, is 0.25-0.5 s at 0.5-2 m/s); the movements between two still spells
# that are not footsteps (a foot rolling through mid-stance, a weight shift) last 0.04-0.27 s
# (median 0.08). Measured still to still, not push-off to impact peak: on a short last step
# those peaks can lie 0.1 s apart. Longer than MAX_SWING_S is no stride the ZUPT can follow
# (the foot never settles: climbing into a car, a kick, the sensor in a hand).
MIN_SWING_S = 0.3
MAX_SWING_S = 2.0
# A stance shorter than this (s) that follows a movement too small for a stride is a pause in
# the air, not the foot on the floor: the movement goes on to the next stance (a slow closing
# step at the end of a walk, a hesitant first step: the foot hovers, its gyro under 0.75 rad/s
# for 3-7 samples, and the two halves are each too small to count while the whole is a
# footstep). Real stances after a stride are no shorter than 0.03 s (fast walkers), so a pause
# is only looked for after a movement that is no stride by itself.
MERGE_STANCE_S = 0.06
# A movement (pauses included) longer than this (s) that does not turn the foot as a turning
# step does is a stride only if it moves the foot by 2 * MIN_STRIDE_M and swings it (turns it
# at HELD_GYR_RAD_S or faster at some point): hovering footsteps take 0.4-0.7 s still to still
# on the IPOL recordings, non-turning strides longer than 0.8 s move the foot 0.49 m or more
# and swing it at 3.4-12 rad/s, while a heel or toe raise held for a moment at its top (up,
# pause, down) takes 1-2 s, over which the integration drifts by up to 0.6 m, and turns the
# foot at 1.5-2.4 rad/s (the simulator's "hard" raises, 40 seeds).
MAX_HOVER_S = 0.8
HELD_GYR_RAD_S = 3.0
# A closing step: the last movement of a walk, the foot brought up beside the other after a
# whole stance, is often shorter than MIN_SWING_S (0.18-0.24 s still to still on the IPOL
# recordings, moving the sensor 4-7 cm with a landing of 9-14 m/s^2; the checked events count
# it). It counts as a stride when it lasts at least MIN_CLOSE_S, starts CLOSE_STANCE_S to
# MAX_STANCE_S after the last stride's landing (the foot stood through a stance first: a foot
# sliding on after landing, or hovering, moves again within 0.3 s), moves the foot at least
# MIN_CLOSE_M with a landing (MIN_STEP_IMPACT_M_S2), and is followed by a rest (REST_MIN_S:
# the walk is over). Movements inside a stance while walking (the foot rolling onto its
# forefoot: 0.04-0.27 s, median 0.08) are followed by the next swing within a second.
MIN_CLOSE_S = 0.15
CLOSE_STANCE_S = 0.6
MIN_CLOSE_M = 0.03
# A stance that never goes still: a fast walker's foot can roll from heel to toe through the
# whole stance at 0.5-2.5 rad/s (over STILL_GYR_RAD_S), so two strides run together into one
# movement with two swings (IPOL 4-4_rf at 6.0-7.4 s: 1.7 s still to still, 2.8 m). The foot is
# on the floor between them all the same: a run of at least ROLL_S in which it turns slower
# than ROLL_GYR_RAD_S with its acceleration within ROLL_ACC_M_S2 of gravity (swings turn it at
# 5-12 rad/s; a swing's own slow spells, at a U-turn or a hovering foot, are followed or
# preceded by a movement of 0.0-0.45 m on the IPOL recordings), with a swing of ROLL_SWING_RAD_S
# or more on each side, each of which moves the foot 2 * MIN_STRIDE_M (1.5 m each in 4-4_rf),
# is a stance: the movement is two strides, split at the slowest sample of that run (where the
# velocity is taken as zero).
ROLL_S = 0.15
ROLL_GYR_RAD_S = 2.5
ROLL_ACC_M_S2 = 2.5
ROLL_SWING_RAD_S = 5.0
# A stride moves the foot at least this far across the floor (m). Real strides, turning
# steps included, move it 0.25-1.7 m; a heel raise moves the sensor by 2-3 cm (it sits ~0.15 m
# behind the toes' pivot), a weight shift or fidget by less than 10 cm.
MIN_STRIDE_M = 0.15
# ... or turns it at least this far about vertical (deg) while being lifted and put down: a
# turning step at a U-turn can put the foot down turned by 60-120 deg only a few cm away (IPOL
# subject 1); a heel or toe raise turns it by less than 4 deg, a weight shift by less than 10.
MIN_TURN_STEP_DEG = 30.0
# Lifted and put down: the accelerometer magnitude leaves gravity by at least this much (m/s^2)
# during the movement (push-off, heel strike: 14-90 on 95 % of the IPOL footsteps). A foot
# pivoting on its heel at a U-turn turns by 60-170 deg at up to 8 rad/s but stays within 1-3
# m/s^2 of gravity: the checked footstep events of the IPOL set do not count those pivots.
MIN_STEP_IMPACT_M_S2 = 5.0
# The integration starts this long (s) before the end of the stance before (or at its start):
# the foot starts moving slowly enough for its first samples to pass as still (on the
# simulator's smooth strides the lengths came out 3 % short without it).
ZUPT_EXTEND_S = 0.1
# Foot off is the push-off's acceleration peak within PUSH_OFF_S after the foot's still phase
# ends, foot down the landing's impact peak within IMPACT_S before the next still phase begins
# (on the 68 IPOL recordings they fall 0.01 s after the checked toe-off, IQR 0.03 s, and give
# each recording's median stride time within 5 ms of the checked events' (median); the still
# phase itself ends ~0.2 s before toe-off and starts ~0.1 s after the heel strike).
PUSH_OFF_S = 0.3
IMPACT_S = 0.25
# The stance before a stride counts as part of its gait cycle (stride time = contact to
# contact) when it lasted at most this long; longer, the person was standing.
MAX_STANCE_S = 1.5
# Rest: a stance this long (s) shows gravity and the gyro's bias. The gyro bias is its mean,
# the accelerometer scale is G / its mean magnitude (used only within MAX_SCALE_ERROR of 1:
# more than that is a wrong unit, which the csv reader catches).
REST_MIN_S = 1.0
MAX_SCALE_ERROR = 0.15
# The tilt at the end of a stance comes from the mean accelerometer over its last LEVEL_S.
LEVEL_S = 0.1
# Strides with no stop longer than this (s) between them are one bout.
BOUT_GAP_S = 2.0
# A turn: strides that each turn the foot by TURN_STRIDE_DEG or more (walking straight the
# heading wanders by less than 10 deg a stride on the IPOL recordings) and together by TURN_DEG
# or more (a U-turn at the end of a hallway: 1-3 strides of this foot, 150-200 deg).
TURN_DEG = 90.0
TURN_STRIDE_DEG = 20.0
# Folded away: a stance longer than this keeps only its last FOLD_KEEP_S in the buffer.
FOLD_S = 3.0
FOLD_KEEP_S = 1.0


@dataclass(frozen=True)
class Stride:
    """One stride of the sensor's foot: the stance before it and its swing.

    t_start: s, sensor clock, the foot leaves the floor (end of the stance before); t_end: the
    foot is still on the floor again (start of the next stance); time_s: stride time, contact to
    contact (the start of the stance before to t_end; NaN for a bout's first stride, whose
    stance before is standing); length_m: horizontal distance the foot moved (ZUPT); stance_s:
    that stance before (NaN as time_s); swing_s: t_end - t_start; turn_deg: heading change from
    the contact before to this one (signed, + left, counter-clockwise seen from above).
    """

    t_start: float
    t_end: float
    time_s: float
    length_m: float
    stance_s: float
    swing_s: float
    turn_deg: float

    def to_json(self) -> dict:
        return {"t_start": self.t_start, "t_end": self.t_end, "length_m": self.length_m,
                "time_s": self.time_s, "stance_s": self.stance_s, "swing_s": self.swing_s,
                "turn_deg": self.turn_deg}


@dataclass(frozen=True)
class Bout:
    """One walking bout: strides with no stop longer than BOUT_GAP_S.

    t_start, t_end: s (the first stride's foot off, the last stride's foot down); cadence_spm:
    steps per minute (two steps per stride of one foot) from the mean stride time;
    stride_time_s: mean, stride_time_cv: its coefficient of variation (fraction; NaN with fewer
    than 2 stride times); stance_frac: stance / stride time (fraction); stride_length_m: mean;
    speed_m_s: distance / (t_end - t_start); distance_m: sum of stride lengths; turns: heading
    changes of more than TURN_DEG. Values that cannot be measured (a bout of one stride has no
    stride time) are NaN.
    """

    t_start: float
    t_end: float
    strides: int
    cadence_spm: float
    stride_time_s: float
    stride_time_cv: float
    stance_frac: float
    stride_length_m: float
    speed_m_s: float
    distance_m: float
    turns: int

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class WalkResult:
    """Everything found in one recording. path_m: (n_stance, 3) foot position at each stance
    (the first, then each stride's landing), world frame, m, z up, x and y the foot's heading at
    the first stance; path_t_s: (n_stance,) s, when the foot got there."""

    strides: list[Stride]
    bouts: list[Bout]
    path_m: np.ndarray = field(repr=False)
    path_t_s: np.ndarray = field(repr=False)

    @property
    def distance_m(self) -> float:
        return float(sum(s.length_m for s in self.strides))

    @property
    def n_strides(self) -> int:
        return len(self.strides)

    @property
    def walking_s(self) -> float:
        """Time spent in bouts (s)."""
        return float(sum(b.t_end - b.t_start for b in self.bouts))

    @property
    def speed_m_s(self) -> float:
        """Distance over walking time (NaN without walking)."""
        t = self.walking_s
        return self.distance_m / t if t > 0 else math.nan

    @property
    def cadence_spm(self) -> float:
        """Steps per minute over all bouts (NaN without a stride time)."""
        return _cadence([s.time_s for s in self.strides])

    @property
    def stride_time_cv(self) -> float:
        return _cv([s.time_s for s in self.strides])


def _finite(xs) -> np.ndarray:
    x = np.asarray(list(xs), dtype=float)
    return x[np.isfinite(x)]


def _cadence(times) -> float:
    x = _finite(times)
    return float(120.0 / x.mean()) if x.size else math.nan


def _cv(times) -> float:
    x = _finite(times)
    return float(x.std(ddof=1) / x.mean()) if x.size >= 2 else math.nan


def count_turns(turn_deg: list[float]) -> int:
    """Turns in a bout from its strides' heading changes (deg, in order): runs of turning
    strides (|turn| >= TURN_STRIDE_DEG; one straight stride may lie between two of them) whose
    heading changes add up to TURN_DEG or more are one turn each (a U-turn is one turn)."""
    turns, acc, straight, in_run = 0, 0.0, 0, False
    for d in list(turn_deg) + [0.0, 0.0]:
        if abs(d) >= TURN_STRIDE_DEG:
            acc += d
            in_run, straight = True, 0
            continue
        if in_run:
            straight += 1
            acc += d
            if straight > 1:
                turns += abs(acc) >= TURN_DEG
                acc, in_run, straight = 0.0, False, 0
    return turns


def make_bouts(strides: list[Stride]) -> list[Bout]:
    """The strides (in time order) grouped into bouts (see :class:`Bout`)."""
    groups: list[list[Stride]] = []
    for s in strides:
        if groups and s.t_start - groups[-1][-1].t_end <= BOUT_GAP_S:
            groups[-1].append(s)
        else:
            groups.append([s])
    return [_bout(g) for g in groups]


def _bout(g: list[Stride]) -> Bout:
    t0, t1 = g[0].t_start, g[-1].t_end
    dist = float(sum(s.length_m for s in g))
    times = [s.time_s for s in g]
    fr = _finite(s.stance_s / s.time_s for s in g)
    lengths = np.array([s.length_m for s in g])
    x = _finite(times)
    return Bout(t_start=t0, t_end=t1, strides=len(g), cadence_spm=_cadence(times),
                stride_time_s=float(x.mean()) if x.size else math.nan,
                stride_time_cv=_cv(times), stance_frac=float(fr.mean()) if fr.size else math.nan,
                stride_length_m=float(lengths.mean()),
                speed_m_s=dist / (t1 - t0) if t1 > t0 else math.nan, distance_m=dist,
                turns=count_turns([s.turn_deg for s in g]))


class WalkAnalyzer:
    """Finds strides live: ``push(t_s, acc_m_s2, gyr_rad_s)`` returns the strides completed by
    the block, ``finish()`` the :class:`WalkResult`. fs: the sensor's rate (Hz, 25-400).

    t_s (n,) s sensor clock; acc_m_s2 (n, 3) m/s^2 specific force and gyr_rad_s (n, 3) rad/s,
    sensor frame (a foot sensor, any orientation). ``strides_`` holds the strides so far,
    ``distance_m`` their length, ``walking`` whether a bout is going on at the last sample.
    A stride is reported once MIN_STANCE_S of the stance after it has been seen (plus
    GAP_HALF_S), ~0.05 s after the foot comes down; MERGE_STANCE_S (~0.1 s) after a movement
    too small for a stride by itself.
    """

    def __init__(self, fs: float, *, max_gap_s: float = DEFAULT_MAX_GAP_S):
        if not 10.0 <= fs <= 1000.0:
            raise ValueError(f"fs must be within 10-1000 Hz, got {fs}")
        self.fs = float(fs)
        self._resampler = UniformResampler(self.fs, max_gap_s=max_gap_s)
        self._h = ev.margin(self.fs)
        self._n_min_stance = max(1, int(round(MIN_STANCE_S * self.fs)))
        self._n_merge = max(self._n_min_stance + 1, int(round(MERGE_STANCE_S * self.fs)))
        self._n_fold = int(round(FOLD_S * self.fs))
        self._n_ext = int(round(ZUPT_EXTEND_S * self.fs))
        self._n_push = max(1, int(round(PUSH_OFF_S * self.fs)))
        self._n_impact = max(1, int(round(IMPACT_S * self.fs)))
        self._n_keep = int(round(FOLD_KEEP_S * self.fs))
        self._n_rest = int(round(REST_MIN_S * self.fs))
        self._n_roll = max(1, int(round(ROLL_S * self.fs)))
        # the buffer: grid samples from h before the current stance (or the first sample)
        self._t = np.zeros(0)
        self._acc = np.zeros((0, 3))
        self._gyr = np.zeros((0, 3))
        self._valid = np.zeros(0, dtype=bool)
        self._quiet = np.zeros(0, dtype=bool)
        self._in_stance = False  # the buffer (after its margin) starts at a stance
        self._q: np.ndarray | None = None  # orientation at the buffer's stance start
        self._q_land: np.ndarray | None = None  # ... at the last contact (turn reference)
        self._contact_t: float | None = None  # start of the stance before the next stride
        self._bias = np.zeros(3)
        self._scale = 1.0
        self._pos = np.zeros(3)
        self._path: list[np.ndarray] = []
        self._path_t: list[float] = []
        self.strides_: list[Stride] = []
        self._t_last = -math.inf
        self._finished = False

    @property
    def distance_m(self) -> float:
        return float(sum(s.length_m for s in self.strides_))

    @property
    def walking(self) -> bool:
        return bool(self.strides_) and self._t_last - self.strides_[-1].t_end <= BOUT_GAP_S

    @property
    def scale(self) -> float:
        """The accelerometer scale correction in use (G / its magnitude at rest)."""
        return self._scale

    def push(self, t_s, acc_m_s2, gyr_rad_s) -> list[Stride]:
        """Add samples (see the class docstring); the strides they complete."""
        if self._finished:
            raise RuntimeError("push() after finish()")
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        a = np.asarray(acc_m_s2, dtype=float).reshape(-1, 3)
        g = np.asarray(gyr_rad_s, dtype=float).reshape(-1, 3)
        if not t.shape[0] == a.shape[0] == g.shape[0]:
            raise ValueError(f"t_s, acc_m_s2, gyr_rad_s must have the same length, got "
                             f"{t.shape[0]}, {a.shape[0]}, {g.shape[0]}")
        if t.shape[0] == 0:
            return []
        grid = self._resampler.push(t, np.hstack([a, g]))
        if grid.t_s.shape[0] == 0:
            return []
        acc, gyr = grid.x[:, :3], grid.x[:, 3:]
        self._t = np.concatenate((self._t, grid.t_s))
        self._acc = np.concatenate((self._acc, acc))
        self._gyr = np.concatenate((self._gyr, gyr))
        self._valid = np.concatenate((self._valid, grid.valid))
        self._quiet = np.concatenate((self._quiet, ev.quiet(acc, gyr) & grid.valid))
        self._t_last = float(grid.t_s[-1])
        n0 = len(self.strides_)
        self._process()
        return self.strides_[n0:]

    def finish(self) -> WalkResult:
        """End of the recording: the result (a swing still in the air at the end is dropped)."""
        self._finished = True
        path = np.array(self._path, dtype=float).reshape(-1, 3)
        return WalkResult(list(self.strides_), make_bouts(self.strides_), path,
                          np.array(self._path_t, dtype=float))

    # -- the buffer -----------------------------------------------------------------------

    def _drop(self, i: int) -> None:
        """Forget the first i zero-velocity positions of the buffer (its first i samples), the
        orientation carried through them on the gyro (it stays the orientation at zv[0])."""
        if i <= 0:
            return
        if self._q is not None:
            h = self._h
            self._q = zupt.propagate(self._q, self._gyr[h:h + i + 1] - self._bias, self.fs)[-1]
        self._cut(i)

    def _cut(self, i: int) -> None:
        """Forget the buffer's first i samples (the orientation left as it is)."""
        self._t, self._acc, self._gyr = self._t[i:], self._acc[i:], self._gyr[i:]
        self._valid, self._quiet = self._valid[i:], self._quiet[i:]

    def _process(self) -> None:
        """Take every stride the buffer completes. zv[j] says whether buffer sample j + h is a
        zero-velocity sample; in a stance, zv[0] is the stance's first sample and self._q the
        orientation there. zv and its runs are found once per call: cutting the buffer's head
        only shifts them (each position keeps its full context), so ``off`` counts the cut."""
        zv = ev.zero_velocity(self._quiet, self._h)
        known0 = zv.shape[0]
        if known0 == 0:
            return
        starts, ends = ev.runs(zv)
        long_ = (ends - starts) >= self._n_min_stance
        n_runs = starts.shape[0]
        off = 0  # samples cut from the buffer's head in this call
        r = 0  # the first run that may still matter
        while True:
            known = known0 - off
            while r < n_runs and ends[r] - off <= 0:
                r += 1
            if not self._in_stance:
                # looking for a stance: keep only what could still become one
                k = r
                while k < n_runs and not long_[k]:
                    k += 1
                if k < n_runs:
                    c = int(starts[k]) - off
                    self._drop(c)
                    off += c
                    self._in_stance = True
                    continue
                last_open = n_runs and ends[-1] == known0 and starts[-1] - off >= 0
                c = int(starts[-1]) - off if last_open else known
                self._drop(c)
                return
            # zv[0] is True: the stance runs to a_end (or is still on)
            a_end = int(ends[r]) - off
            if a_end >= self._n_fold:
                c = self._n_fold - self._n_keep
                self._fold(c)
                off += c
                continue
            if a_end == known:
                return  # still standing
            k = r + 1
            q, merged = None, False
            while q is None:
                while k < n_runs and not long_[k]:
                    k += 1
                if k == n_runs:
                    if (known - a_end) / self.fs > MAX_SWING_S:
                        self._lost(a_end, known)  # moving too long for a stride
                    return  # in the air
                pause = ends[k] - starts[k] < self._n_merge
                if pause and ends[k] == known0:
                    return  # still again for a moment: a stance, or a pause in the swing?
                b0 = int(starts[k]) - off
                closing = self._may_close(a_end, b0)
                rest = ends[k] - starts[k] >= self._n_rest
                if closing and not rest and ends[k] == known0:
                    return  # a closing step if the foot rests now
                q = self._stride(a_end, b0, may_merge=pause, merged=merged,
                                 closing=closing and rest)
                merged, k = True, k + 1
            self._q = q
            self._cut(b0)
            off += b0

    def _may_close(self, a_end: int, b0: int) -> bool:
        """Whether the movement from the buffer's stance (zv[0:a_end]) to zv[b0] has the timing
        of a closing step (see MIN_CLOSE_S): too short for a swing, after a whole stance."""
        if self._contact_t is None or not MIN_CLOSE_S * self.fs <= b0 - a_end + 1 < MIN_SWING_S * self.fs:
            return False
        since = float(self._t[self._h + a_end - 1]) - self._contact_t
        return CLOSE_STANCE_S <= since <= MAX_STANCE_S

    def _stance_q(self, a_end: int) -> np.ndarray:
        """Orientation at the last sample of the stance zv[0:a_end], tilt levelled from its last
        LEVEL_S; a rest (REST_MIN_S or longer) first updates the gyro bias and accelerometer
        scale."""
        a_level = self._rest(a_end)
        h = self._h
        q = zupt.propagate(self._q, self._gyr[h:h + a_end] - self._bias, self.fs)[-1]
        return zupt.level(q, a_level)

    def _rest(self, a_end: int) -> np.ndarray:
        """What the stance zv[0:a_end] shows at rest: a rest (REST_MIN_S or longer) updates the
        gyro bias and the accelerometer scale; the first stance sets the first orientation.
        Returns the mean accelerometer (3,) m/s^2 over its last LEVEL_S (the tilt's reference).
        Calling it again for the same stance changes nothing."""
        h = self._h
        i0, i1 = h, h + a_end
        acc = self._acc[i0:i1]
        if a_end / self.fs >= REST_MIN_S and self._valid[i0:i1].all():
            g_rest = float(np.linalg.norm(acc, axis=1).mean())
            scale = G_M_S2 / g_rest
            if abs(scale - 1.0) <= MAX_SCALE_ERROR:
                self._scale = scale
            self._bias = self._gyr[i0:i1].mean(axis=0)
        n_level = max(1, min(a_end, int(round(LEVEL_S * self.fs))))
        a_level = acc[-n_level:].mean(axis=0)
        if self._q is None:
            self._q = zupt.initial_orientation(a_level)
            self._path.append(self._pos.copy())
            self._path_t.append(float(self._t[i0]))
        return a_level

    def _fold(self, n: int) -> None:
        """A long stance: its first n samples go into the orientation and the rest statistics
        and are dropped; the stance goes on from there (always in the same chunks, so live and
        batch fold alike)."""
        self._q = self._stance_q(n)
        self._cut(n)

    def _lost(self, a_end: int, known: int) -> None:
        """The foot moved for longer than any stride from zv[a_end]: the orientation is carried
        through on the gyro; no stride; wait for the next stance."""
        self._q = self._stance_q(a_end)
        self._drop_from(a_end - 1, known)
        self._q_land, self._contact_t = None, None
        self._in_stance = False

    def _drop_from(self, i: int, j: int) -> None:
        """self._q is the orientation at zv[i]: carry it to zv[j] and drop the first j."""
        h = self._h
        self._q = zupt.propagate(self._q, self._gyr[h + i:h + j + 1] - self._bias, self.fs)[-1]
        self._cut(j)

    def _stride(self, a_end: int, b0: int, *, may_merge: bool = False,
                merged: bool = False, closing: bool = False) -> np.ndarray | None:
        """The swing from the buffer's stance (zv[0:a_end]) to the next stance (from zv[b0]);
        returns the orientation at zv[b0] (where the swing ends). may_merge: that next stance is
        only a pause (shorter than MERGE_STANCE_S); if the movement so far is no stride, None
        (nothing changed) and the caller carries the swing on to the stance after the pause;
        merged: the swing already goes on past such a pause (then it is a stride only within
        MAX_HOVER_S); closing: the movement has a closing step's timing and the foot rests
        after it (:meth:`_may_close`): a stride if it moves the foot MIN_CLOSE_M with a landing."""
        h = self._h
        a_level = self._rest(a_end)
        i0, i1 = h + a_end - 1, h + b0  # last still sample before, first still sample after
        # integrated from a little inside each stance: the foot starts and stops moving slowly
        # enough for its first and last few samples to pass as still
        j0 = max(h, i0 - self._n_ext)
        j1 = i1 + self._n_min_stance - 1
        # one pass of the gyro from the stance's first sample to the end of the integration:
        # rel[k] turns the orientation at sample h into the one at sample h + k
        rel = zupt.propagate(np.array([1.0, 0.0, 0.0, 0.0]), self._gyr[h:j1 + 1] - self._bias,
                             self.fs)
        q0 = zupt.level(zupt.qmul(self._q, rel[i0 - h]), a_level)  # at the stance's end
        if self._q_land is None:
            self._q_land = q0
        q_all = zupt.qmul(zupt.qmul(q0, zupt.qconj(rel[i0 - h])), rel[j0 - h:])
        q = q_all[i0 - j0:i1 - j0 + 1]  # the swing: last still sample to first still again
        _, p = zupt.integrate_swing(q_all, self._acc[j0:j1 + 1] * self._scale, self.fs)
        a_norm = np.linalg.norm(self._acc[i0:i1 + 1], axis=1)
        k_off, k_on = self._off_on(a_norm)
        t_off, t_on = float(self._t[i0 + k_off]), float(self._t[i0 + k_on])
        swing_s = t_on - t_off
        length = float(math.hypot(p[-1, 0], p[-1, 1]))
        swing_turn = math.degrees(zupt.yaw_rad(q0, q[-1]))
        landed = float(np.abs(a_norm - G_M_S2).max()) >= MIN_STEP_IMPACT_M_S2
        log.debug("swing %.2f-%.2f s: %.2f m, %.0f deg", t_off, t_on, length, swing_turn)
        if not self._valid[i0:i1 + 1].all() or swing_s > MAX_SWING_S:
            # not a swing the ZUPT can follow (a gap, a movement that never settles)
            self._q_land, self._contact_t = None, None
        elif closing and length >= MIN_CLOSE_M and landed:
            self._add_stride(t_off, t_on, length, swing_s, q[-1], p[-1])
        elif (i1 - i0) / self.fs < MIN_SWING_S or ((i1 - i0) / self.fs > MAX_HOVER_S
                                              and abs(swing_turn) < MIN_TURN_STEP_DEG
                                              and (length < 2 * MIN_STRIDE_M
                                                   or self._peak_gyr(i0, i1) < HELD_GYR_RAD_S)) or (
                length < MIN_STRIDE_M and (abs(swing_turn) < MIN_TURN_STEP_DEG or not landed)):
            # the foot settled again without going anywhere (a raise, a shift, a pivot on the
            # heel), or has only paused in the air
            if may_merge and (i1 - i0) / self.fs < MIN_SWING_S:
                return None  # paused before it could have been a swing: it goes on
            self._pos = self._pos + p[-1]
        elif not self._split(i0, i1, j0, q_all, a_norm):
            self._add_stride(t_off, t_on, length, swing_s, q[-1], p[-1])
        return q[-1]

    def _off_on(self, a_norm: np.ndarray) -> tuple[int, int]:
        """Foot off and foot down (sample offsets) of a movement from its last still sample to
        its first still sample again, from its accelerometer magnitude a_norm (m,) m/s^2: the
        push-off's acceleration peak after the still phase and the landing's impact peak before
        the next one."""
        m = a_norm.shape[0] - 1
        k_off = int(np.argmax(a_norm[:max(1, min(self._n_push, m))]))
        lo = max(k_off + 1, m - self._n_impact)
        k_on = lo + int(np.argmax(a_norm[lo:])) if lo < m else m
        return k_off, k_on

    def _split(self, i0: int, i1: int, j0: int, q_all: np.ndarray, a_norm: np.ndarray) -> bool:
        """Two strides with a stance that never went still between them (see ROLL_S) in the
        movement from buffer sample i0 (last still sample) to i1 (first still again): adds both
        and returns True; False (nothing added) when the movement is one stride. q_all: the
        orientations from buffer sample j0 (<= i0) to past i1; a_norm: |acc| (m/s^2) over
        i0..i1."""
        if i1 - i0 < 2 * self._n_roll + 2 * int(MIN_SWING_S * self.fs):
            return False
        w = self._gyr[i0:i1 + 1] - self._bias
        g = np.sqrt(np.einsum("ij,ij->i", w, w))
        low = (g < ROLL_GYR_RAD_S) & (np.abs(a_norm * self._scale - G_M_S2) < ROLL_ACC_M_S2)
        for x, y in zip(*ev.runs(low), strict=True):
            if y - x < self._n_roll or x == 0 or y >= g.shape[0]:
                continue
            if g[:x].max() < ROLL_SWING_RAD_S or g[y:].max() < ROLL_SWING_RAD_S:
                continue
            k = i0 + x + int(np.argmin(g[x:y]))  # the foot on the floor, turning slowest
            acc = self._acc[j0:i1 + 1] * self._scale
            _, p1 = zupt.integrate_swing(q_all[:k - j0 + 1], acc[:k - j0 + 1], self.fs)
            _, p2 = zupt.integrate_swing(q_all[k - j0:i1 - j0 + 1], acc[k - j0:], self.fs)
            l1, l2 = float(math.hypot(*p1[-1, :2])), float(math.hypot(*p2[-1, :2]))
            if min(l1, l2) < 2 * MIN_STRIDE_M:
                continue
            log.debug("rolling stance at %.2f s: two strides of %.2f and %.2f m",
                      float(self._t[k]), l1, l2)
            # foot down and foot off are looked for as at a still stance, which here is the
            # slow run x..y (its push-off comes ~0.35 s after the slowest sample)
            for a, b, dp, q_end in ((i0, i0 + x, p1[-1], q_all[k - j0]),
                                    (i0 + y - 1, i1, p2[-1], q_all[i1 - j0])):
                k_off, k_on = self._off_on(a_norm[a - i0:b - i0 + 1])
                t_off, t_on = float(self._t[a + k_off]), float(self._t[a + k_on])
                self._add_stride(t_off, t_on, float(math.hypot(dp[0], dp[1])), t_on - t_off,
                                 q_end, dp)
            return True
        return False

    def _peak_gyr(self, i0: int, i1: int) -> float:
        """The fastest the foot turns (rad/s, bias removed) over buffer samples i0..i1."""
        w = self._gyr[i0:i1 + 1] - self._bias
        return float(np.sqrt(np.einsum("ij,ij->i", w, w).max()))

    def _add_stride(self, t_off: float, t_on: float, length: float, swing_s: float,
                    q_land: np.ndarray, dp: np.ndarray) -> None:
        """A stride from foot off t_off to foot down t_on (s), landing in orientation q_land (4,)
        moved by dp (3,) m."""
        if self._contact_t is not None and t_off - self._contact_t <= MAX_STANCE_S:
            stance_s = t_off - self._contact_t
            time_s = t_on - self._contact_t
        else:
            stance_s = time_s = math.nan
        turn = math.degrees(zupt.yaw_rad(self._q_land, q_land))
        self._pos = self._pos + dp
        self._path.append(self._pos.copy())
        self._path_t.append(t_on)
        self._q_land = q_land
        self._contact_t = t_on
        self.strides_.append(Stride(t_start=t_off, t_end=t_on, time_s=time_s, length_m=length,
                                    stance_s=stance_s, swing_s=swing_s, turn_deg=turn))


def analyze_walk(t_s, acc_m_s2, gyr_rad_s, *, fs: float | None = None) -> WalkResult:
    """Strides, bouts and path of a foot recording (batch: one :class:`WalkAnalyzer`).

    t_s (n,) s; acc_m_s2 (n, 3) m/s^2 specific force and gyr_rad_s (n, 3) rad/s, sensor frame;
    fs: the rate in Hz (default: from the timestamps)."""
    t = np.asarray(t_s, dtype=float)
    an = WalkAnalyzer(fs if fs is not None else estimate_fs(t))
    an.push(t, acc_m_s2, gyr_rad_s)
    return an.finish()
