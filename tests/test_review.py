"""The review commands over a year of daily sessions recorded through the real recorder."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sqlite3
import time

import numpy as np
import pytest

from movecoach import cli
from movecoach.events import from_dict
from movecoach.review.synthetic import record_synthetic_history
from movecoach.review.trends import compute_trends
from movecoach.store import open_store, read_samples
from movecoach.store.base import Store
from movecoach.store.csvio import read_csv


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """365 daily sessions ending last Sunday: slow improvement + noise, 8 incomplete, feel scores."""
    directory = tmp_path_factory.mktemp("year")
    yesterday = dt.date.today() - dt.timedelta(days=1)
    sunday = yesterday - dt.timedelta(days=yesterday.isoweekday() % 7)
    truth = record_synthetic_history(directory, days=365, end_day=sunday, seed=7)
    return directory, truth


@pytest.fixture
def mc(monkeypatch, capsys):
    """Run `movecoach ...` through the real CLI entry point; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("movecoach.commands.review",))

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def _rounded_mean(values: list[float]) -> float:
    return float(np.mean([round(v, 1) for v in values]))  # the coach rounds angles to 0.1°


def test_history_shows_one_line_per_session_with_incomplete_ones_marked(year, mc):
    directory, truth = year
    code, out, _ = mc("history", "--data-dir", directory)
    assert code == 0
    lines = out.splitlines()
    session_lines = [ln for ln in lines if " #" in ln]
    assert len(session_lines) == 365
    incomplete = [d for d in truth if not d.complete]
    assert len(incomplete) == 8
    assert [ln for ln in session_lines if "INCOMPLETE" in ln] == [
        ln for ln in session_lines if any(f" #{d.session_id} " in ln for d in incomplete)]
    assert lines[-1].startswith("365 sessions, 8 incomplete")
    last = truth[-1]
    line = session_lines[-1]
    assert line.startswith(last.day) and f"#{last.session_id}" in line
    assert f"wall-slide 2 sets 10 reps depth {_rounded_mean(last.slide_depth_deg):.0f}°" in line
    met = sum(h + 0.25 >= 5.0 for h in last.slide_hold_s)
    assert f"holds {met}/10" in line
    assert f"balance: sway {last.sway.rms:.3g} m/s²" in line
    assert (f"feel {last.feel}/10" in line) == (last.feel is not None)


def test_history_filters_by_date_and_exercise(year, mc):
    directory, truth = year
    week_ago = dt.date.fromisoformat(truth[-1].day) - dt.timedelta(days=6)
    code, out, _ = mc("history", "--since", week_ago.isoformat(), "--data-dir", directory)
    assert code == 0 and len([ln for ln in out.splitlines() if " #" in ln]) == 7
    code, out, _ = mc("history", "--exercise", "wall-slide", "--data-dir", directory)
    lines = [ln for ln in out.splitlines() if " #" in ln]
    assert len(lines) == 365 - 8 and not any("INCOMPLETE" in ln for ln in lines)


def test_trends_flag_the_slow_improvement_but_not_the_noise(year, mc):
    directory, truth = year
    trends = compute_trends(open_store(directory))
    assert 52 <= len(trends.weeks) <= 54
    latest = trends.weeks[-1]
    for key in ("slide_depth_deg", "slide_hold_s", "holds_pct", "sway_rms", "sway_ellipse", "feel"):
        change = latest.vs_first[key]
        assert change.significant and change.better, key
    assert latest.vs_first["sway_rms"].delta < 0 and latest.vs_first["slide_depth_deg"].delta > 10
    for key in ("march_deg", "heel_toe_deg"):  # no trend in the data: only noise
        assert not latest.vs_first[key].significant, key
        flagged = [w.vs_prev[key].significant for w in trends.weeks[1:]]
        assert sum(flagged) <= 0.1 * len(flagged), key
    # a slow trend is not a week-to-week event: most weeks are not flagged against the week before
    depth_flags = [w.vs_prev["slide_depth_deg"].significant for w in trends.weeks[1:]]
    assert sum(depth_flags) <= 0.15 * len(depth_flags)
    # the weekly value is the mean of the week's session means
    week_days = {d.day for d in truth if d.complete
                 and dt.date.fromisoformat(d.day).isocalendar()[:2] == (latest.year, latest.week)}
    expected = np.mean([_rounded_mean(d.slide_depth_deg) for d in truth if d.day in week_days])
    assert latest.values["slide_depth_deg"].mean == pytest.approx(expected)
    assert latest.values["slide_depth_deg"].n == len(week_days)

    code, out, _ = mc("trends", "--weeks", "8", "--data-dir", directory)
    assert code == 0
    rows = {ln.split("  ")[0]: ln for ln in out.splitlines()}
    assert "↑ better" in rows["wall-slide depth (°)"]
    assert "↓ better" in rows["sway RMS (m/s²)"]  # less sway
    assert "better" not in rows["march amplitude (°)"] and "worse" not in rows["march amplitude (°)"]
    assert "*" not in out  # one legend, one mark: the arrows
    assert len([ln for ln in out.splitlines() if ln[:4].isdigit() and "-W" in ln[:9]]) == 8


def _csv(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_export_matches_what_was_recorded(year, mc, tmp_path):
    directory, truth = year
    code, out, _ = mc("export", "--data-dir", directory, "--out", tmp_path / "exp")
    assert code == 0 and out.split() == [str(tmp_path / "exp" / f) for f in
                                         ("sessions.csv", "reps.csv", "sway.csv", "walks.csv",
                                          "strides.csv", "feel.csv")]
    sessions = {int(r["session_id"]): r for r in _csv(tmp_path / "exp" / "sessions.csv")}
    assert len(sessions) == 365
    for d in truth:
        row = sessions[d.session_id]
        assert row["date"] == d.day and row["status"] == ("complete" if d.complete else "incomplete")
        assert int(row["march_reps"]) == 20
        assert float(row["march_mean_amplitude_deg"]) == pytest.approx(_rounded_mean(d.march_amplitude_deg), abs=1e-4)
        if d.complete:
            assert float(row["wall_slide_mean_depth_deg"]) == pytest.approx(_rounded_mean(d.slide_depth_deg), abs=1e-4)
            assert float(row["sway_rms"]) == pytest.approx(d.sway.rms, abs=2e-6)
        else:
            assert row["wall_slide_reps"] == "" and row["sway_rms"] == ""
        assert row["feel_score"] == ("" if d.feel is None else str(d.feel))
    reps = _csv(tmp_path / "exp" / "reps.csv")
    assert len(reps) == sum(len(d.march_amplitude_deg) + len(d.heel_toe_amplitude_deg) + len(d.slide_depth_deg)
                            for d in truth)
    slides = [r for r in reps if r["exercise"] == "wall-slide" and int(r["session_id"]) == truth[-1].session_id]
    assert [float(r["depth_deg"]) for r in slides] == [round(v, 1) for v in truth[-1].slide_depth_deg]
    assert [r["hold_met"] for r in slides] == ["yes" if h + 0.25 >= 5 else "no" for h in truth[-1].slide_hold_s]
    sway = _csv(tmp_path / "exp" / "sway.csv")
    assert len(sway) == sum(d.complete for d in truth)
    walks = {int(r["session_id"]): r for r in _csv(tmp_path / "exp" / "walks.csv")}
    assert [float(walks[d.session_id]["speed_m_s"]) for d in truth if d.complete] == [
        d.walk_speed_m_s for d in truth if d.complete]
    assert "walk" in sessions[truth[-1].session_id]["exercises"].split()
    feel = _csv(tmp_path / "exp" / "feel.csv")
    assert [(r["date"], int(r["score"])) for r in feel] == [(d.day, d.feel) for d in truth if d.feel is not None]


def test_json_export_nests_reps_and_sway_under_each_session(year, mc, tmp_path):
    directory, truth = year
    out_file = tmp_path / "export.json"
    code, out, _ = mc("export", "--format", "json", "--out", out_file, "--data-dir", directory)
    assert code == 0 and out.strip() == str(out_file)
    doc = json.loads(out_file.read_text())
    assert doc["format"] == "movecoach-export" and len(doc["sessions"]) == 365
    by_id = {s["id"]: s for s in doc["sessions"]}
    d = truth[-1]
    s = by_id[d.session_id]
    assert s["status"] == "complete" and s["date"] == d.day
    assert [r["depth_deg"] for r in s["reps"] if r["exercise"] == "wall-slide"] == [round(v, 1) for v in d.slide_depth_deg]
    assert s["sway"][0]["metrics"]["ellipse_area_95"] == pytest.approx(d.sway.ellipse_area_95, abs=2e-6)
    assert {e["exercise"]: e["reps"] for e in s["exercises"]} == {"march": 20, "heel-toe": 20, "wall-slide": 10}
    assert [(w["test"], w["speed_m_s"]) for w in s["walks"]] == [(None, d.walk_speed_m_s)]
    assert by_id[truth[20].session_id]["status"] == "incomplete"
    code, out, _ = mc("export", "--format", "json", "--out", "-", "--session", d.session_id,
                      "--data-dir", directory)
    assert [s["id"] for s in json.loads(out)["sessions"]] == [d.session_id]


def test_raw_export_writes_an_analyze_csv_of_the_balance_trial(year, mc, tmp_path):
    directory, truth = year
    d = truth[-1]
    assert d.sway_samples
    out_file = tmp_path / "sway.csv"
    code, out, _ = mc("export", "--session", d.session_id, "--raw", "--step", 3, "--out", out_file,
                      "--data-dir", directory)
    assert code == 0 and "3120 samples" in out
    assert out_file.read_text().splitlines()[0] == "t,ax,ay,az,gx,gy,gz"
    rec = read_csv(out_file)
    stored = read_samples(directory, d.session_id, step=3)
    np.testing.assert_allclose(rec.t_s, stored.t_s, atol=1e-6)
    np.testing.assert_allclose(rec.acc_m_s2, stored.acc_m_s2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rec.gyr_rad_s, stored.gyr_rad_s, rtol=1e-5, atol=1e-6)
    assert rec.fs == pytest.approx(104.0, rel=1e-3)


def _session_at(rec: Store, when: dt.datetime) -> int:
    sess = rec.start_session(device_id="dev", routine="daily", source="sim", fs=None,
                             started_at=when.timestamp())
    sess.finish(ended_at=when.timestamp() + 600)
    sess.close()
    return sess.id


def test_feel_attaches_to_the_days_latest_session_or_stands_alone(tmp_path, mc):
    day = dt.date(2026, 3, 10)
    with open_store(tmp_path, record=True) as rec:
        _session_at(rec, dt.datetime.combine(day, dt.time(8, 0)))
        latest = _session_at(rec, dt.datetime.combine(day, dt.time(17, 30)))
    code, out, _ = mc("feel", "6", "--date", day.isoformat(), "--data-dir", tmp_path)
    assert code == 0 and out == f"Saved: feeling 6/10 on Tue 10 Mar 2026 (session {latest} at 17:30).\n"
    code, out, _ = mc("feel", "8", "--note", "slept well", "--date", "2026-03-10", "--data-dir", tmp_path)
    store = open_store(tmp_path)  # a correction replaces the score, it does not add one
    assert [(e.score, e.note, e.session_id) for e in store.feel_entries()] == [(8, "slept well", latest)]
    code, out, _ = mc("feel", "4", "--date", "2026-03-11", "--data-dir", tmp_path)
    assert "no session that day" in out
    code, out, _ = mc("feel", "5", "--data-dir", tmp_path)  # today, no session
    assert code == 0 and f"on {dt.date.today():%a %d %b %Y} (no session that day" in out
    code, out, _ = mc("history", "--until", "2026-12-31", "--data-dir", tmp_path)
    lines = out.splitlines()
    assert "feel" not in lines[0] and lines[1].endswith("feel 8/10 (slept well)")
    assert lines[2] == "2026-03-11 Wed       no session; feel 4/10"
    assert compute_trends(store).weeks[0].values["feel"].mean == pytest.approx((8 + 4) / 2)


@pytest.mark.parametrize("argv, message", [
    (["history", "--since", "2024-02-30"], "bad date '2024-02-30'"),
    (["feel", "5", "--date", "next week"], "bad date 'next week'"),
    (["feel", "5", "--date", "2999-01-01"], "in the future"),
    (["export", "--session", "999999", "--raw"], "no session 999999"),
    (["export", "--raw"], "--raw needs --session"),
    (["export", "--out", "table.csv"], "give a directory"),
    (["trends", "--weeks", "0"], "--weeks must be at least 1"),
])
def test_bad_input_is_a_one_line_error(year, mc, argv, message):
    directory, _ = year
    code, out, err = mc(*argv, "--data-dir", directory)
    assert code == 2 and out == ""
    assert err.startswith("movecoach: error: ") and message in err and err.count("\n") == 1


def test_an_unwritable_export_target_is_a_one_line_error(year, mc, tmp_path):
    directory, truth = year
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for argv in (["export", "--out", blocker / "dir"],
                 ["export", "--format", "json", "--out", blocker / "x.json"],
                 ["export", "--session", truth[-1].session_id, "--raw", "--out", blocker / "raw.csv"],
                 ["report", "--out", blocker / "reports"]):
        code, _, err = mc(*argv, "--data-dir", directory)
        assert code == 2 and err.startswith("movecoach: error: cannot write") and err.count("\n") == 1


def test_an_empty_history_is_a_friendly_message(tmp_path, mc):
    for command in ("history", "trends", "report", "export"):
        code, out, err = mc(command, "--data-dir", tmp_path / "nothing")
        assert code == 0 and "No sessions recorded yet" in out and err == ""
    assert not (tmp_path / "nothing").exists()  # looking does not create anything


def test_damaged_and_interrupted_sessions_are_marked_but_never_break_review(tmp_path, mc):
    record_synthetic_history(tmp_path, days=21, seed=3, incomplete_days=(5,), sway_sample_days=(20,))
    db = tmp_path / "movecoach.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET summary = '{\"broken' WHERE id = 2")
        conn.execute("UPDATE reps SET amplitude_deg = 'garbage' WHERE id = (SELECT MIN(id) FROM reps "
                     "WHERE session_id = 3)")
        conn.execute("UPDATE samples SET acc = substr(acc, 1, 100) WHERE id = (SELECT MAX(id) FROM samples "
                     "WHERE session_id = 21)")
        conn.execute("UPDATE sessions SET complete = 0, ended_at = NULL, pid = 999999999 WHERE id = 4")
        conn.execute("UPDATE events SET data = 'not json' WHERE session_id = 4 AND kind = 'rep'")
    code, out, _ = mc("history", "--data-dir", tmp_path)
    assert code == 0
    lines = {int(ln.split("#")[1].split()[0]): ln for ln in out.splitlines() if " #" in ln}
    assert len(lines) == 21
    assert "CORRUPT (summary unreadable)" in lines[2]
    assert "CORRUPT (1 damaged march rep value(s))" in lines[3] and "march 2 sets 20 reps" in lines[3]
    assert "INCOMPLETE" in lines[4] and "INCOMPLETE" in lines[6]  # killed writer; stopped early
    assert "CORRUPT" not in lines[1] and "INCOMPLETE" not in lines[1]
    assert "with damaged data" in out.splitlines()[-1]
    assert mc("trends", "--data-dir", tmp_path)[0] == 0
    store = open_store(tmp_path)
    assert [e.data for e in store.events(4) if e.kind == "rep"][0] == {"damaged": True}
    assert len(read_samples(tmp_path, 21, step=3)) == 0  # the damaged block is skipped ...
    assert len(read_samples(tmp_path, 21, step=0)) == 104  # ... the rest of the session is there
    code, out, _ = mc("report", "--out", tmp_path / "r", "--data-dir", tmp_path)
    assert code == 0 and "Session 2" in (tmp_path / "r" / out.strip().split("/")[-1]).read_text()
    assert mc("export", "--out", tmp_path / "e", "--data-dir", tmp_path)[0] == 0


def test_history_and_trends_read_a_database_while_a_session_is_being_recorded(tmp_path, mc):
    shutil.rmtree(tmp_path, ignore_errors=True)
    with open_store(tmp_path, record=True) as rec:
        sess = rec.start_session(device_id="dev", routine="daily", source="sim", fs=104.0)
        sess.handle(from_dict("rep", time.time(), {"exercise": "march", "kind": "lift", "count": 1, "set": 1,
                                                   "amplitude_deg": 30.0}))
        sess.flush()
        code, out, _ = mc("history", "--data-dir", tmp_path)
        assert code == 0 and "march 1 set 1 rep 30°  RECORDING" in out
        assert mc("trends", "--data-dir", tmp_path)[0] == 0
