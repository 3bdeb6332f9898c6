"""`movecoach analyze`: the command other tools rely on (JSON lines, table, one-line errors)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from movecoach.cli import main
from movecoach.sim import Conditions, simulate
from movecoach.store.csvio import write_csv


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    d = tmp_path_factory.mktemp("rec")
    out = {}
    for ex, kw in (("heel-toe", {"reps": 3, "hold_s": 2.0}), ("wall-slide", {"reps": 2}),
                   ("sway", {"duration_s": 30.0})):
        cond = Conditions(irregular_dt=True, loss_bursts=2, t0_s=812.25)
        rec = simulate(ex, fs=104.0, seed=31, conditions=cond, **kw)
        path = d / f"{ex}.csv"
        write_csv(path, rec.t_s, rec.acc_m_s2, rec.gyr_rad_s)
        out[ex] = (str(path), rec)
    return out


def test_json_gives_one_object_per_file_with_counts_and_reps_on_the_files_clock(recordings, capsys):
    path, rec = recordings["heel-toe"]
    assert main(["analyze", path, "--exercise", "heel-toe", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert out["file"] == path and out["exercise"] == "heel-toe"
    assert out["counts"] == {"heel_raise": 3, "toe_raise": 3}
    assert [r["kind"] for r in out["reps"]] == ["heel_raise", "toe_raise"] * 3
    for r, q in zip(out["reps"], rec.truth["reps"], strict=True):
        assert set(r) == {"kind", "t_start", "t_peak", "t_end", "amplitude_deg", "hold_s"}
        assert r["t_start"] < r["t_peak"] < r["t_end"]
        assert q["t_start"] - 0.5 < r["t_peak"] < q["t_end"] + 0.5  # sensor clock (t0 = 812.25 s)
        assert abs(r["amplitude_deg"] - q["amplitude_deg"]) < 2.0
        assert abs(r["hold_s"] - q["hold_s"]) < 0.3


def test_slides_report_depth_and_sway_reports_metrics(recordings, capsys):
    slide, _ = recordings["wall-slide"]
    sway, rec = recordings["sway"]
    assert main(["analyze", slide, "--exercise", "wall-slide", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"slide": 2}
    assert all("depth_deg" in r and "amplitude_deg" not in r for r in out["reps"])
    assert main(["analyze", sway, "--exercise", "sway", "--json"]) == 0
    m = json.loads(capsys.readouterr().out)["metrics"]
    for k in ("rms_ap", "rms_ml", "rms", "range_ap", "range_ml", "path_length", "mean_velocity",
              "jerk", "ellipse_area_95", "centroid_freq_ap", "centroid_freq_ml", "duration_s"):
        assert k in m
    assert abs(m["rms"] - rec.truth["metrics"]["rms"]) < 0.1 * rec.truth["metrics"]["rms"]


def test_table_is_readable(recordings, capsys):
    path, _ = recordings["heel-toe"]
    assert main(["analyze", path, "--exercise", "heel-toe"]) == 0
    text = capsys.readouterr().out
    assert "3 heel raises, 3 toe raises" in text
    assert text.count("heel_raise") == 3 and "deg" in text


def test_a_bad_file_is_one_line_on_stderr_and_the_others_are_still_analysed(recordings, tmp_path, capsys):
    good, _ = recordings["heel-toe"]
    bad = tmp_path / "bad.csv"
    bad.write_text("t,ax,ay,az,gx,gy,gz\n0.0,1,2,3,4,5,6\n0.01,1,2,oops,4,5,6\n")
    missing = str(tmp_path / "nope.csv")
    status = main(["analyze", str(bad), good, missing, "--exercise", "heel-toe", "--json"])
    out, err = capsys.readouterr()
    assert status == 2
    assert len(out.splitlines()) == 1 and json.loads(out)["file"] == good
    errors = err.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"movecoach: error: {bad}:3")
    assert errors[1].startswith(f"movecoach: error: {missing}")
    assert "Traceback" not in err


def test_a_too_short_sway_trial_is_an_error_not_a_traceback(tmp_path, capsys):
    t = np.arange(0, 3.0, 0.01)
    acc = np.tile([9.81, 0.0, 0.0], (len(t), 1))
    path = tmp_path / "short.csv"
    write_csv(path, t, acc, np.zeros_like(acc))
    assert main(["analyze", str(path), "--exercise", "sway"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"movecoach: error: {path}") and "Traceback" not in err


def test_unknown_exercise_is_a_usage_error():
    r = subprocess.run([sys.executable, "-m", "movecoach", "analyze", "x.csv", "--exercise", "squat"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "--exercise: squat is not one of" in r.stderr


def test_the_quick_scipy_signal_import_keeps_docstrings_and_restores_scipy():
    # (scipy.signal imported as `movecoach analyze` does: ~0.8 s of CPU less than a plain import)
    code = (
        "import sys, movecoach.commands.analyze as a; a._import_scipy_signal();"
        "import scipy.signal as s; from scipy._lib import _array_api as x;"
        "assert x.FunctionDoc is not a._DocstringAsIs;"
        "assert 'Butterworth' in s.butter.__doc__ and s.butter in x.xp_capabilities_table;"
        # scipy.stats was not imported (it is slow), and whoever imports it later gets the real one
        "assert 'scipy.stats' not in sys.modules;"
        "import numpy as np; assert len(s.find_peaks_cwt(np.sin(np.arange(200) / 5.0), [5, 10])) > 0;"
        "import scipy.stats as st; assert st.norm.cdf(0.0) == 0.5 and st.scoreatpercentile([1, 2, 3, 4], 50) == 2.5;"
        "print('ok')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_output_into_a_closed_pipe_ends_quietly(recordings):
    # `movecoach analyze ... | head -c 10`: the reader leaves early; no traceback on stderr
    files = [recordings["heel-toe"][0]] * 20
    p = subprocess.Popen([sys.executable, "-m", "movecoach", "analyze", *files, "--exercise", "heel-toe", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(10)
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err
