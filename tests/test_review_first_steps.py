"""The review commands as a new user meets them: a few sessions, demo sessions kept apart, a
balance-only session, exports named for what they hold, `report --open` without a browser."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from movecoach import cli
from movecoach.events import from_dict
from movecoach.review.synthetic import record_synthetic_history
from movecoach.store import open_store

MOVECOACH = str(Path(sys.executable).with_name("movecoach"))


@pytest.fixture
def mc(monkeypatch, capsys):
    """Run `movecoach ...` through the real CLI entry point; returns (exit code, stdout, stderr)."""
    def run(*argv) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def record_balance_only_session(directory: Path, when: dt.datetime, rms: float = 0.12) -> int:
    """A complete session with only a standing-balance trial (no reps at all)."""
    metrics = {"rms": rms, "rms_ap": 0.8 * rms, "rms_ml": 0.6 * rms, "path_length": 6.0,
               "mean_velocity": 0.3, "jerk": 3.0, "ellipse_area_95": 0.15, "range_ap": 0.5,
               "range_ml": 0.4, "centroid_freq_ap": 0.4, "centroid_freq_ml": 0.45, "duration_s": 30.0}
    t = when.timestamp()
    with open_store(directory, record=True) as rec:
        s = rec.start_session(device_id="dev", routine="sway", source="sim", fs=None, started_at=t)
        ids = {"session_id": s.id, "device_id": "dev"}
        s.handle(from_dict("session_start", t, {**ids, "routine": "sway", "steps": ["sway"], "source": "sim"}))
        s.handle(from_dict("step_start", t + 1, {**ids, "exercise": "sway", "set": 1, "sets": 1}))
        s.handle(from_dict("sway", t + 32, {**ids, "exercise": "sway", "metrics": metrics}))
        s.finish({"routine": "sway", "complete": True, "steps": [], "sway": metrics}, ended_at=t + 33)
        s.close()
        return s.id


def test_trends_average_reps_over_sessions_that_had_reps(tmp_path, mc):
    last = dt.date.today() - dt.timedelta(days=1)
    record_synthetic_history(tmp_path, days=4, end_day=last, seed=2, incomplete_days=(),
                             sway_sample_days=())  # 50 reps each: marches, heel-toe, wall slides
    record_balance_only_session(tmp_path, dt.datetime.combine(last, dt.time(18, 0)))
    code, out, _ = mc("trends", "--data-dir", tmp_path)
    assert code == 0
    row = next(ln for ln in out.splitlines() if ln.startswith("reps per complete session"))
    assert row.split()[4] == "50"  # not (4 x 50 + 0) / 5 = 40


def test_sessions_csv_lists_a_balance_only_session_without_a_leading_space(tmp_path, mc):
    record_balance_only_session(tmp_path, dt.datetime(2026, 3, 2, 9, 0))
    code, _, _ = mc("export", "--data-dir", tmp_path, "--out", tmp_path / "exp")
    assert code == 0
    with open(tmp_path / "exp" / "sessions.csv", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["exercises"] == "sway"


def test_exports_of_one_step_one_session_or_all_get_different_default_names(tmp_path, mc, monkeypatch):
    data = tmp_path / "data"
    (day,) = record_synthetic_history(data, days=1, seed=4, sway_sample_days=(0,), incomplete_days=())
    monkeypatch.chdir(tmp_path)
    code, step_out, _ = mc("export", "--data-dir", data, "--session", day.session_id, "--raw", "--step", 3)
    assert code == 0 and step_out.startswith(f"movecoach-session-{day.session_id}-step-3.csv: 3120 samples")
    code, whole_out, _ = mc("export", "--data-dir", data, "--session", day.session_id, "--raw")
    assert code == 0 and whole_out.startswith(f"movecoach-session-{day.session_id}.csv: ")
    step_file = tmp_path / f"movecoach-session-{day.session_id}-step-3.csv"
    assert len(step_file.read_text().splitlines()) == 3121  # header + the balance trial, still there
    today = dt.date.today().isoformat()
    code, out, _ = mc("export", "--data-dir", data, "--format", "json", "--session", day.session_id)
    assert out.strip() == f"movecoach-export-{today}-session-{day.session_id}.json"
    code, out, _ = mc("export", "--data-dir", data, "--format", "json")
    assert out.strip() == f"movecoach-export-{today}.json"


def test_an_empty_history_points_at_the_demo_sessions(tmp_path, mc):
    record_balance_only_session(tmp_path / "demo", dt.datetime(2026, 3, 2, 9, 0))
    for command in ("history", "trends", "report"):
        code, out, _ = mc(command, "--data-dir", tmp_path)
        assert code == 0
        assert out.splitlines()[1] == (
            f"1 demo session is kept apart from your own, in {tmp_path / 'demo'}: see it with "
            f"`movecoach {command} --demo --data-dir {tmp_path}`.")
    code, out, _ = mc("history", "--demo", "--data-dir", tmp_path)
    assert code == 0 and "2026-03-02 Mon 09:00" in out and "balance: sway 0.12 m/s²" in out


def test_report_open_without_a_browser_says_where_the_page_is(tmp_path):
    record_synthetic_history(tmp_path / "data", days=1, seed=5, sway_sample_days=(), incomplete_days=())
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")}
    env["PATH"] = str(Path(sys.executable).parent)  # no xdg-open, no console browser here
    out = subprocess.run([MOVECOACH, "report", "--open", "--data-dir", str(tmp_path / "data"),
                          "--out", str(tmp_path / "reports")],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    page = Path(out.stdout.strip())
    assert page.exists() and page.parent == tmp_path / "reports"
    assert out.stderr.startswith("No web browser found to open it here")
    assert str(page.resolve()) in out.stderr
