"""`movecoach simulate`: writes the analyze CSV and the ground truth beside it."""

from __future__ import annotations

import argparse
import json

import pytest

from movecoach.commands import simulate as command
from movecoach.errors import UserError
from movecoach.store.csvio import read_csv


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="movecoach")
    command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["simulate", *argv])
    return args.func(args)


def test_simulate_writes_a_csv_that_analyze_can_read_and_the_truth_beside_it(tmp_path, capsys):
    out = tmp_path / "march.csv"
    assert run("--exercise", "march", "--reps", "5", "--out", str(out), "--seed", "2", "--rate", "52") == 0
    rec = read_csv(out)
    truth = json.loads(out.with_suffix(".json").read_text())
    assert rec.fs == pytest.approx(52.0, rel=1e-3)
    assert truth["counts"] == {"lift": 5} and truth["exercise"] == "march" and truth["fs"] == 52.0
    assert rec.t_s[0] <= truth["reps"][0]["t_start"] < truth["reps"][-1]["t_end"] <= rec.t_s[-1]
    printed = capsys.readouterr().out
    assert "5 lift" in printed and str(out) in printed


def test_hard_condition_with_a_hold_and_the_seed_reproduces_the_file(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (a, b):
        run("--exercise", "heel-toe", "--reps", "2", "--out", str(out), "--seed", "7", "--condition", "hard",
            "--hold", "2", "--pattern", "blocked")
    assert a.read_text() == b.read_text()
    truth = json.loads(a.with_suffix(".json").read_text())
    assert [r["kind"] for r in truth["reps"]] == ["heel_raise"] * 2 + ["toe_raise"] * 2
    assert truth["distractors"] and truth["conditions"]["irregular_dt"] is True


def test_rate_given_on_the_command_line_wins_over_the_hard_preset(tmp_path):
    out = tmp_path / "s.csv"
    run("--exercise", "sway", "--duration", "20", "--out", str(out), "--condition", "hard", "--rate", "100")
    truth = json.loads(out.with_suffix(".json").read_text())
    assert truth["fs"] == 100.0 and set(truth["metrics"]) >= {"rms_ap", "rms_ml", "ellipse_area_95"}


@pytest.mark.parametrize("argv,message", [
    (["--reps", "0"], "--reps must be at least 1"),
    (["--rate", "5"], "--rate must be within 25-400 Hz"),
    (["--hold", "-1"], "--hold must be within"),
    (["--out", "x.txt"], "expected a .csv file name"),
    (["--out", "/nonexistent/dir/x.csv"], "does not exist"),
])
def test_bad_options_give_a_one_line_error(tmp_path, argv, message):
    base = {"--exercise": "march", "--out": str(tmp_path / "m.csv")}
    for k, v in zip(argv[::2], argv[1::2], strict=True):
        base[k] = v
    with pytest.raises(UserError, match=message):
        run(*[x for kv in base.items() for x in kv])


def test_through_the_movecoach_command_line(tmp_path, capsys):
    from movecoach.cli import main

    out = tmp_path / "sway.csv"
    assert main(["simulate", "--exercise", "sway", "--duration", "10", "--out", str(out)]) == 0
    assert read_csv(out).duration_s == pytest.approx(10.0, abs=0.05)
    assert main(["simulate", "--exercise", "sway", "--rate", "5", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "movecoach: error: --rate must be within 25-400 Hz, got 5"
