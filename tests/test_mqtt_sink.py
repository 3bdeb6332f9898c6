"""The MQTT sink against a real mosquitto: topics, payloads, will, broker restarts, HA discovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from movecoach.errors import UserError
from movecoach.events import Event, from_dict
from movecoach.sinks.mqtt import MqttConfig, MqttSink, SeqFilter, load_config, parse_broker

SESSION = {"session_id": "s1", "device_id": "foot1"}


class Subscriber:
    """A paho client collecting (topic, payload, retain) for `topics`; persistent session.

    Returns once the broker has acknowledged the subscription, so nothing published after it
    can be missed (a connected client that has not yet subscribed would miss it).
    """

    def __init__(self, address: str, topics: list[str], client_id: str = "test-sub",
                 clean_session: bool = True, username: str | None = None,
                 password: str | None = None):
        host, port = address.split(":")
        self.messages: list[tuple[str, str, bool]] = []
        self.dup_flags: list[bool] = []  # the broker's DUP flag: a QoS 1 redelivery
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=clean_session)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=1)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in topics])
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(host, int(port))
        self.client.loop_start()
        if not self._subscribed.wait(10):
            self.close()
            raise AssertionError(f"the broker at {address} did not acknowledge {topics}")

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            self.messages.append((msg.topic, msg.payload.decode(), bool(msg.retain)))
            self.dup_flags.append(bool(msg.dup))

    def on(self, topic: str) -> list[str]:
        with self._lock:
            return [p for t, p, _ in self.messages if t == topic]

    def json_on(self, topic: str) -> list[dict]:
        return [json.loads(p) for p in self.on(topic)]

    def wait_for(self, predicate, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out; got {self.messages}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def rep(count: int, t_s: float = 1_760_000_000.0) -> Event:
    return from_dict("rep", t_s + count, {
        **SESSION, "exercise": "heel-toe", "kind": "heel_raise", "count": count, "set": 1,
        "amplitude_deg": 24.5, "depth_deg": None, "hold_s": 2.1, "hold_target_s": 2.0,
        "hold_met": True, "t_start": t_s + count - 2.5, "t_peak": t_s + count - 1.4,
        "t_end": t_s + count})


def test_each_event_kind_arrives_on_its_documented_topic_as_versioned_json(broker):
    sub = Subscriber(broker.address, ["movecoach/foot1/#"])
    sink = MqttSink(broker.address, device_id="foot1", reconnect_delay_s=(0.2, 1.0))
    wait_until(lambda: sink.connected)
    t0 = 1_760_000_000.0
    events = [
        from_dict("session_start", t0, {**SESSION, "routine": "morning", "steps": 2, "source": "ble"}),
        from_dict("step_start", t0 + 1, {**SESSION, "exercise": "heel-toe", "set": 1, "sets": 2,
                                         "target_reps": 10, "hold_target_s": 2.0,
                                         "placement": "on the top of the right foot"}),
        from_dict("rep_start", t0 + 2, {**SESSION, "exercise": "heel-toe", "kind": "heel_raise", "set": 1}),
        from_dict("hold_start", t0 + 2.5, {**SESSION, "exercise": "heel-toe", "kind": "heel_raise",
                                           "target_s": 2.0, "count": 1}),
        from_dict("hold_tick", t0 + 3.5, {**SESSION, "exercise": "heel-toe", "kind": "heel_raise",
                                          "held_s": 1.0, "remaining_s": 1.0}),
        from_dict("hold_done", t0 + 4.5, {**SESSION, "exercise": "heel-toe", "kind": "heel_raise",
                                          "held_s": 2.1, "target_s": 2.0}),
        rep(1, t0 + 4),
        from_dict("cue", t0 + 6, {**SESSION, "exercise": "heel-toe", "cue": "higher",
                                  "text": "Rise a little higher"}),
        from_dict("set_complete", t0 + 7, {**SESSION, "exercise": "heel-toe", "set": 1, "sets": 2, "reps": 1}),
        from_dict("sway", t0 + 8, {**SESSION, "exercise": "sway",
                                   "metrics": {"rms": 0.12, "ellipse_area_95": 0.05, "duration_s": 30.0}}),
        from_dict("session_end", t0 + 9, {**SESSION, "summary": {"duration_s": 9.0, "feel": 8},
                                          "complete": True}),
    ]
    for e in events:
        sink.handle(e)
    sub.wait_for(lambda s: s.on("movecoach/foot1/feel"))  # published right after session_end
    sink.close()

    expected_topic = {"session_start": "session", "step_start": "step", "rep_start": "rep/start",
                      "hold_start": "hold", "hold_tick": "hold", "hold_done": "hold", "rep": "rep",
                      "cue": "cue", "set_complete": "set", "sway": "sway", "session_end": "session",
                      "feel": "feel"}
    got = {}
    for topic, text, _ in sub.messages:
        if topic.endswith("/status"):
            continue
        doc = json.loads(text)
        assert topic == f"movecoach/foot1/{expected_topic[doc['type']]}"
        got[doc["type"]] = doc
    assert set(got) == set(expected_topic)
    for e in events:
        doc = got[e.kind]
        assert doc["v"] == 1 and doc["ts"] == pytest.approx(e.t_s)
        for key, value in e.data.items():
            assert doc[key] == value, (e.kind, key)
    assert got["rep"]["session_reps"] == 1
    assert (got["feel"]["score"], got["feel"]["session_id"]) == (8, "s1")  # from the summary
    seqs = [got[e.kind]["seq"] for e in events if e.kind in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert sub.on("movecoach/foot1/status")[:1] == ["online"]
    sub.close()

    # A dashboard that connects later sees the retained state: last session, sway, offline.
    late = Subscriber(broker.address, ["movecoach/foot1/#"], client_id="late")
    late.wait_for(lambda s: len(s.messages) >= 4)
    retained = {t: p for t, p, r in late.messages if r}
    assert retained["movecoach/foot1/status"] == "offline"
    assert json.loads(retained["movecoach/foot1/session"])["summary"] == {"duration_s": 9.0, "feel": 8}
    assert json.loads(retained["movecoach/foot1/feel"])["score"] == 8
    assert json.loads(retained["movecoach/foot1/sway"])["metrics"]["rms"] == 0.12
    assert "movecoach/foot1/rep" not in retained
    late.close()


RUN_SINK = textwrap.dedent("""
    import sys, time
    from movecoach.sinks.mqtt import MqttSink
    sink = MqttSink(sys.argv[1], device_id="wrist9")
    while not sink.connected:
        time.sleep(0.02)
    print("connected", flush=True)
    time.sleep(60)
""")


def test_status_is_retained_online_and_the_will_says_offline_when_the_coach_dies(broker):
    proc = subprocess.Popen([sys.executable, "-c", RUN_SINK, broker.address],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "connected"
        sub = Subscriber(broker.address, ["movecoach/wrist9/status"])
        sub.wait_for(lambda s: s.messages == [("movecoach/wrist9/status", "online", True)])
        os.kill(proc.pid, signal.SIGKILL)  # no clean disconnect: the broker sends the will
        sub.wait_for(lambda s: s.on("movecoach/wrist9/status")[-1:] == ["offline"])
        sub.close()
    finally:
        proc.kill()
        proc.wait()
    late = Subscriber(broker.address, ["movecoach/wrist9/status"], client_id="late")
    late.wait_for(lambda s: s.messages == [("movecoach/wrist9/status", "offline", True)])
    late.close()


def test_a_broker_restart_mid_session_loses_no_rep_and_repeats_none(broker):
    # A persistent subscriber (clean_session=False): the broker keeps its messages while it is away.
    sub = Subscriber(broker.address, ["movecoach/foot1/rep"], client_id="dashboard", clean_session=False)
    sink = MqttSink(broker.address, device_id="foot1", reconnect_delay_s=(0.2, 1.0))
    wait_until(lambda: sink.connected)
    for n in range(1, 6):
        sink.handle(rep(n))
    sub.wait_for(lambda s: len(s.on("movecoach/foot1/rep")) == 5)

    broker.stop()
    wait_until(lambda: not sink.connected)
    for n in range(6, 16):  # the session goes on while the broker is down
        sink.handle(rep(n))
        time.sleep(0.02)
    assert sink.pending >= 10
    broker.start()
    for n in range(16, 21):
        sink.handle(rep(n))
    wait_until(lambda: sink.pending == 0, timeout_s=20)
    sink.close()

    def unique_reps(s: Subscriber) -> list[dict]:
        seen = SeqFilter()
        return [d for d in s.json_on("movecoach/foot1/rep") if seen.accept(d)]

    sub.wait_for(lambda s: len(unique_reps(s)) >= 20, timeout_s=20)
    time.sleep(0.3)  # anything extra would arrive now
    # Every rep arrives, in order; QoS 1 is at-least-once, so the broker may re-send (DUP) the
    # ones the dashboard had not acknowledged when the broker stopped: `seq` removes them.
    assert [d["count"] for d in unique_reps(sub)] == list(range(1, 21))
    copies = [(json.loads(p)["seq"], dup) for (t, p, _), dup in zip(sub.messages, sub.dup_flags,
                                                                   strict=True)]
    first_seen: set[int] = set()
    for seq, dup in copies:
        assert seq not in first_seen or dup, "a rep was published twice, not just redelivered"
        first_seen.add(seq)
    sub.close()


def test_undelivered_messages_wait_on_disk_for_the_next_run(broker, tmp_path):
    broker.stop()
    sink = MqttSink(broker.address, device_id="foot1", queue_dir=tmp_path / "outbox")
    for n in range(1, 4):
        sink.handle(rep(n))
    sink.close(timeout_s=0.3)
    assert len((tmp_path / "outbox" / "foot1.outbox.jsonl").read_text().splitlines()) == 3

    broker.start()
    sub = Subscriber(broker.address, ["movecoach/foot1/rep"])
    again = MqttSink(broker.address, device_id="foot1", queue_dir=tmp_path / "outbox")
    again.handle(rep(4))
    sub.wait_for(lambda s: len(s.on("movecoach/foot1/rep")) == 4)
    again.close()
    docs = sub.json_on("movecoach/foot1/rep")
    assert [d["count"] for d in docs] == [1, 2, 3, 4]
    assert all(a["seq"] < b["seq"] for a, b in zip(docs, docs[1:], strict=False))
    sub.close()


def test_home_assistant_discovery_announces_retained_sensors(broker):
    sink = MqttSink(broker.address, device_id="foot1", ha_discovery=True)
    wait_until(lambda: sink.connected)
    wait_until(lambda: sink.pending == 0)
    sink.close()
    sub = Subscriber(broker.address, ["homeassistant/#"])
    sub.wait_for(lambda s: len(s.messages) >= 7)
    configs = {t: json.loads(p) for t, p, r in sub.messages if r}
    sub.close()
    reps = configs["homeassistant/sensor/foot1/last_rep_count/config"]
    assert reps["state_topic"] == "movecoach/foot1/rep"
    assert reps["value_template"] == "{{ value_json.count }}"
    assert reps["availability_topic"] == "movecoach/foot1/status"
    assert reps["device"]["identifiers"] == ["movecoach_foot1"]
    sway = configs["homeassistant/sensor/foot1/sway_rms/config"]
    assert sway["state_topic"] == "movecoach/foot1/sway" and "metrics.rms" in sway["value_template"]
    assert configs["homeassistant/sensor/foot1/feel/config"]["state_topic"] == "movecoach/foot1/feel"
    speed = configs["homeassistant/sensor/foot1/walk_speed/config"]
    assert (speed["state_topic"], speed["value_template"], speed["unit_of_measurement"]) == (
        "movecoach/foot1/walk", "{{ value_json.speed_m_s }}", "m/s")
    cadence = configs["homeassistant/sensor/foot1/walk_cadence/config"]
    assert (cadence["value_template"], cadence["unit_of_measurement"]) == (
        "{{ value_json.cadence_spm }}", "steps/min")
    unique = [c["unique_id"] for c in configs.values()]
    assert len(unique) == len(set(unique)) == 7


def test_a_walk_goes_out_live_stride_by_stride_and_its_summary_stays_retained(broker):
    sink = MqttSink(broker.address, device_id="foot1")
    wait_until(lambda: sink.connected)
    t0 = 1_760_000_000.0
    stride = {"t_start": 10.0, "t_end": 10.5, "time_s": 1.1, "length_m": 1.4, "stance_s": 0.65,
              "swing_s": 0.45, "turn_deg": 1.0}
    sub = Subscriber(broker.address, ["movecoach/foot1/walk/#"])
    sub.wait_for(lambda s: s.client.is_connected())
    time.sleep(0.2)  # the subscription is in place before the live (QoS 0) messages
    sink.handle(from_dict("walk_progress", t0, {**SESSION, "exercise": "walk", "strides": 1,
                                                "distance_m": 1.4, "elapsed_s": 10.5, "stride": stride}))
    sink.handle(from_dict("walk_minute", t0 + 60, {**SESSION, "exercise": "walk", "minute": 1,
                                                   "distance_m": 80.2, "strides": 55}))
    walk = {**SESSION, "exercise": "walk", "test": None, "distance_m": 151.6, "speed_m_s": 1.27,
            "cadence_spm": 108.4, "strides": 110, "stride_time_cv": 0.025,
            "bouts": [{"t_start": 10.0, "t_end": 130.0, "strides": 110, "distance_m": 151.6}],
            "stride_list": [stride] * 110}
    sink.handle(from_dict("walk", t0 + 121, walk))
    sub.wait_for(lambda s: s.on("movecoach/foot1/walk"))
    sink.close()
    progress = sub.json_on("movecoach/foot1/walk/progress")
    assert [p["type"] for p in progress] == ["walk_progress", "walk_minute"]
    assert progress[0]["stride"] == stride and progress[1]["distance_m"] == 80.2
    (summary,) = sub.json_on("movecoach/foot1/walk")
    assert (summary["distance_m"], summary["speed_m_s"], summary["strides"]) == (151.6, 1.27, 110)
    assert summary["bouts"][0]["strides"] == 110
    assert "stride_list" not in summary  # every stride went out live; the summary keeps totals
    sub.close()
    late = Subscriber(broker.address, ["movecoach/foot1/walk/#"], client_id="late")
    late.wait_for(lambda s: s.on("movecoach/foot1/walk"))
    time.sleep(0.2)
    assert [t for t, _, retained in late.messages if retained] == ["movecoach/foot1/walk"]
    late.close()


def test_how_you_feel_is_published_retained_and_its_note_only_when_asked_never_retained(broker, tmp_path):
    path = tmp_path / "mqtt.toml"
    path.write_text('broker = "127.0.0.1:1"\ndevice_id = "foot1"\n')
    for notes in (False, True):
        sink = MqttSink.from_config(load_config(path), broker=broker.address, notes=notes)  # --broker wins
        sink.publish_feel(7, note="legs tired", session_id="s1")
        wait_until(lambda s=sink, n=notes: s.published == 1 + n)
        sink.close()
    sub = Subscriber(broker.address, ["movecoach/foot1/feel", "movecoach/foot1/feel/note"])
    sub.wait_for(lambda s: len(s.messages) == 1)
    time.sleep(0.3)
    [(topic, payload, retained)] = sub.messages  # a later subscriber: the retained score only
    doc = json.loads(payload)
    assert (topic, doc["type"], doc["score"], retained) == ("movecoach/foot1/feel", "feel", 7, True)
    assert "note" not in doc  # before: the note was retained for any later subscriber
    sub.close()


def test_the_note_goes_live_to_a_subscriber_only_with_notes(broker):
    sub = Subscriber(broker.address, ["movecoach/foot1/#"])
    time.sleep(0.3)
    sink = MqttSink(broker.address, device_id="foot1", notes=True)
    summary = {"feel": 4, "feel_note": "dizzy after the slides", "complete": True}
    sink.handle(from_dict("session_end", 1.0, {**SESSION, "summary": summary, "complete": True}))
    wait_until(lambda: sink.pending == 0)
    sink.close()
    sub.wait_for(lambda s: s.on("movecoach/foot1/feel/note"))
    [note] = [m for m in sub.messages if m[0].endswith("/feel/note")]
    assert json.loads(note[1])["note"] == "dizzy after the slides" and note[2] is False
    [end] = sub.json_on("movecoach/foot1/session")
    assert "feel_note" not in end["summary"] and end["summary"]["feel"] == 4
    assert "note" not in sub.json_on("movecoach/foot1/feel")[0]
    sub.close()


def test_config_file_names_the_broker_and_options(tmp_path):
    path = tmp_path / "mqtt.toml"
    path.write_text('[mqtt]\nbroker = "nas.local:1884"\ndevice_id = "foot1"\nha_discovery = true\n')
    cfg = load_config(path)
    assert cfg == MqttConfig(broker="nas.local:1884", device_id="foot1", ha_discovery=True)
    path.write_text('brokr = "x"\n')
    with pytest.raises(UserError, match="unknown MQTT setting 'brokr'"):
        load_config(path)
    with pytest.raises(UserError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_broker_addresses():
    assert parse_broker("127.0.0.1:1883") == ("127.0.0.1", 1883)
    assert parse_broker("nas.local") == ("nas.local", 1883)
    assert parse_broker("mqtts://nas.local", tls=True) == ("nas.local", 8883)
    assert parse_broker("[::1]:1884") == ("::1", 1884)
    with pytest.raises(UserError, match="port"):
        parse_broker("nas.local:http")


def test_the_sinks_settings_are_mqtt_configs_fields_and_nothing_else():
    with pytest.raises(TypeError, match="unknown MQTT setting"):
        MqttSink("127.0.0.1:1", device_id="foot1", prefx="typo")


def test_every_mqtt_flag_of_the_coach_sets_a_field_of_mqtt_config():
    import argparse
    from dataclasses import fields

    from movecoach.commands.coach import MQTT_SETTING, add_session_arguments

    parser = argparse.ArgumentParser()
    add_session_arguments(parser, default_source="sim")
    args = parser.parse_args(["--mqtt-prefix", "clinic", "--mqtt-ca", "ca.pem", "--ha-discovery"])
    flags = {k[len(MQTT_SETTING):]: v for k, v in vars(args).items() if k.startswith(MQTT_SETTING)}
    assert set(flags) <= {f.name for f in fields(MqttConfig)}
    assert flags["prefix"] == "clinic" and flags["ca_certs"] == "ca.pem" and flags["ha_discovery"]
