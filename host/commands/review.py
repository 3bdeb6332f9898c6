"""The review sub-commands: history, trends, report, feel, export."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import webbrowser
from pathlib import Path

from movecoach.errors import UserError
from movecoach.limits import number_in
from movecoach.signal.exercises import EXERCISES
from movecoach.store import LOCATION_HELP, open_store
from movecoach.store.base import Store
from movecoach.store.paths import data_dir, demo_data_dir


def parse_day(text: str) -> str:
    """'YYYY-MM-DD', 'today' or 'yesterday' -> 'YYYY-MM-DD' (UserError otherwise)."""
    word = text.strip().lower()
    if word == "today":
        return dt.date.today().isoformat()
    if word == "yesterday":
        return (dt.date.today() - dt.timedelta(days=1)).isoformat()
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise UserError(f"bad date {text!r}: use YYYY-MM-DD, 'today' or 'yesterday'") from None


def _location(args: argparse.Namespace) -> str | Path:
    """--db, else the data directory (DATA_DIR/demo with --demo)."""
    demo = getattr(args, "demo", False)
    if args.db:
        if demo:
            raise UserError("--demo reads the demo sessions in DATA_DIR/demo: leave out --db, "
                            "or give --db that directory")
        return args.db
    return demo_data_dir(args.data_dir) if demo else data_dir(args.data_dir)


def _store(args: argparse.Namespace) -> Store:
    """The store to review, with any walk a session ended in (Ctrl-C, a crash) finished first."""
    from movecoach.coach.recover import recover_walks

    store = open_store(_location(args))
    recover_walks(store)
    return store


def _demo_sessions(args: argparse.Namespace) -> int:
    """How many demo sessions there are (0 if none, or if the demo's database cannot be read)."""
    directory = demo_data_dir(args.data_dir)
    if not (directory / "movecoach.sqlite").exists():
        return 0
    try:
        with open_store(directory) as demo:
            return len(demo.sessions())
    except UserError:
        return 0


def _nothing_yet(store: Store, args: argparse.Namespace) -> str:
    """What an empty review says: where it looked, how to record, and where demo sessions are."""
    if getattr(args, "demo", False):
        return (f"No demo sessions yet (looked in {store.directory or store.location}). "
                "Run one with `movecoach demo`, then come back here.")
    text = (f"No sessions recorded yet (looked in {store.directory or store.location}). "
            "Record one with `movecoach coach`, then come back here.")
    demos = 0 if args.db else _demo_sessions(args)
    if demos:
        command = f"movecoach {args.command} --demo" + (f" --data-dir {args.data_dir}" if args.data_dir else "")
        text += (f"\n{demos} demo session{'s are' if demos != 1 else ' is'} kept apart from your "
                 f"own, in {demo_data_dir(args.data_dir)}: see {'them' if demos != 1 else 'it'} "
                 f"with `{command}`.")
    return text


def cmd_history(args: argparse.Namespace) -> int:
    from movecoach.review.history import history_footer, history_lines

    since = parse_day(args.since) if args.since else None
    until = parse_day(args.until) if args.until else None
    with _store(args) as store:
        lines = history_lines(store, since=since, until=until, exercise=args.exercise)
        if not lines:
            if since or until or args.exercise:
                print("No sessions match." if not store.empty else _nothing_yet(store, args))
            else:
                print(_nothing_yet(store, args))
            return 0
        for line in lines:
            print(line.text)
        print(history_footer(lines))
    return 0


def cmd_trends(args: argparse.Namespace) -> int:
    from movecoach.review.trends import compute_trends, format_trends

    if args.weeks is not None and args.weeks < 1:
        raise UserError(f"--weeks must be at least 1, got {args.weeks}")
    with _store(args) as store:
        trends = compute_trends(store, since=parse_day(args.since) if args.since else None)
        if not trends.weeks:
            print(_nothing_yet(store, args))
            return 0
        print(format_trends(trends, weeks=args.weeks))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from movecoach.review.report import write_report

    with _store(args) as store:
        if not store.sessions():
            print(_nothing_yet(store, args))
            return 0
        out = Path(args.out) if args.out else (store.directory or Path.cwd()) / "reports"
        path = write_report(store, out, since=parse_day(args.since) if args.since else None)
    print(path)
    if args.open and not webbrowser.open(path.resolve().as_uri()):
        # webbrowser finds no browser without a desktop session (no DISPLAY) or a console browser
        print(f"No web browser found to open it here (no desktop session?). Open {path.resolve()} "
              "in a browser, or copy it to a computer that has one: the page needs nothing else.",
              file=sys.stderr)
    return 0


def cmd_feel(args: argparse.Namespace) -> int:
    from movecoach.review.feel import describe, log_feel

    day = parse_day(args.date) if args.date else None
    if day and day > dt.date.today().isoformat():
        raise UserError(f"--date {day} is in the future")
    with open_store(args.db or data_dir(args.data_dir), create=True) as store:
        entry = log_feel(store, args.score, note=args.note, day=day)
        print(describe(entry, store))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from movecoach.review.export import export_csv, export_json, export_raw

    since = parse_day(args.since) if args.since else None
    until = parse_day(args.until) if args.until else None
    today = dt.date.today().isoformat()
    with _store(args) as store:
        if args.raw:
            if args.session is None:
                raise UserError("--raw needs --session ID (see `movecoach history` for ids)")
            if args.format != "csv":
                raise UserError("--raw writes the analyze CSV format: use --format csv")
            step = "" if args.step is None else f"-step-{args.step}"  # never the whole session's name
            out = Path(args.out or f"movecoach-session-{args.session}{step}.csv")
            n = export_raw(store, args.session, out, step=args.step)
            print(f"{out}: {n} samples of session {args.session} (t,ax,ay,az,gx,gy,gz; s, m/s², rad/s)")
            return 0
        if store.empty:
            print(_nothing_yet(store, args))
            return 0
        ids = None if args.session is None else [args.session]
        # the default name says what was selected: a filtered export never overwrites a full one
        name = f"movecoach-export-{today}" + "".join(
            f"-{word}-{value}" for word, value in (("session", args.session), ("since", since),
                                                   ("until", until)) if value is not None)
        if args.format == "json":
            if args.out == "-":
                export_json(store, sys.stdout, since=since, until=until, session_ids=ids)
                return 0
            out = Path(args.out or f"{name}.json")
            export_json(store, out, since=since, until=until, session_ids=ids)
            print(out)
            return 0
        out = Path(args.out or name)
        if out.suffix.lower() == ".csv":
            raise UserError(f"--out {out}: CSV export writes several tables, give a directory "
                            "(or use --format json for one file)")
        for path in export_csv(store, out, since=since, until=until, session_ids=ids):
            print(path)
    return 0


# how you feel, as `movecoach feel` takes it (the recording checks the same range again)
_score = number_in(1, 10, "the score", whole=True, range_text="from 1 (worst) to 10 (best)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", metavar="DIR", default=None,
                        help="data directory (default: $MOVECOACH_DATA_DIR, else "
                             "$XDG_DATA_HOME/movecoach, else ~/.local/share/movecoach)")
    common.add_argument("--db", metavar="LOCATION", default=None, help=LOCATION_HELP)

    demo = argparse.ArgumentParser(add_help=False)
    demo.add_argument("--demo", action="store_true",
                      help="the sessions of `movecoach demo` (kept apart, in DATA_DIR/demo)")

    p = sub.add_parser("history", parents=[common, demo], help="list recorded sessions, one per line",
                       description="One line per session: exercises, sets, reps, mean depth or "
                       "amplitude, holds met, sway, how-you-feel; INCOMPLETE and CORRUPT marked.")
    p.add_argument("--since", metavar="DATE", help="from this day (YYYY-MM-DD, today, yesterday)")
    p.add_argument("--until", metavar="DATE", help="up to and including this day")
    p.add_argument("--exercise", choices=EXERCISES, help="only sessions with this exercise")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("trends", parents=[common, demo], help="week-by-week averages and real changes",
                       description="Weekly (ISO week) averages of reps, depth, amplitude, holds, "
                       "sway and how-you-feel, with the change vs the week before and vs your "
                       "first week; changes larger than the session-to-session noise are flagged.")
    p.add_argument("--weeks", type=int, default=12, metavar="N", help="show the last N weeks (default 12)")
    p.add_argument("--since", metavar="DATE", help="ignore sessions before this day")
    p.set_defaults(func=cmd_trends)

    p = sub.add_parser("report", parents=[common, demo], help="write an HTML report with plots",
                       description="Write one self-contained HTML page (plots and data tables, "
                       "no network needed to view it) and print its path.")
    p.add_argument("--out", metavar="DIR", help="directory for the report (default: DATA_DIR/reports)")
    p.add_argument("--since", metavar="DATE", help="only sessions from this day")
    p.add_argument("--open", action="store_true", help="open it in the web browser")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("feel", parents=[common], help="log how you feel today (1-10)",
                       description="Log or correct how you feel, 1 (worst) to 10 (best). It is "
                       "attached to that day's latest session, or kept for the day if there is none.")
    p.add_argument("score", type=_score, metavar="SCORE", help="1 (worst) to 10 (best)")
    p.add_argument("--note", metavar="TEXT", help="a short note, e.g. 'tired, hot day'")
    p.add_argument("--date", metavar="DATE", help="the day (default today; YYYY-MM-DD or yesterday)")
    p.set_defaults(func=cmd_feel)

    p = sub.add_parser("export", parents=[common, demo], help="export sessions for a spreadsheet",
                       description="Export sessions, reps, sway and how-you-feel as CSV tables (a "
                       "directory of sessions.csv, reps.csv, sway.csv, feel.csv) or one JSON file; "
                       "or with --session ID --raw, one session's raw samples as an analyze CSV.")
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="default csv")
    p.add_argument("--out", metavar="PATH", help="CSV: a directory; JSON: a file or - for stdout; "
                   "--raw: a .csv file (default: named after today or the session, here)")
    p.add_argument("--session", type=int, metavar="ID", help="only this session (ids: movecoach history)")
    p.add_argument("--raw", action="store_true", help="the session's raw samples (needs --session)")
    p.add_argument("--step", type=int, metavar="N", help="with --raw: only routine step N (0-based)")
    p.add_argument("--since", metavar="DATE", help="from this day")
    p.add_argument("--until", metavar="DATE", help="up to and including this day")
    p.set_defaults(func=cmd_export)
