"""What a session asks the person to do: exercises, sets, reps, holds, rests, and where the strap goes.

The default daily routine follows the home programme our users are given: seated marches,
wall slides with a 10-15 s hold, heel-toe raises alternating 10 each with a 2 s hold on the toes,
1-2 sets with rest between, and a 30 s standing balance (sway) trial.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from movecoach.errors import UserError
from movecoach.signal.types import EXERCISES, REP_KINDS

PLACEMENT = {
    "march": (
        "Sit on a firm chair. Strap the sensor on the front of your right thigh, "
        "halfway between hip and knee; any way round is fine."
    ),
    "wall-slide": (
        "Strap the sensor on the front of your thigh, halfway between hip and knee. "
        "Stand with your back against a wall, feet a step in front of it."
    ),
    "heel-toe": (
        "Strap the sensor on the top of your foot, over the laces, with the arrow towards your toes. "
        "Stand holding a counter or chair back for balance."
    ),
    "sway": (
        "Strap the sensor on your lower back, in the middle, with the arrow pointing up. "
        "Stand still, feet together, arms by your sides, eyes open."
    ),
}

TITLE = {
    "march": "Seated marches",
    "wall-slide": "Wall slides",
    "heel-toe": "Heel-toe raises",
    "sway": "Standing balance",
}

# The words for what is counted, (one, many): per rep kind, and per exercise for totals.
KIND_NOUNS = {
    "lift": ("lift", "lifts"),
    "slide": ("slide", "slides"),
    "heel_raise": ("heel raise", "heel raises"),
    "toe_raise": ("toe raise", "toe raises"),
}
EXERCISE_NOUNS = {
    "march": ("seated march", "seated marches"),
    "wall-slide": ("wall slide", "wall slides"),
    "heel-toe": ("heel-toe raise", "heel-toe raises"),
    "sway": ("balance trial", "balance trials"),
}


def plural(n: int, nouns: tuple[str, str]) -> str:
    """``3 lifts``, ``1 slide``: n with the right one of (one, many)."""
    return f"{n} {nouns[0] if n == 1 else nouns[1]}"


# `--help` of every command with --reps says the same thing.
REPS_HELP = ("N of each movement: heel-toe --reps 10 is 10 heel raises and 10 toe raises, "
             "alternating (counted 1 to 20)")


def reps_counted(exercise: str, reps_each: int | None) -> int | None:
    """What the coach counts to in a set for ``--reps N``: N of each movement of the exercise.

    ``--reps`` means one thing everywhere (coach, demo, simulate, wearable): N repetitions of each
    movement, so heel-toe ``--reps 10`` is 10 heel raises and 10 toe raises, alternating, and the
    coach counts to 20; a march or wall slide counts to N. None stays None (no target).
    """
    if reps_each is None:
        return None
    return reps_each * max(len(REP_KINDS.get(exercise, ())), 1)

# A rep shallower than this (degrees from rest) gets a gentle cue.
MIN_GOOD_AMPLITUDE_DEG = {"heel_raise": 12.0, "toe_raise": 10.0, "lift": 15.0, "slide": 40.0}


@dataclass(frozen=True)
class Step:
    """One exercise of a routine.

    reps: target reps per set, all kinds together (heel-toe "10 each" alternating is 20; the
    command line's ``--reps`` is per movement, see :func:`reps_counted`);
    None means "until the source ends or the person stops". hold_s: hold target in seconds for
    the kinds in hold_kinds (None: no hold). rest_s: rest between sets. duration_s: sway trial length.
    """

    exercise: str
    sets: int = 1
    reps: int | None = 10
    hold_s: float | None = None
    hold_kinds: tuple[str, ...] = ()
    rest_s: float = 30.0
    duration_s: float | None = None

    @property
    def title(self) -> str:
        return TITLE[self.exercise]

    @property
    def placement(self) -> str:
        return PLACEMENT[self.exercise]

    @property
    def kinds(self) -> tuple[str, ...]:
        return REP_KINDS.get(self.exercise, ())


@dataclass(frozen=True)
class Routine:
    name: str
    steps: tuple[Step, ...]


def daily_routine(sets: int = 2) -> Routine:
    """The home programme: marches, wall slides (10 s hold), heel-toe raises (2 s hold), balance."""
    return Routine(
        name="daily",
        steps=(
            Step("march", sets=sets, reps=10, rest_s=30.0),
            Step("wall-slide", sets=sets, reps=5, hold_s=10.0, hold_kinds=("slide",), rest_s=45.0),
            Step("heel-toe", sets=sets, reps=20, hold_s=2.0, hold_kinds=("heel_raise",), rest_s=30.0),
            Step("sway", sets=1, reps=None, duration_s=30.0),
        ),
    )


def single_exercise(
    exercise: str,
    *,
    reps: int | None = 10,
    sets: int = 1,
    hold_s: float | None = None,
    rest_s: float = 30.0,
    duration_s: float | None = None,
) -> Routine:
    """A routine of one exercise; hold defaults follow the programme (slides 10 s, heel raises 2 s)."""
    if exercise not in EXERCISES:
        raise UserError(f"unknown exercise {exercise!r}; choose from {', '.join(EXERCISES)}")
    if sets < 1:
        raise UserError(f"--sets must be at least 1, got {sets}")
    if reps is not None and reps < 1:
        raise UserError(f"--reps must be at least 1, got {reps}")
    if hold_s is not None and hold_s < 0:
        raise UserError(f"--hold must be zero or more seconds, got {hold_s}")
    if exercise == "sway":
        return Routine(exercise, (Step("sway", reps=None, duration_s=duration_s or 30.0),))
    default_hold = {"wall-slide": (10.0, ("slide",)), "heel-toe": (2.0, ("heel_raise",))}
    hold_default, hold_kinds = default_hold.get(exercise, (None, ()))
    hold = hold_default if hold_s is None else (hold_s or None)
    if hold and not hold_kinds:
        hold_kinds = REP_KINDS[exercise]
    step = Step(exercise, sets=sets, reps=reps, hold_s=hold, hold_kinds=hold_kinds if hold else (), rest_s=rest_s)
    return Routine(exercise, (step,))


def demo_routine() -> Routine:
    """A short version of the daily routine for `movecoach demo` (about a minute and a half)."""
    daily = daily_routine(sets=1)
    short = {
        "march": dict(reps=3),
        "wall-slide": dict(reps=1, hold_s=5.0),
        "heel-toe": dict(reps=6),
        "sway": dict(duration_s=20.0),
    }
    return Routine("demo", tuple(replace(s, rest_s=5.0, **short[s.exercise]) for s in daily.steps))


def customized(routine: Routine, *, reps_each: int | None = None, sets: int | None = None,
               rest_s: float | None = None, duration_s: float | None = None) -> Routine:
    """The routine with ``--reps`` (N of each movement, see :func:`reps_counted`), ``--sets`` and
    ``--rest`` applied to every exercise that has reps, and ``--duration`` to its balance trial."""
    if sets is not None and sets < 1:
        raise UserError(f"--sets must be at least 1, got {sets}")
    if reps_each is not None and reps_each < 1:
        raise UserError(f"--reps must be at least 1, got {reps_each}")
    if rest_s is not None and rest_s < 0:
        raise UserError(f"--rest must be zero or more seconds, got {rest_s:g}")
    steps = []
    for s in routine.steps:
        if s.exercise == "sway":
            steps.append(s if duration_s is None else replace(s, duration_s=duration_s))
            continue
        changes: dict = {}
        if reps_each is not None:
            changes["reps"] = reps_counted(s.exercise, reps_each)
        if sets is not None:
            changes["sets"] = sets
        if rest_s is not None:
            changes["rest_s"] = rest_s
        steps.append(replace(s, **changes))
    return Routine(routine.name, tuple(steps))
