"""What a session asks the person to do: exercises, sets, reps, holds, rests, and where the strap goes.

The default daily routine follows the home programme our users are given: seated marches,
wall slides with a 10-15 s hold, heel-toe raises alternating 10 each with a 2 s hold on the toes,
1-2 sets with rest between, a 30 s standing balance (sway) trial, then a short walk (2 minutes).
The walk can instead be one of the timed tests a therapist asks for (movecoach.coach.timed_walk:
``25ft``, ``2min``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from movecoach.coach.timed_walk import WALK_TESTS, walk_test
from movecoach.errors import UserError
from movecoach.signal.exercises import EXERCISES, REGISTRY, ROUTINE_EXERCISES, get


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
    return reps_each * max(len(get(exercise).rep_kinds), 1)


@dataclass(frozen=True)
class Step:
    """One exercise of a routine.

    reps: target reps per set, all kinds together (heel-toe "10 each" alternating is 20; the
    command line's ``--reps`` is per movement, see :func:`reps_counted`);
    None means "until the source ends or the person stops". hold_s: hold target in seconds for
    the kinds in hold_kinds (None: no hold). rest_s: rest between sets. duration_s: length of a
    balance trial or a walk (a timed distance test: the most it may take). test: a walk that is
    a timed test (movecoach.coach.timed_walk.WALK_TESTS: '25ft', '2min'), None for a plain walk.
    """

    exercise: str
    sets: int = 1
    reps: int | None = 10
    hold_s: float | None = None
    hold_kinds: tuple[str, ...] = ()
    rest_s: float = 30.0
    duration_s: float | None = None
    test: str | None = None
    trial: int = 1  # a timed test done several times: this is trial `trial` of `trials`
    trials: int = 1

    @property
    def analysis(self) -> str:
        """What the step measures: 'reps', 'sway' or 'walk' (the exercise's analysis)."""
        return get(self.exercise).analysis

    @property
    def title(self) -> str:
        test = walk_test(self.test)
        return test.title if test is not None else get(self.exercise).title

    @property
    def placement(self) -> str:
        test = walk_test(self.test)
        return test.placement if test is not None else get(self.exercise).placement

    @property
    def target_m(self) -> float | None:
        """The distance a timed distance test asks for (m), else None."""
        test = walk_test(self.test)
        return None if test is None else test.distance_m

    @property
    def kinds(self) -> tuple[str, ...]:
        return get(self.exercise).rep_kinds


def default_step(exercise: str, sets: int | None = None) -> Step:
    """The exercise as the daily routine has it (movecoach.signal.exercises), sets overridden."""
    ex = get(exercise)
    return Step(exercise, sets=ex.sets if sets is None or not ex.counts_reps else sets, reps=ex.reps,
                hold_s=ex.hold_s, hold_kinds=ex.hold_kinds, rest_s=ex.rest_s, duration_s=ex.duration_s)


@dataclass(frozen=True)
class Routine:
    name: str
    steps: tuple[Step, ...]


def daily_routine(sets: int = 2) -> Routine:
    """The home programme: the registry's routine exercises, in its order, with their defaults
    (marches, wall slides with a 10 s hold, heel-toe raises with a 2 s hold, balance, a 2-minute
    walk)."""
    return Routine(name="daily", steps=tuple(default_step(name, sets) for name in ROUTINE_EXERCISES))


def walk_steps(*, duration_s: float | None = None, test: str | None = None) -> tuple[Step, ...]:
    """The walk: ``duration_s`` long (default: the registry's, 2 minutes), or a timed test
    (``25ft``: until 7.62 m are walked, at most 180 s, two trials; ``2min``: 2 minutes). A test
    of several trials is a step per trial, the time to walk back to the start between them."""
    step = walk_step(duration_s=duration_s, test=test)
    defined = walk_test(test)
    if defined is None or defined.trials == 1:
        return (step,)
    return tuple(replace(step, trial=k, trials=defined.trials, rest_s=defined.between_s)
                 for k in range(1, defined.trials + 1))


def walk_step(*, duration_s: float | None = None, test: str | None = None) -> Step:
    """One walk (one trial of a timed test): see :func:`walk_steps`."""
    if test is not None and test not in WALK_TESTS:
        raise UserError(f"--test {test}: expected one of {', '.join(WALK_TESTS)}")
    if test is not None and duration_s is not None:
        raise UserError(f"--duration does not go with --test {test}: the test sets its own length")
    defined = walk_test(test)
    if defined is not None:
        duration_s = defined.duration_s or defined.max_s
    walk = next(n for n, e in REGISTRY.items() if e.analysis == "walk")
    return Step(walk, reps=None, duration_s=duration_s or get(walk).duration_s, test=test)


def single_exercise(
    exercise: str,
    *,
    reps: int | None = 10,
    sets: int = 1,
    hold_s: float | None = None,
    rest_s: float = 30.0,
    duration_s: float | None = None,
    test: str | None = None,
) -> Routine:
    """A routine of one exercise; hold defaults follow the programme (slides 10 s, heel raises 2 s).
    A walk may be a timed test (``test``)."""
    if exercise not in EXERCISES:
        raise UserError(f"unknown exercise {exercise!r}; choose from {', '.join(EXERCISES)}")
    if get(exercise).analysis == "walk":
        return Routine(f"{exercise}-{test}" if test else exercise,
                       walk_steps(duration_s=duration_s, test=test))
    if test is not None:
        raise UserError(f"--test {test} is a walk: it goes with --exercise walk or on its own, "
                        f"not with --exercise {exercise}")
    if sets < 1:
        raise UserError(f"--sets must be at least 1, got {sets}")
    if reps is not None and reps < 1:
        raise UserError(f"--reps must be at least 1, got {reps}")
    if hold_s is not None and hold_s < 0:
        raise UserError(f"--hold must be zero or more seconds, got {hold_s}")
    ex = REGISTRY[exercise]
    if not ex.counts_reps:
        return Routine(exercise, (Step(exercise, reps=None, duration_s=duration_s or ex.duration_s),))
    hold_kinds = ex.hold_kinds
    hold = ex.hold_s if hold_s is None else (hold_s or None)
    if hold and not hold_kinds:
        hold_kinds = ex.rep_kinds
    step = Step(exercise, sets=sets, reps=reps, hold_s=hold, hold_kinds=hold_kinds if hold else (), rest_s=rest_s)
    return Routine(exercise, (step,))


def demo_routine() -> Routine:
    """A short version of the daily routine for `movecoach demo` (about three minutes, half of
    it the walk)."""
    daily = daily_routine(sets=1)
    short = {
        "march": dict(reps=3),
        "wall-slide": dict(reps=1, hold_s=5.0),
        "heel-toe": dict(reps=6),
        "sway": dict(duration_s=20.0),
        "walk": dict(duration_s=90.0),  # "1 minute: N metres so far", then the result
    }
    return Routine("demo", tuple(replace(s, rest_s=5.0, **short.get(s.exercise, {}))
                                 for s in daily.steps))


def customized(routine: Routine, *, reps_each: int | None = None, sets: int | None = None,
               rest_s: float | None = None, duration_s: float | None = None,
               test: str | None = None) -> Routine:
    """The routine with ``--reps`` (N of each movement, see :func:`reps_counted`), ``--sets`` and
    ``--rest`` applied to every exercise that has reps, ``--duration`` to its walk (the walk's
    length; a balance trial keeps its own), and the walk made the timed ``--test``."""
    if sets is not None and sets < 1:
        raise UserError(f"--sets must be at least 1, got {sets}")
    if reps_each is not None and reps_each < 1:
        raise UserError(f"--reps must be at least 1, got {reps_each}")
    if rest_s is not None and rest_s < 0:
        raise UserError(f"--rest must be zero or more seconds, got {rest_s:g}")
    steps = []
    for s in routine.steps:
        if s.analysis == "walk":
            if test is not None or duration_s is not None:
                steps.extend(walk_steps(duration_s=duration_s, test=test))
            else:
                steps.append(s)
            continue
        if not get(s.exercise).counts_reps:
            steps.append(s)
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
