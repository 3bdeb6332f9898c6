"""The `movecoach` command line: one sub-command per module, each with `add_parser(subparsers)`.

A command module registers its arguments and sets ``func`` (taking the parsed namespace and
returning an exit status). Library code raises :class:`movecoach.errors.UserError` for bad
input; this is the only place that prints it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from movecoach import __version__
from movecoach.errors import UserError

# Sub-command modules, in the order `movecoach --help` lists them.
COMMAND_MODULES = (
    "movecoach.demo",  # demo
    "movecoach.coach",  # coach
    "movecoach.scan",  # scan
    "movecoach.wearable",  # wearable
    "movecoach.sim.command",  # simulate
    "movecoach.analyze",  # analyze
    "movecoach.review.commands",  # history, trends, report, feel, export
)
# The module that registers each command: `movecoach CMD ...` imports only that module (start-up
# time: `movecoach analyze` skips asyncio, sqlite3, bleak...). Help and unknown commands import all.
MODULE_OF_COMMAND = {
    "demo": "movecoach.demo",
    "coach": "movecoach.coach",
    "scan": "movecoach.scan",
    "wearable": "movecoach.wearable",
    "simulate": "movecoach.sim.command",
    "analyze": "movecoach.analyze",
    **dict.fromkeys(("history", "trends", "report", "feel", "export"), "movecoach.review.commands"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for every command, or (when `command` is a known command) for that one only."""
    module = MODULE_OF_COMMAND.get(command or "")
    modules = (module,) if module in COMMAND_MODULES else COMMAND_MODULES
    parser = argparse.ArgumentParser(
        prog="movecoach",
        description="A wearable movement coach for home physical-therapy exercises.",
    )
    parser.add_argument("--version", action="version", version=f"movecoach {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).add_parser(sub)
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The sub-command named in argv: the first word that is not an option (the top-level
    options take no values)."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg
    return None


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    command = _command_in(argv)
    if command == "analyze" and "numpy" not in sys.modules:
        # numpy and scipy each load an OpenBLAS that starts a thread per core at import; analyze's
        # matrices are 3x3, so the threads only cost start-up (~0.15 s CPU per process on 2
        # cores). Only effective before numpy is imported (a fresh process; in-process callers
        # are left alone); a value the user set is kept.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = build_parser(command)
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    fmt = "movecoach: %(levelname)s: %(message)s" if not args.verbose else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"movecoach: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("movecoach: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`movecoach analyze ... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout at exit
        return 141
