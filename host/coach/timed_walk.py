"""The walk step's results: the timed tests a therapist asks for and a walk's totals, from strides.

Two clinic tests, done at home with the foot sensor (``--test 25ft``, ``--test 2min``):

- **Timed 25-foot walk** (T25FW, the MS Functional Composite's walking test): the time to walk
  7.62 m as quickly as is safe, twice (walking back to the start between), the score being the
  mean of the two trials. Here: from the moment the sensor's foot leaves the floor for its
  first stride to the moment the path passes 7.62 m from where it started. The foot's position
  is known at each stance (zero-velocity update); within a stride it is taken to move at an even
  pace, so the crossing time is interpolated linearly in the stride's length.
- **2-minute walk test** (2MWT): the distance walked in the 2 minutes after "go": every stride
  that ended by then, and the part of the stride under way at 2 minutes that fits before it
  (again at an even pace within the stride).

A stride is the walk analysis' :class:`movecoach.signal.gait.Stride` (anything with t_start,
t_end, time_s, length_m on the sensor clock, s and m); a bout is its ``Bout``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FEET_25_M = 25 * 0.3048  # 7.62 m: the timed 25-foot walk's distance


@dataclass(frozen=True)
class WalkTest:
    """A timed walking test: its name on the command line, title, what is measured and how long
    the step may run. distance_m: walk this far and stop (the time is the result);
    duration_s: walk this long (the distance is the result)."""

    name: str
    title: str
    placement: str
    distance_m: float | None = None
    duration_s: float | None = None
    max_s: float | None = None  # a distance test ends here even when the distance is not reached
    trials: int = 1  # done this many times; the score is their mean
    between_s: float = 0.0  # between trials: time to walk back to the start and turn round


WALK_TESTS: dict[str, WalkTest] = {
    "25ft": WalkTest(
        name="25ft", title="Timed 25-foot walk", distance_m=FEET_25_M,
        # the clinic's T25FW allows up to 180 s per trial before it counts as not completed; it
        # is done twice, the person walked back to the start in between, and scored as the mean
        max_s=180.0, trials=2, between_s=30.0,
        placement=("Strap the sensor on the top of your foot, over the laces, with the arrow towards "
                   "your toes. Mark a straight path of 25 feet (7.6 metres) and stand at its start. "
                   "On go, walk as quickly as you safely can, past its end. You will do it twice."),
    ),
    "2min": WalkTest(
        name="2min", title="Two-minute walk test", duration_s=120.0,
        placement=("Strap the sensor on the top of your foot, over the laces, with the arrow towards "
                   "your toes. On go, walk as far as you can in two minutes, at a pace you can keep, "
                   "turning at the ends of your hallway. You may slow down or stand if you need to."),
    ),
}


def walk_test(name: str | None) -> WalkTest | None:
    """The test called name (None for None); ValueError naming the known ones otherwise."""
    if name is None:
        return None
    try:
        return WALK_TESTS[name]
    except KeyError:
        raise ValueError(f"unknown walk test {name!r}; expected one of {', '.join(WALK_TESTS)}") from None


def trials_mean(times_s: Sequence[float | None]) -> float | None:
    """A test's score from its trials' results: their mean, over the trials completed (None if
    none was)."""
    done = [t for t in times_s if t is not None and math.isfinite(t)]
    return sum(done) / len(done) if done else None


def distance_by(strides: Sequence[Any], t_s: float) -> float:
    """Metres walked by sensor time t_s (s): whole strides ended by then, plus the part of the
    stride under way at t_s (an even pace within a stride)."""
    total = 0.0
    for s in strides:
        if s.t_end <= t_s:
            total += s.length_m
        elif s.t_start < t_s:
            span = s.t_end - s.t_start
            total += s.length_m * ((t_s - s.t_start) / span if span > 0 else 1.0)
    return total


def time_to(strides: Sequence[Any], distance_m: float) -> float | None:
    """Seconds from the first stride's start (the foot leaving the floor) until the strides
    have covered distance_m (m); None when they never do."""
    if not strides:
        return None
    covered = 0.0
    for s in strides:
        if covered + s.length_m >= distance_m and s.length_m > 0:
            frac = (distance_m - covered) / s.length_m
            return s.t_start + frac * (s.t_end - s.t_start) - strides[0].t_start
        covered += s.length_m
    return None


@dataclass(frozen=True)
class WalkTotals:
    """A walk step's totals over its bouts (walking only; standing between bouts is left out).

    distance_m m (every stride); walking_s s (the bouts' time); speed_m_s = the bouts' distance
    / their time; cadence,
    stride time, its variation (CV, a fraction), stance fraction and stride length: the bouts'
    values weighted by their strides. turns: turns of more than ~90 degrees.
    """

    strides: int
    bouts: int
    distance_m: float
    walking_s: float
    speed_m_s: float | None
    cadence_spm: float | None
    stride_time_s: float | None
    stride_time_cv: float | None
    stance_frac: float | None
    stride_length_m: float | None
    turns: int


def _weighted(bouts: Sequence[Any], attr: str) -> float | None:
    pairs = [(b.strides, getattr(b, attr)) for b in bouts]
    pairs = [(n, v) for n, v in pairs if n > 0 and v is not None and math.isfinite(v)]
    n = sum(w for w, _ in pairs)
    return sum(w * v for w, v in pairs) / n if n else None


def totals(strides: Sequence[Any], bouts: Sequence[Any]) -> WalkTotals:
    """The walk's totals from the analysis' strides and bouts."""
    walking_s = sum(max(b.t_end - b.t_start, 0.0) for b in bouts)
    distance = sum(s.length_m for s in strides)
    # the bouts' own distance over their time: strides outside a bout (an analyzer that failed
    # keeps its strides, not its bouts) do not make the walk look faster
    in_bouts = sum(b.distance_m for b in bouts)
    return WalkTotals(
        strides=len(strides),
        bouts=len(bouts),
        distance_m=distance,
        walking_s=walking_s,
        speed_m_s=in_bouts / walking_s if walking_s > 0 else None,
        cadence_spm=_weighted(bouts, "cadence_spm"),
        stride_time_s=_weighted(bouts, "stride_time_s"),
        stride_time_cv=_weighted(bouts, "stride_time_cv"),
        stance_frac=_weighted(bouts, "stance_frac"),
        stride_length_m=_weighted(bouts, "stride_length_m"),
        turns=sum(int(b.turns) for b in bouts),
    )
