"""A session survives the wearable's link dropping mid-set: it reconnects, counts on, records the gap."""

import asyncio
import threading
import time

from movecoach.coach.routine import single_exercise
from movecoach.coach.session import SessionOptions, SessionRunner
from movecoach.coach.step_sources import SharedSource
from movecoach.sim.wearable import serve_simulated


class Collect:
    def __init__(self, on_event=None):
        self.events = []
        self.on_event = on_event

    def handle(self, event):
        self.events.append(event)
        if self.on_event:
            self.on_event(event)

    def close(self):
        pass


def test_link_drop_mid_set_reconnects_and_the_set_still_completes():
    wearable = serve_simulated("march", reps=8, speed=4, seed=3)
    port = wearable.port
    restarted = []

    def drop_after_second_rep(event):
        if event.kind == "rep" and event.data["count"] == 2 and not restarted:
            def restart():
                wearable.stop()  # the sensor vanishes (out of range, battery swap)
                time.sleep(1.0)
                restarted.append(serve_simulated("march", reps=8, port=port, speed=4, seed=4))
            threading.Thread(target=restart, daemon=True).start()

    sink = Collect(drop_after_second_rep)
    source = SharedSource(f"tcp://127.0.0.1:{port}")
    runner = SessionRunner(single_exercise("march", reps=5), source, [sink], device_id="test",
                           options=SessionOptions(speed=4, ready_s=0))

    async def run():
        try:
            return await runner.run()
        finally:
            await source.aclose()

    try:
        summary = asyncio.run(asyncio.wait_for(run(), 120))
    finally:
        for w in [wearable, *restarted]:
            w.stop()
    kinds = [e.kind for e in sink.events]
    links = [e.data["state"] for e in sink.events if e.kind == "link"]
    assert links[:2] == ["lost", "restored"]
    assert [e.data["count"] for e in sink.events if e.kind == "rep"] == [1, 2, 3, 4, 5]
    assert kinds[-1] == "session_end" and summary["complete"] is True
    restored = next(e for e in sink.events if e.kind == "link" and e.data["state"] == "restored")
    assert restored.data["gap_s"] >= 0.9
