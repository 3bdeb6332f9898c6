"""Latency from the end of a rep (the simulator's ground truth) to its MQTT message at a subscriber.

Runs a real-time coached session (simulated wearable -> TCP -> decoder -> analysis -> MQTT on a
private mosquitto) and prints the median and 95th percentile. Targets: median < 150 ms, p95 < 300 ms.

    .venv/bin/python benchmarks/mqtt_latency.py [--exercise heel-toe] [--reps 10] [--speed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import numpy as np
import paho.mqtt.client as mqtt

from movecoach.coach.routine import single_exercise
from movecoach.coach.session import SessionOptions, SessionRunner
from movecoach.coach.step_sources import SimulatedWearables
from movecoach.sinks.broker import LocalBroker
from movecoach.sinks.mqtt import MqttSink


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exercise", default="heel-toe", choices=("heel-toe", "march", "wall-slide"))
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--speed", type=float, default=1.0)
    args = ap.parse_args()

    arrivals: list[tuple[float, dict]] = []
    with LocalBroker() as broker:
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="latency-probe")
        sub.on_connect = lambda c, u, f, rc, p: c.subscribe("movecoach/+/rep", qos=1)
        sub.on_message = lambda c, u, m: arrivals.append((time.time(), json.loads(m.payload)))
        sub.connect(broker.host, broker.port)
        sub.loop_start()
        source = SimulatedWearables(speed=args.speed, seed=7)
        sink = MqttSink(broker.address, device_id="latency-bench")
        routine = single_exercise(args.exercise, reps=args.reps, hold_s=None if args.exercise != "march" else 0)
        runner = SessionRunner(routine, source, [sink], device_id="latency-bench",
                               options=SessionOptions(speed=args.speed, ready_s=0.0))
        asyncio.run(runner.run())
        sink.close()
        time.sleep(0.5)
        sub.loop_stop()
        sub.disconnect()

    truth = source.served[0].recording.get().truth["reps"]
    lat, lat_detected, early = [], [], []
    for (arrived, msg), true_rep in zip(arrivals, truth, strict=False):
        lat_detected.append(arrived - msg["t_end_host"])
        early.append(true_rep["t_end"] - msg["t_end"])
        # The rep's detected end on the host clock, shifted to the true end (sensor seconds are
        # real seconds at speed 1), gives the wall time the person actually finished the rep.
        true_end_host = msg["t_end_host"] - (msg["t_end"] - true_rep["t_end"]) / args.speed
        lat.append(arrived - true_end_host)
    lat_ms = np.array(lat) * 1000
    det_ms = np.array(lat_detected) * 1000
    print(f"{args.exercise}: {len(arrivals)} rep messages for {len(truth)} true reps at speed {args.speed:g}")
    print(f"latency rep end -> MQTT subscriber: median {np.median(lat_ms):.0f} ms, "
          f"p95 {np.percentile(lat_ms, 95):.0f} ms, max {lat_ms.max():.0f} ms "
          f"(targets: median < 150 ms, p95 < 300 ms)")
    print(f"  (negative: the rep is counted before the foot/thigh is fully back at rest; detected end is "
          f"{np.median(early) * 1000:.0f} ms before the true end, median)")
    print(f"latency detected rep end -> MQTT subscriber: median {np.median(det_ms):.0f} ms, "
          f"p95 {np.percentile(det_ms, 95):.0f} ms, max {det_ms.max():.0f} ms")


if __name__ == "__main__":
    main()
