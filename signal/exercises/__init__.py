"""The exercise registry: what each exercise means, defined once.

One module per exercise (``heel_toe``, ``march``, ``wall_slide``, ``sway``, ``walk``) holds an
:class:`Exercise`: where the sensor goes and how its axes sit, the rep kinds and the words for
them, the posture reps start from, the detector's settings, the routine's defaults, the text
that tells the person where to strap the sensor, and what a rep reports. Everything else (the
detector, the coach, speech, review, the simulator, the command line) reads it from here, so
adding an exercise is one new module here, its motion in the simulator and its tests.

    from movecoach.signal.exercises import get, REP_EXERCISES
    get("heel-toe").rep_kinds  # ('heel_raise', 'toe_raise')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RepRules:
    """How the detector finds and checks one exercise's reps (angles in degrees, durations in
    seconds). The rules themselves, each with its measured reason, are in
    :mod:`movecoach.signal.rules`; these are their settings.

    Segmenting: an excursion starts when the angle from rest passes arm_deg, is a rep candidate
    once it reaches min_amplitude_deg and ends when it is back below
    min(max(end_deg, end_frac * peak), end_max_deg). signed: the angle has a sign (heel-toe:
    toes down +, toes up -) and each sign is its own rep kind, so going straight from one to the
    other ends the first rep and starts the next. chain: a new excursion straight after the
    return finishes the rep (else it is a stride). after_min_s / after_max_s: how long to watch
    after the return (a stride would swing on through rest). dwell_s: a rep that starts from
    rest follows at least this long near rest (not mid-stride).
    """

    min_amplitude_deg: float = 10.0
    # within a set (segment.IN_SET_S after a counted rep, no step since) a rep counts
    # from this size (None: min_amplitude_deg): people tire over a set and the later reps shrink
    min_amplitude_in_set_deg: float | None = None
    max_amplitude_deg: float = 60.0  # beyond this it is a change of posture (sit/stand), not a rep
    arm_deg: float = 5.0
    end_frac: float = 0.3
    end_deg: float = 4.0
    end_max_deg: float = 10.0
    hold_frac: float = 0.8  # a rep is held while at or beyond this fraction of its peak
    min_rep_s: float = 0.3  # shortest excursion (above arm_deg) that can be a rep
    max_settle_s: float = 6.0  # settled this long away from rest = a new posture, not a hold
    rest_settle_s: float = 1.0  # steady this long to (re)acquire a rest posture
    first_rest_s: float | None = None  # ... the first one of a recording (None: rest_settle_s)
    new_rest_s: float = 4.0  # after walking etc., steady this long somewhere new = the new rest
    new_rest_max_deg: float = math.inf  # ... but only this far from a rest reps came from
    resettle: bool = True  # held a little off the rest after a gap or walk: the rest now (RESETTLE_DEG)
    dwell_s: float = 0.25
    after_min_s: float = 0.0
    after_max_s: float = 0.25
    chain: bool = True
    signed: bool = False
    reverse_deg: float = math.inf  # swinging this far past rest to the other side = a stride
    max_swings: float = math.inf  # more reversals than this in one excursion = walking
    min_hold_s: float = 0.0  # held at least this long at hold_frac of the peak
    min_pitch_share: float = 0.0  # signed: |signed angle| / total angle at the peak (not a roll)
    max_accel_off_deg: float = math.inf  # accelerometer this far off up = moving through the air
    # reps turn the segment about a point on the floor (a foot on its toes or heels): beyond
    # max_accel_off_deg it is moving through the air only if the accelerometer is still this far
    # off up with that turn taken out (signal/pivot.py); None: not such an exercise
    pivot_free_off_deg: float | None = None
    max_turn_deg: float = math.inf  # turned this far about vertical = a turning step
    # ... or, judged once back, this many degrees per degree of its size (rules.turned_round)
    max_turn_per_deg: float = math.inf
    seen_after_gap: bool = False  # a size reached across a gap must be seen outside it too
    same_way_as_sitting: bool = False  # a lift turns the thigh the way sitting down did
    # where an excursion is held may become the rest (a thigh: sitting down, standing up); a
    # foot's rest is flat on the floor, always
    candidate_rests: bool = True
    # a rep whose start a long gap hid, held after it, goes on from the rest before the gap
    # (reps held for many seconds: segment.UNSEEN_START)
    unseen_start_held: bool = False
    tremor_cutoff_hz: float = 2.0  # reps are measured on the angle low-passed here
    hold_tick_s: float = 0.2  # live hold countdown resolution


@dataclass(frozen=True)
class Exercise:
    """One exercise of the home programme.

    name: the command-line name ('heel-toe'); title: as shown ('Heel-toe raises'); nouns: the
    exercise counted in a summary, (one, many); analysis: 'reps', 'sway' or 'walk'; site: where the sensor goes ('foot', 'thigh',
    'lower back'); axes: how the sensor's axes sit there; rep_kinds: what is counted (empty: a
    timed trial), alternating when there are several; kind_nouns: each kind as a person says it,
    (one, many); angle_meaning: per kind, what its angle is, said once a session; size_word: how
    a rep's angle reads ('up', 'down' or ''); further: the cue for a shallow rep ('a little
    higher'); hold_where: where the hold is ('at the bottom');
    rest_posture: 'seated', 'standing' or None: reps start only from it (the coach says
    posture_cue when the person is not); rules: the detector's settings (None: no reps);
    placement: what to say before the set; reps/sets/hold_s/hold_kinds/rest_s/duration_s: the
    daily routine's defaults (reps per set, all kinds together); min_good_deg: per kind, a rep
    shallower than this gets a gentle cue; size_field: the name the rep's size is reported under
    ('amplitude_deg' or 'depth_deg'); in_routine: part of the daily routine.
    """

    name: str
    title: str
    nouns: tuple[str, str]
    analysis: str  # 'reps' (counted and measured), 'sway' (a balance trial) or 'walk' (strides)
    site: str
    axes: str
    rep_kinds: tuple[str, ...]
    kind_nouns: dict[str, tuple[str, str]]
    rest_posture: str | None
    rules: RepRules | None
    placement: str
    angle_meaning: dict[str, str] = field(default_factory=dict)
    size_word: str = ""
    further: str = "higher"
    hold_where: str = ""
    posture_cue: str = ""
    reps: int | None = 10
    sets: int = 2
    hold_s: float | None = None
    hold_kinds: tuple[str, ...] = ()
    rest_s: float = 30.0
    duration_s: float | None = None
    min_good_deg: dict[str, float] = field(default_factory=dict)
    size_field: str = "amplitude_deg"
    in_routine: bool = True  # part of the daily routine (False: only on its own)

    @property
    def counts_reps(self) -> bool:
        return self.analysis == "reps"


def _load() -> dict[str, Exercise]:
    from movecoach.signal.exercises import heel_toe, march, sway, walk, wall_slide

    return {e.name: e for e in (m.EXERCISE for m in (march, wall_slide, heel_toe, sway, walk))}


REGISTRY: dict[str, Exercise] = _load()
# in the order of the daily routine
EXERCISES: tuple[str, ...] = tuple(REGISTRY)
ROUTINE_EXERCISES: tuple[str, ...] = tuple(n for n, e in REGISTRY.items() if e.in_routine)
REP_EXERCISES: tuple[str, ...] = tuple(n for n, e in REGISTRY.items() if e.counts_reps)
KIND_NOUNS: dict[str, tuple[str, str]] = {
    k: w for e in REGISTRY.values() for k, w in e.kind_nouns.items()}
KIND_EXERCISE: dict[str, str] = {k: e.name for e in REGISTRY.values() for k in e.rep_kinds}


def get(name: str) -> Exercise:
    """The exercise called name; ValueError naming the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown exercise {name!r}; expected one of {', '.join(REGISTRY)}") from None


def rep_exercise(name: str) -> Exercise:
    """The rep-counting exercise called name; ValueError otherwise."""
    ex = get(name)
    if not ex.counts_reps:
        raise ValueError(f"{name!r} has no reps; rep exercises are {', '.join(REP_EXERCISES)}")
    return ex
