"""`movecoach demo`: the whole chain on a machine with no hardware.

Simulated wearable (firmware core + IMU simulator) -> TCP transport -> decoder -> analysis ->
speech + MQTT + recording. Without `--broker` it starts a private mosquitto on a free port.
Demo sessions are recorded in their own folder (`<data dir>/demo`) so they never mix with the
person's real history, unless `--data-dir` says otherwise.
"""

from __future__ import annotations

import argparse
import logging

from movecoach.broker import LocalBroker, find_mosquitto
from movecoach.coach import add_session_arguments, check_session_arguments, routine_from_args, run
from movecoach.paths import data_dir
from movecoach.routine import demo_routine

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run a short guided session with a simulated wearable",
                       description="A short guided session end to end, no hardware needed.")
    add_session_arguments(p, default_source="sim")
    p.set_defaults(func=cmd_demo, no_prompt=True)


def cmd_demo(args: argparse.Namespace) -> int:
    args.no_prompt = True
    if args.data_dir is None:
        args.data_dir = str(data_dir(None) / "demo")
    check_session_arguments(args)
    routine = demo_routine() if args.exercise is None else routine_from_args(args)
    if args.broker or args.mqtt_config:
        return run(args, routine, broker=args.broker)
    if find_mosquitto() is None:
        print("MQTT: mosquitto is not installed, running without MQTT (./scripts/setup installs it)")
        return run(args, routine, broker=None)
    with LocalBroker() as broker:
        print(f"MQTT: private broker on {broker.address}; watch it with "
              f"`mosquitto_sub -h {broker.host} -p {broker.port} -t 'movecoach/#' -v`")
        return run(args, routine, broker=broker.address)
