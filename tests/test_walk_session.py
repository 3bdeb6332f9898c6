"""A walk in a live session: the simulated wearable walks, its strides reach MQTT (a real
mosquitto), the walk is recorded and history, trends and the report show it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_demo import Subscriber
from test_report import CHROMIUM, MEASURE_LAYOUT, _chromium, _console_errors, _parse
from test_session_posture import Collect

from movecoach.cli import main
from movecoach.coach.routine import single_exercise
from movecoach.coach.session import SessionOptions, SessionRunner
from movecoach.coach.step_sources import SimulatedWearables
from movecoach.review.report import write_report
from movecoach.sinks.mqtt import MqttSink
from movecoach.store import open_store

MOVECOACH = str(Path(sys.executable).with_name("movecoach"))
SPEED = 10.0


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """A 70-second walk from the simulated wearable, published to a real broker and recorded;
    (summary, events, MQTT messages, the simulator's truth, data dir)."""
    from movecoach.sinks.broker import LocalBroker

    data = tmp_path_factory.mktemp("walk-data")
    with LocalBroker(workdir=tmp_path_factory.mktemp("broker")) as broker:
        sub = Subscriber(broker, "movecoach/#")
        mqtt = MqttSink(broker.address, device_id="movecoach-sim")
        collect = Collect()
        source = SimulatedWearables(speed=SPEED, seed=4)
        with open_store(data, record=True) as recorder:
            rec = recorder.start_session(device_id="movecoach-sim", routine="walk", source="sim", fs=None)
            runner = SessionRunner(single_exercise("walk", duration_s=70.0), source, [collect, mqtt],
                                   device_id="movecoach-sim", recorder=rec,
                                   options=SessionOptions(speed=SPEED, ready_s=3.0))
            summary = asyncio.run(runner.run())
            rec.close()
        mqtt.close()
        sub.close()
    truth = source.served[0].recording.get().truth
    return summary, collect.events, sub.messages, truth, data


def test_the_walk_is_told_minute_by_minute_and_its_strides_and_distance_reach_mqtt(walked):
    summary, events, messages, truth, _ = walked
    assert summary["complete"] is True and summary["walk"]["strides"] > 30
    kinds = [e.kind for e in events]
    # "3, 2, 1, go" before the walk's samples, the minute, "stop", the result
    assert kinds.index("countdown") < kinds.index("walk_progress") < kinds.index("walk_minute")
    assert [e.data["minute"] for e in events if e.kind == "walk_minute"] == [1]
    assert [e.data["cue"] for e in events if e.kind == "cue"] == ["walk_stop"]
    walk = next(e.data for e in events if e.kind == "walk")
    live = [p for t, p in messages if t == "movecoach/movecoach-sim/walk/progress"
            and p["type"] == "walk_progress"]
    assert [p["strides"] for p in live] == list(range(1, walk["strides"] + 1))  # every stride, live
    (published,) = [p for t, p in messages if t == "movecoach/movecoach-sim/walk"]
    assert published["distance_m"] == walk["distance_m"] and "stride_list" not in published
    # the simulated person's true distance, up to the last stride the analysis found (the
    # sensor's clock and the simulation's both start with the stream)
    last_end = walk["stride_list"][-1]["t_end"]
    true_m = sum(s["length_m"] for s in truth["strides"] if s["t_end"] <= last_end + 0.3)
    assert walk["distance_m"] == pytest.approx(true_m, rel=0.05)
    assert walk["strides"] == sum(1 for s in truth["strides"] if s["t_end"] <= last_end + 0.3)
    assert 0.4 < walk["speed_m_s"] < 2.0 and 70 < walk["cadence_spm"] < 140


def test_the_walk_is_recorded_and_history_shows_it(walked, capsys):
    _, events, _, _, data = walked
    walk = next(e.data for e in events if e.kind == "walk")
    store = open_store(data)
    (session,) = store.sessions()
    assert session.walk.strides == walk["strides"] and session.walk.distance_m == walk["distance_m"]
    assert len(store.strides(session.id)) == walk["strides"]
    assert main(["history", "--data-dir", str(data)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert f"walk {walk['distance_m']:.0f} m {walk['speed_m_s']:.2f} m/s" in line
    assert main(["export", "--format", "json", "--out", "-", "--data-dir", str(data)]) == 0
    (exported,) = json.loads(capsys.readouterr().out)["sessions"][0]["walks"]
    assert exported["distance_m"] == walk["distance_m"]
    assert [s["length_m"] for s in exported["stride_list"]] == [s["length_m"] for s in walk["stride_list"]]


def test_the_report_draws_the_walk_seen_from_above_and_it_renders_in_chromium(walked, tmp_path):
    *_, data = walked
    report = write_report(open_store(data), tmp_path / "report")
    text = report.read_text(encoding="utf-8")
    assert "Walking: speed and cadence" in text and "seen from above" in text
    page = tmp_path / "measured.html"
    page.write_text(text.replace("</body>", MEASURE_LAYOUT + "</body>"), encoding="utf-8")
    run = _chromium([f"--screenshot={tmp_path / 'walk.png'}", "--window-size=1200,4000",
                     "--hide-scrollbars", "--dump-dom", page.as_uri()], tmp_path / "profile")
    assert _console_errors(run.stderr) == []
    measured = json.loads(next(a["data-measured"] for t, a in _parse(run.stdout).tags if t == "html"))
    assert measured["wider"] == 0 and measured["cut"] == 0, measured
    assert measured["drawn"] == measured["images"] == 1, measured  # the walk's path (one session: no trends)
    assert Path(CHROMIUM).exists()


def test_demo_times_a_25_foot_walk_twice_and_scores_the_mean(broker, tmp_path):
    sub = Subscriber(broker, "movecoach/+/walk")
    try:
        out = subprocess.run([MOVECOACH, "demo", "--test", "25ft", "--no-speech", "--broker",
                              broker.address, "--speed", str(SPEED), "--data-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=180)
    finally:
        sub.close()
    assert out.returncode == 0, out.stderr[-2000:]
    first, second = [p for _, p in sub.messages]
    assert [(w["test"], w["trial"], w["test_done"]) for w in (first, second)] == [
        ("25ft", 1, True), ("25ft", 2, True)]
    assert all(2.0 < w["test_time_s"] < 20.0 and w["test_distance_m"] == 7.62 for w in (first, second))
    mean = (first["test_time_s"] + second["test_time_s"]) / 2
    assert second["test_mean_s"] == pytest.approx(mean, abs=0.01)
    assert f"Timed 25-foot walk (trial 1 of 2): {first['test_time_s']:.1f} seconds" in out.stdout
    assert "Walk back to the start, turn round and stand still." in out.stdout
    assert f"Your time, the mean of your trials: {second['test_mean_s']:.1f} seconds." in out.stdout
    history = subprocess.run([MOVECOACH, "history", "--demo", "--data-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=60).stdout
    assert history.startswith(dt.date.today().isoformat())
    assert f": mean {second['test_mean_s']:.1f} s" in history


def test_a_walk_replayed_from_a_file_shorter_than_the_walk_ends_with_the_file(tmp_path):
    from movecoach.sim import save_csv, simulate

    rec = simulate("walk", fs=104.0, seed=8, duration_s=30.0)
    csv = save_csv(rec, tmp_path / "walk.csv")
    data = tmp_path / "data"
    out = subprocess.run([MOVECOACH, "coach", "--exercise", "walk", "--source", f"replay:{csv}",
                          "--speed", "50", "--no-speech", "--no-prompt", "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    (walk,) = open_store(data).walks()
    assert walk.duration_s == pytest.approx(rec.t_s[-1] - rec.t_s[0], abs=0.5)  # not the 2 minutes asked
    assert walk.strides == rec.truth["counts"]["stride"]
    assert walk.distance_m == pytest.approx(rec.truth["distance_m"], rel=0.05)
    assert f"You walked {walk.distance_m:.0f} metres in {walk.duration_s:.0f} seconds" in out.stdout


def test_an_exception_in_the_walk_analysis_is_counted_and_the_strides_either_side_are_kept(
        tmp_path, monkeypatch):
    from movecoach.coach.step_sources import SharedSource
    from movecoach.signal import gait
    from movecoach.sim import save_csv, simulate

    rec = simulate("walk", fs=104.0, seed=9, duration_s=40.0)
    csv = save_csv(rec, tmp_path / "walk.csv")
    blocks = {"n": 0}

    class FailsOnce(gait.WalkAnalyzer):
        def push(self, t_s, acc_m_s2, gyr_rad_s):
            blocks["n"] += 1
            if blocks["n"] == 200:  # mid-walk (blocks of ~8 samples)
                raise RuntimeError("a bug in the walk analysis")
            return super().push(t_s, acc_m_s2, gyr_rad_s)

    monkeypatch.setattr(gait, "WalkAnalyzer", FailsOnce)
    source = SharedSource(f"replay://{csv}?speed=0")
    collect = Collect()
    runner = SessionRunner(single_exercise("walk"), source, [collect], device_id="t",
                           options=SessionOptions(ready_s=0))

    async def run():
        try:
            return await runner.run()
        finally:
            await source.aclose()

    summary = asyncio.run(run())
    assert summary["analysis_errors"] == 1 and summary["complete"] is True
    walk = next(e.data for e in collect.events if e.kind == "walk")
    truth = rec.truth["counts"]["stride"]
    assert truth - 3 <= walk["strides"] <= truth  # a stride or two around the failure may be lost
    assert walk["stride_list"][0]["t_start"] < 10 and walk["stride_list"][-1]["t_end"] > 30
