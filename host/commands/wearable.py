"""`movecoach wearable --sim`: serve a simulated wearable (movecoach.sim.wearable) over TCP."""

from __future__ import annotations

import argparse
import time

from movecoach.coach.routine import REPS_HELP, reps_counted
from movecoach.errors import UserError
from movecoach.firmware import protocol
from movecoach.limits import HOLD_S, SWAY_DURATION_S, WALK_DURATION_S, check_port, check_seconds
from movecoach.signal.exercises import EXERCISES, get
from movecoach.sim.wearable import RUNTIMES, serve_simulated


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "wearable", help="run a simulated wearable (firmware core + IMU simulator) over TCP",
        description="Serve a simulated wearable over TCP: the firmware's sampler, packer and "
                    "framer (under MicroPython when installed) fed by the IMU simulator. "
                    "Connect with --source tcp:HOST:PORT.")
    p.add_argument("--sim", action="store_true", required=True,
                   help="simulate the wearable (a real one streams by itself: see hardware.md)")
    p.add_argument("--exercise", choices=EXERCISES, default="heel-toe")
    p.add_argument("--reps", type=int, default=10, metavar="N", help=f"{REPS_HELP} (default %(default)s)")
    p.add_argument("--rate", type=int, default=protocol.DEFAULT_RATE_HZ,
                   choices=protocol.RATES_HZ, help="sample rate in Hz (default 104)")
    p.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="times faster than real time (default 1)")
    p.add_argument("--hold-s", type=float, default=None, help="hold per rep in seconds")
    p.add_argument("--duration-s", type=float, default=None,
                   help="balance trial or walk length in seconds")
    p.add_argument("--tcp", type=int, default=9000, metavar="PORT",
                   help="TCP port to serve on (default 9000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--runtime", choices=RUNTIMES, default="auto",
                   help="run the firmware under micropython, cpython, or auto (micropython "
                        "when installed)")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    if args.reps < 1:
        raise UserError(f"--reps must be at least 1, not {args.reps}")
    check_port("--tcp", args.tcp, listen=True)
    walk = get(args.exercise).analysis == "walk"
    check_seconds("--duration-s", args.duration_s, WALK_DURATION_S if walk else SWAY_DURATION_S)
    check_seconds("--hold-s", args.hold_s, HOLD_S)
    wearable = serve_simulated(args.exercise, reps=args.reps, port=args.tcp, speed=args.speed,
                               seed=args.seed, runtime=args.runtime, host=args.host,
                               rate_hz=args.rate, hold_s=args.hold_s, duration_s=args.duration_s)
    try:
        wearable.ready()
    except UserError:
        wearable.stop()
        raise
    from movecoach.words import target_words

    if walk:  # the simulated walk's length, not a count
        what = "a walk" + (f" of about {args.duration_s:g} s" if args.duration_s else "")
    else:
        what = target_words(args.exercise, reps_counted(args.exercise, args.reps)) or "a balance trial"
    print(f"simulated wearable: {args.exercise}, {what}, {args.rate} Hz, "
          f"x{args.speed:g} speed, firmware under {wearable.runtime}")
    print(f"serving on {wearable.url}  (Ctrl-C to stop); connect with\n  movecoach coach --exercise "
          f"{args.exercise} --source tcp:{wearable.url.removeprefix('tcp://')}", flush=True)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        wearable.stop()
    print("simulated wearable stopped")
    return 0
