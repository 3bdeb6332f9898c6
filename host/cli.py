"""The `movecoach` command line: one sub-command per module, each with `add_parser(subparsers)`.

A command module registers its arguments and sets ``func`` (taking the parsed namespace and
returning an exit status). Library code raises :class:`movecoach.errors.UserError` for bad
input; this is the only place that prints it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="movecoach",
        description="A wearable movement coach for home physical-therapy exercises.",
    )
    parser.add_argument("--version", action="version", version=f"movecoach {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
