"""The storage interface is whole: the SQLite store and the in-memory store record the same
session and give back the same sessions, rows, events, feel entries and samples."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from movecoach.errors import UserError
from movecoach.events import Event, from_dict
from movecoach.samples import SampleBlock
from movecoach.store import open_store, read_samples, store_scheme
from movecoach.store.base import Store
from movecoach.store.memory import MemoryStore
from movecoach.store.sqlite import SqliteStore

FS = 104.0
T0 = 1_760_000_000.0  # a Thursday morning, 2025-10-09
SWAY = {"rms_ap": 0.1, "rms_ml": 0.08, "rms": 0.128, "range_ap": 0.5, "range_ml": 0.4,
        "path_length": 12.0, "mean_velocity": 0.4, "jerk": 3.0, "ellipse_area_95": 0.15,
        "centroid_freq_ap": 0.4, "centroid_freq_ml": 0.5, "duration_s": 30.0}
WALK = {"exercise": "walk", "test": None, "trial": 1, "duration_s": 120.0, "walking_s": 110.0,
        "distance_m": 140.0, "speed_m_s": 1.27, "cadence_spm": 108.0, "strides": 2,
        "stride_time_s": 1.1, "stride_time_cv": 0.03, "stance_frac": 0.61, "stride_length_m": 1.4,
        "turns": 1, "test_time_s": None, "test_distance_m": None, "test_done": None,
        "bouts": [{"t_start": 1.0, "t_end": 111.0, "strides": 2, "cadence_spm": 108.0,
                   "speed_m_s": 1.27, "distance_m": 140.0, "turns": 1}],
        "stride_list": [{"t_start": 1.0, "t_end": 2.1, "time_s": 1.1, "length_m": 1.4,
                         "stance_s": 0.67, "swing_s": 0.43, "turn_deg": 2.0},
                        {"t_start": 2.1, "t_end": 3.2, "time_s": 1.1, "length_m": 1.41,
                         "stance_s": 0.66, "swing_s": 0.44, "turn_deg": -1.0}]}


@pytest.fixture(params=["sqlite", "memory"])
def store(request, tmp_path):
    """An empty store of each kind, open for recording."""
    location = tmp_path / "data" if request.param == "sqlite" else "memory:"
    with open_store(location, record=True, min_free_mb=1.0, commit_interval_s=0.05) as s:
        yield s


def _block(k0: int, n: int, seed: int = 0) -> SampleBlock:
    """n samples from sample k0 at FS: t_s s, acc m/s^2, gyr rad/s, t_host unix s."""
    rng = np.random.default_rng(seed + k0)
    t = (k0 + np.arange(n)) / FS
    acc = np.column_stack([np.full(n, 9.81), rng.normal(0, 0.5, n), rng.normal(0, 0.5, n)])
    return SampleBlock(t, acc, rng.normal(0, 0.3, (n, 3)), FS, T0 + t)


def _ev(event_kind: str, t_s: float, /, **data) -> Event:
    return from_dict(event_kind, t_s, {"session_id": 1, "device_id": "dev", **data})


def record_a_day(store: Store) -> tuple[int, int]:
    """A finished session (marches, a balance trial, a walk, raw samples, feel) and an unfinished
    one the next day; then a standalone feel entry. Returns the two session ids."""
    sess = store.start_session(device_id="dev", routine="daily", source="sim", fs=FS, started_at=T0)
    sess.handle(_ev("session_start", T0, routine="daily", steps=["march", "sway", "walk"]))
    sess.handle(_ev("step_start", T0 + 1, exercise="march", set=1, sets=2, target_reps=2,
                    placement="thigh"))
    for k in range(0, 208, 26):
        sess.add_samples(_block(k, 26))
    for count, amp in ((1, 30.0), (2, 34.0)):
        sess.handle(_ev("rep", T0 + 5 + count, exercise="march", kind="lift", count=count, set=1,
                        amplitude_deg=amp, t_start=count, t_peak=count + 0.4, t_end=count + 0.9))
    sess.handle(_ev("step_start", T0 + 10, exercise="march", set=2, sets=2, target_reps=2))
    sess.handle(_ev("rep", T0 + 11, exercise="march", kind="lift", count=1, set=2, amplitude_deg=32.0))
    sess.handle(_ev("cue", T0 + 12, exercise="march", cue="shallow", text="Lift a little higher"))
    sess.handle(_ev("step_start", T0 + 20, exercise="sway", set=1, sets=1, placement="lower-back"))
    sess.add_samples(_block(1000, 104, seed=1), step=1)
    sess.handle(_ev("sway", T0 + 50, exercise="sway", metrics=SWAY))
    sess.handle(_ev("step_start", T0 + 60, exercise="walk", set=1, sets=1, placement="foot"))
    sess.add_samples(_block(2000, 52, seed=2), step=2)
    sess.handle(_ev("walk", T0 + 180, **WALK))
    sess.set_feel(7, "a bit tired")
    sess.handle(_ev("session_end", T0 + 190, summary={"complete": True, "reps": 3}, complete=True))
    sess.finish({"complete": True, "reps": 3}, ended_at=T0 + 190)

    later = store.start_session(device_id="dev", routine="daily", source="sim", fs=FS,
                                started_at=T0 + 86400)
    later.handle(_ev("step_start", T0 + 86401, exercise="march", set=1, sets=1, target_reps=5))
    later.handle(_ev("rep", T0 + 86405, exercise="march", kind="lift", count=1, set=1, amplitude_deg=28.0))
    later.flush()
    store.set_feel(5, note="rest day", day="2025-10-12")
    return sess.id, later.id


def test_a_recorded_day_reads_back_whole(store):
    done, later = record_a_day(store)
    assert not store.empty
    first, second = store.sessions()
    assert (first.id, first.status, first.device_id, first.routine, first.fs) == (done, "complete", "dev", "daily", FS)
    assert (first.day, first.ended_at, first.n_samples) == ("2025-10-09", T0 + 190, 208 + 104 + 52)
    march = first.exercise("march")
    assert (march.sets, march.reps, march.mean_amplitude_deg) == (2, 3, pytest.approx(32.0))
    assert [e.exercise for e in first.exercises] == ["march"]  # sway and walk: their own tables
    assert first.sway.rms == pytest.approx(0.128) and first.sway_trials == 1
    assert (first.feel_score, first.feel_note, first.corrupt) == (7, "a bit tired", False)
    assert first.walk.distance_m == 140.0 and first.walk.strides == 2 and first.walk.trial == 1
    assert (second.id, second.status, second.reps, second.sway) == (later, "recording", 1, None)
    assert store.summary(done) == {"complete": True, "reps": 3} and store.summary(later) is None

    assert [(s.step, s.exercise, s.set_no, s.sets) for s in store.steps(done)] == [
        (0, "march", 1, 2), (0, "march", 2, 2), (1, "sway", 1, 1), (2, "walk", 1, 1)]
    assert [(r.session_id, r.count, r.set_no, r.amplitude_deg) for r in store.reps()] == [
        (done, 1, 1, 30.0), (done, 2, 1, 34.0), (done, 1, 2, 32.0), (later, 1, 1, 28.0)]
    assert store.reps(session_ids=[later], exercise="march")[0].t_s == T0 + 86405
    assert store.reps(exercise="heel-toe") == []
    (trial,) = store.sway_trials(session_ids=[done])
    assert (trial.step, trial.day, trial.metrics.path_length) == (1, "2025-10-09", 12.0)
    (walk,) = store.walks()
    assert (walk.step, walk.speed_m_s, walk.test, walk.test_done) == (2, 1.27, None, None)
    assert [s.length_m for s in store.strides(done)] == [1.4, 1.41] == [s.length_m for s in store.strides(done, 2)]
    assert store.strides(done, 0) == []
    assert store.sample_steps() == {(done, 0), (done, 1), (done, 2)}
    kinds = [e.kind for e in store.events(done)]
    assert kinds[:3] == ["session_start", "step_start", "rep"] and kinds[-1] == "session_end"
    assert store.events(done)[6].data["text"] == "Lift a little higher"

    assert [(f.day, f.score, f.session_id) for f in store.feel_entries()] == [
        ("2025-10-09", 7, done), ("2025-10-12", 5, None)]
    assert store.feel_by_day()["2025-10-12"].note == "rest day"

    whole = SampleBlock.concat([_block(k, 26) for k in range(0, 208, 26)])
    back = store.read_samples(done, 0)
    np.testing.assert_array_equal(back.t_s, whole.t_s)
    np.testing.assert_array_equal(back.t_host_s, whole.t_host_s)
    np.testing.assert_allclose(back.acc_m_s2, whole.acc_m_s2, rtol=1e-6)  # kept as float32
    assert back.fs == FS and len(store.read_samples(done)) == 364 and len(store.read_samples(later)) == 0


def test_queries_select_by_day_exercise_and_id(store):
    done, later = record_a_day(store)
    assert [s.id for s in store.sessions(since="2025-10-10")] == [later]
    assert [s.id for s in store.sessions(until="2025-10-09")] == [done]
    assert [s.id for s in store.sessions(exercise="sway")] == [done]
    assert [s.id for s in store.sessions(exercise="march")] == [done, later]
    assert [s.id for s in store.sessions(ids=[later])] == [later] and store.sessions(ids=[]) == []
    assert store.session(done).id == done
    with pytest.raises(UserError, match="no session 99"):
        store.session(99)
    with pytest.raises(UserError, match="no session 99"):
        store.read_samples(99)


def test_how_you_feel_attaches_to_the_days_latest_session_and_is_corrected_not_added(store):
    done, _ = record_a_day(store)
    entry = store.set_feel(9, note="much better", day="2025-10-09")
    assert entry.session_id == done
    assert store.session(done).feel_score == 9
    store.set_feel(4, day="2025-10-12")
    assert [(f.day, f.score) for f in store.feel_entries()] == [("2025-10-09", 9), ("2025-10-12", 4)]
    with pytest.raises(UserError, match="1-10"):
        store.set_feel(0)


def test_a_session_discarded_before_its_first_sample_leaves_no_trace(store):
    sess = store.start_session(device_id="dev", routine="daily", source="ble:x", fs=None)
    sess.handle(_ev("session_start", time.time(), routine="daily"))
    sess.discard()
    assert store.sessions() == [] and store.events(sess.id) == []


def test_both_stores_give_the_same_answers(tmp_path):
    def answers(store: Store) -> dict:
        done, later = record_a_day(store)
        no_time = {"created_at": 0.0}
        return {
            "sessions": store.sessions(), "summary": store.summary(done),
            "steps": store.steps(done) + store.steps(later), "reps": store.reps(),
            "sway": store.sway_trials(), "walks": store.walks(), "strides": store.strides(done),
            "sample_steps": store.sample_steps(), "events": store.events(done) + store.events(later),
            "feel": [dataclasses.replace(f, **no_time) for f in store.feel_entries()],
            "feel_by_day": {d: dataclasses.replace(f, **no_time) for d, f in store.feel_by_day().items()},
            "samples": [store.read_samples(done, step).t_s.tolist() for step in (None, 0, 1, 2)],
        }

    with open_store(tmp_path / "data", record=True, min_free_mb=1.0) as on_disk, \
            open_store("memory:") as in_memory:
        assert answers(on_disk) == answers(in_memory)


def test_a_location_names_its_store_and_a_missing_kind_says_so_in_one_line(tmp_path):
    assert isinstance(open_store("memory:"), MemoryStore)
    assert open_store("memory:") is not open_store("memory:")  # no state shared between tests
    assert isinstance(open_store(tmp_path), SqliteStore) and open_store(tmp_path).empty
    assert open_store(f"sqlite:{tmp_path / 'my.sqlite'}", create=True).location == str(tmp_path / "my.sqlite")
    assert store_scheme(tmp_path / "data:2025") == "sqlite"  # a colon in a file name is a path
    with pytest.raises(UserError) as err:
        open_store("postgresql://coach:s3cret@clinic-db/movecoach")
    message = str(err.value)
    assert message.startswith("postgresql://clinic-db/movecoach: no PostgreSQL store is installed")
    assert "s3cret" not in message and "\n" not in message
    with pytest.raises(UserError, match="no redis store"):
        open_store("redis://localhost/0")
    with pytest.raises(UserError, match="no database at"):
        read_samples(tmp_path / "nothing-here", 1)


def test_the_commands_take_a_store_by_db(tmp_path, capsys):
    from movecoach import cli

    clinic = tmp_path / "clinic" / "anna.sqlite"
    with open_store(clinic, record=True, min_free_mb=1.0) as store:
        record_a_day(store)
    assert cli.main(["history", "--db", str(clinic)]) == 0
    out = capsys.readouterr().out
    assert "#1" in out and "#2" in out and "march 2 sets 3 reps" in out
    assert cli.main(["feel", "8", "--date", "2025-10-10", "--db", str(clinic)]) == 0
    assert open_store(clinic).feel_by_day()["2025-10-10"].score == 8
    assert cli.main(["history", "--db", "postgresql://coach:s3cret@clinic-db/movecoach"]) == 2
    err = capsys.readouterr().err
    assert "no PostgreSQL store is installed" in err and "s3cret" not in err and err.count("\n") == 1


def test_only_the_sqlite_store_speaks_sqlite():
    # review, replay and the coach see the interface: a new store is one module, no rewrite
    import re
    from pathlib import Path

    import movecoach

    host = Path(movecoach.__file__).parent
    speaking = sorted(str(p.relative_to(host)) for p in host.rglob("*.py")
                      if re.search(r"^(import sqlite3|from sqlite3 )", p.read_text(), re.M))
    assert speaking == ["store/sqlite.py"]
