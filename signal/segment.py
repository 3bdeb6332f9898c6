"""Stage 4 of the rep analysis: segmentation. Rests and the excursions away from them.

Per sample it takes the orientation stage's up-direction and flags, the placement stage's view
of the segment and the posture stage's posture, and follows a small state machine:

- no rest yet: wait until the segment is held for ``rest_settle_s``; that is the rest;
- at rest (idle): an *excursion* starts when the angle from rest passes ``arm_deg`` after the
  person dwelt near rest (``dwell_s``); moving off rest without that pause (walking, the swing
  of a stride) blocks instead;
- blocked: wait to be back near rest and steady, or held somewhere new long enough
  (``new_rest_s``) to call it the new rest;
- away (an excursion): it becomes a rep candidate at ``min_amplitude_deg`` (within a set,
  ``min_amplitude_in_set_deg``: :data:`IN_SET_S`) and is finished when
  it comes back near the same rest; the rules (:mod:`~movecoach.signal.rules`) are asked while it
  is away, on its return and while the segmenter watches a little past the return; a finished
  candidate is measured (:mod:`~movecoach.signal.measure`).

Two rests at once: while an excursion is held somewhere (a hold at the bottom of a wall slide, or
standing after getting up from a chair) that place becomes a *candidate* rest. A return to the
old rest finishes the excursion as a rep (it was a hold); a rep made from and back to the
candidate (the first slide after standing up) makes the candidate the rest. Held too long away
(``max_settle_s``), too far for a rep, or in another posture, it is the new rest.

Lost packets: nothing is counted across a long gap (the orientation stage bridges short ones);
a rep already back near rest when a long gap begins is counted; a person at rest on both sides
of a long gap is taken to have stayed at rest.

Batch and live run exactly this code on exactly the same samples, so they report the same reps
whatever the block sizes.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import deque
from collections.abc import Callable

import numpy as np

from movecoach.signal.exercises import Exercise, RepRules
from movecoach.signal.measure import measure_rep
from movecoach.signal.orientation import GAP_DOUBT_S, GAP_SETTLE_S, OrientationBlock, Vec
from movecoach.signal.pivot import off_up_deg
from movecoach.signal.placement import Placement, PlacementView
from movecoach.signal.posture import SEATED, STANDING, UNKNOWN, WALKING
from movecoach.signal.rules import (
    AFTER_RETURN,
    ON_RETURN,
    WHILE_AWAY,
    first_reason,
    moving_through_the_air,
)
from movecoach.signal.types import Rep, RepEvent

log = logging.getLogger(__name__)

# A reversal of the angle's direction by more than this counts as a swing (RepRules.max_swings).
SWING_DEG = 10.0
# The accelerometer's angle from up (RepRules.max_accel_off_deg) counts only where it stays that
# far off for OFF_SUSTAIN_S: a quick raise's heel coming down pivots the sensor round the toes
# hard enough to swing it 14-19 deg off for one or two detector samples (hard seeds 4032, 4238,
# noise-free motion too), while a walking foot accelerates through the air for its whole swing.
OFF_SUSTAIN_S = 0.12


def sustain_n(fs: float) -> int:
    """Samples in OFF_SUSTAIN_S on a grid of fs Hz (at least one)."""
    return max(1, int(round(OFF_SUSTAIN_S * fs)))


# Exercises whose reps pivot on the floor (RepRules.pivot_free_off_deg) keep this much of the
# orientation stage's output, to fit the pivot over an excursion's samples so far: longer than a
# raise is held before it is a new rest (heel-toe max_settle_s, 8 s), with its rise and lead-in.
PIVOT_HISTORY_S = 10.0
# After a gap bridged on the gyro, a measured sample whose accelerometer points within this of
# the estimated up confirms the estimate: its angle is seen, not guessed (rules.SEEN_PEAK_FRAC).
# A quick raise whose top falls in a 0.3-0.5 s gap comes back down within the 0.6 s of doubt
# after it, read 0.9-2.5 deg off the accelerometer (hard seeds 4067, 4094, 4116: raises of 14-18
# deg seen at 5.5-6.9 only before the gap); a swing the gap hid leaves the estimate off the
# accelerometer until it is corrected, and then reads the foot's real angle.
CONFIRMED_OFF_DEG = 3.0
# ... but not where a sample since the gap read the accelerometer this far from the estimate: a
# walking step hidden by a gap reads 48-79 deg off after it (hard seeds 4032, 4550, 4717), and
# 2 deg for a moment mid-swing. A raise the gap hid reads as far off as the part of it the gap
# hid, while the estimate catches up: 13-31 deg on 22 of the 23 raises so confirmed in hard
# 4550-4749 (42 once). (The limit was RepRules.max_accel_off_deg, 14 deg, the foot's own
# acceleration outside gaps: the first toe raise after a walk, its rise in a gap, read 18.6 deg
# off and was dropped as guessed, hard 4816; so were raises in 4715, 4733.)
FLEW_AFTER_GAP_DEG = 35.0


def confirmed_by_accelerometer(off_deg: float, off_since_gap_deg: float) -> bool:
    """After a gap bridged on the gyro, the accelerometer confirms the estimated up: it reads
    within CONFIRMED_OFF_DEG of it now (off_deg) and never read a foot flying through the air
    since the gap (off_since_gap_deg, FLEW_AFTER_GAP_DEG)."""
    return off_deg <= CONFIRMED_OFF_DEG and off_since_gap_deg <= FLEW_AFTER_GAP_DEG


# A person counts as quiet (a rep may start) after QUIET_S held or still ...
QUIET_S = 0.15
# ... and a candidate rest's excursion starts at most QUIET_LEAD_S after that.
QUIET_LEAD_S = 1.5
# The window a rep is measured over starts this long before it left rest (its lead-in).
LEAD_IN_S = 1.5
# March: a lift starts at most this long after the thigh was last held (a seated thigh rests on
# the seat before a lift; a walking thigh never stops).
LIFT_LEAD_S = 1.0
# Where the posture stage cannot tell seated from standing (a thigh sensor on the side, before
# any clue), a lift's return is watched this long (instead of after_max_s) before it counts: a
# seated thigh lies on the seat or rises again the same way (the next lift), the first stride of
# a walk from standing goes on through rest into hip extension during its stance, 0.3-0.6 s after
# the foot lands (simulated hard sets 4200-4299: 7 of march's 9 misses were such a stride). The
# count is said that much later in that case only. (Not longer: a slow walker's first stride
# rose again 0.76 s after its return, hard 7659, counted as a lift; but watched 0.9 s, quick
# rhythmic seated lifts, 0.5 s on the seat between them, were taken for strides: hard march
# 7350-7549 lost 7358 and 7547.)
AFTER_UNKNOWN_S = 0.6
# Held this close to the rest (but beyond arm_deg) for rest_settle_s after a movement, the person
# has settled back a little differently (a seated thigh shifted on the seat): that is the rest
# now. (Not for a foot, RepRules.resettle: on a floor it lands where it was; held 5-12 deg off, it
# is in a raise.) Where it was held, not where it is as the hold ends: a lift whose rise a long
# gap hid, held at 17.5 deg after it, passed 11.5 deg on its way down still within its hold, and
# the lift's top became the rest; every later lift read as turning the thigh the way standing up
# does, and was dropped (hard march 7501: 3 of 10 counted).
RESETTLE_DEG = 12.0
# After the return, rising again by this much (and past arm_deg) is the next movement: a stride
# goes straight on at ~70 deg/s; a thigh that settles a little off its rest, or wobbles, creeps by
# a degree or two.
RISE_AGAIN_DEG = 3.0
# The live hold countdown starts once the rep has stopped going further (its peak has not grown
# by PEAK_GROWTH_DEG for this long): before that the hold so far is re-measured against a peak
# still growing. What it counts is the recorded hold's definition all along (measure.held_s).
HOLD_TICK_AFTER_S = 0.2
# An excursion held somewhere is a candidate rest only once it has stopped growing: its peak has
# not grown by PEAK_GROWTH_DEG for rest_settle_s. (A slow slide, 60 deg over 13 s, creeps at
# 3-6 deg/s and can look held for a second; tremor and wobble where it is held creep the peak by
# up to 1.6 deg over 2 s: at 1 deg, standing after getting up from a seated start never became a
# candidate, the first slide's bottom did, and every slide after it was measured from there,
# hard wall-slide 5889.)
PEAK_GROWTH_DEG = 3.0
# A change of rest this large is sitting down or standing up.
LARGE_CHANGE_DEG = 40.0
# The rest follows slow drift (a strap settling, small weight shifts) with this time constant
# while the person is held at rest.
REST_DRIFT_TAU_S = 20.0
# A rest left for one the exercise accepts (sitting down before a march) and then left again
# within BOUNCE_S back to within BOUNCE_DEG of where the person was is a deep knee bend in the
# wrong posture, not a change of posture: from a thigh sensor a held bend with the thigh 60-70
# deg from vertical looks just like sitting (a simulated wall slide held 0.5-2 s did); sitting
# down to march is followed by marching, not by standing straight back up.
BOUNCE_S = 8.0
BOUNCE_DEG = 15.0
# Within a set a rep counts from RepRules.min_amplitude_in_set_deg: an excursion that starts
# within IN_SET_S of the last counted rep's end, with nothing dropped since (an excursion the
# rules drop, a step, a stride or a turning step, ends the set). The first rep of a set, and anything after a pause, a walk or a step, still
# needs min_amplitude_deg, so a walking foot that never did a raise is held to the full size.
# (Longer than the 0.5-2.5 s people stand still between raises in either simulator.)
IN_SET_S = 4.0
# ... but not for a peak read while the estimate was in a gap's doubt (Excursion.peak_doubt): the
# estimate there can be a few degrees out, and a 0.3-0.4 s gap in a raise's descent left it
# rising 8.5-8.7 deg again as it settled (hard heel-toe 5042, 5086, 5344: an extra raise each);
# such a peak needs min_amplitude_deg. Only after a gap of DOUBT_GAP_S or more: bridged on the
# gyro for 0.1 s the estimate is a fraction of a degree out, and an 11.6 deg toe raise whose top
# came in that gap's doubt read 9.0 deg (hard 4692, lost while every gap's doubt counted).
DOUBT_GAP_S = 0.2
# Postures each rest posture accepts reps from: where the posture stage cannot tell (sensor on
# the side of the thigh), the person is taken to be doing what the coach asked.
ACCEPTS = {"seated": (SEATED, UNKNOWN), "standing": (STANDING, UNKNOWN), None: None}

# Walking is standing: an excursion from a rest in a posture reps do not start from (seated,
# for wall slides) that was held at least STOOD_HELD_S LARGE_CHANGE_DEG or more from it, and
# then walks, stood up there first: that place is the rest. (Hard wall-slide 4783: seated, it
# stood up for 1.9 s, seen as two holds of 0.92 s (the first began on the stand-up's last
# degrees), 0.3-1.7 deg from where it stood later, walked, stood 0.6 s and slid: the slide's
# bottom, the first hold after the walk, became the rest and the slide was lost. While a thigh
# swings in a walk it is held at most 0.44 s at a time: 38 walks, hard wall-slide 4700-4808.)
STOOD_HELD_S = 0.5

# A rep held through a long gap in the data (a wall slide's 10-15 s hold, a heel raise held on
# the toes) goes on after it when, once the estimate has settled after it (GAP_SETTLE_S), the
# person is still away from rest by at least RESUME_FRAC of the peak seen before the gap (and the
# rep's minimum): the gap, and the estimate's doubt after it, count towards its hold. Otherwise
# it is dropped, as before: the return, or the next movement, may be in the gap. (Hard
# wall-slide 6253: a 0.6 s gap in the first slide's 70 deg hold dropped it, the
# slide's bottom became the rest and none of the 5 slides counted; hard heel-toe 6322: a toe
# raise held 1.1 s with a 0.72 s gap in its hold.)
RESUME_FRAC = 0.5
# ... If by then it has come back toward rest by more than (1 - RESUME_FRAC) of its peak, the
# gyro must have turned the limb by RESUME_TURNED_FRAC of that since: otherwise that was the
# estimate settling onto a limb already back at rest, the return hidden in the gap (hard heel-toe
# 6535: a step in a 1.3 s gap in a walk read 20 deg away 0.2 s after it, then back to 5 deg with
# the gyro at 0-2 deg/s; went on, the next step made it a heel raise).
RESUME_TURNED_FRAC = 0.5
# ... A rep on its way back when a long gap begins, past RESUME_FRAC of its peak toward rest, counts
# if, once the estimate has settled after the gap (GAP_SETTLE_S, until GAP_DOUBT_S), the estimate
# or the accelerometer reads the limb back near rest (RepRules.end_deg); it is measured on what
# came before the gap. Paused as if held instead, the excursion from the candidate rest (the
# slide's bottom, held 4 s) went on as the rep, as if the person had stood up from there: hard
# wall-slide 7035, a 0.54 s gap at 12 deg of a 43 deg slide's return made standing a 43 deg
# "slide" from that bottom, the next slide's 57 deg read 15.

# Across a gap, and while it converges after it (GAP_DOUBT_S), the estimate can overshoot a rep
# under tremor by up to twice its size: bridged on the gyro it follows a line between two shaken
# readings, bridged on the accelerometer the pre-filter rings on the line drawn across the gap.
# Hard heel-toe 6984: an 11.2 deg toe raise read 24.8 deg in a 0.38 s gap, 11.5 once the estimate
# had converged, held there 1 s, and was dropped as only seen across a gap; 7116: a 27.5 deg heel
# raise read 51.8, dropped as too large, held at 30 after it; wall-slide 7105: a 0.4 s gap in a 45
# deg slide's hold read 60 deg, and the hold at 41 after it, short of 0.8 of that, was too brief.
# Held once the doubt is over (still or steady for GUESS_HELD_S) below the hold's share of the
# peak read in doubt (RepRules.hold_frac: where it would not be holding that peak), with the
# accelerometer within GUESS_OFF_DEG of the estimate, a rep is where it is held, if that is a
# rep's size: the angles read in doubt beyond that were the gap's error (Excursion.forget_guess).
# (Held smaller, it is on its way back: a quick toe raise on a wobbling foot read 9 deg after a
# gap, "held" at 5.7 as it came down, tests/test_signal_reps.) Not while still in doubt:
# the estimate can read a raise low as it converges (hard 4094, 4692: toe raises of 11-15 deg
# held at 6-10 deg 0.3-0.5 s after the gap, lost). Not within the hold's share: a slide held 5
# deg high after a short gap was on its way back up by then (hard 7035). Not for a foot that
# flew since the gap (FLEW_AFTER_GAP_DEG: a step the gap hid; a thigh's pre-filtered
# accelerometer reads 64 deg off just after a gap, as it forgets the line drawn across it). With
# 0.37 s lost over the rise of every raise under a 1.6 deg, 5.4 Hz tremor (8 seeds x 8 raises at
# speed 1 and 1.6, the gap 0.05-0.25 s into the raise: 384 raises) amplitudes read up to 18.5
# deg high (76 of them more than 5) and holds up to 2.3 s short; now at most 4.6 deg (none more
# than 5) and 1.9 s (0.8 s but for one; tests/test_signal_reps).
GUESS_HELD_S = 0.2
GUESS_OFF_DEG = 6.0  # (that slide's estimate was 4-6 deg off the accelerometer 1 s after the gap)
# A raise back at rest that was partly in a gap's doubt (where the accelerometer's angle from the
# estimate is not trusted: Excursion.gap_during) is counted STEP_WATCH_S later, unless an
# excursion of the other kind begun since has been seen moving through the air
# (rules.moving_through_the_air): a walking step reads as a heel raise going over into a toe
# raise as the foot swings toes-up (at most a sample near rest between them), and its swing is
# seen for what it is within 0.16 s (hard heel-toe 7017, 7140: a walk's first step right after a
# long gap, counted as a heel raise; a test). Its count, and the events after it, are held back
# until then (exercises whose reps pivot on the floor). Other raises are counted as they end
# (benchmarks/mqtt_latency.py: median 150 ms at most).
STEP_WATCH_S = 0.3

# UNSEEN_START: a rep whose start a long gap hid, the person at rest as it began, goes on once
# the person is held a rep's size from rest after it, for RepRules.rest_settle_s (exercises whose
# reps are held long: RepRules.unseen_start_held). The slide's bottom, held 9-12 s, became the
# rest instead (the rest not yet proven by a rep), and every later slide was read from it upside
# down: hard wall-slide 7224, 7241 (a 0.6 s gap 0.3 s into the first slide, or as it began:
# standing read as a 51-53 deg slide, the next slide as 11-12 deg; depth RMS on 7150-7349 3.6
# deg, over the 2 deg target). Within UNSEEN_START_MAX_S of the gap: the slowest simulated slides
# go down in 13 s.
UNSEEN_START_MAX_S = 20.0

_IDLE, _AWAY, _BLOCKED, _NOREST = 0, 1, 2, 3


class Rest:
    """A rest up-direction g (sensor frame) and, for signed exercises, the foot frame its
    signed angle is measured in (from the placement stage's view of the strap)."""

    __slots__ = ("_frame", "_rows", "_version", "g", "signed")

    def __init__(self, g: Vec, signed: bool):
        self.g = g
        self.signed = signed
        self._frame: np.ndarray | None = None
        self._rows: list = []  # the frame's x and z rows as floats (signed_deg, per sample)
        self._version = -1

    def frame(self, view: PlacementView) -> np.ndarray | None:
        if not self.signed:
            return None
        if self._version != view.version:
            self._frame = view.foot_frame(np.array(self.g))
            self._rows = self._frame[[0, 2]].tolist()
            self._version = view.version
        return self._frame

    def angle_deg(self, g: Vec) -> float:
        r = self.g
        c = g[0] * r[0] + g[1] * r[1] + g[2] * r[2]
        return math.degrees(math.acos(1.0 if c > 1.0 else -1.0 if c < -1.0 else c))

    def signed_deg(self, g: Vec, view: PlacementView) -> float:
        """Pitch about the foot's axis from this rest (deg, toes down +)."""
        if self._version != view.version:
            self.frame(view)
        (x0, x1, x2), (z0, z1, z2) = self._rows
        return math.degrees(math.atan2(-(x0 * g[0] + x1 * g[1] + x2 * g[2]),
                                       z0 * g[0] + z1 * g[1] + z2 * g[2]))

    def angles(self, up: np.ndarray, view: PlacementView) -> tuple[np.ndarray, np.ndarray | None]:
        """Angle (n,) and signed angle (n,) or None of up-directions up (n, 3), deg."""
        ang = np.degrees(np.arccos(np.clip(up @ np.asarray(self.g), -1.0, 1.0)))
        frame = self.frame(view)
        if frame is None:
            return ang, None
        b = up @ frame.T
        return ang, np.degrees(np.arctan2(-b[:, 0], b[:, 2]))


class Excursion:
    """One departure from a rest, followed sample by sample: what the rules look at.

    peak_deg: largest angle so far; away_s: time above arm_deg; swings: reversals by more than
    SWING_DEG; reversal_deg: how far past rest to the other side of the peak it went (after the
    return); seen_peak_deg: largest angle outside gaps bridged on the gyro; acc_peak_deg: the
    accelerometer's own largest angle from rest once its filter has settled after a gap
    (GAP_SETTLE_S; RepRules.seen_after_gap only); max_accel_off_deg: the accelerometer's largest angle from up (outside gap doubt);
    free_off_deg: the same with a turn about a pivot on the floor taken out, where
    max_accel_off_deg was passed (RepRules.pivot_free_off_deg); k0: the grid index of its first
    sample away; turn_deg / tilt_deg: the gyro's turning about / across vertical while away,
    max_tilt_dps the fastest of the latter; after_step_s: how long after the end of the last
    excursion dropped as a step (moving_through_the_air) it left rest;
    gap_during: some of it was in a gap's doubt; lost_during: some of it in the gap itself;
    guessing: in doubt after a gap bridged on the gyro (its angle is the gap's guess); walked:
    the posture stage has called it walking since it began; rising: it rose again after the
    return; doubt: the estimate may still settle after a gap; doubted: per sample, whether it
    was read in doubt; spoiled: a rule's reason.
    """

    def __init__(self, rest: Rest, lead: deque, fs: float, r: RepRules, kinds: tuple[str, ...],
                 posture: str, near_n0: int = 0, min_deg: float | None = None, k0: int = 0):
        self.rest = rest
        self.k0 = k0
        # the size at which it is a rep candidate (and, measured, a rep): see IN_SET_S
        self.min_deg = r.min_amplitude_deg if min_deg is None else min_deg
        self._full_deg = r.min_amplitude_deg
        self.near_n0 = near_n0  # samples the person had dwelt near rest before it
        self.fs = fs
        self.t: list[float] = [x[0] for x in lead]
        self.g: list[Vec] = [x[1] for x in lead]
        self.live: list[float] = [0.0] * len(lead)  # the causal angle (for the hold)
        self.doubted: list[bool] = [False] * len(lead)  # read in a gap's doubt (see doubt)
        self.posture = posture  # where it started from
        self.walked = posture == WALKING
        self.peak_deg = 0.0
        self.peak_g: Vec = rest.g
        self.grown_t = -math.inf  # when the peak last grew by PEAK_GROWTH_DEG
        self.started = False  # reached min_deg (a rep candidate)
        self.spoiled = ""
        self.n_away = 0
        self.ending = False
        self.end_n = 0
        self.settle_n = 0  # samples held away from rest (within the orientation stage's held_s)
        self.swings = 0
        self._swing_ext = 0.0
        self._swing_up = True
        self.seen_peak_deg = 0.0
        self.acc_peak_deg = 0.0  # the accelerometer's largest angle from rest, its filter settled
        self.max_accel_off_deg = 0.0  # sustained for OFF_SUSTAIN_S (the lowest in that window)
        self._off_recent: deque = deque(maxlen=sustain_n(fs))
        self.free_off_deg = 0.0
        self.turn_deg = 0.0  # rotation about vertical while away (integrated gyro)
        self.tilt_deg = 0.0  # the gyro's turning across vertical while away (integrated)
        self.max_tilt_dps = 0.0  # ... and its fastest (deg/s)
        self.after_step_s = math.inf  # how long after the last excursion dropped as a step it left rest (s)
        self.gap_during = False  # some of it was in a gap's doubt (the gyro there is a guess)
        self.lost_during = False  # ... and some of it in the gap itself (interpolated samples)
        self.reversal_deg = 0.0
        self.rising = False
        self.low_deg = math.inf  # lowest angle since the return
        self.quiet_after_t = -math.inf  # the last quiet moment since the return ...
        self.quiet_s = 0.0  # ... and the longest (s) it was held or still since
        # it turned the thigh on further the way the last large change of rest did: that change
        # was sitting down (march; see Segmenter._turned_as_entry)
        self.as_sitting = False
        self.past_rest_n = 0  # samples since the return spent past rest, on the far side
        self.stood_up: Vec | None = None  # held_up where last held LARGE_CHANGE_DEG off (STOOD_HELD_S)
        self.doubt = False
        self.guessing = False
        self.peak_doubt = False  # the peak was reached while the estimate converged after a gap
        self.doubt_gap_s = 0.0  # the length of the gap whose doubt the estimate is in (s) ...
        self.peak_gap_s = 0.0  # ... and was in at the peak
        self.prev_deg = 0.0
        self.kind_live = kinds[0]
        self.peak_announced = False
        self.next_tick_s = r.hold_tick_s
        self._hold_frac = r.hold_frac
        self._hold_n = 0  # samples at or beyond hold_frac of the peak so far ...
        self._held: list[float] = []  # ... and their angles (a min-heap)
        self._grown_deg = 0.0

    @property
    def away_s(self) -> float:
        return self.n_away / self.fs

    @property
    def past_rest_s(self) -> float:
        """Time since it first went past rest to the far side (s)."""
        return max(0, self.past_rest_n - 1) / self.fs

    @property
    def counts_from_deg(self) -> float:
        """The size its measured peak needs to count: min_deg, but the full min_amplitude_deg for
        a peak read in the doubt after a gap of DOUBT_GAP_S or more (see IN_SET_S)."""
        if self.peak_doubt and self.peak_gap_s >= DOUBT_GAP_S:
            return max(self.min_deg, self._full_deg)
        return self.min_deg

    @property
    def hold_s(self) -> float:
        """The hold so far: the live definition (see measure.held_s)."""
        return self._hold_n / self.fs

    def add(self, t: float, g: Vec, ang: float) -> None:
        self.t.append(t)
        self.g.append(g)
        self.live.append(ang)
        self.doubted.append(self.doubt)
        if ang > self._grown_deg + PEAK_GROWTH_DEG:
            self._grown_deg, self.grown_t = ang, t
        if ang > self.peak_deg:
            self.peak_deg = ang
            self.peak_g = g
            self.peak_doubt = self.doubt
            self.peak_gap_s = self.doubt_gap_s
            thr = self._hold_frac * ang
            held = self._held
            if thr > 0.0:
                # the threshold only rises: what was below it before stays below, so only the
                # angles counted so far need looking at again (not the whole excursion)
                heapq.heappush(held, ang)
                while held and held[0] < thr:
                    heapq.heappop(held)
            else:
                held[:] = [a for a in self.live if a >= thr]
                heapq.heapify(held)
            self._hold_n = len(held)
        elif ang >= self._hold_frac * self.peak_deg:
            self._hold_n += 1
            heapq.heappush(self._held, ang)

    def add_line(self, times: list[float], g0: Vec, g1: Vec) -> None:
        """Samples away at times (s) on the line from up-direction g0 to g1, both ends left out:
        what is known of the limb across a gap and the estimate's settling after it."""
        n = len(times)
        for i, tt in enumerate(times):
            gi = _unit_lerp(g0, g1, (i + 1) / (n + 1))
            self.add(tt, gi, self.rest.angle_deg(gi))
            self.n_away += 1

    def forget_guess(self, limit_deg: float) -> None:
        """The angles read in a gap's doubt beyond limit_deg (deg), where it has been held
        since the doubt ended, were the gap's error (see GUESS_HELD_S): bring them down to it,
        and the peak and the hold with them. The peak is then one read outside doubt."""
        rest = self.rest.g
        for i, doubted in enumerate(self.doubted):
            if doubted and self.live[i] > limit_deg:
                self.live[i] = limit_deg
                self.g[i] = _toward(rest, self.g[i], limit_deg)
        i = max(range(len(self.live)), key=self.live.__getitem__)
        self.peak_deg, self.peak_g, self.peak_doubt = self.live[i], self.g[i], False
        thr = self._hold_frac * self.peak_deg
        self._held = [a for a in self.live if a >= thr]
        heapq.heapify(self._held)
        self._hold_n = len(self._held)

    def track_off(self, off: float) -> float:
        """Follow the accelerometer's angle from up (deg), sustained (OFF_SUSTAIN_S); returns
        the sustained angle now (0 until OFF_SUSTAIN_S has been seen)."""
        rec = self._off_recent
        rec.append(off)
        if len(rec) < rec.maxlen:
            return 0.0
        now = min(rec)
        if now > self.max_accel_off_deg:
            self.max_accel_off_deg = now
        return now

    def swing(self, ang: float) -> None:
        """Follow the angle's reversals of direction by more than SWING_DEG."""
        if self._swing_up:
            if ang > self._swing_ext:
                self._swing_ext = ang
            elif ang < self._swing_ext - SWING_DEG:
                self.swings += 1
                self._swing_up, self._swing_ext = False, ang
        elif ang < self._swing_ext:
            self._swing_ext = ang
        elif ang > self._swing_ext + SWING_DEG:
            self.swings += 1
            self._swing_up, self._swing_ext = True, ang

    def past_rest_deg(self, g: Vec) -> float:
        """How far g has swung past the rest, opposite to the peak's direction (deg)."""
        r, pk = self.rest.g, self.peak_g
        dx, dy, dz = pk[0] - r[0], pk[1] - r[1], pk[2] - r[2]
        n = math.sqrt(dx * dx + dy * dy + dz * dz) or 1.0
        s = ((g[0] - r[0]) * dx + (g[1] - r[1]) * dy + (g[2] - r[2]) * dz) / n
        return math.degrees(-s)


class History:
    """The last n rows (at least) of a stream of rows of width numbers, by the rows' index in
    the stream: appending a block copies only that block (a live block is a few rows)."""

    def __init__(self, n: int, width: int):
        self._n = max(1, n)
        self._buf = np.zeros((2 * self._n, width))
        self._len = 0
        self.end = 0  # the stream index after the last row

    def push(self, rows: np.ndarray, end: int) -> None:
        """Append rows (m, width), the last of them the stream's row end - 1."""
        m = rows.shape[0]
        if m >= self._n:
            self._buf[:self._n] = rows[-self._n:]
            self._len = self._n
        else:
            if self._len + m > self._buf.shape[0]:
                keep = self._n - m
                self._buf[:keep] = self._buf[self._len - keep:self._len]
                self._len = keep
            self._buf[self._len:self._len + m] = rows
            self._len += m
        self.end = end

    def rows(self, i: int, j: int) -> np.ndarray:
        """Rows i..j-1 of the stream, those still kept (a view)."""
        first = self.end - self._len
        return self._buf[max(0, i - first):max(0, j - first)]


def guessed_only(exc: Excursion, r: RepRules) -> bool:
    """An excursion the accelerometer never showed (RepRules.seen_after_gap: nothing of it seen
    beyond arm_deg outside a gap's guess) that ends while the estimate is still in doubt is the
    guess's error, not a movement, and leaves the person at rest: under tremor a 0.4 s gap
    bridged on the gyro over a toe raise's rise turned the estimate 10 deg the other way while
    the accelerometer read the raise 11-16 deg (hard 4339); blocked as after a step, the raise it
    hid, held 2 s after the gap, was lost. (A step hidden by a gap is still seen for what it is
    on its way back: RepRules.max_accel_off_deg, hard 4032.)"""
    return r.seen_after_gap and exc.seen_peak_deg < r.arm_deg


def _end_deg(r: RepRules, peak_deg: float) -> float:
    """Below this angle (deg) an excursion that reached peak_deg is back (RepRules.end_deg)."""
    return min(max(r.end_deg, r.end_frac * peak_deg), r.end_max_deg)


def _going_out(x: Excursion) -> bool:
    """Excursion x is a rep candidate (past its minimum), not spoiled nor on its way back."""
    return x.started and not x.spoiled and not x.ending


def _coming_back(x: Excursion, steady_s: float) -> bool:
    """Excursion x is a rep candidate on its way back: moving (steady for less than QUIET_S)
    past RESUME_FRAC of its peak toward rest, not yet ending (see RESUME_FRAC). (Held there,
    it may be a new posture's hold: a slide from where the person stood up, hard 6253.)"""
    return (_going_out(x) and x.prev_deg < RESUME_FRAC * x.peak_deg and steady_s < QUIET_S)


def _held_away(x: Excursion | None, rest: Rest | None, g: Vec) -> bool:
    """Excursion x (from rest) was going out before a gap (_going_out), and up-direction g is
    still RESUME_FRAC of its peak away from rest."""
    return (x is not None and rest is not None and _going_out(x)
            and rest.angle_deg(g) >= max(x.min_deg, RESUME_FRAC * x.peak_deg))


def _unit_lerp(a: Vec, b: Vec, w: float) -> Vec:
    """The unit vector a fraction w (0-1) of the way from unit a to unit b (normalised line)."""
    x, y, z = a[0] + w * (b[0] - a[0]), a[1] + w * (b[1] - a[1]), a[2] + w * (b[2] - a[2])
    n = math.sqrt(x * x + y * y + z * z) or 1.0
    return (x / n, y / n, z / n)


def _toward(rest: Vec, g: Vec, deg: float) -> Vec:
    """The unit vector deg degrees from unit rest, on the great circle from rest through g."""
    d = rest[0] * g[0] + rest[1] * g[1] + rest[2] * g[2]
    px, py, pz = g[0] - d * rest[0], g[1] - d * rest[1], g[2] - d * rest[2]
    n = math.sqrt(px * px + py * py + pz * pz)
    if n < 1e-12:
        return rest
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg)) / n
    return (c * rest[0] + s * px, c * rest[1] + s * py, c * rest[2] + s * pz)


def _unit_cross(a: Vec, b: Vec) -> Vec:
    x = a[1] * b[2] - a[2] * b[1]
    y = a[2] * b[0] - a[0] * b[2]
    z = a[0] * b[1] - a[1] * b[0]
    n = math.sqrt(x * x + y * y + z * z) or 1.0
    return (x / n, y / n, z / n)


class Segmenter:
    """The segmentation stage for one exercise (see the module docstring).

    exercise: the registry entry; fs: grid rate in Hz; placement: the placement stage (it says
    how to measure the signed angle). :meth:`push` takes an :class:`OrientationBlock` and the
    posture per sample, returns the :class:`RepEvent` s; ``reps_``, ``counts_``,
    ``angle_deg`` and ``wrong_posture_moves_`` tell what it has found.
    """

    def __init__(self, exercise: Exercise, fs: float, placement: Placement, delay_s: float = 0.0,
                 classify: Callable[..., tuple[str, str]] | None = None):
        self.ex = exercise
        self.r = r = exercise.rules
        self.kinds = exercise.rep_kinds
        self.fs = float(fs)
        self.dt = 1.0 / self.fs
        self.placement = placement
        self._view = placement.view_at(0)  # the placement stage's view in force
        self.classify = classify  # the posture stage's view of a held up-direction
        self.delay_s = delay_s  # group delay of the filters before, taken off reported times
        self.accepts = ACCEPTS[exercise.rest_posture]
        self.reps_: list[Rep] = []
        self.counts_: dict[str, int] = {k: 0 for k in self.kinds}
        self.wrong_posture_moves_ = 0
        self.angle_deg = 0.0
        self._state = _NOREST
        self._rest: Rest | None = None
        self._cand: Rest | None = None
        self._rest_proven = False  # a rep has been counted from the current rest
        self._set_t = -math.inf  # the last counted rep's end, while its set goes on (IN_SET_S)
        self._exc: Excursion | None = None
        self._sec: Excursion | None = None  # the excursion from the candidate rest
        self._entry_axis: Vec | None = None  # how the person got into this rest (sat down)
        self._bounce: tuple[Rest, float] | None = None  # (the rest left, when) see BOUNCE_S
        self._near_n = 0
        self._near_n_before = 0
        self._quiet_t = -math.inf
        self._step_t = -math.inf  # the end of the last excursion dropped as a step (s)
        self._idle_at_gap = False
        # a rep held through a long gap (RESUME_FRAC), with the excursion from the candidate rest
        # and the candidate rest then (None: no such rep) ...
        self._paused: tuple[Excursion, Excursion | None, Rest | None] | None = None
        self._paused_trace: list[tuple[float, Vec]] = []  # ... the samples since its gap began
        self._paused_going_on = False  # ... whether the person was still away after it, how
        self._paused_from_deg = 0.0  # ... far, and how far the gyro has turned the limb since
        self._paused_turned = 0.0
        self._back_after_gap: Excursion | None = None  # a rep on its way back at a long gap
        # samples since a long gap began at rest, while blocked after it, and whether the estimate
        # had settled after it (UNSEEN_START)
        self._unseen_start: list[tuple[float, Vec, bool]] | None = None
        # a rep back at rest, not yet counted (STEP_WATCH_S): (it, when, its angle then), the
        # excursion after it, until when it is watched, and the events since, held back (those
        # of this block from index _held_from)
        self._pending: tuple[Excursion, float, float] | None = None
        self._pending_next: Excursion | None = None
        self._pending_until = -math.inf
        self._held_events: list[RepEvent] = []
        self._held_from = 0
        self._blocked_k = -2  # the last sample seen blocked ...
        self._blocked_low = False  # ... and whether it has come back near rest since
        self._yaw_dps = 0.0  # the current sample's rate about vertical
        self._tilt_dps = 0.0  # ... and across it
        self._acc_up: Vec = (0.0, 0.0, 1.0)  # the current sample's accelerometer direction
        self._lost = False  # the current sample is interpolated across a gap
        self._settling = False  # ... or within GAP_SETTLE_S after one
        self._steady_s = 0.0  # how long the current sample has been still or held (s)
        self._off_since_gap = 0.0  # the accelerometer's largest angle from up since the last gap
        self._gap_s = 0.0  # the last gap's length (s: between the samples received either side)
        self._held_up: Vec = (0.0, 0.0, 1.0)  # the mean up over the current hold
        self._lead: deque = deque(maxlen=int(round(LEAD_IN_S * self.fs)))
        self._lead_c: deque = deque(maxlen=int(round(LEAD_IN_S * self.fs)))
        self._n_settle_rest = int(round(r.rest_settle_s * self.fs))
        self._n_settle_new = int(round(r.max_settle_s * self.fs))
        self._n_new_rest = int(round(r.new_rest_s * self.fs))
        self._n_dwell = int(round(r.dwell_s * self.fs))
        self._n_after_min = int(round(r.after_min_s * self.fs))
        self._n_after_max = max(self._n_after_min, int(round(r.after_max_s * self.fs)))
        self._n_after_unknown = max(self._n_after_max, int(round(AFTER_UNKNOWN_S * self.fs)))
        self._lift_lead_s = LIFT_LEAD_S if not r.chain else math.inf
        self._rest_drift_k = self.dt / REST_DRIFT_TAU_S
        self._k = 0  # the grid index of the current sample
        # (pivoting exercises) the last PIVOT_HISTORY_S of acceleration, rate, up and whether
        # each sample is outside a gap's doubt, by grid index
        self._hist = History(int(round(PIVOT_HISTORY_S * self.fs)), 10)
        self._n_sustain = sustain_n(self.fs)
        self._n_unseen_max = int(round(UNSEEN_START_MAX_S * self.fs))

    def _min_deg(self, t: float) -> float:
        """The size from which an excursion starting at t (s) is a rep (see IN_SET_S)."""
        r = self.r
        if r.min_amplitude_in_set_deg is not None and t - self._set_t <= IN_SET_S:
            return r.min_amplitude_in_set_deg
        return r.min_amplitude_deg

    # -- posture -------------------------------------------------------------------------------
    def _posture_ok(self, posture: str) -> bool:
        acc = self.accepts
        return acc is None or (posture if posture != WALKING else STANDING) in acc

    def _set_rest(self, g: Vec, t: float = math.nan, from_posture: str = UNKNOWN) -> None:
        """The rest is now at unit up-direction g, from time t (s), reached by an excursion
        that started in from_posture (given where that is a change of posture)."""
        old = self._rest
        if old is not None and old.angle_deg(g) >= LARGE_CHANGE_DEG:
            self._entry_axis = _unit_cross(old.g, g)  # how we got here (sat down, stood up)
        back = self._bounce
        if back is not None and t - back[1] <= BOUNCE_S and back[0].angle_deg(g) <= BOUNCE_DEG:
            self.wrong_posture_moves_ += 1
            log.info("back at t=%.2f s where the person was %.1f s ago: a knee bend, not a change "
                     "of posture", t, t - back[1])
        wrong_start = from_posture != UNKNOWN and not self._posture_ok(from_posture)
        self._bounce = (old, t) if old is not None and wrong_start else None
        self._rest = Rest(g, self.r.signed)
        self._cand = None
        self._rest_proven = False
        self._exc = self._sec = None
        self._state = _IDLE
        self._lead.clear()
        self._near_n = self._n_dwell  # the person has been held here: that is dwelling
        log.debug("rest posture set: up=(%.3f, %.3f, %.3f)", *g)

    # -- main loop -----------------------------------------------------------------------------
    def push(self, o: OrientationBlock, posture: list[str], k0: int = 0) -> list[RepEvent]:
        """o: the orientation stage's block; posture per sample; k0 the grid index of its first
        sample (the placement stage's views change at its chunk ends)."""
        events: list[RepEvent] = []
        pl = self.placement
        next_k = k0
        r = self.r
        n_q = QUIET_S
        n_gap_settle = GAP_SETTLE_S
        yaw_dps = np.degrees(np.einsum("ij,ij->i", o.gyr_rad_s, o.up))
        tilt_dps = np.degrees(np.linalg.norm(np.cross(o.gyr_rad_s, o.up), axis=1))  # (up is unit)
        if r.pivot_free_off_deg is not None:
            block = np.column_stack((o.acc_m_s2, o.gyr_rad_s, o.up, o.since_gap_s >= GAP_DOUBT_S))
            self._hist.push(block, k0 + block.shape[0])
        for t, g, still_s, held_s, hg, since_gap, on_gyro, off, ok, pos, yaw, au, tilt, span in zip(
            o.t_s.tolist(), map(tuple, o.up.tolist()), o.still_s.tolist(), o.held_s.tolist(),
            map(tuple, o.held_up.tolist()), o.since_gap_s.tolist(), o.gap_on_gyro.tolist(),
            o.acc_off_deg.tolist(), o.valid.tolist(), posture, yaw_dps.tolist(),
            map(tuple, o.acc_up.tolist()), tilt_dps.tolist(), o.span_s.tolist(), strict=True,
        ):
            self._held_up = hg
            if k0 >= next_k:
                self._view = pl.view_at(k0)
                next_k = (k0 // pl.chunk + 1) * pl.chunk
            self._k = k0
            k0 += 1
            self._yaw_dps = yaw
            self._tilt_dps = tilt
            steady_s = max(still_s, held_s)
            if steady_s >= n_q:
                self._quiet_t = t
            rest = self._rest
            ang = rest.angle_deg(g) if rest is not None else 0.0
            self.angle_deg = ang
            self._near_n = self._near_n + 1 if ang < r.arm_deg else 0
            if not ok:  # inside a long gap: nothing is counted across it; a rep held through
                # it may go on after it (RESUME_FRAC)
                if self._pending is not None:
                    self._settle_pending(t, events, keep=True)
                if self._paused is not None:
                    self._paused_trace.append((t, g))
                elif self._state == _AWAY:
                    done = self._finish_returned()
                    events.extend(done)
                    exc = self._exc
                    if (not done and exc is not None and _coming_back(exc, self._steady_s)
                            and not first_reason(ON_RETURN, exc, r)):
                        self._back_after_gap = exc  # counted if back at rest after the gap
                    elif not done and exc is not None and _going_out(exc):
                        self._paused = (exc, self._sec, self._cand)
                        self._paused_trace, self._paused_going_on = [(t, g)], False
                    elif not done:
                        log.info("excursion dropped: long gap in the data at t=%.2f s", t)
                if self._state != _BLOCKED:
                    # at rest, or away from it on a rep whose return the gap hides: the person was
                    # at rest before it, and is back near it as the data comes back if the next
                    # rep starts straight away (hard heel-toe 5775: two 0.58 s gaps each hid a
                    # raise's return, the next raise began 0.05 s after the gap and was lost)
                    self._idle_at_gap = self._state in (_IDLE, _AWAY)
                    # (a rep that starts in the gap is held after it: UNSEEN_START)
                    unseen = (r.unseen_start_held and self._state in (_IDLE, _AWAY)
                              and self._paused is None and self._back_after_gap is None)
                    self._unseen_start = [] if unseen else None
                self._exc = self._sec = self._cand = None
                if rest is not None:
                    self._state = _BLOCKED
                self._lead.clear()
                self._near_n_before = self._near_n
                if self._unseen_start is not None:
                    self._unseen_start.append((t, g, False))
                continue
            self._acc_up = au  # (measured: in a long gap it stays the last measured one's)
            self._steady_s = steady_s  # (... and so does this)
            if self._pending is not None:
                self._settle_pending(t, events)
            doubt = since_gap < GAP_DOUBT_S
            settling = since_gap < n_gap_settle
            if self._back_after_gap is not None and not settling:
                events.extend(self._count_if_back(self._back_after_gap, g, doubt))
            if self._paused is not None:
                if settling or (self._paused_going_on and doubt and self._state == _BLOCKED):
                    self._paused_trace.append((t, g))
                    self._paused_turned += tilt * self.dt
                elif not self._paused_going_on:
                    self._paused_going_on = self._still_away_after_gap(g)
                    self._paused_trace.append((t, g))
                    self._paused_turned = 0.0
                else:
                    self._resume_after_gap(t, g, held_s)
            self._lost = since_gap <= 0.0
            self._settling = settling  # (the pre-filtered accelerometer still holds the gap's line)
            if since_gap <= 0.0:
                self._off_since_gap = 0.0
                self._gap_s = span
            else:
                self._off_since_gap = max(self._off_since_gap, off)
                if on_gyro and r.seen_after_gap and confirmed_by_accelerometer(off, self._off_since_gap):
                    on_gyro = False  # seen, not guessed (RepRules.seen_after_gap)
            if self._state == _AWAY:
                was_pending = self._pending
                events.extend(self._step_away(t, g, ang, steady_s, held_s, doubt, on_gyro, off, pos))
                if self._pending is not was_pending:
                    self._held_from = len(events)
                if self._state == _AWAY:
                    self._near_n_before = self._near_n
                    continue
                ang = self._rest.angle_deg(g)
                self.angle_deg = ang
            state = self._state
            if state == _IDLE:
                if ang >= r.arm_deg:
                    if (self._near_n_before >= self._n_dwell
                            and t - self._quiet_t <= self._lift_lead_s):
                        self._exc = Excursion(self._rest, self._lead, self.fs, r, self.kinds, pos,
                                              self._near_n_before, self._min_deg(t), self._k)
                        self._exc.after_step_s = t - self._step_t
                        self._state = _AWAY
                        self._lead.clear()
                        events.extend(self._step_away(t, g, ang, steady_s, held_s, doubt,
                                                      on_gyro, off, pos))
                        self._near_n_before = self._near_n
                        continue
                    self._state = _BLOCKED  # moving off rest without a pause: walking etc.
                elif steady_s >= r.rest_settle_s:
                    self._drift_rest(g)
            elif state == _BLOCKED:
                # after a gap, walking or a dropped excursion: wait to be back near rest, or to
                # be held somewhere new for long enough to call it the new rest
                self._note_blocked_movement(t, ang)
                if ang < r.arm_deg and (steady_s >= n_q or self._idle_at_gap):
                    self._state = _IDLE
                    if self._idle_at_gap:  # the still spell a lift starts from may be in the gap,
                        # and the dwell at rest it began in goes on through it, however far off
                        # rest the estimate reads while it converges (hard 4313: 7 deg, 0.1 s)
                        self._quiet_t = t
                        self._near_n = max(self._near_n, self._n_dwell)
                elif settling:
                    pass  # the estimate is still settling after a gap: no new rest from it yet
                elif (self._unseen_start is not None and held_s >= r.rest_settle_s
                      and self._min_deg(t) <= ang <= r.max_amplitude_deg):
                    self._resume_unseen_start(t, g, ang)
                elif held_s >= r.rest_settle_s and ang >= LARGE_CHANGE_DEG and self._into_rest_posture(pos):
                    # held in the posture reps start from, away from a rest in one they do not:
                    # the person has stood up (sat down) for the set, however briefly still
                    # (hard wall-slide 5052: stood up in a gap, turned, stood 2.5 s and slid; the
                    # slide's bottom, held 10 s, became the rest)
                    self._set_rest(self._held_up, t, self._rest_posture(self._rest))
                    self.angle_deg = 0.0
                elif (held_s >= r.new_rest_s and (ang <= r.new_rest_max_deg or not self._rest_trusted())) \
                        or (held_s >= r.rest_settle_s and (ang > r.max_amplitude_deg
                                                           or (r.resettle and self._rest.angle_deg(hg)
                                                               < RESETTLE_DEG))):
                    self._set_rest(self._held_up, t)
                    self.angle_deg = 0.0
            elif state == _NOREST:
                if held_s >= (r.first_rest_s or r.rest_settle_s):
                    self._set_rest(self._held_up, t)
            if not doubt:
                self._idle_at_gap = False  # (only while the estimate converges after the gap)
            if self._state == _BLOCKED:
                # away from rest (walking, the end of a movement after a gap): nothing here may
                # lead into the next rep, whose window would then hold this larger movement
                self._lead.clear()
                if self._unseen_start is not None:
                    self._unseen_start.append((t, g, not settling))
                    if len(self._unseen_start) > self._n_unseen_max:
                        self._unseen_start = None  # (blocked too long for a rep's start)
            else:
                self._lead.append((t, g))
                self._unseen_start = None
            self._near_n_before = self._near_n
        if self._pending is not None:  # (held back until the rep before is decided)
            self._held_events.extend(events[self._held_from:])
            del events[self._held_from:]
        self._held_from = 0
        return events

    def _still_away_after_gap(self, g: Vec) -> bool:
        """Once the estimate has settled after the long gap that paused a rep (GAP_SETTLE_S): is
        the person still away from rest (RESUME_FRAC)? Then the rep goes on, once the estimate
        has converged (GAP_DOUBT_S) or the person is back near rest: with the excursion from
        the rest, or else with the one from the candidate rest, if only that one is still away
        (a slide from where the person stood, after a set begun seated: the rest moves there).
        If not, it is dropped."""
        exc, sec, cand = self._paused  # (exc is from the rest in force: nothing moves it in a gap)
        if _held_away(exc, exc.rest, g):
            self._paused = (exc, sec if _held_away(sec, cand, g) else None, cand)
            self._paused_from_deg = exc.rest.angle_deg(g)
            return True
        if _held_away(sec, cand, g):
            self._paused = (sec, None, None)
            self._paused_from_deg = cand.angle_deg(g)
            return True
        log.info("excursion dropped: long gap in the data at t=%.2f s", self._paused_trace[0][0])
        self._paused, self._paused_trace = None, []
        return False

    def _resume_unseen_start(self, t: float, g: Vec, ang: float) -> None:
        """The person was at rest when a long gap began and is held ang deg (a rep's size) from
        it after the gap, at up-direction g: a rep started in the gap (UNSEEN_START). It goes on
        from the rest, its trace drawn from the rest across the gap and the settling after it
        to the first settled estimate, and on as estimated."""
        trace, self._unseen_start = self._unseen_start + [(t, g, True)], None
        rest = self._rest
        # (it started from the rest's posture, whatever the posture stage makes of the hold: a
        # slide's bottom reads as seated)
        x = Excursion(rest, [], self.fs, self.r, self.kinds, UNKNOWN, self._n_dwell,
                      self._min_deg(t), self._k)
        n = next(i for i, (_, _, settled) in enumerate(trace) if settled)
        x.add_line([tt for tt, _, _ in trace[:n]], rest.g, trace[n][1])
        for tt, gi, _ in trace[n:-1]:
            x.add(tt, gi, rest.angle_deg(gi))
            x.n_away += 1
        x.gap_during = x.lost_during = True
        log.info("rep begun in a long gap in the data (t=%.2f s) is held %.0f deg from rest after "
                 "it: it goes on", trace[0][0], ang)
        self._exc, self._state = x, _AWAY
        self._idle_at_gap = False

    def _count_if_back(self, x: Excursion, g: Vec, doubt: bool) -> list[RepEvent]:
        """Once the estimate has settled after the long gap that came as rep x was on its way
        back (_coming_back): count x if the estimate or the accelerometer reads up-direction g
        back near its rest; drop it if neither has by the end of the estimate's doubt (see
        RESUME_FRAC)."""
        end_deg = _end_deg(self.r, x.peak_deg)
        back = x.rest is self._rest and min(x.rest.angle_deg(g), x.rest.angle_deg(self._acc_up)) < end_deg
        if not back and doubt:
            return []
        self._back_after_gap = None
        if not back:
            log.info("excursion dropped: long gap in the data at t=%.2f s", x.t[-1])
            return []
        log.info("rep on its way back when a long gap began (t=%.2f s) is back at rest after it",
                 x.t[-1])
        return self._finish(x, x.t[-1], x.prev_deg)

    def _resume_after_gap(self, t: float, g: Vec, held_s: float) -> None:
        """Go on with the rep the long gap paused (see _still_away_after_gap), its trace filled
        in across the gap and the estimate's doubt after it; held_s: how long the limb has been
        held where it is (s)."""
        (exc, sec, cand), trace = self._paused, self._paused_trace
        self._paused, self._paused_trace, self._paused_going_on = None, [], False
        back_deg = self._paused_from_deg - exc.rest.angle_deg(g)
        if back_deg > (1.0 - RESUME_FRAC) * exc.peak_deg and self._paused_turned < RESUME_TURNED_FRAC * back_deg:
            # back toward rest by more than the estimate's converging explains: the gyro did
            # not turn the limb there, the estimate settled onto where the limb already was
            log.info("excursion dropped: its return was hidden by a long gap in the data at "
                     "t=%.2f s", trace[0][0])
            return
        if exc.rest is not self._rest:
            log.info("rest moved to where the previous excursion settled (t=%.2f s)", trace[0][0])
            rest = exc.rest
            self._set_rest(rest.g)
            self._rest = rest
        log.info("rep held through a long gap in the data (t=%.2f-%.2f s) goes on", trace[0][0], t)
        for x in (exc, sec):
            if x is None:
                continue
            # the estimate in the gap follows a line between two readings (under tremor, two
            # random phases of it: hard 6206 read 15 deg too deep there) and converges after it:
            # the person moved (or held) between where they were before the gap and are now
            x.add_line([tt for tt, _ in trace], x.g[-1], g)
            # held where it is since the data came back (hard march 7573: a sit-down whose end a
            # 0.76 s gap hid, the seat held 0.6 s after it as the rep resumed and 0.6 s more
            # before the first lift: the seat was never taken for the rest, and 5 lifts were lost)
            x.settle_n = round(held_s * self.fs)
        self._exc, self._sec, self._cand = exc, sec, cand
        self._state = _AWAY
        self._idle_at_gap = False
        self._lead.clear()
        self._lead_c.clear()

    def _note_blocked_movement(self, t: float, ang: float) -> None:
        """Say why a movement the size of a rep that starts while blocked is not counted:
        it began before the person was back at rest and steady (hard heel-toe 5879: the first
        raise 0.3 s after a walk; wall-slide 5912: a slide from a rest taken at the bottom of the
        one before; both went uncounted with nothing in the log)."""
        if self._k != self._blocked_k + 1:
            self._blocked_low = False  # just blocked: the movement under way is the one that was
        self._blocked_k = self._k
        if ang < self.r.arm_deg:
            self._blocked_low = True
        elif self._blocked_low and ang >= self._min_deg(t):
            log.info("movement at t=%.2f s not counted: it began before the person was back at "
                     "rest and steady after walking, a gap or the movement before", t)
            self._blocked_low = False

    def _drift_rest(self, g: Vec) -> None:
        """Follow slow drift of the rest posture while held at rest."""
        rest = self._rest
        b = self._rest_drift_k
        r = rest.g
        x, y, z = r[0] + b * (g[0] - r[0]), r[1] + b * (g[1] - r[1]), r[2] + b * (g[2] - r[2])
        nn = math.sqrt(x * x + y * y + z * z)
        rest.g = (x / nn, y / nn, z / nn)

    def _step_away(self, t: float, g: Vec, ang: float, steady_s: float, held_s: float,
                   doubt: bool, on_gyro: bool, off: float, pos: str) -> list[RepEvent]:
        """Advance the excursion from rest (and the one from the candidate rest, if any)."""
        r = self.r
        exc = self._exc
        out: list[RepEvent] = []
        cand = self._cand
        if cand is not None:
            ang_c = cand.angle_deg(g)
            sec = self._sec
            if sec is None:
                if ang_c >= r.arm_deg and t - self._quiet_t <= QUIET_LEAD_S:
                    sec = self._sec = Excursion(cand, self._lead_c, self.fs, r, self.kinds, pos,
                                                min_deg=self._min_deg(t), k0=self._k)
                else:
                    self._lead_c.append((t, g))
            if sec is not None:
                sec.walked = sec.walked or pos == WALKING
                res = self._advance(sec, t, g, ang_c, doubt, on_gyro, off)
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
                    self._lead_c.clear()
        exc.walked = exc.walked or pos == WALKING
        res = self._advance(exc, t, g, ang, doubt, on_gyro, off, events=out)
        if res in ("rep", "drop") and exc.started and not self._posture_ok(self._start_posture(exc)):
            self.wrong_posture_moves_ += 1
        if exc.ending:
            exc.quiet_s = max(exc.quiet_s, steady_s)
            if steady_s >= QUIET_S:
                exc.quiet_after_t = t
        gap_error = res == "rep" and exc.peak_doubt and self._against_entry(exc)
        if gap_error:
            # its peak was read while the estimate converged after a gap, and turned the thigh
            # the way standing up does: the gap's error (a fast lift's start lost in a gap reads
            # 10-15 deg the wrong way, hard 4340, 4402), not a movement, so the lift it ran into
            # may start from the rest before it
            log.info("excursion at t=%.2f s forgotten: read the wrong way while the estimate "
                     "settled after a gap", t)
            res = "abort"
        if res == "rep":
            if exc.gap_during and self.r.signed and self.r.pivot_free_off_deg is not None:
                self._pending, self._pending_until = (exc, t, ang), t + STEP_WATCH_S
            else:
                out.extend(self._finish(exc, t, ang))
            self._idle_after_rep(exc)
            return out
        if res == "abort":  # it never reached min_amplitude_deg: a wobble at rest, not a movement
            self._exc = self._sec = self._cand = None
            self._state = _IDLE
            self._lead.extend(zip(exc.t, exc.g, strict=True))
            self._near_n = exc.near_n0 + exc.n_away  # (near rest before, and again)
            if gap_error or ang >= r.arm_deg:
                # still away from rest: the movement may start at this very sample. (A blip
                # while the estimate settles after a gap ends back below end_deg, which is up to
                # end_max_deg, above arm_deg: the person dwelt at rest before it and is on the way
                # out, not walking off rest. Hard wall-slide 4773: a 0.28 s gap at a slide's start
                # read 23.5 deg, back to 6.2 deg 0.4 s later; the slide went on from there.)
                self._near_n_before = self._near_n
                left = exc.t[-(exc.n_away + exc.end_n)]  # it left rest then, still from there
                self._quiet_t = max(self._quiet_t, left)
            return out
        if res == "drop":
            # (a step, a stride, a turn: the next rep starts from rest, after a quiet moment,
            # and a new set)
            self._set_t = -math.inf
            self._exc = self._sec = self._cand = None
            self._state = _BLOCKED
            self._lead.clear()
            self._quiet_t = -math.inf  # the next rep must start from a new quiet spell
            self._near_n = 0  # ... after dwelling at rest again
            if moving_through_the_air(exc, r):
                self._step_t = t  # (the_next_step_of_a_walk)
            return out
        if held_s >= STOOD_HELD_S and ang >= LARGE_CHANGE_DEG:
            exc.stood_up = self._held_up
        if pos == WALKING and exc.stood_up is not None and self._posture_ok(WALKING):
            start = self._start_posture(exc)
            if start not in (UNKNOWN, WALKING) and not self._posture_ok(start):
                # walking is standing: it stood up where it was held (STOOD_HELD_S)
                log.info("new rest posture at t=%.2f s (%.0f deg from the old one; stood up, "
                         "then walked)", t, exc.rest.angle_deg(exc.stood_up))
                self._set_rest(exc.stood_up, t, start)
                self.angle_deg = self._rest.angle_deg(g)
                self._state = _BLOCKED  # (walking: the next rep starts from rest, after a pause)
                self._quiet_t = -math.inf
                self._near_n = 0
                return out
        # held somewhere away from rest?
        if self._lost:
            pass  # (a short gap in a hold: the orientation stage says after it whether it went on)
        elif held_s > 0.0 and ang >= r.arm_deg:
            # (the orientation stage's hold may have begun at rest: a slow lift leaves it within
            # HELD_DEG; held 6 s there, it became the new rest 6 deg up, march slow 7967)
            exc.settle_n += 1
            if exc.settle_n > held_s * self.fs + 0.5:
                exc.settle_n = round(held_s * self.fs)
        else:
            exc.settle_n = 0
        if exc.settle_n >= self._n_settle_rest:
            # from a posture reps do not start from into one they do (standing up before wall
            # slides, sitting down before marches); not the other way: a deep slide held at the
            # bottom has the thigh as level as sitting
            start = exc.posture
            if start == UNKNOWN and ang >= LARGE_CHANGE_DEG and pos not in (UNKNOWN, WALKING):
                start = self._start_posture(exc)  # (standing up before the placement was known)
            changed_posture = (ang >= LARGE_CHANGE_DEG and pos not in (start, UNKNOWN, WALKING)
                               and not self._posture_ok(start) and self._posture_ok(pos))
            if (exc.spoiled or ang > r.max_amplitude_deg or exc.settle_n >= self._n_settle_new
                    or changed_posture):
                log.info("new rest posture at t=%.2f s (%.0f deg from the old one; %s)", t, ang,
                         exc.spoiled or ("changed posture" if changed_posture
                                        else "too far or too long for a rep"))
                self._set_rest(self._held_up, t, start if changed_posture else UNKNOWN)
                self.angle_deg = 0.0
                return out
            if r.candidate_rests and self._sec is None and t - exc.grown_t >= r.rest_settle_s and (
                self._cand is None or self._cand.angle_deg(g) >= r.arm_deg
            ):
                self._cand = Rest(self._held_up, r.signed)
                self._sec = None
                self._lead_c.clear()
        return out

    def _advance(self, exc: Excursion, t: float, g: Vec, ang: float, doubt: bool, on_gyro: bool,
                 off: float, *, events: list[RepEvent] | None = None) -> str:
        """One sample of an excursion: returns '' (going on), 'rep' (finished, measure it),
        'drop' (finished, not a rep) or 'abort' (back at rest before it ever reached
        min_amplitude_deg)."""
        r = self.r
        exc.doubt = doubt
        exc.guessing = doubt and on_gyro
        exc.doubt_gap_s = self._gap_s if doubt else 0.0
        if exc.ending:
            exc.add(t, g, ang)
            exc.end_n += 1
            if exc.spoiled:
                return "drop"
            exc.reversal_deg = exc.past_rest_deg(g)
            if exc.reversal_deg > 0.0:
                exc.past_rest_n += 1
            exc.low_deg = min(exc.low_deg, ang)
            if not doubt:
                self._track_off(exc, off)
            exc.rising = ang >= r.arm_deg and ang >= exc.low_deg + RISE_AGAIN_DEG
            why = first_reason(AFTER_RETURN, exc, r)
            if why:
                exc.spoiled = why
                log.info("excursion ending at t=%.2f s not counted: %s", t, why)
                return "drop"
            if exc.rising and (r.chain or exc.reversal_deg <= 0.0):
                return "rep"  # the next movement began (for march: the same way, the next lift)
            if self.classify is not None and exc.posture == UNKNOWN and not r.chain:
                if exc.end_n >= self._n_after_unknown:
                    return "rep"
            elif exc.end_n >= self._n_after_min and (
                    ang < max(1.0, 0.1 * exc.peak_deg) or exc.end_n >= self._n_after_max):
                return "rep"
            exc.prev_deg = ang
            return ""
        exc.add(t, g, ang)
        if not self._settling and r.seen_after_gap:
            exc.acc_peak_deg = max(exc.acc_peak_deg, exc.rest.angle_deg(self._acc_up))
        if (exc.peak_doubt and not doubt and ang >= exc.min_deg
                and ang < r.hold_frac * exc.peak_deg and self._steady_s >= GUESS_HELD_S
                and off <= GUESS_OFF_DEG
                and (not r.seen_after_gap or self._off_since_gap <= FLEW_AFTER_GAP_DEG)):
            log.info("excursion at t=%.2f s: read %.1f deg across a gap, held at %.1f after it: "
                     "the gap's guess was off", t, exc.peak_deg, ang)
            exc.forget_guess(ang)
        exc.n_away += 1
        exc.turn_deg += self._yaw_dps * self.dt
        exc.tilt_deg += self._tilt_dps * self.dt
        if self._tilt_dps > exc.max_tilt_dps:
            exc.max_tilt_dps = self._tilt_dps
        exc.gap_during = exc.gap_during or doubt
        exc.lost_during = exc.lost_during or self._lost
        exc.swing(ang)
        if not doubt:
            self._track_off(exc, off)
        if not exc.spoiled:
            exc.spoiled = first_reason(WHILE_AWAY, exc, r)
        crossed = False
        if r.signed:
            sd = exc.rest.signed_deg(g, self._view)
            if ang >= exc.peak_deg:
                exc.kind_live = self.kinds[0] if sd >= 0 else self.kinds[1]
            # straight from one kind to the other (heel to toes): the first rep is back
            crossed = exc.peak_deg >= exc.min_deg and (
                sd < 0 if exc.kind_live == self.kinds[0] else sd > 0)
        if r.seen_after_gap and (not on_gyro or not doubt) and not crossed:
            # (an angle seen past rest on the other side is the next rep's: a gap's guess that
            # went the wrong way, 10 deg heel-side over a toe raise, is not seen by it, hard 4339)
            exc.seen_peak_deg = max(exc.seen_peak_deg, ang)
        peak = exc.peak_deg
        if events is not None and self._posture_ok(exc.posture):
            self._live_events(exc, t, ang, events)
        elif peak >= exc.min_deg:
            exc.started = True
        exc.prev_deg = ang
        end_deg = _end_deg(r, peak)
        back = crossed or ang < end_deg
        if back and r.seen_after_gap and doubt and on_gyro:
            back = self._accelerometer_agrees_back(exc, end_deg)
        if back:
            if peak < exc.min_deg:
                return "abort"
            if doubt and not exc.spoiled and (exc.away_s < r.min_rep_s or guessed_only(exc, r)):
                # a blip while the estimate settles after a gap, not a movement to hold against
                # the next rep (hard wall-slide 4290: 15 deg for 0.3 s, inside a slide's start)
                return "abort"
            why = exc.spoiled or first_reason(ON_RETURN, exc, r)
            if why:
                log.info("excursion ending at t=%.2f s not counted: %s", t, why)
                return "drop"
            exc.ending = True
            exc.end_n = 0
            exc.as_sitting = self._turned_as_entry(exc) > 0.5
            if self._n_after_min == 0 and ang < max(1.0, 0.1 * peak):
                return "rep"
        return ""

    def _track_off(self, exc: Excursion, off: float) -> None:
        """Follow the accelerometer's angle off up (deg) for the excursion; where it passes
        RepRules.max_accel_off_deg in an exercise that pivots on the floor, fit the pivot to the
        excursion so far and follow what is left (Excursion.free_off_deg)."""
        r = self.r
        if exc.track_off(off) <= r.max_accel_off_deg or r.pivot_free_off_deg is None or exc.spoiled:
            return
        w = self._hist.rows(exc.k0, self._k + 1)
        use = w[:, 9] != 0.0
        free = off_up_deg(w[:, 0:3], w[:, 3:6], w[:, 6:9], self.fs, use)[use][-self._n_sustain:]
        if free.shape[0] == self._n_sustain:
            exc.free_off_deg = max(exc.free_off_deg, float(free.min()))

    def _accelerometer_agrees_back(self, exc: Excursion, end_deg: float) -> bool:
        """An excursion whose angle is guessed across a gap bridged on the gyro (RepRules.
        seen_after_gap, not yet confirmed: CONFIRMED_OFF_DEG) is back only where the
        accelerometer's own direction is back within end_deg (deg) of the rest too, whether the
        guess came back or crossed rest. A 0.4 s gap in a held toe raise swung the estimate
        through rest to the heel side while the accelerometer still read the raise, 16-21 deg
        off it, and the raise counted twice (hard seed 4290); a walking step hidden by a gap
        swung the guess back through rest while the accelerometer read the foot 42 deg off
        (tests/test_signal_reps, seed 6). Waiting for the estimate to be confirmed instead said a
        toe raise 0.34 s after its end (tests/test_signal_streaming, heel-toe seed 4): a 0.17 s
        gap in its descent left the estimate back at rest 0.25 s before the foot, 8 deg off the
        accelerometer; the accelerometer came back within 0.08 s of the truth's end."""
        return exc.rest.angle_deg(self._acc_up) < end_deg

    def _live_events(self, exc: Excursion, t: float, ang: float, events: list[RepEvent]) -> None:
        """rep_start once a rep candidate, hold ticks while held, rep_peak once on the way back."""
        r = self.r
        rk = exc.kind_live
        count = self.counts_.get(rk, 0)
        peak = exc.peak_deg
        if not exc.started and peak >= exc.min_deg and not exc.spoiled:
            exc.started = True
            events.append(RepEvent("rep_start", t, rk, count, ang, 0.0))
        if exc.started and exc.hold_s >= exc.next_tick_s - 1e-9 and t - exc.grown_t >= HOLD_TICK_AFTER_S:
            while exc.next_tick_s <= exc.hold_s + 1e-9:
                exc.next_tick_s += r.hold_tick_s
            events.append(RepEvent("hold_tick", t, rk, count, ang, exc.hold_s))
        if exc.started and not exc.peak_announced and ang < peak - max(2.0, 0.1 * peak):
            exc.peak_announced = True
            events.append(RepEvent("rep_peak", t, rk, count, peak, exc.hold_s))

    def _rest_posture(self, rest: Rest | None) -> str:
        """The posture a rest looks like from its geometry (UNKNOWN where it cannot tell)."""
        if self.classify is None or rest is None:
            return UNKNOWN
        return self.classify(np.array(rest.g), self._view)[0]

    def _rest_trusted(self) -> bool:
        """The rest is where reps start: a rep has been counted from it, or the posture stage
        places it in a posture reps start from (not merely one it cannot tell). Held somewhere
        new for new_rest_s, the person has moved their rest only within new_rest_max_deg of a
        trusted one: a wall slide's bottom, held 9 s after a gap cut the slide's start, is no
        new rest for standing (hard wall-slide 5743: the rest taken there, each later slide
        was read from it upside down, and two of five were lost)."""
        if self._rest_proven:
            return True
        pos = self._rest_posture(self._rest)
        return pos != UNKNOWN and self._posture_ok(pos)

    def _into_rest_posture(self, pos: str) -> bool:
        """The posture stage says pos, one reps start from, and the rest is in one they do not."""
        if pos in (UNKNOWN, WALKING) or not self._posture_ok(pos):
            return False
        was = self._rest_posture(self._rest)
        return was != UNKNOWN and not self._posture_ok(was)

    def _start_posture(self, exc: Excursion) -> str:
        """The posture the excursion started from: as the posture stage had it then, or, if it
        could not tell yet, what the rest looks like now that more is known (the first lift or
        stride teaches the placement stage the thigh's axes)."""
        if exc.posture != UNKNOWN:
            return exc.posture
        return self._rest_posture(exc.rest)

    def _finish(self, exc: Excursion, t: float, ang: float) -> list[RepEvent]:
        posture = self._start_posture(exc)
        if not self._posture_ok(posture) and not (self._rest_proven and exc.rest is self._rest
                                                  and posture != WALKING):
            # (from the rest the last counted rep came from and went back to, the person is in
            # that rep's posture: the posture stage can lag behind, reading a wall slide's level
            # bottom as seated until standing has been held again; hard 5202, 5236: the next
            # slide, 2 s later, not counted. Not once it sees walking: hard march 7659, a slow
            # walk's first stride counted as a lift before the walk was seen, and two more
            # strides from the rest it proved)
            log.info("excursion at t=%.2f s not counted: the person was %s, not %s", t,
                     posture, self.ex.rest_posture)
            return []
        if exc.posture == UNKNOWN and exc.walked and not self._posture_ok(WALKING):
            # from a rest the posture stage could not place, the walk it saw meanwhile: this
            # was one of its strides (hard 4608, 4614, 4858: the second stride of a walk
            # before the set counted as a lift while the posture stage called the walk)
            log.info("excursion at t=%.2f s not counted: the person was walking", t)
            return []
        if self._against_entry(exc):
            log.info("excursion at t=%.2f s turned the thigh the way standing up did: the "
                     "person is standing (a stride or a step), not a seated lift", t)
            return []
        up = np.array(exc.g)
        angle, signed = exc.rest.angles(up, self._view)
        rep = measure_rep(np.array(exc.t), angle, signed, np.array(exc.live), self.fs, self.r,
                          self.kinds, exc.counts_from_deg, self.delay_s)
        if rep is None:
            return []
        self.reps_.append(rep)
        self.counts_[rep.kind] = self.counts_.get(rep.kind, 0) + 1
        self._rest_proven = True
        self._set_t = t
        return [RepEvent("rep_end", t, rep.kind, self.counts_[rep.kind], ang, rep.hold_s, rep)]

    def _turned_as_entry(self, exc: Excursion) -> float:
        """For an exercise whose reps turn the thigh the way sitting down did (march): the
        cosine between the way the excursion turned the thigh and the way the last large change
        of rest did (0 where there was none)."""
        axis = self._entry_axis
        if not self.r.same_way_as_sitting or axis is None:
            return 0.0
        turn = _unit_cross(exc.rest.g, exc.peak_g)
        return turn[0] * axis[0] + turn[1] * axis[1] + turn[2] * axis[2]

    def _against_entry(self, exc: Excursion) -> bool:
        """The excursion turned the thigh the other way, the way standing up does."""
        return self._turned_as_entry(exc) < -0.5

    @property
    def in_rep(self) -> bool:
        """True while a rep (an excursion past min_amplitude_deg) is under way."""
        return self._state == _AWAY and self._exc is not None and self._exc.started

    def _finish_returned(self) -> list[RepEvent]:
        """Count the excursion in progress if it is a rep already back near rest, whose look past
        the return is cut short by the end of the data or a long gap. Or on its way back, past
        half its peak, where the accelerometer already reads it back near rest: the estimate
        lags a quick return (hard march 6447: a lift's return read 8.7 deg, its end at 8.2,
        with the accelerometer at 2.7 deg as a 0.5 s gap began, 0.13 s after the lift's true
        end; it was dropped)."""
        exc, r = self._exc, self.r
        if self._state != _AWAY or exc is None or exc.spoiled:
            return []
        if not exc.ending:
            end_deg = _end_deg(r, exc.peak_deg)
            if not (exc.started and exc.prev_deg < RESUME_FRAC * exc.peak_deg
                    and exc.rest.angle_deg(self._acc_up) < end_deg):
                return []
            why = first_reason(ON_RETURN, exc, r)
            if why:
                log.info("excursion ending at t=%.2f s not counted: %s", exc.t[-1], why)
                return []
        out = self._finish(exc, exc.t[-1], exc.prev_deg)
        self._idle_after_rep(exc)
        return out

    def _idle_after_rep(self, exc: Excursion) -> None:
        """Back at rest after an excursion that ended as a rep (counted or not)."""
        self._exc = self._sec = self._cand = None
        self._state = _IDLE
        self._lead.clear()
        # the next rep leads in from where this one came back to rest
        n = len(exc.t) - exc.end_n  # (not exc.t[-0:], the whole window, if it ended on return)
        self._lead.extend(zip(exc.t[n:], exc.g[n:], strict=True))
        if not self.r.chain:
            # the next rep must start from a new quiet spell, after dwelling at rest again: only
            # what the look past this one's return saw counts
            self._quiet_t = exc.quiet_after_t
            self._near_n = min(self._near_n, exc.end_n)

    def finish(self) -> list[RepEvent]:
        """End of stream: finish a rep that is already back near rest (after-look cut short)."""
        events: list[RepEvent] = []
        if self._pending is not None:
            self._held_from = 0
            self._settle_pending(math.inf, events, keep=True)
        return events + self._finish_returned()

    def _settle_pending(self, t: float, events: list[RepEvent], keep: bool = False) -> None:
        """Decide on the rep just back (STEP_WATCH_S), if the time to watch it is up at t (s)
        or the excursion of the other kind after it is a step (or keep: a long gap or the end of
        the data): count it or not, and put back the events held since, after its own, at index
        _held_from of this block's events."""
        x = self._pending_next
        if x is None and self._exc is not None:
            x = self._pending_next = self._exc
        exc, t0, ang0 = self._pending
        step = (x is not None and not keep and x.kind_live != exc.kind_live
                and moving_through_the_air(x, self.r))
        if not (keep or step or t >= self._pending_until):
            return
        self._pending = self._pending_next = None
        if step:
            log.info("excursion ending at t=%.2f s not counted: the foot went on from it through "
                     "the air (a step)", t0)
            out = []
        else:
            out = self._finish(exc, t0, ang0)
        i = self._held_from
        events[i:i] = out + self._held_events
        self._held_events = []
