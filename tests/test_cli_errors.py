"""Usage mistakes as a person makes them: one plain line on stderr, exit status 2, and a pointer
to the right `--help` (and to the command meant, when a name is mistyped)."""

from __future__ import annotations

import pytest

from movecoach.cli import main


def error_of(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err  # no usage block before the error
    assert err.startswith("movecoach: error: ")
    return err.strip()


def test_an_unknown_exercise_names_the_choices_without_python_quotes(capsys):
    err = error_of(capsys, "demo", "--exercise", "squats")
    assert err == ("movecoach: error: --exercise: squats is not one of march, wall-slide, heel-toe, "
                   "sway, walk (see `movecoach demo --help`)")


def test_a_missing_required_option_says_which(capsys):
    err = error_of(capsys, "analyze", "recording.csv")
    assert err == "movecoach: error: missing --exercise (see `movecoach analyze --help`)"


def test_a_feel_score_out_of_range(capsys):
    err = error_of(capsys, "feel", "11")
    assert "from 1 (worst) to 10 (best), got 11" in err and err.endswith("(see `movecoach feel --help`)")


@pytest.mark.parametrize(("typed", "meant"), [("histroy", "history"), ("trend", "trends"),
                                               ("reprot", "report"), ("deom", "demo")])
def test_a_mistyped_command_suggests_the_closest(capsys, typed, meant):
    err = error_of(capsys, typed)
    assert err == (f"movecoach: error: there is no command {typed}; did you mean {meant}? "
                   "(see `movecoach --help`)")


def test_a_word_that_is_no_command_gets_no_wild_guess(capsys):
    assert "did you mean" not in error_of(capsys, "xyzzy")


def test_a_mistyped_option_suggests_the_option_of_that_command(capsys):
    err = error_of(capsys, "coach", "--rpes", "5")
    assert err == ("movecoach: error: not understood: --rpes 5; did you mean --reps? "
                   "(see `movecoach coach --help`)")


def test_a_value_of_the_wrong_kind(capsys):
    assert "--reps: ten is not a whole number" in error_of(capsys, "coach", "--reps", "ten")
    assert "--speed needs a value" in error_of(capsys, "demo", "--speed")


def test_help_still_prints_the_whole_usage_and_exits_0(capsys):
    assert main(["demo", "--help"]) == 0
    assert "usage: movecoach demo" in capsys.readouterr().out


def test_the_mqtt_prefix_help_shows_its_default(capsys):
    from movecoach.sinks.mqtt import MqttConfig

    assert main(["coach", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"--mqtt-prefix PREFIX first topic level (default {MqttConfig().prefix}," in help_text


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--volume", "500", "--volume: the volume must be 0-200, got 500"),
    ("--rate", "9999", "--rate: the speaking rate must be 80-450, got 9999"),
])
def test_speech_settings_out_of_range_are_refused(capsys, option, value, message):
    assert message in error_of(capsys, "demo", option, value)


def test_a_hold_without_an_exercise_is_refused(capsys):
    assert main(["coach", "--hold", "5"]) == 2
    assert capsys.readouterr().err.startswith("movecoach: error: --hold goes with --exercise")


@pytest.mark.parametrize("command", ["coach", "demo", "simulate", "wearable"])
def test_reps_means_the_same_in_every_command(capsys, command):
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert ("N of each movement: heel-toe --reps 10 is 10 heel raises and 10 toe raises, "
            "alternating (counted 1 to 20)") in text
