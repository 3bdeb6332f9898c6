"""`movecoach demo`: the whole chain on a machine with no hardware.

Simulated wearable (firmware core + IMU simulator) -> TCP transport -> decoder -> analysis ->
speech + MQTT + recording. Without `--broker` it starts a private mosquitto on a free port.

Demo sessions are recorded in their own folder, ``<data dir>/demo``, so a simulated person's
exercise never mixes with the person's own history, trends, reports and exports (nor takes a
how-you-feel score meant for a real session). The review commands show them with ``--demo``, the
demo's last lines say so, and an empty review points at them.
"""

from __future__ import annotations

import argparse
import logging
import shlex

from movecoach.coach.routine import demo_routine
from movecoach.commands.coach import (
    add_session_arguments,
    check_session_arguments,
    routine_from_args,
    run,
)
from movecoach.sinks.broker import LocalBroker, find_mosquitto
from movecoach.sinks.console import say
from movecoach.store.paths import demo_data_dir

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run a short guided session with a simulated wearable",
                       description="A short guided session end to end, no hardware needed: a "
                       "simulated wearable, live counts (spoken when there is a sound device), "
                       "MQTT and a recording kept apart from your own sessions.")
    add_session_arguments(p, default_source="sim", demo=True)
    p.set_defaults(func=cmd_demo, no_prompt=True)


def next_steps(data_dir_option: str | None, db: str | None = None) -> str:
    """The demo's last lines: where its sessions are (DATA_DIR/demo, or --db) and what next."""
    extra = f" --data-dir {shlex.quote(data_dir_option)}" if data_dir_option else ""
    read = f" --db {shlex.quote(db)}" if db else f" --demo{extra}"
    rows = [
        (f"movecoach history{read}", "the demo sessions, one line each"),
        (f"movecoach report{read} --open", "a report with plots, in your web browser"),
        ("movecoach scan", "find your own wearable (hardware.md: how to build one)"),
        (f"movecoach coach --source ble:NAME{extra}", "a session with it, in your own history"),
    ]
    width = max(len(cmd) for cmd, _ in rows) + 2
    return ("Demo sessions are kept apart from your own, in " + (db or str(demo_data_dir(data_dir_option)))
            + ".\nWhat next:\n" + "\n".join(f"  {cmd.ljust(width)}{what}" for cmd, what in rows))


def cmd_demo(args: argparse.Namespace) -> int:
    args.no_prompt = True
    data_dir_option = args.data_dir
    args.data_dir = str(demo_data_dir(data_dir_option))  # unless --db says where
    check_session_arguments(args)
    routine = routine_from_args(args, base=demo_routine())
    say("Demo: a guided session with a simulated sensor, no hardware needed.")
    if args.broker or args.mqtt_config:
        status = run(args, routine, broker=args.broker)
    elif find_mosquitto() is None:
        say("MQTT: mosquitto is not installed, so nothing is published (./scripts/setup installs it).")
        status = run(args, routine, broker=None)
    else:
        with LocalBroker() as broker:
            say("Live messages go to a private MQTT broker; watch them from another terminal with\n"
                f"  mosquitto_sub -h {broker.host} -p {broker.port} -t 'movecoach/#' -v")
            status = run(args, routine, broker=broker.address)
    if status in (0, 1):
        say(next_steps(data_dir_option, args.db))
    return status
