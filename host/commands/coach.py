"""`movecoach coach`: a guided session with live counts, speech, MQTT and a crash-safe recording.

The pieces are built here from the command line (source, sinks, recorder) and handed to
`movecoach.coach.session.SessionRunner`; `movecoach demo` reuses `add_session_arguments` and `run`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator

from movecoach.coach.routine import (
    REPS_HELP,
    Routine,
    customized,
    daily_routine,
    demo_routine,
    reps_counted,
    single_exercise,
)
from movecoach.coach.timed_walk import WALK_TESTS
from movecoach.errors import UserError
from movecoach.events import Sink
from movecoach.limits import number_in
from movecoach.signal.exercises import EXERCISES, REGISTRY
from movecoach.store import LOCATION_HELP

log = logging.getLogger(__name__)


VOLUME_RANGE = (0, 200)  # espeak-ng's amplitude: 100 is its normal loudness
RATE_RANGE_WPM = (80, 450)  # espeak-ng's speaking rates; below 80 it drawls, above 450 it garbles
# argparse dest of a flag that sets one MqttConfig field: MQTT_SETTING + the field's name
MQTT_SETTING = "mqtt_setting_"


def add_session_arguments(p: argparse.ArgumentParser, *, default_source: str, demo: bool = False) -> None:
    """Arguments shared by `coach` and `demo` (``demo=True``: the demo's own defaults in the help)."""
    g = p.add_argument_group("what to do")
    g.add_argument("--exercise", choices=EXERCISES, help="one exercise instead of the "
                   + ("short demo routine" if demo else "daily routine"))
    if demo:
        g.add_argument("--routine", choices=("daily",), default=None,
                       help="daily: the whole daily programme instead of the short demo routine")
    else:
        g.add_argument("--routine", choices=("daily",), default=None,
                       help="daily: the daily home programme (the default without --exercise)")
    g.add_argument("--reps", type=int, default=None, metavar="N",
                   help=f"per set, {REPS_HELP}; without --exercise, for every exercise "
                        "(default: the routine's; 10 with --exercise)")
    g.add_argument("--sets", type=int, default=None, help="sets (daily routine: 2)")
    g.add_argument("--hold", type=float, default=None, metavar="SECONDS",
                   help="hold target, with --exercise (0: none; default: wall slides 10, heel raises 2)")
    g.add_argument("--rest", type=float, default=None, metavar="SECONDS", help="rest between sets")
    routine = demo_routine() if demo else daily_routine()
    in_routine = next(s.duration_s for s in routine.steps if s.analysis == "walk")
    alone = {e.analysis: e.duration_s for e in REGISTRY.values() if e.analysis != "reps"}
    default = (f"{alone['walk']:g}" if in_routine == alone["walk"] else
               f"{in_routine:g} in the routine, {alone['walk']:g} with --exercise walk")
    g.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help=f"the walk's length (default {default}); with --exercise sway, the "
                        f"balance trial's (default {alone['sway']:g})")
    g.add_argument("--test", choices=tuple(WALK_TESTS), default=None,
                   help="a timed walk a therapist asks for: 25ft = the time to walk 25 feet "
                        "(7.62 m), 2min = the distance walked in 2 minutes; on its own, or the "
                        "routine's walk with --routine daily")
    s = p.add_argument_group("sensor")
    s.add_argument("--source", default=default_source,
                   help="sim | ble:NAME-or-ADDRESS | serial:PORT | tcp:HOST:PORT | replay:FILE (default %(default)s)")
    s.add_argument("--speed", type=float, default=1.0,
                   help="run the simulated wearable / replay this many times faster than real time")
    s.add_argument("--seed", type=int, default=None, help="simulated wearable seed")
    s.add_argument("--device-id", default=None, help="device id for MQTT topics and the recording")
    m = p.add_argument_group("MQTT")
    m.add_argument("--broker", default=None, metavar="HOST:PORT", help="publish live feedback to this broker"
                   + (" (default: a private mosquitto on a free port)" if demo else ""))
    m.add_argument("--mqtt-config", default=None, metavar="FILE",
                   help="TOML file with broker settings" + ("" if demo else
                        " (default: ~/.config/movecoach/mqtt.toml if it exists)"))
    m.add_argument("--mqtt-password", default=None,
                   help="avoid: every user sees it in `ps`; use the config file or $MOVECOACH_MQTT_PASSWORD")
    # settings of movecoach.sinks.mqtt.MqttConfig (defined there, defaults too): dest is the field's
    # name; None (not given) leaves the config file's value
    from movecoach.sinks.mqtt import MqttConfig

    m.add_argument("--mqtt-prefix", dest=MQTT_SETTING + "prefix", metavar="PREFIX",
                   help=f"first topic level (default {MqttConfig.prefix}, or the config file's prefix)")
    m.add_argument("--mqtt-username", dest=MQTT_SETTING + "username")
    m.add_argument("--mqtt-tls", dest=MQTT_SETTING + "tls", action="store_true", help="connect with TLS")
    m.add_argument("--mqtt-ca", dest=MQTT_SETTING + "ca_certs", metavar="FILE",
                   help="CA certificates for TLS (implies --mqtt-tls)")
    m.add_argument("--mqtt-notes", dest=MQTT_SETTING + "notes", action="store_true",
                   help="also publish the how-you-feel note (never retained)")
    m.add_argument("--ha-discovery", dest=MQTT_SETTING + "ha_discovery", action="store_true",
                   help="announce Home Assistant sensors")
    v = p.add_argument_group("speech")
    v.add_argument("--no-speech", action="store_true", help="do not speak")
    v.add_argument("--voice", default=None, help="espeak-ng voice, e.g. en-us, de")
    v.add_argument("--rate", type=number_in(*RATE_RANGE_WPM, "the speaking rate", whole=True), default=160,
                   metavar="WPM", help=f"words per minute, {RATE_RANGE_WPM[0]}-{RATE_RANGE_WPM[1]} "
                                       "(default %(default)s)")
    v.add_argument("--volume", type=number_in(*VOLUME_RANGE, "the volume", whole=True), default=100,
                   help=f"{VOLUME_RANGE[0]}-{VOLUME_RANGE[1]}, 100 is normal (default %(default)s)")
    r = p.add_argument_group("recording")
    if demo:
        r.add_argument("--data-dir", default=None, metavar="DIR",
                       help="demo sessions go to DIR/demo, apart from your own (default DIR: "
                            "$MOVECOACH_DATA_DIR, else $XDG_DATA_HOME/movecoach, else "
                            "~/.local/share/movecoach); review them with `movecoach history --demo`")
    else:
        r.add_argument("--data-dir", default=None, metavar="DIR",
                       help="where recordings go (default: $MOVECOACH_DATA_DIR, else "
                            "$XDG_DATA_HOME/movecoach, else ~/.local/share/movecoach)")
    r.add_argument("--db", default=None, metavar="LOCATION", help=LOCATION_HELP)
    r.add_argument("--feel", type=int, default=None, metavar="1-10", help="how you feel today")
    r.add_argument("--note", default=None, help="a note for today")
    r.add_argument("--no-prompt", action="store_true", help="never ask questions (also when not a terminal)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coach", help="a guided exercise session with live feedback",
                       description="Guided session: counts reps aloud, publishes MQTT, records everything.")
    add_session_arguments(p, default_source="sim")
    p.set_defaults(func=cmd_coach)


def check_session_arguments(args: argparse.Namespace) -> None:
    """The limits of movecoach.limits, the same for `coach` and `demo` (and `simulate`,
    `wearable`): a one-line UserError before anything starts."""
    from movecoach.limits import HOLD_S, REST_S, SWAY_DURATION_S, WALK_DURATION_S, check_seconds

    exercise = REGISTRY.get(args.exercise or "")
    balance = exercise is not None and exercise.analysis == "sway"
    check_seconds("--duration", args.duration, SWAY_DURATION_S if balance else WALK_DURATION_S)
    check_seconds("--hold", args.hold, HOLD_S)
    check_seconds("--rest", args.rest, REST_S)


def routine_from_args(args: argparse.Namespace, *, base: Routine | None = None) -> Routine:
    """The routine the command line asks for: one ``--exercise``, else ``base`` (default: the
    daily routine) with ``--reps``/``--sets``/``--rest``/``--duration`` applied to every exercise."""
    check_session_arguments(args)
    if args.exercise is not None and args.routine is not None:
        raise UserError("give --exercise or --routine, not both")
    if args.exercise is None and args.routine is None and args.test is not None:
        walk = next(n for n, e in REGISTRY.items() if e.analysis == "walk")
        return single_exercise(walk, test=args.test, duration_s=args.duration)
    if args.exercise is None:
        if args.hold is not None:
            raise UserError("--hold goes with --exercise: the routine's holds differ per exercise "
                            "(wall slides 10 s, heel raises 2 s)")
        routine = daily_routine(sets=2) if base is None or args.routine == "daily" else base
        return customized(routine, reps_each=args.reps, sets=args.sets, rest_s=args.rest,
                          duration_s=args.duration, test=args.test)
    replay = args.source.startswith("replay")
    reps_each = args.reps if args.reps is not None else (None if replay else 10)
    if reps_each is not None and reps_each < 1:
        raise UserError(f"--reps must be at least 1, got {reps_each}")
    return single_exercise(
        args.exercise,
        reps=reps_counted(args.exercise, reps_each),
        sets=args.sets or 1,
        hold_s=args.hold,
        rest_s=30.0 if args.rest is None else args.rest,
        duration_s=args.duration,
        test=args.test,
    )


def _feel_question(console) -> tuple[int | None, str | None]:
    """Ask on the terminal for a 1-10 score and an optional note (Enter skips), with the live
    status line out of the way."""
    with console.paused():
        while True:
            answer = input("How do you feel today, 1 (bad) to 10 (great)? [Enter to skip] ").strip()
            if not answer:
                return None, None
            if answer.isdigit() and 1 <= int(answer) <= 10:
                note = input("Anything to note? [Enter to skip] ").strip() or None
                return int(answer), note
            print("Please answer with a number from 1 to 10.")


def build_sinks(args: argparse.Namespace, device_id: str, broker: str | None, console) -> list[Sink]:
    """The console first (it shows what a silent voice would have said), then speech and MQTT."""
    sinks: list[Sink] = [console]
    if not args.no_speech:
        from movecoach.sinks.speech import SpeechSink

        sinks.append(SpeechSink(voice=args.voice, rate_wpm=args.rate, volume=args.volume,
                                on_silent=console.say))
    if broker or args.mqtt_config:
        try:
            sinks.append(_mqtt_sink(args, device_id, broker))
        except BaseException:  # e.g. the broker refused the login: nothing starts
            for sink in sinks:
                sink.close()
            raise
    return sinks


def _mqtt_sink(args: argparse.Namespace, device_id: str, broker: str | None) -> Sink:
    from movecoach.sinks import mqtt

    flags = {k[len(MQTT_SETTING):]: v for k, v in vars(args).items() if k.startswith(MQTT_SETTING)}
    kwargs = mqtt.sink_options(config=args.mqtt_config, broker=broker,
                               password_flag=args.mqtt_password, **flags)
    return mqtt.MqttSink(device_id=device_id, **kwargs)


class _AboveStatusLine(logging.Handler):
    """Writes what another handler would, through the console, so a warning never lands glued
    onto the live status line."""

    def __init__(self, console, inner: logging.StreamHandler):
        super().__init__(inner.level)
        self.console = console
        self.inner = inner

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.print_above(self.inner.format(record), self.inner.stream)
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def _logs_above(console) -> Iterator[None]:
    """While the session runs, the root logger's terminal handlers write above the status line."""
    root = logging.getLogger()
    swapped = [(h, _AboveStatusLine(console, h)) for h in root.handlers
               if type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.stdout)]
    for inner, outer in swapped:
        root.removeHandler(inner)
        root.addHandler(outer)
    try:
        yield
    finally:
        for inner, outer in swapped:
            root.removeHandler(outer)
            root.addHandler(inner)


def run(args: argparse.Namespace, routine: Routine, *, broker: str | None) -> int:
    """Build source, sinks and recorder from args, connect, run the session, close everything.

    A wearable that cannot be reached is an error before anything is recorded. Returns the exit
    status: 0 for a complete session, 1 when it ended early, 130 on Ctrl-C.
    """
    # Imported here, not at the top: `movecoach --help` and the review commands stay fast.
    from movecoach.coach.step_sources import open_step_source, source_device_id
    from movecoach.sinks.console import ConsoleSink, say
    from movecoach.store import open_store
    from movecoach.store.paths import data_dir

    if args.feel is not None and not 1 <= args.feel <= 10:
        raise UserError(f"--feel must be 1-10, got {args.feel}")
    if args.speed <= 0:
        raise UserError(f"--speed must be positive, got {args.speed}")
    device_id = args.device_id or source_device_id(args.source)
    recorder = open_store(args.db or data_dir(args.data_dir), record=True)  # UserError before anything starts if unwritable
    console = ConsoleSink(sys.stdout)
    interactive = sys.stdin.isatty() and not args.no_prompt
    source = open_step_source(args.source, speed=args.speed, seed=args.seed)
    try:
        sinks = build_sinks(args, device_id, broker, console)
    except BaseException:
        recorder.close()
        raise
    _finish_cut_walks(recorder)  # a walk an earlier session was killed in, if any
    started: list = []  # the recorder's session, once connected
    summary: dict = {}
    stopped = False
    try:
        with _logs_above(console), _terminate_like_ctrl_c():
            summary = asyncio.run(_connect_and_run(
                args, routine, source, sinks, recorder, started, device_id=device_id,
                ask_feel=(lambda: _feel_question(console)) if interactive and args.feel is None else None))
    except KeyboardInterrupt:
        stopped = True
        console.close()
        say("\nStopped: the recording so far is kept (marked incomplete)." if started
            else "\nStopped before the session started: nothing was recorded.")
        return 130
    finally:
        for sink in sinks:
            try:
                sink.close()
            except Exception:
                log.exception("closing %s", type(sink).__name__)
        for session in started:
            if not summary and not stopped and not session.samples_added:
                session.discard()  # it failed before it began (no sensor, a damaged recording)
                continue
            session.close()
        if started:
            _finish_cut_walks(recorder, [session.id for session in started])
        recorder.close()
    say(f"Saved as session {started[0].id} in {recorder.location}.")
    return 0 if summary.get("complete") else 1


def _finish_cut_walks(store, session_ids: list[int] | None = None) -> None:
    """Finish, from their recorded samples, walks a session ended in (Ctrl-C, a crash), and say so."""
    from movecoach.coach.recover import recover_walks
    from movecoach.sinks.console import say

    for walk in recover_walks(store, session_ids=session_ids):
        metres = f"{walk.distance_m:.0f} metres" if walk.distance_m else "no distance yet"
        if session_ids is not None:  # the session just stopped
            say(f"Your walk so far is saved: {metres}.")
        else:
            say(f"The walk of {walk.day} was cut short; what you walked is saved: {metres}.")


@contextlib.contextmanager
def _terminate_like_ctrl_c():
    """SIGTERM and SIGHUP (`kill`, a closed terminal) stop the session as Ctrl-C does: the
    recording is closed and every child process (broker, wearable, speech) is ended."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, lambda *_: signal.raise_signal(signal.SIGINT))
                for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


async def _connect_and_run(args: argparse.Namespace, routine: Routine, source, sinks: list[Sink],
                           recorder, started: list, *, device_id: str, ask_feel) -> dict:
    from movecoach import words
    from movecoach.coach.session import SessionOptions, SessionRunner

    try:
        connect = getattr(source, "connect", None)
        if connect is not None:  # one real link for the whole session
            sinks[0].print_above(f"Connecting to {words.source_words(args.source)} ...")
            await connect()
        session = recorder.start_session(device_id=device_id, routine=routine.name,
                                         source=args.source, fs=None)
        started.append(session)
        runner = SessionRunner(
            routine, source, sinks, device_id=device_id, recorder=session, source_name=args.source,
            options=SessionOptions(
                speed=args.speed,
                ready_s=5.0 if not args.source.startswith("replay") else 0.0,
                feel_score=args.feel,
                feel_note=args.note,
                ask_feel=ask_feel,
            ),
        )
        return await runner.run()
    finally:
        await source.aclose()


def cmd_coach(args: argparse.Namespace) -> int:
    if args.mqtt_config is None:
        from movecoach.sinks.mqtt import default_config_path

        default = default_config_path()
        if default.is_file():
            log.info("MQTT settings from %s", default)
            args.mqtt_config = str(default)
    return run(args, routine_from_args(args), broker=args.broker)
