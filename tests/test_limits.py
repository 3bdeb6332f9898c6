"""One limit per quantity, the same for every command, and a one-line error for a value beyond it."""

from __future__ import annotations

import pytest

from movecoach.cli import main


def error_line(capsys, argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    [line] = err.strip().splitlines()
    assert line.startswith("movecoach: error: ")
    return line


def test_a_port_beyond_65535_is_one_line_not_an_overflow_traceback(capsys):
    line = error_line(capsys, ["wearable", "--sim", "--tcp", "70000"])
    assert line == "movecoach: error: --tcp must be within 0-65535 (0: any free port), got 70000"


@pytest.mark.parametrize("argv", [
    ["demo", "--exercise", "sway", "--duration", "3", "--no-speech"],  # before: traceback, exit 0
    ["coach", "--exercise", "sway", "--duration", "3", "--no-speech"],
    ["simulate", "--exercise", "sway", "--duration", "3", "--out", "sway.csv"],
    ["wearable", "--sim", "--exercise", "sway", "--duration-s", "3"],
])
def test_a_three_second_balance_trial_is_refused_the_same_way_everywhere(capsys, argv, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(capsys, argv)
    assert line.endswith("must be within 5-600 s, got 3")


@pytest.mark.parametrize("argv", [
    ["simulate", "--exercise", "sway", "--duration", "1000", "--out", "s.csv"],
    ["wearable", "--sim", "--exercise", "sway", "--duration-s", "1000"],  # before: 5-3600 s
    ["demo", "--exercise", "wall-slide", "--hold", "200"],
    ["wearable", "--sim", "--hold-s", "-1"],
    ["coach", "--rest", "-5"],
])
def test_the_other_limits_agree_across_commands(capsys, argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "must be within" in error_line(capsys, argv)


def test_a_broker_port_beyond_65535_is_named(capsys, tmp_path):
    line = error_line(capsys, ["coach", "--broker", "127.0.0.1:70000", "--no-speech",
                               "--data-dir", str(tmp_path)])
    assert "port must be within 1-65535, got 70000" in line
