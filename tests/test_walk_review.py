"""Walks in the recording and in review: schema 3, history lines, weekly trends."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from movecoach.events import from_dict
from movecoach.review.history import history_footer, history_lines
from movecoach.review.report import build_report
from movecoach.review.trends import compute_trends, format_trends
from movecoach.store import open_store
from movecoach.store.base import Store
from movecoach.store.migrations import SCHEMA_VERSION, migrate, schema_version
from movecoach.store.paths import DB_NAME
from movecoach.store.sqlite import connect


def walk_event(*, distance: float = 150.0, speed: float = 1.25, cadence: float = 108.0,
               cv: float = 0.025, test: str | None = None, n: int = 4) -> dict:
    """A `walk` event as the session emits it (totals, bouts, strides)."""
    strides = [{"t_start": 10.0 + i * 1.1, "t_end": 10.45 + i * 1.1, "time_s": 1.1, "length_m": 1.4,
                "stance_s": 0.65, "swing_s": 0.45, "turn_deg": 2.0} for i in range(n)]
    return {"exercise": "walk", "test": test, "duration_s": 120.0, "walking_s": distance / speed,
            "distance_m": distance, "speed_m_s": speed, "cadence_spm": cadence, "strides": n,
            "stride_time_s": 1.1, "stride_time_cv": cv, "stance_frac": 0.6, "stride_length_m": 1.4,
            "turns": 3, "test_time_s": 6.2 if test == "25ft" else (120.0 if test else None),
            "test_distance_m": 7.62 if test == "25ft" else (distance if test else None),
            "test_done": True if test else None,
            "bouts": [{"t_start": 10.0, "t_end": 60.0, "strides": n, "cadence_spm": cadence,
                       "stride_time_s": 1.1, "stride_time_cv": cv, "stance_frac": 0.6,
                       "stride_length_m": 1.4, "speed_m_s": speed, "distance_m": distance, "turns": 3}],
            "stride_list": strides}


def record_walk(rec: Store, started: float, walk: dict, *, step: int = 0) -> int:
    sess = rec.start_session(device_id="dev", routine="daily", source="sim", fs=104.0,
                             started_at=started)
    for kind, data in (("step_start", {"exercise": "walk", "set": 1, "sets": 1, "step": step,
                                       "duration_s": 120.0}),
                       ("walk", walk), ("session_end", {"summary": {"walk": walk}})):
        sess.handle(from_dict(kind, started + 1, {"session_id": sess.id, "device_id": "dev", **data}))
    sess.finish(ended_at=started + 130)
    sess.close()
    return sess.id


def test_a_walk_is_recorded_with_its_bouts_and_strides_and_history_shows_it(tmp_path):
    t0 = time.mktime((2026, 11, 23, 9, 0, 0, 0, 0, -1))
    with open_store(tmp_path, record=True) as rec:
        plain = record_walk(rec, t0, walk_event(distance=151.6, speed=1.27, cadence=108.4))
        quick = record_walk(rec, t0 + 3600, walk_event(test="25ft", distance=8.4, n=6))
    store = open_store(tmp_path)
    (w,) = store.session(plain).walks
    assert (w.distance_m, w.speed_m_s, w.cadence_spm, w.strides, w.turns) == (151.6, 1.27, 108.4, 4, 3)
    assert [round(s.length_m, 2) for s in store.strides(plain)] == [1.4] * 4
    assert store.session(quick).walk_test("25ft").test_time_s == 6.2
    assert store.session(quick).test_score("25ft") == 6.2
    assert store.session(quick).walk is None  # a 25-foot walk is not followed week by week
    lines = history_lines(store)
    assert lines[0].text.endswith("walk 152 m 1.27 m/s 108 steps/min")
    assert lines[1].text.endswith("25-ft walk 6.2 s")
    assert "walks: the distance, your speed while walking (m/s) and steps a minute" in history_footer(lines)
    assert "1 set 0 reps" not in lines[0].text  # a walk is not a rep exercise


def test_a_schema_2_database_gains_the_walk_tables_and_keeps_its_sessions(tmp_path):
    conn = connect(tmp_path / DB_NAME)
    assert migrate(conn, target=2) == 2
    conn.execute("INSERT INTO sessions (device_id, routine, source, started_at, ended_at, complete, day) "
                 "VALUES ('old', 'daily', 'sim', 1700000000, 1700000600, 1, '2023-11-14')")
    conn.execute("INSERT INTO steps (session_id, step, exercise, set_no, sets, t_s) "
                 "VALUES (1, 0, 'march', 1, 1, 1700000010)")
    conn.close()
    with open_store(tmp_path, record=True) as rec:
        new = record_walk(rec, time.time(), walk_event())
    assert schema_version(connect(tmp_path / DB_NAME)) == SCHEMA_VERSION == 3
    old, walked = open_store(tmp_path).sessions()
    assert old.walks == () and old.exercise("march") is not None
    assert walked.id == new and walked.walk.distance_m == 150.0


def test_weekly_walking_speed_cadence_and_stride_time_variation_flag_a_change_beyond_noise(tmp_path):
    rng = np.random.default_rng(3)
    monday = dt.datetime(2026, 10, 5, 9, 0)
    with open_store(tmp_path, record=True) as rec:
        for week in range(4):
            for day in range(5):
                started = (monday + dt.timedelta(weeks=week, days=day)).timestamp()
                faster = week == 3  # the last week: clearly faster, the same cadence and variation
                record_walk(rec, started, walk_event(speed=(1.40 if faster else 1.10) + rng.normal(0, 0.03),
                                                     cadence=105 + rng.normal(0, 2),
                                                     cv=0.03 + rng.normal(0, 0.003)))
    trends = compute_trends(open_store(tmp_path))
    latest = trends.weeks[-1]
    assert latest.values["walk_speed"].mean > 1.3
    assert latest.vs_prev["walk_speed"].significant and latest.vs_prev["walk_speed"].better
    assert not latest.vs_prev["walk_cadence"].significant
    assert not latest.vs_prev["walk_cv"].significant
    assert 2.5 < latest.values["walk_cv"].mean < 3.5  # shown in %
    text = format_trends(trends)
    assert "walking speed (m/s)" in text and "stride-time variation (CV, %)" in text
    assert "↑ better" in text.split("walking speed (m/s)")[1].splitlines()[0]


def test_the_two_trials_of_a_25_foot_walk_show_with_their_mean(tmp_path):
    with open_store(tmp_path, record=True) as rec:
        sess = rec.start_session(device_id="dev", routine="walk-25ft", source="sim", fs=104.0)
        for trial, time_s in ((1, 6.8), (2, 6.2)):
            walk = {**walk_event(test="25ft", n=6), "trial": trial, "trials": 2, "test_time_s": time_s}
            for kind, data in (("step_start", {"exercise": "walk", "set": 1, "sets": 1, "trial": trial}),
                               ("walk", walk)):
                sess.handle(from_dict(kind, time.time(), {"session_id": sess.id, "device_id": "dev", **data}))
        sess.finish()
        sess.close()
    store = open_store(tmp_path)
    (session,) = store.sessions()
    assert [(w.step, w.trial, w.test_time_s) for w in session.walks] == [(0, 1, 6.8), (1, 2, 6.2)]
    assert session.test_score("25ft") == 6.5
    assert history_lines(store)[0].text.endswith("25-ft walk 6.8 s, 6.2 s: mean 6.5 s")
    page = build_report(store)  # the timed tests' table: the score, then each trial
    assert '<td class="text">Timed 25-foot walk</td><td>6.5 s (6.8 s, 6.2 s)</td><td>1.17</td>' in page
