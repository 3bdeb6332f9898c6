"""The walk in the routine, and the timed tests a therapist asks for, from the command line."""

from __future__ import annotations

import pytest

from movecoach.cli import build_parser, main
from movecoach.commands.coach import routine_from_args
from movecoach.errors import UserError


def routine(*argv: str):
    command = argv[0]
    args = build_parser(command).parse_args(list(argv))
    base = None
    if command == "demo":
        from movecoach.coach.routine import demo_routine

        base = demo_routine()
    return routine_from_args(args, base=base)


def test_the_daily_routine_ends_with_a_two_minute_walk():
    steps = routine("coach").steps
    assert [s.exercise for s in steps][-2:] == ["sway", "walk"]
    walk = steps[-1]
    assert (walk.duration_s, walk.test, walk.reps, walk.analysis) == (120.0, None, None, "walk")
    assert routine("demo").steps[-1].duration_s == 90.0  # the demo's: one "1 minute: ..." and the result


def test_duration_sets_the_walk_and_the_balance_trial_keeps_its_30_seconds():
    steps = {s.exercise: s for s in routine("coach", "--duration", "360").steps}
    assert steps["walk"].duration_s == 360.0 and steps["sway"].duration_s == 30.0
    assert routine("coach", "--exercise", "sway", "--duration", "45").steps[0].duration_s == 45.0
    assert routine("coach", "--exercise", "walk", "--duration", "600").steps[0].duration_s == 600.0


def test_a_timed_test_on_its_own_or_as_the_routines_walk():
    # the clinic's timed 25-foot walk: two trials, walking back to the start between them
    first, second = routine("coach", "--test", "25ft").steps
    assert (first.test, first.target_m, first.duration_s) == ("25ft", 7.62, 180.0)
    assert [(s.trial, s.trials) for s in (first, second)] == [(1, 2), (2, 2)]
    assert first.rest_s == 30.0  # time to walk back and turn round
    assert first.title == "Timed 25-foot walk" and "25 feet (7.6 metres)" in first.placement
    (two,) = routine("demo", "--test", "2min").steps
    assert (two.test, two.target_m, two.duration_s) == ("2min", None, 120.0)
    daily = routine("coach", "--routine", "daily", "--test", "2min").steps
    assert daily[-1].test == "2min" and daily[0].exercise == "march"
    assert [s.test for s in routine("coach", "--routine", "daily", "--test", "25ft").steps][-3:] == [
        None, "25ft", "25ft"]  # the balance trial, then the two trials


@pytest.mark.parametrize("argv, message", [
    (("coach", "--exercise", "march", "--test", "25ft"), "--test 25ft is a walk"),
    (("coach", "--test", "2min", "--duration", "60"), "--duration does not go with --test 2min"),
    (("coach", "--duration", "5"), "--duration must be within 10-3600 s, got 5"),
])
def test_a_test_or_duration_that_does_not_fit_is_a_one_line_error(argv, message):
    with pytest.raises(UserError, match=message):
        routine(*argv)


def test_an_unknown_test_is_a_usage_error_naming_the_tests(capsys):
    assert main(["coach", "--test", "6min"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("movecoach: error: --test: 6min is not one of 25ft, 2min")
    assert err.count("\n") == 1
