"""Stage 5 of the rep analysis: the rules that decide an excursion from rest is not a rep.

Each rule is a named predicate on what the segmenter saw of one excursion
(:class:`~movecoach.signal.segment.Excursion`) with the exercise's settings
(:class:`~movecoach.signal.exercises.RepRules`); it returns why the excursion is not a rep, in
words for the log, or "" when it has nothing against it. Where a rule's threshold was measured,
the measurement is beside it. The segmenter asks them at three moments:

- ``WHILE_AWAY``: on every sample away from rest (so a walk never announces a rep start);
- ``ON_RETURN``: when the angle comes back near rest;
- ``AFTER_RETURN``: while it watches a little past the return (a stride swings on through);

and :mod:`~movecoach.signal.measure` has the checks that need the whole, measured rep.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from movecoach.signal.exercises import RepRules
from movecoach.signal.posture import UNKNOWN

if TYPE_CHECKING:
    from movecoach.signal.segment import Excursion

# An excursion whose size was reached only across a gap bridged on the gyro (the limb shook), or
# while the estimate settled after a gap, must be seen at SEEN_PEAK_FRAC of that size outside it
# too (exercises that hold their reps: RepRules.seen_after_gap). A walking foot's swing hidden by
# lost packets otherwise reads as a raise of 30-50 deg. (Not also min_amplitude_deg outside the
# gap: an 11 deg toe raise whose top is lost is seen at ~9 deg.)
SEEN_PEAK_FRAC = 0.5
# Past rest to the far side from the peak, a lift whose posture is not known (a thigh sensor on
# the side, before any clue to seated or standing) is a stride if it swings on this far within
# UNKNOWN_SWING_S of passing its rest: on simulated seeds 4000-4019 (side, hard, rhythmic) 202
# such seated lifts went at most 1.7 deg past their rest, and the first strides of a walk swing
# on into hip extension, 3-8 deg, at speed (58 of them, 4000-4019 and hard 4200-4299: 3 deg
# reached 0.04-0.12 s after passing rest). A seated thigh whose rest was taken a little off after
# a fidget creeps past it as it settles (hard 4290: 3 deg after 0.24 s). Where the person is
# known to sit reverse_deg stays: a thigh landing on the seat can bounce 7 deg past it (4252).
UNKNOWN_REVERSE_DEG = 3.0
# ... and rising again the same way before it has been quiet (held or still) at rest for
# UNKNOWN_QUIET_S is the next stride: the stance of a slow walk from standing holds the thigh
# 0.16-0.48 s (hard 4450-4549: 20 first strides counted as lifts, 7 sets wrong), a seated thigh
# lies still at least 0.5 s while the other leg lifts (hard 1002; 0.9-1.2 s in the simulator's
# rhythmic sets, 1.6 s or more between the independent simulator's lifts)
UNKNOWN_QUIET_S = 0.5
UNKNOWN_SWING_S = 0.2

# rules.turned_round: whatever its size, turning about vertical by less than this is gyro bias over
# a long hold (wall slides: at most 19.3 deg), not turning round (two steps turn 45 deg or more).
TURNED_ROUND_MIN_DEG = 30.0
# A rep tilts the segment, and the gyro turns through its angle on the way out and again on the
# way back: while away from rest the gyro's rate across vertical integrates to 1.22-1.8 times
# the peak angle on 2431 counted reps (heel-toe, march, wall-slide: hard 4550-4589; slow and
# side 4550-4579). An excursion the gyro turned through less than TURNED_FRAC of its size was the
# estimate following the accelerometer while the body accelerated without tilting the segment:
# a foot sensor as the person sat down read 9.2 deg with the gyro turning 4 (ratio 0.44; heel-toe
# distractors 4875, counted as a heel raise within a set). Not across a gap: there the gyro is a
# line drawn between the samples either side.
TURNED_FRAC = 0.75

# ... and the other way round: a foot raise the accelerometer (its angle from rest) never showed at
# ACC_SEEN_FRAC of its size outside gaps was the estimate's error, not a tilt (exercises that hold
# their reps: RepRules.seen_after_gap). On hard heel-toe 5550-5649 and 6750-6849 the 3779 raises
# counted with no gap in them were seen at 0.97-1.3 of their size; the one false raise among them
# at 0.36 (6848: 11.9 deg read just after a walk's last step, the accelerometer at 0.3-4.3 deg
# with the foot flat on the floor). Raises with a gap in them can be seen at anything down to 0;
# one begun just after a gap is seen once the accelerometer's filter has forgotten the line drawn
# across it (GAP_SETTLE_S): hard 7506, a 10.3 deg "toe raise" read as the estimate overshot past
# rest after a 0.6 s gap hid a heel raise's return, the accelerometer at 0.4-2.5 deg.
ACC_SEEN_FRAC = 0.6

# A foot that just stepped (an excursion dropped as moving_through_the_air), leaving rest again
# within NEXT_STEP_S of that step's end, turning faster than NEXT_STEP_DPS, with some of it lost
# in a gap, is taking the walk's next step, its swing unseen (exercises that pivot on the floor:
# RepRules.pivot_free_off_deg). On hard heel-toe 5550-5749, 6950-7149 and 7350-7549 (600 sets)
# six such steps were counted as heel raises (5551, 5672, 5705, 5726, 5746, 7543): they left
# rest 0.46-0.78 s after the step before and tilted at 135-195 deg/s. 32 true raises began
# within 1 s of a step (0.06-0.98 s: a set begun straight after a walk), at up to 119 deg/s, one
# of them with a gap in it (0.90 s, 60 deg/s); hard raises tilt at up to 153 deg/s (99 % within
# 113). No one limit separates them; the three together do.
NEXT_STEP_S = 1.0
NEXT_STEP_DPS = 120.0

Rule = Callable[["Excursion", RepRules], str]


def moving_through_the_air(x: Excursion, r: RepRules) -> str:
    """The accelerometer pointed far from up while the estimate was sure: the limb accelerated
    through the air (a walking foot: >= 39 deg; raises pivot on the floor: <= 11.4 deg), and,
    for reps that pivot on the floor (RepRules.pivot_free_off_deg), still did with the turn
    about a pivot taken out (a quick raise stopping hard at its top: see heel_toe.py). Not
    where some of it was lost in a gap: the foot may have left the floor unseen (hard 4621: the
    first step of a walk, its swing in a 0.36 s gap, read 15.5 deg off as the heel rose about
    the toes, and 0.4 deg with that turn out). Only in the gap itself, not in the estimate's
    doubt after it: a quick raise under tremor begun 0.5 s after a 0.27 s gap, its estimate 8 deg
    behind the foot as it converged, read 15.9 deg off and was lost (hard 7133)."""
    if x.max_accel_off_deg > r.max_accel_off_deg and (
            r.pivot_free_off_deg is None or x.lost_during or x.free_off_deg > r.pivot_free_off_deg):
        return "the accelerometer showed it moving through the air (a step)"
    return ""


def turned_about_vertical(x: Excursion, r: RepRules) -> str:
    """The segment turned about vertical: a turning step (people pivot on a heel or the toes
    when they turn round) or turning round on the spot; a raise does not turn the foot, a
    lift barely turns the thigh (march.py says by how much). Measured for heel-toe: 789 simulated raises
    (hard, rhythmic, wobbling) turned at most 3.5 deg (99 % within 2.4), 54 raises of the
    independent simulator at most 1.8 deg; the turning and shuffling steps of real walking
    that looked like raises turned 15.6-138 deg."""
    if abs(x.turn_deg) > r.max_turn_deg:
        return "it turned about vertical (a turning step)"
    return ""


def turned_round(x: Excursion, r: RepRules) -> str:
    """Back at rest, it turned about vertical by more than RepRules.max_turn_per_deg per degree
    of its size (and more than TURNED_ROUND_MIN_DEG): turning round on the spot, not a rep that
    barely turns the body (wall_slide.py says by how much)."""
    if abs(x.turn_deg) > max(TURNED_ROUND_MIN_DEG, r.max_turn_per_deg * x.peak_deg):
        return "it turned round (turning on the spot)"
    return ""


def swung_back_and_forth(x: Excursion, r: RepRules) -> str:
    """More reversals of direction than the exercise has in a rep (walking, bobbing)."""
    if x.swings > r.max_swings:
        return "it swung back and forth (walking)"
    return ""


def only_seen_across_a_gap(x: Excursion, r: RepRules) -> str:
    """Its size was reached only where the data was lost (see SEEN_PEAK_FRAC)."""
    if r.seen_after_gap and x.seen_peak_deg < max(r.arm_deg, SEEN_PEAK_FRAC * x.peak_deg):
        return "its size was only seen across a gap in the data"
    return ""


def never_turned(x: Excursion, r: RepRules) -> str:
    """The gyro did not turn through the angle: the accelerometer moved with the body, the
    segment did not tilt (see TURNED_FRAC)."""
    if not x.gap_during and x.tilt_deg < TURNED_FRAC * x.peak_deg:
        return "the gyro never turned through it (the body moved, not the foot or thigh)"
    return ""


def never_seen_by_the_accelerometer(x: Excursion, r: RepRules) -> str:
    """The accelerometer never showed the angle (see ACC_SEEN_FRAC)."""
    if r.seen_after_gap and not x.lost_during and x.acc_peak_deg < ACC_SEEN_FRAC * x.peak_deg:
        return "the accelerometer never showed it (the estimate was off, the foot was down)"
    return ""


def the_next_step_of_a_walk(x: Excursion, r: RepRules) -> str:
    """Straight after a step, as fast as one, its swing lost in a gap (see NEXT_STEP_S)."""
    if (r.pivot_free_off_deg is not None and x.lost_during and x.after_step_s < NEXT_STEP_S
            and x.max_tilt_dps > NEXT_STEP_DPS):
        return "it began as the step before it ended, as fast as a step, its swing lost (a step)"
    return ""


def too_short(x: Excursion, r: RepRules) -> str:
    """Shorter than the quickest rep (a twitch, a bump)."""
    if x.away_s < r.min_rep_s:
        return "too short for a rep"
    return ""


def too_large(x: Excursion, r: RepRules) -> str:
    """Larger than any rep: a change of posture (sitting down, standing up)."""
    if x.peak_deg > r.max_amplitude_deg:
        return "too large for a rep (a change of posture)"
    return ""


def swung_through_rest(x: Excursion, r: RepRules) -> str:
    """It swung on through rest to the other side: a stride (a seated lift comes back to the
    seat; a walking thigh goes on into hip extension). Where the posture stage could not tell
    seated from standing, UNKNOWN_REVERSE_DEG reached at a stride's speed is enough once the
    posture stage has seen walking since the excursion began, unless it turned the thigh on the
    way a large change of rest before it did: that change was sitting down, and a thigh landing
    on the seat bounces past its rest (hard 4487, 4542: seated lifts after a sit-down the side
    sensor could not see as one, 3-5 deg past rest, dropped). Before any walking, a seated thigh
    can land 3.0-4.3 deg past a rest taken a little off (hard 5076: three lifts in a row
    dropped), and a walk's first strides are told by what follows them: they rise straight into
    the next stride (swung_into_the_next; on hard 4550-4749 the one excursion past 3 deg that
    did not was a walk's last stride, seen as walking by then)."""
    unknown = (x.posture == UNKNOWN and math.isfinite(r.reverse_deg)  # (a foot has no stride rule)
               and x.past_rest_s <= UNKNOWN_SWING_S and not x.as_sitting and x.walked)
    limit = min(r.reverse_deg, UNKNOWN_REVERSE_DEG) if unknown else r.reverse_deg
    if x.reversal_deg > limit and not x.doubt:
        return "it swung through rest to the other side (a stride)"
    return ""


def swung_into_the_next(x: Excursion, r: RepRules) -> str:
    """Where the posture is not known, it rose again the same way from rest without having
    been quiet there for UNKNOWN_QUIET_S: a walking thigh swinging on into its next stride after
    a small hip extension (fresh hard 4335), or after a stance that held it for a moment. Also
    while the estimate settles after a gap, unless the gap was bridged on the gyro: its line
    carries the lift's descent on through rest and up again (hard 5076, under tremor), while
    after a gap the accelerometer bridged the rise is the thigh's (hard 6176, 6179, 6486: a
    walk's first stride, half of it in a 0.4 s gap, counted as a lift, and then the walk's
    later strides too, from the rest that lift proved)."""
    if x.rising and x.posture == UNKNOWN and x.quiet_s < UNKNOWN_QUIET_S and not r.chain \
            and not x.guessing:
        return "it swung straight into the next movement (a stride)"
    return ""


WHILE_AWAY: tuple[Rule, ...] = (moving_through_the_air, turned_about_vertical, swung_back_and_forth)
ON_RETURN: tuple[Rule, ...] = (only_seen_across_a_gap, never_turned, never_seen_by_the_accelerometer,
                               the_next_step_of_a_walk, turned_round, too_short, too_large)
# (moving_through_the_air again: a foot back level that goes on accelerating through the air is
# stepping, a raise's foot lands and stays; a shuffle of real walking, IPOL 2-2_rf at 26.8 s,
# reads 14 deg off while it tilts and 15-24 deg for 0.2 s after it is back level)
AFTER_RETURN: tuple[Rule, ...] = (swung_through_rest, swung_into_the_next, moving_through_the_air)


def first_reason(rules: tuple[Rule, ...], x: Excursion, r: RepRules) -> str:
    """The first rule's reason that the excursion is not a rep, or ""."""
    for rule in rules:
        why = rule(x, r)
        if why:
            return why
    return ""
