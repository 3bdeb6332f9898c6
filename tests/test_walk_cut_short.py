"""A walk the session ended in (Ctrl-C while walking, a crash, the laptop shut): its samples
are in the store, so the walk is finished from them and history shows it (movecoach.coach.recover)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from movecoach.coach.recover import recover_walks
from movecoach.coach.timed_walk import time_to
from movecoach.events import from_dict
from movecoach.review.history import history_lines
from movecoach.samples import SampleBlock
from movecoach.signal.gait import analyze_walk
from movecoach.sim import simulate
from movecoach.store import open_store

MOVECOACH = str(Path(sys.executable).with_name("movecoach"))


@pytest.fixture(scope="module")
def walk():
    return simulate("walk", fs=100.0, seed=3, duration_s=40.0)


def start_walk(store, walk, *, test: str | None = None):
    """A session that said "go" for a walk step and recorded its samples, but never its result."""
    started = time.mktime((2026, 11, 30, 10, 0, 0, 0, 0, -1))
    sess = store.start_session(device_id="dev", routine="daily", source="sim", fs=walk.fs,
                               started_at=started)
    sess.handle(from_dict("step_start", started + 1, {
        "session_id": sess.id, "device_id": "dev", "exercise": "walk", "set": 1, "sets": 1,
        "duration_s": 120.0, "test": test}))
    t_host = started + 5 + (walk.t_s - walk.t_s[0])
    sess.add_samples(SampleBlock(walk.t_s, walk.acc_m_s2, walk.gyr_rad_s, walk.fs, t_host))
    sess.flush()
    return sess


@pytest.mark.parametrize("where", ["dir", "memory:"])
def test_a_walk_stopped_midway_is_finished_from_its_samples_once(tmp_path, walk, where):
    store = open_store(tmp_path if where == "dir" else where, record=True)
    sess = start_walk(store, walk)
    assert recover_walks(store) == []  # still recording: the walk may still end
    sess.close()  # Ctrl-C: the session ends without the walk's result

    (done,) = recover_walks(store)

    expected = analyze_walk(walk.t_s, walk.acc_m_s2, walk.gyr_rad_s, fs=walk.fs)
    assert (done.session_id, done.step, done.strides) == (sess.id, 0, len(expected.strides))
    (w,) = store.session(sess.id).walks
    assert w.strides == len(expected.strides) and w.distance_m == pytest.approx(expected.distance_m, abs=0.01)
    assert len(store.strides(sess.id, 0)) == len(expected.strides)
    (event,) = [e for e in store.events(sess.id) if e.kind == "walk"]
    assert event.recovered and event.session_id == sess.id
    assert history_lines(store)[0].text.split("#1")[1].split("INCOMPLETE")[0].strip().startswith(
        f"walk {expected.distance_m:.0f} m")
    assert recover_walks(store) == []  # once only
    store.close()


def test_a_25_foot_test_cut_short_keeps_its_time_if_the_distance_was_walked(tmp_path, walk):
    with open_store(tmp_path, record=True) as store:
        start_walk(store, walk, test="25ft").close()
        recover_walks(store)
        (w,) = store.sessions()[0].walks
    strides = analyze_walk(walk.t_s, walk.acc_m_s2, walk.gyr_rad_s, fs=walk.fs).strides
    assert w.test == "25ft" and w.test_done
    assert w.test_time_s == pytest.approx(time_to(strides, 7.62), abs=0.01)


def test_ctrl_c_while_walking_keeps_the_walk_so_far_and_says_so(tmp_path):
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [MOVECOACH, "coach", "--exercise", "walk", "--duration", "300", "--no-speech",
         "--speed", "10", "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        if "1 minute:" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    assert "Your walk so far is saved:" in stdout
    with open_store(data) as store:
        (session,) = store.sessions()
    (w,) = session.walks
    assert session.status == "incomplete" and w.strides > 10 and w.distance_m > 10
    assert np.isfinite(w.speed_m_s)
