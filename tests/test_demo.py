"""`movecoach demo`: the whole chain, simulated wearable to MQTT and a recording."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt

MOVECOACH = str(Path(sys.executable).with_name("movecoach"))


class Subscriber:
    """Collects (topic, payload) from a real broker in arrival order."""

    def __init__(self, broker, topic: str):
        self.messages: list[tuple[str, dict | str]] = []
        self._ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-subscriber")
        self.client.on_connect = lambda c, u, f, rc, p: (c.subscribe(topic, qos=1), self._ready.set())
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._ready.wait(5), "subscriber did not connect"

    def _on_message(self, client, userdata, msg):
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            payload = msg.payload.decode()
        self.messages.append((msg.topic, payload))

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def test_demo_heel_toe_publishes_six_reps_in_order_then_the_summary(broker, tmp_path):
    sub = Subscriber(broker, "movecoach/#")
    try:
        out = subprocess.run(
            [MOVECOACH, "demo", "--exercise", "heel-toe", "--reps", "6", "--no-speech",
             "--broker", broker.address, "--speed", "10", "--data-dir", str(tmp_path / "data")],
            capture_output=True, text=True, timeout=180,
        )
    finally:
        sub.close()
    assert out.returncode == 0, out.stderr[-2000:]
    reps = [p for t, p in sub.messages if t == "movecoach/movecoach-sim/rep"]
    assert [r["count"] for r in reps] == [1, 2, 3, 4, 5, 6]
    assert {r["kind"] for r in reps} == {"heel_raise", "toe_raise"}
    sessions = [p for t, p in sub.messages if t == "movecoach/movecoach-sim/session"]
    assert sessions and sessions[-1]["type"] == "session_end"
    last_rep_at = max(i for i, (t, _) in enumerate(sub.messages) if t.endswith("/rep"))
    end_at = max(i for i, (t, p) in enumerate(sub.messages) if t.endswith("/session"))
    assert end_at > last_rep_at
    assert "Recording:" in out.stdout and str(tmp_path / "data") in out.stdout
