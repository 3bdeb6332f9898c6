"""`movecoach analyze` on the input people actually give it: wrong units, flat sensors, broken cells,
pipes, long pauses. Never a silent wrong answer: one line naming the likely mistake, or the right
answer when told the unit."""

from __future__ import annotations

import json
import math
import os
import threading

import numpy as np
import pytest
from shared_data import SHARED

from movecoach.cli import main
from movecoach.commands.analyze import analyze_file
from movecoach.sim import simulate
from movecoach.store import csvio
from movecoach.store.csvio import write_csv
from movecoach.units import UnitCheck

REAL = SHARED / "real" / "walking"


@pytest.fixture(scope="module")
def march(tmp_path_factory):
    rec = simulate("march", reps=4, fs=104.0, seed=12)
    return rec


@pytest.fixture(scope="module")
def sway(tmp_path_factory):
    return simulate("sway", fs=104.0, seed=4, duration_s=20.0)


def run_analyze(capsys, *args) -> tuple[int, str, str]:
    code = main(["analyze", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("movecoach: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_gyro_in_deg_s_is_refused_naming_the_unit_then_counted_when_told(tmp_path, march, capsys):
    path = tmp_path / "march-degrees.csv"
    write_csv(path, march.t_s, march.acc_m_s2, np.degrees(march.gyr_rad_s))
    code, out, err = run_analyze(capsys, path, "--exercise", "march", "--json")
    assert code == 2 and out == ""  # before: {"lift": 0}, exit 0
    line = one_error_line(err)
    assert str(path) in line and "deg/s" in line and "--gyro-unit deg/s" in line
    code, out, err = run_analyze(capsys, path, "--exercise", "march", "--json", "--gyro-unit", "deg/s")
    assert code == 0 and json.loads(out)["counts"] == {"lift": 4}


def test_accelerometer_in_g_is_refused_then_sway_is_measured_in_m_s2_when_told(tmp_path, sway, capsys):
    right, in_g = tmp_path / "sway.csv", tmp_path / "sway-g.csv"
    write_csv(right, sway.t_s, sway.acc_m_s2, sway.gyr_rad_s)
    write_csv(in_g, sway.t_s, sway.acc_m_s2 / 9.80665, sway.gyr_rad_s)
    code, out, err = run_analyze(capsys, in_g, "--exercise", "sway", "--json")
    assert code == 2 and "looks like g, not m/s^2" in one_error_line(err)  # before: rms 9.8x small
    code, out, _ = run_analyze(capsys, in_g, "--exercise", "sway", "--json", "--acc-unit", "g")
    assert code == 0
    want = analyze_file(str(right), "sway")["metrics"]
    assert json.loads(out)["metrics"]["rms"] == pytest.approx(want["rms"], rel=1e-4)


@pytest.mark.parametrize("what", ["all zero", "flat gyro"])
def test_a_flat_sensor_is_refused(tmp_path, march, capsys, what):
    path = tmp_path / "flat.csv"
    acc = np.zeros_like(march.acc_m_s2) if what == "all zero" else march.acc_m_s2
    write_csv(path, march.t_s, acc, np.zeros_like(march.gyr_rad_s))
    code, _, err = run_analyze(capsys, path, "--exercise", "march")
    line = one_error_line(err)
    assert code == 2 and "(0, 0, 0) in every sample" in line  # before: 0 lifts, no word
    assert ("accelerometer" if what == "all zero" else "gyroscope") in line


def test_sway_needs_no_gyroscope(tmp_path, sway, capsys):
    path = tmp_path / "sway-acc-only.csv"
    write_csv(path, sway.t_s, sway.acc_m_s2, np.zeros_like(sway.gyr_rad_s))
    code, out, _ = run_analyze(capsys, path, "--exercise", "sway", "--json")
    assert code == 0 and json.loads(out)["metrics"]["rms"] > 0


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real/walking (AGPL data) is not here")
def test_real_recordings_pass_and_the_same_in_deg_s_or_g_do_not():
    files = sorted(REAL.glob("*.csv"))
    assert len(files) >= 60
    for f in files:
        rec = csvio.read_csv(f)
        for gyr, acc, wrong in ((rec.gyr_rad_s, rec.acc_m_s2, None),
                                (np.degrees(rec.gyr_rad_s), rec.acc_m_s2, "deg/s"),
                                (rec.gyr_rad_s, rec.acc_m_s2 / 9.80665, " g,")):
            check = UnitCheck()
            check.add(rec.t_s, acc, gyr)
            problem = check.problem()
            assert (problem is None) if wrong is None else (wrong in (problem or "")), (f, problem)


def test_a_cell_beyond_any_imus_full_scale_is_refused_with_its_line(tmp_path, march, capsys):
    path = tmp_path / "spike.csv"
    acc = march.acc_m_s2.copy()
    acc[500, 1] = 1e308  # before: 1 lift instead of 4 and "amplitude_deg": NaN
    write_csv(path, march.t_s, acc, march.gyr_rad_s)
    code, out, err = run_analyze(capsys, path, "--exercise", "march", "--json")
    line = one_error_line(err)
    assert code == 2 and out == "" and f"{path}:502: ay is 1e+308 m/s^2" in line
    assert "full scale" in line


def test_all_values_huge_is_one_line_not_overflow_warnings(tmp_path, march, capsys):
    path = tmp_path / "huge.csv"
    write_csv(path, march.t_s, march.acc_m_s2 * 1e30, march.gyr_rad_s * 1e30)
    code, _, err = run_analyze(capsys, path, "--exercise", "march")
    assert code == 2 and ":2: ax is" in one_error_line(err)


def test_json_never_carries_nan_or_infinity():
    from movecoach.commands.analyze import _round, to_json

    doc = {"metrics": {"rms": _round(math.nan, 6), "jerk": _round(math.inf, 6)}}
    assert to_json(doc) == '{"metrics": {"rms": null, "jerk": null}}'
    with pytest.raises(ValueError):
        to_json({"x": math.nan})


def test_exactly_400_hz_is_inside_the_documented_range(tmp_path):
    t = np.arange(2000) / 400.0  # 1 / median(diff) = 400.0000000000085
    rng = np.random.default_rng(1)
    path = tmp_path / "400.csv"
    write_csv(path, t, rng.normal(0, 0.1, (2000, 3)) + [0, 0, 9.81], rng.normal(0, 0.01, (2000, 3)))
    assert csvio.read_csv(path).fs == pytest.approx(400.0)


def test_a_fifo_is_read_once_and_the_next_file_is_still_analysed(tmp_path, march, capsys):
    regular = tmp_path / "march.csv"
    write_csv(regular, march.t_s, march.acc_m_s2, march.gyr_rad_s)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(regular.read_bytes()), daemon=True)
    writer.start()  # blocks until analyze opens the FIFO; before: analyze hung for ever
    code, out, err = run_analyze(capsys, fifo, regular, "--exercise", "march", "--json")
    writer.join(10)
    assert code == 0, err
    assert [json.loads(x)["counts"] for x in out.splitlines()] == [{"lift": 4}] * 2


def test_a_pause_of_thirty_years_costs_nothing(tmp_path, march, capsys):
    t = np.concatenate([march.t_s, march.t_s + 1e9])  # the same set again, 1e9 s later
    path = tmp_path / "pause.csv"
    n = len(march.t_s)
    write_csv(path, t, np.concatenate([march.acc_m_s2] * 2), np.concatenate([march.gyr_rad_s] * 2))
    assert len(t) == 2 * n
    code, out, err = run_analyze(capsys, path, "--exercise", "march", "--json")
    assert code == 0, err  # before: MemoryError(...) printed as "analysis failed"
    reps = json.loads(out)["reps"]
    assert len(reps) == 8 and reps[4]["t_start"] > 1e9


def test_blocks_of_any_size_give_the_same_answer(tmp_path, march, monkeypatch):
    path = tmp_path / "march.csv"
    write_csv(path, march.t_s, march.acc_m_s2, march.gyr_rad_s)
    whole = analyze_file(str(path), "march")
    monkeypatch.setattr(csvio, "BLOCK_BYTES", 4096)  # ~60 rows per block
    assert analyze_file(str(path), "march") == whole
    assert len(list(csvio.iter_blocks(path))) > 20


@pytest.mark.parametrize("fs", [25.0, 100.0, 400.0])
def test_the_unit_check_smooths_away_tremor_and_noise_but_keeps_movement(fs):
    from movecoach.units import smooth

    t = np.arange(int(20 * fs)) / fs
    x = np.column_stack([np.full_like(t, 9.8), np.sin(2 * np.pi * 0.5 * t), np.sin(2 * np.pi * 8.0 * t)])
    y = smooth(x, fs)
    assert y.shape == x.shape
    assert np.allclose(y[:, 0], 9.8)  # gravity passes unchanged, to the ends
    mid = slice(int(2 * fs), int(18 * fs))
    assert np.abs(y[mid, 1]).max() > 0.85  # a 0.5 Hz movement passes
    assert np.abs(y[mid, 2]).max() < 0.1  # 8 Hz tremor does not


def test_analyze_walk_imports_no_scipy(tmp_path):
    """The walk analysis is numpy only: scipy's imports would cost a sixth of an hour's analysis."""
    import subprocess
    import sys

    rec = simulate("walk", fs=100.0, seed=3, duration_s=20.0)
    path = tmp_path / "walk.csv"
    write_csv(path, rec.t_s, rec.acc_m_s2, rec.gyr_rad_s)
    code = ("import sys; from movecoach.cli import main; rc = main(['analyze', sys.argv[1], "
            "'--exercise', 'walk', '--json']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'), file=sys.stderr); "
            "sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["counts"]["stride"] > 5
    assert out.stderr.strip().splitlines()[-1] == "[]"
