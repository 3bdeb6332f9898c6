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
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._ready.set()  # acknowledged
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._ready.wait(10), "the broker did not acknowledge the subscription"

    def _on_message(self, client, userdata, msg):
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            payload = msg.payload.decode()
        self.messages.append((msg.topic, payload))

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def test_demo_heel_toe_publishes_three_of_each_in_order_then_the_summary(broker, tmp_path):
    sub = Subscriber(broker, "movecoach/#")
    data = tmp_path / "data"
    try:
        out = subprocess.run(
            [MOVECOACH, "demo", "--exercise", "heel-toe", "--reps", "3", "--no-speech",
             "--broker", broker.address, "--speed", "10", "--data-dir", str(data)],
            capture_output=True, text=True, timeout=180,
        )
    finally:
        sub.close()
    assert out.returncode == 0, out.stderr[-2000:]
    reps = [p for t, p in sub.messages if t == "movecoach/movecoach-sim/rep"]
    # --reps 3 is 3 of each movement: 3 heel raises and 3 toe raises, counted 1 to 6
    assert [r["count"] for r in reps] == [1, 2, 3, 4, 5, 6]
    assert [r["kind"] for r in reps].count("heel_raise") == 3
    assert "3 heel raises and 3 toe raises, alternating" in out.stdout
    sessions = [p for t, p in sub.messages if t == "movecoach/movecoach-sim/session"]
    assert sessions and sessions[-1]["type"] == "session_end"
    last_rep_at = max(i for i, (t, _) in enumerate(sub.messages) if t.endswith("/rep"))
    end_at = max(i for i, (t, p) in enumerate(sub.messages) if t.endswith("/session"))
    assert end_at > last_rep_at
    countdown = [p["seconds"] for t, p in sub.messages if p != "online" and isinstance(p, dict)
                 and p.get("type") == "countdown"]
    assert countdown == [3, 2, 1, 0]  # "starting in 3, 2, 1, go" before the set

    # the summary once, then where the session went and what to do next
    lines = out.stdout.splitlines()
    assert sum("Session complete" in ln for ln in lines) == 1
    assert f"Saved as session 1 in {data / 'demo' / 'movecoach.sqlite'}." in lines
    assert f"  movecoach history --demo --data-dir {data}" in out.stdout
    assert "movecoach scan" in out.stdout and "movecoach coach --source ble:NAME" in out.stdout

    # the review finds it with --demo; without, it says where demo sessions are kept
    shown = subprocess.run([MOVECOACH, "history", "--demo", "--data-dir", str(data)],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "heel-toe 1 set 6 reps" in shown.stdout
    own = subprocess.run([MOVECOACH, "history", "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=60)
    assert own.stdout.splitlines()[0].startswith("No sessions recorded yet")
    assert own.stdout.splitlines()[1] == (
        f"1 demo session is kept apart from your own, in {data / 'demo'}: see it with "
        f"`movecoach history --demo --data-dir {data}`.")
