"""The `movecoach` command line: one sub-command per module, each with `add_parser(subparsers)`.

A command module registers its arguments and sets ``func`` (taking the parsed namespace and
returning an exit status). Library code raises :class:`movecoach.errors.UserError` for bad
input; this is the only place that prints it.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import re
import sys

from movecoach import __version__
from movecoach.errors import UserError

# Sub-command modules, in the order `movecoach --help` lists them.
COMMAND_MODULES = (
    "movecoach.commands.demo",  # demo
    "movecoach.commands.coach",  # coach
    "movecoach.commands.scan",  # scan
    "movecoach.commands.wearable",  # wearable
    "movecoach.commands.simulate",  # simulate
    "movecoach.commands.analyze",  # analyze
    "movecoach.commands.review",  # history, trends, report, feel, export
)
# The module that registers each command: `movecoach CMD ...` imports only that module (start-up
# time: `movecoach analyze` skips asyncio, sqlite3, bleak...). Help and unknown commands import all.
MODULE_OF_COMMAND = {
    "demo": "movecoach.commands.demo",
    "coach": "movecoach.commands.coach",
    "scan": "movecoach.commands.scan",
    "wearable": "movecoach.commands.wearable",
    "simulate": "movecoach.commands.simulate",
    "analyze": "movecoach.commands.analyze",
    **dict.fromkeys(("history", "trends", "report", "feel", "export"), "movecoach.commands.review"),
}


# argparse's own wording -> plain words (argparse quotes values as Python reprs: 'x').
_PLAIN_ERRORS = (
    (re.compile(r"^argument (?P<arg>\S+?)(?:/\S+)?: invalid choice: '(?P<value>[^']*)' \(choose from (?P<choices>.*)\)$"),
     lambda m: f"{m['arg']}: {m['value']!s} is not one of {m['choices'].replace(chr(39), '')}"),
    (re.compile(r"^argument (?P<arg>\S+?)(?:/\S+)?: invalid int value: '(?P<value>[^']*)'$"),
     lambda m: f"{m['arg']}: {m['value']} is not a whole number"),
    (re.compile(r"^argument (?P<arg>\S+?)(?:/\S+)?: invalid float value: '(?P<value>[^']*)'$"),
     lambda m: f"{m['arg']}: {m['value']} is not a number"),
    (re.compile(r"^argument (?P<arg>\S+?)(?:/\S+)?: expected one argument$"),
     lambda m: f"{m['arg']} needs a value"),
    (re.compile(r"^argument (?P<arg>\S+?)(?:/\S+)?: (?P<rest>.*)$"),
     lambda m: f"{m['arg']}: {m['rest']}"),
    (re.compile(r"^unrecognized arguments: (?P<args>.*)$"), lambda m: f"not understood: {m['args']}"),
    (re.compile(r"^the following arguments are required: (?P<args>.*)$"),
     lambda m: f"missing {m['args'].replace(', ', ' and ')}"),
)


def plain_error(message: str) -> str:
    """An argparse error message in plain words, e.g. ``argument --reps: invalid int value: 'x'``
    -> ``--reps: x is not a whole number``."""
    for pattern, rewrite in _PLAIN_ERRORS:
        m = pattern.match(message)
        if m:
            return rewrite(m)
    return message


class CommandParser(argparse.ArgumentParser):
    """argparse with one-line errors: ``movecoach: error: WHAT (see `movecoach demo --help`)``, exit 2.

    Sub-command parsers are made of this class too (argparse copies the parent's class), so each
    names its own ``--help``. ``help_command`` is set on the top-level parser once the command is
    known, for the errors argparse raises there (unknown options of a sub-command).
    """

    help_command: str | None = None

    def error(self, message: str):  # noqa: D102 - argparse API
        prog = f"movecoach {self.help_command}" if self.help_command else self.prog
        hint = _close_option(message, self)
        self.exit(2, f"movecoach: error: {plain_error(message)}{hint} (see `{prog} --help`)\n")


def _close_option(message: str, parser: argparse.ArgumentParser) -> str:
    """"; did you mean --reps?" for ``unrecognized arguments: --rep`` (empty if nothing is close)."""
    m = re.match(r"^unrecognized arguments: (\S+)", message)
    if not m:
        return ""
    options = [o for a in _actions_of(parser) for o in a.option_strings if o.startswith("--")]
    return _did_you_mean(m[1].split("=")[0], options, cutoff=0.7)


def _did_you_mean(word: str, names: list[str], *, cutoff: float) -> str:
    """"; did you mean NAME?" for the closest name: swapped letters first, then difflib."""
    swapped = [n for n in names if sorted(n) == sorted(word)]
    close = swapped or difflib.get_close_matches(word, names, n=1, cutoff=cutoff)
    return f"; did you mean {close[0]}?" if close else ""


def _actions_of(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The parser's actions and, when a sub-command is known, that sub-command's."""
    actions = list(parser._actions)
    command = getattr(parser, "help_command", None)
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction) and command in a.choices:
            actions += a.choices[command]._actions
    return actions


def unknown_command(command: str) -> str:
    """The one-line error for a mistyped command, with the closest command name if there is one."""
    hint = _did_you_mean(command, list(MODULE_OF_COMMAND), cutoff=0.5)
    return f"movecoach: error: there is no command {command}{hint} (see `movecoach --help`)"


class _PlainFormatter(logging.Formatter):
    """``movecoach: warning: MESSAGE`` (the level in small letters, as in ``movecoach: error:``)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"movecoach: {record.levelname.lower()}: {record.getMessage()}"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for every command, or (when `command` is a known command) for that one only."""
    module = MODULE_OF_COMMAND.get(command or "")
    modules = (module,) if module in COMMAND_MODULES else COMMAND_MODULES
    parser = CommandParser(
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
    if command is not None and command not in MODULE_OF_COMMAND:
        print(unknown_command(command), file=sys.stderr)
        return 2
    parser = build_parser(command)
    parser.help_command = command
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed as one line
        return exc.code if isinstance(exc.code, int) else 2
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    if args.verbose:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    elif not logging.getLogger().handlers:  # `movecoach: warning: ...`, like `movecoach: error: ...`
        handler = logging.StreamHandler()
        handler.setFormatter(_PlainFormatter())
        logging.basicConfig(level=level, handlers=[handler])
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
