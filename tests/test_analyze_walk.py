"""`movecoach analyze FILE --exercise walk`: strides, bouts and totals as JSON and as a table,
with the same one-line errors as the other exercises."""

from __future__ import annotations

import json

import pytest

from movecoach.cli import main
from movecoach.sim import Conditions, simulate
from movecoach.store.csvio import write_csv


@pytest.fixture(scope="module")
def walk_csv(tmp_path_factory):
    rec = simulate("walk", fs=100.0, seed=2, duration_s=40.0,
                   conditions=Conditions(irregular_dt=True, t0_s=500.0))
    path = tmp_path_factory.mktemp("walk") / "walk.csv"
    write_csv(path, rec.t_s, rec.acc_m_s2, rec.gyr_rad_s)
    return str(path), rec


def test_json_has_the_stride_count_bouts_and_strides(walk_csv, capsys):
    path, rec = walk_csv
    assert main(["analyze", path, "--exercise", "walk", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exercise"] == "walk"
    assert out["counts"] == {"stride": rec.truth["counts"]["stride"]}
    assert len(out["strides"]) == out["counts"]["stride"]
    assert len(out["bouts"]) == len(rec.truth["bouts"])
    for b in out["bouts"]:
        assert set(b) == {"t_start", "t_end", "strides", "cadence_spm", "stride_time_s",
                          "stride_time_cv", "stance_frac", "stride_length_m", "speed_m_s",
                          "distance_m", "turns"}
        assert 0.5 < b["speed_m_s"] < 2.0 and 80 < b["cadence_spm"] < 140
    assert sum(b["strides"] for b in out["bouts"]) == out["counts"]["stride"]
    first = out["strides"][0]
    assert {"t_start", "t_end", "length_m", "time_s"} <= set(first)
    assert first["time_s"] is None  # the first stride starts from standing: null, never NaN
    assert first["t_start"] > 500.0  # on the file's own clock
    assert out["distance_m"] == pytest.approx(rec.truth["distance_m"], rel=0.04)


def test_the_table_says_what_was_walked_in_words(walk_csv, capsys):
    path, rec = walk_csv
    assert main(["analyze", path, "--exercise", "walk"]) == 0
    text = capsys.readouterr().out
    n = rec.truth["counts"]["stride"]
    assert f"{n} strides in {len(rec.truth['bouts'])} walks" in text
    assert "m/s" in text and "steps/min" in text
    assert "nan" not in text.lower()


def test_standing_only_says_no_walking(tmp_path, capsys):
    rec = simulate("sway", fs=100.0, seed=1, duration_s=10.0)
    path = tmp_path / "still.csv"
    write_csv(path, rec.t_s, rec.acc_m_s2[:, [1, 2, 0]], rec.gyr_rad_s)
    assert main(["analyze", str(path), "--exercise", "walk", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"stride": 0} and out["bouts"] == [] and out["speed_m_s"] is None
    assert main(["analyze", str(path), "--exercise", "walk"]) == 0
    assert "no walking found" in capsys.readouterr().out


def test_a_broken_row_is_one_line_naming_the_file_and_line(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("t,ax,ay,az,gx,gy,gz\n0,0,0,9.8,0,0,0\n0.01,0,zero,9.8,0,0,0\n")
    assert main(["analyze", str(path), "--exercise", "walk"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"movecoach: error: {path}:3")


def test_gyro_in_deg_s_is_refused_for_walking_too(walk_csv, tmp_path, capsys):
    path, rec = walk_csv
    deg = tmp_path / "deg.csv"
    write_csv(deg, rec.t_s, rec.acc_m_s2, rec.gyr_rad_s * 57.29578)
    assert main(["analyze", str(deg), "--exercise", "walk"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is the unit right" in err
