"""The session recorder: what a session leaves in SQLite, crash safety, migrations, bad disks."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from movecoach.errors import UserError
from movecoach.events import Event, from_dict
from movecoach.samples import SampleBlock
from movecoach.store import open_store, read_samples
from movecoach.store.migrations import SCHEMA_VERSION, migrate, schema_version
from movecoach.store.paths import DB_NAME, data_dir, db_path
from movecoach.store.sqlite import connect

FS = 104.0


def _block(k0: int, n: int, t_host0: float | None = None, seed: int = 0) -> SampleBlock:
    rng = np.random.default_rng(seed + k0)
    t = (k0 + np.arange(n)) / FS
    acc = np.column_stack([np.full(n, 9.81), rng.normal(0, 0.5, n), rng.normal(0, 0.5, n)])
    gyr = rng.normal(0, 0.3, (n, 3))
    return SampleBlock(t, acc, gyr, FS, None if t_host0 is None else t_host0 + t)


def _ev(event_kind: str, t_s: float, /, **data) -> Event:
    return from_dict(event_kind, t_s, {"session_id": 1, "device_id": "dev", **data})


def _slide_rep(count: int, depth: float, hold: float, set_no: int = 1) -> dict:
    return {"exercise": "wall-slide", "kind": "slide", "count": count, "set": set_no,
            "amplitude_deg": depth, "depth_deg": depth, "hold_s": hold, "hold_target_s": 5.0,
            "hold_met": hold + 0.25 >= 5.0, "t_start": 1.0, "t_peak": 3.0, "t_end": 9.0}


def test_a_finished_session_reads_back_with_its_samples_reps_sway_and_feel(tmp_path):
    t0 = 1_700_000_000.0
    with open_store(tmp_path, record=True) as rec:
        sess = rec.start_session(device_id="dev", routine="daily", source="sim", fs=FS, started_at=t0)
        sess.handle(_ev("session_start", t0, routine="daily", steps=["wall-slide", "sway"], source="sim"))
        sess.handle(_ev("step_start", t0 + 1, exercise="wall-slide", set=1, sets=2, target_reps=2,
                        hold_target_s=5.0, placement="thigh"))
        blocks = [_block(k, 13, t0) for k in range(0, 520, 13)]
        for b in blocks:
            sess.add_samples(b)  # step=None: the step of the latest step_start (0)
        sess.handle(_ev("rep", t0 + 10, **_slide_rep(1, 50.0, 5.5)))
        sess.handle(_ev("rep", t0 + 20, **_slide_rep(2, 54.0, 3.0)))
        sess.handle(_ev("step_start", t0 + 30, exercise="wall-slide", set=2, sets=2, target_reps=2,
                        hold_target_s=5.0, placement="thigh"))
        sess.handle(_ev("rep", t0 + 40, **_slide_rep(1, 58.0, 6.0, set_no=2)))
        sess.handle(_ev("step_start", t0 + 50, exercise="sway", set=1, sets=1, target_reps=None,
                        hold_target_s=None, placement="lower-back"))
        sway_block = _block(1000, 104, t0)
        sess.add_samples(sway_block, step=1)
        metrics = {"rms_ap": 0.1, "rms_ml": 0.08, "rms": 0.128, "range_ap": 0.5, "range_ml": 0.4,
                   "path_length": 12.0, "mean_velocity": 0.4, "jerk": 3.0, "ellipse_area_95": 0.15,
                   "centroid_freq_ap": 0.4, "centroid_freq_ml": 0.5, "duration_s": 30.0}
        sess.handle(_ev("sway", t0 + 85, exercise="sway", metrics=metrics))
        sess.set_feel(7, "a bit tired")
        sess.handle(_ev("session_end", t0 + 90, summary={"complete": True, "reps": 3}, complete=True))
        sess.finish({"complete": True, "reps": 3}, ended_at=t0 + 90)
        sid = sess.id

    store = open_store(tmp_path)
    (s,) = store.sessions()
    assert (s.id, s.status, s.device_id, s.routine, s.fs) == (sid, "complete", "dev", "daily", FS)
    assert s.ended_at == pytest.approx(t0 + 90)
    assert s.n_samples == 520 + 104
    slide = s.exercise("wall-slide")
    assert (slide.sets, slide.reps, slide.holds_met, slide.holds_total) == (2, 3, 2, 3)
    assert slide.mean_depth_deg == pytest.approx((50 + 54 + 58) / 3)
    assert s.sway.rms == pytest.approx(0.128) and s.sway_trials == 1
    assert (s.feel_score, s.feel_note) == (7, "a bit tired")
    assert store.summary(sid) == {"complete": True, "reps": 3}
    assert [e.kind for e in store.events(sid)] == ["session_start", "step_start", "rep", "rep",
                                                   "step_start", "rep", "step_start", "sway", "session_end"]
    (trial,) = store.sway_trials()
    assert trial.step == 1  # the sway row points at the samples of its step
    sway_back = read_samples(tmp_path, sid, step=trial.step)
    np.testing.assert_array_equal(sway_back.t_s, sway_block.t_s)
    np.testing.assert_allclose(sway_back.acc_m_s2, sway_block.acc_m_s2, rtol=1e-6)  # float32
    slide_back = read_samples(tmp_path, sid, step=0)
    whole = SampleBlock.concat(blocks)
    np.testing.assert_array_equal(slide_back.t_s, whole.t_s)
    np.testing.assert_allclose(slide_back.gyr_rad_s, whole.gyr_rad_s, rtol=1e-6)
    np.testing.assert_array_equal(slide_back.t_host_s, whole.t_host_s)
    assert len(read_samples(tmp_path / DB_NAME, sid)) == 624 and slide_back.fs == FS


KILL_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from movecoach.events import from_dict
    from movecoach.store import open_store
    from movecoach.samples import SampleBlock

    fs, n = 104.0, 8
    rec = open_store(sys.argv[1], record=True)
    sess = rec.start_session(device_id="kill-test", routine="daily", source="sim", fs=fs)
    t0 = time.time()
    sess.handle(from_dict("step_start", t0, {"exercise": "march", "set": 1, "sets": 1}))
    print(sess.id, flush=True)
    k = reps = 0
    while True:
        t = (k + np.arange(n)) / fs
        time.sleep(max(0.0, t0 + t[-1] - time.time()))  # a sample is sent after it was measured
        acc = np.column_stack([np.full(n, 9.81), np.sin(t), np.cos(t)])
        sess.add_samples(SampleBlock(t, acc, np.zeros((n, 3)), fs, t0 + t), step=0)
        k += n
        if k // 52 > reps:  # a rep every half second
            reps += 1
            sess.handle(from_dict("rep", time.time(), {"exercise": "march", "kind": "lift", "count": reps,
                                                       "set": 1, "amplitude_deg": 30.0}))
""")


def test_sigkill_mid_session_loses_at_most_the_last_second_and_reads_back_incomplete(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(KILL_CHILD)
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path / "data")],
                             stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        session_id = int(child.stdout.readline())
        time.sleep(2.5)
        killed_at = time.time()
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()

    block = read_samples(tmp_path / "data", session_id)
    assert len(block) > 150  # ~2.5 s were streamed at 104 Hz
    lost_s = killed_at - float(block.t_host_s[-1])
    assert 0.0 <= lost_s <= 1.0, f"lost {lost_s:.2f} s of samples"
    np.testing.assert_allclose(np.diff(block.t_s), 1 / FS, rtol=1e-9)  # whole, ordered blocks
    store = open_store(tmp_path / "data")
    (s,) = store.sessions()
    assert s.status == "incomplete" and not s.corrupt
    reps = store.reps(session_ids=[session_id])
    assert killed_at - reps[-1].t_s <= 1.0 and [r.count for r in reps] == list(range(1, len(reps) + 1))
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_samples_are_committed_within_a_second_without_finish_or_close(tmp_path):
    rec = open_store(tmp_path, record=True)
    sess = rec.start_session(device_id="dev", routine="daily", source="sim", fs=FS)
    sess.add_samples(_block(0, 52))
    deadline = time.monotonic() + 1.0
    seen = 0
    while time.monotonic() < deadline and seen < 52:
        time.sleep(0.05)
        seen = len(read_samples(tmp_path, sess.id))  # another connection, as after a crash
    assert seen == 52
    # while the writing process is alive the session shows as being recorded
    assert open_store(tmp_path).session(sess.id).status == "recording"
    sess.close()  # without finish(): the session stays incomplete
    assert open_store(tmp_path).session(sess.id).status == "incomplete"
    rec.close()


def test_a_version_1_database_is_migrated_in_place_and_keeps_its_sessions(tmp_path):
    path = tmp_path / DB_NAME
    conn = connect(path)
    assert migrate(conn, target=1) == 1
    conn.execute("INSERT INTO sessions (device_id, routine, source, fs, started_at, ended_at, complete)"
                 " VALUES ('old-dev', 'daily', 'ble:x', 104, 1700000000, 1700000600, 1)")
    conn.execute("INSERT INTO reps (session_id, step, exercise, kind, count, set_no, amplitude_deg, "
                 "depth_deg, hold_s, hold_target_s, hold_met, t_s) "
                 "VALUES (1, 0, 'wall-slide', 'slide', 1, 1, 50, 50, 5.2, 5, 1, 1700000100)")
    b = _block(0, 10)
    conn.execute("INSERT INTO samples (session_id, step, n, fs, t, acc, gyr) VALUES (1, 0, 10, 104, ?, ?, ?)",
                 (b.t_s.tobytes(), b.acc_m_s2.astype("<f4").tobytes(), b.gyr_rad_s.astype("<f4").tobytes()))
    conn.close()

    with open_store(tmp_path, record=True) as rec:  # migrates to the current version
        sess = rec.start_session(device_id="new-dev", routine="daily", source="sim", fs=FS)
        sess.set_feel(6)
        sess.finish()
    assert schema_version(connect(path)) == SCHEMA_VERSION
    old, new = open_store(tmp_path).sessions()
    assert old.device_id == "old-dev" and old.status == "complete" and old.n_samples == 10
    assert old.day == time.strftime("%Y-%m-%d", time.localtime(1700000000))
    assert old.exercise("wall-slide").mean_depth_deg == 50 and old.exercise("wall-slide").holds_met == 1
    assert new.feel_score == 6 and new.status == "complete"
    np.testing.assert_allclose(read_samples(tmp_path, old.id).acc_m_s2, b.acc_m_s2, rtol=1e-6)


def test_a_database_from_a_newer_movecoach_is_refused_with_a_clear_message(tmp_path):
    conn = connect(tmp_path / DB_NAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(UserError, match="newer movecoach"):
        open_store(tmp_path, record=True)


def test_an_unwritable_data_dir_fails_before_the_session_starts(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(UserError, match=r"^cannot write to .*a-file"):
        open_store(blocker / "movecoach", record=True)


def test_a_full_disk_fails_before_the_session_starts(tmp_path):
    # more free space than any disk has: the same check a nearly full disk fails
    with pytest.raises(UserError, match=r"cannot write to .*: disk full \(\d+ MB free, need \d+ MB\)"):
        open_store(tmp_path, record=True, min_free_mb=1e12)


def test_a_damaged_database_file_is_a_one_line_user_error(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError, match="cannot"):
        open_store(tmp_path)


def test_how_you_feel_is_replaced_not_duplicated(tmp_path):
    with open_store(tmp_path, record=True) as rec:
        sess = rec.start_session(device_id="dev", routine="daily", source="sim", fs=None)
        sess.set_feel(4)
        sess.set_feel(8, "better after a rest")
        sess.finish()
    store = open_store(tmp_path)
    assert [(e.score, e.note) for e in store.feel_entries()] == [(8, "better after a rest")]
    with pytest.raises(UserError, match="1-10"):
        sess.set_feel(11)


def test_odd_event_values_are_stored_without_breaking_the_session(tmp_path):
    with open_store(tmp_path, record=True) as rec:
        sess = rec.start_session(device_id="dev", routine="daily", source="sim", fs=FS)
        sess.handle(_ev("rep", 1.0, exercise="march", kind="lift", count=1, set=1,
                        amplitude_deg=np.float32(31.5), hold_s=float("nan"), hold_met=None))
        sess.handle(_ev("cue", 2.0, exercise="march", cue="shallow", text="Go a little higher"))
        sess.finish()
    store = open_store(tmp_path)
    (rep,) = store.reps()
    assert rep.amplitude_deg == pytest.approx(31.5) and rep.hold_s is None
    assert json.loads(json.dumps(store.events(1)[0].data))["amplitude_deg"] == pytest.approx(31.5)


def test_data_dir_follows_the_option_then_movecoach_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MOVECOACH_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert data_dir(None) == tmp_path / "home" / ".local" / "share" / "movecoach"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert data_dir(None) == tmp_path / "home" / ".local" / "share" / "movecoach"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir(None) == tmp_path / "xdg" / "movecoach"
    monkeypatch.setenv("MOVECOACH_DATA_DIR", str(tmp_path / "mc"))
    assert data_dir(None) == tmp_path / "mc"
    assert data_dir(str(tmp_path / "opt")) == tmp_path / "opt"
    assert db_path(tmp_path / "opt") == tmp_path / "opt" / DB_NAME
    assert db_path(Path("x/my.sqlite")) == Path("x/my.sqlite")


def test_a_disk_that_fills_up_mid_session_is_reported_and_the_session_stays_readable(tmp_path, monkeypatch):
    import movecoach.store.sqlite as sqlite_store

    rec = open_store(tmp_path, record=True)
    real_connect = sqlite_store.connect

    def nearly_full(path, **kwargs):  # SQLite's own "database or disk is full" (SQLITE_FULL)
        conn = real_connect(path, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 1}")
        return conn

    monkeypatch.setattr(sqlite_store, "connect", nearly_full)
    sess = rec.start_session(device_id="dev", routine="daily", source="sim", fs=FS)
    monkeypatch.setattr(sqlite_store, "connect", real_connect)
    for k in range(0, 2080, 8):  # 20 s of samples: far more than one free page
        sess.add_samples(_block(k, 8))  # never raises into the analysis
    sess.handle(_ev("rep", 1.0, exercise="march", kind="lift", count=1, set=1, amplitude_deg=30.0))
    with pytest.raises(UserError, match=r"cannot write to .*full"):
        sess.finish()
    assert isinstance(sess.error, sqlite3.OperationalError)
    sess.close()
    rec.close()
    (s,) = open_store(tmp_path).sessions()  # nothing after the start could be saved ...
    assert s.n_samples == 0 and s.ended_at is None and s.status != "complete"
    assert s.status == "recording"  # ... and this process is alive: incomplete once it is gone
