"""`movecoach coach`: a guided session with live counts, speech, MQTT and a crash-safe recording.

The pieces are built here from the command line (source, sinks, recorder) and handed to
`movecoach.session.SessionRunner`; `movecoach demo` reuses `add_session_arguments` and `run`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path

from movecoach.errors import UserError
from movecoach.events import Sink
from movecoach.routine import Routine, daily_routine, single_exercise
from movecoach.signal.types import EXERCISES

log = logging.getLogger(__name__)


def add_session_arguments(p: argparse.ArgumentParser, *, default_source: str) -> None:
    """Arguments shared by `coach` and `demo`."""
    g = p.add_argument_group("what to do")
    g.add_argument("--exercise", choices=EXERCISES, help="one exercise instead of the daily routine")
    g.add_argument("--routine", choices=("daily",), default=None, help="the daily home programme (default)")
    g.add_argument("--reps", type=int, default=None, help="target reps per set (heel-toe: heel and toe raises together)")
    g.add_argument("--sets", type=int, default=None, help="sets (daily routine: 2)")
    g.add_argument("--hold", type=float, default=None, metavar="SECONDS", help="hold target (0: none)")
    g.add_argument("--rest", type=float, default=None, metavar="SECONDS", help="rest between sets")
    g.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="sway trial length")
    s = p.add_argument_group("sensor")
    s.add_argument("--source", default=default_source,
                   help="sim | ble:NAME-or-ADDRESS | serial:PORT | tcp:HOST:PORT | replay:FILE (default %(default)s)")
    s.add_argument("--speed", type=float, default=1.0,
                   help="run the simulated wearable / replay this many times faster than real time")
    s.add_argument("--seed", type=int, default=None, help="simulated wearable seed")
    s.add_argument("--device-id", default=None, help="device id for MQTT topics and the recording")
    m = p.add_argument_group("MQTT")
    m.add_argument("--broker", default=None, metavar="HOST:PORT", help="publish live feedback to this broker")
    m.add_argument("--mqtt-config", default=None, metavar="FILE",
                   help="TOML file with broker settings (coach: default ~/.config/movecoach/mqtt.toml "
                        "if it exists)")
    m.add_argument("--mqtt-prefix", default=None, help="topic prefix (default movecoach)")
    m.add_argument("--mqtt-username", default=None)
    m.add_argument("--mqtt-password", default=None,
                   help="avoid: every user sees it in `ps`; use the config file or $MOVECOACH_MQTT_PASSWORD")
    m.add_argument("--mqtt-tls", action="store_true", help="connect with TLS")
    m.add_argument("--mqtt-ca", default=None, metavar="FILE", help="CA certificates for TLS (implies --mqtt-tls)")
    m.add_argument("--mqtt-notes", action="store_true",
                   help="also publish the how-you-feel note (never retained)")
    m.add_argument("--ha-discovery", action="store_true", help="announce Home Assistant sensors")
    v = p.add_argument_group("speech")
    v.add_argument("--no-speech", action="store_true", help="do not speak")
    v.add_argument("--voice", default=None, help="espeak-ng voice, e.g. en-us, de")
    v.add_argument("--rate", type=int, default=160, help="words per minute (default %(default)s)")
    v.add_argument("--volume", type=int, default=100, help="0-200 (default %(default)s)")
    r = p.add_argument_group("recording")
    r.add_argument("--data-dir", default=None, help="where recordings go (default: XDG data dir)")
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
    from movecoach.limits import HOLD_S, REST_S, SWAY_DURATION_S, check_seconds

    check_seconds("--duration", args.duration, SWAY_DURATION_S)
    check_seconds("--hold", args.hold, HOLD_S)
    check_seconds("--rest", args.rest, REST_S)


def routine_from_args(args: argparse.Namespace) -> Routine:
    check_session_arguments(args)
    if args.exercise is None:
        return daily_routine(sets=args.sets or 2)
    return single_exercise(
        args.exercise,
        reps=args.reps if args.reps is not None else (None if args.source.startswith("replay") else 10),
        sets=args.sets or 1,
        hold_s=args.hold,
        rest_s=30.0 if args.rest is None else args.rest,
        duration_s=args.duration,
    )


def _ask_feel() -> tuple[int | None, str | None]:
    """Ask on the terminal for a 1-10 score and an optional note (Enter skips)."""
    while True:
        answer = input("How do you feel today, 1 (bad) to 10 (great)? [Enter to skip] ").strip()
        if not answer:
            return None, None
        if answer.isdigit() and 1 <= int(answer) <= 10:
            note = input("Anything to note? [Enter to skip] ").strip() or None
            return int(answer), note
        print("Please answer with a number from 1 to 10.")


def build_sinks(args: argparse.Namespace, device_id: str, broker: str | None) -> list[Sink]:
    from movecoach.sinks.console import ConsoleSink

    sinks: list[Sink] = [ConsoleSink(sys.stdout)]
    if not args.no_speech:
        from movecoach.sinks.speech import SpeechSink

        sinks.append(SpeechSink(voice=args.voice, rate_wpm=args.rate, volume=args.volume))
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

    kwargs = mqtt.sink_options(
        config=args.mqtt_config, broker=broker, password_flag=args.mqtt_password,
        prefix=args.mqtt_prefix, username=args.mqtt_username, ca_certs=args.mqtt_ca,
        tls=args.mqtt_tls, ha_discovery=args.ha_discovery, notes=args.mqtt_notes)
    return mqtt.MqttSink(device_id=device_id, **kwargs)


def run(args: argparse.Namespace, routine: Routine, *, broker: str | None) -> int:
    """Build source, sinks and recorder from args, run the session, close everything."""
    # Imported here, not at the top: `movecoach --help` and the review commands stay fast.
    from movecoach.paths import data_dir
    from movecoach.recorder import Recorder
    from movecoach.session import SessionOptions, SessionRunner, speak_summary
    from movecoach.step_sources import open_step_source, source_device_id

    if args.feel is not None and not 1 <= args.feel <= 10:
        raise UserError(f"--feel must be 1-10, got {args.feel}")
    if args.speed <= 0:
        raise UserError(f"--speed must be positive, got {args.speed}")
    device_id = args.device_id or source_device_id(args.source)
    directory = data_dir(args.data_dir)
    recorder = Recorder(directory)  # raises UserError before anything starts if unwritable
    interactive = sys.stdin.isatty() and not args.no_prompt
    try:
        sinks = build_sinks(args, device_id, broker)
    except BaseException:
        recorder.close()
        raise
    session = recorder.start_session(device_id=device_id, routine=routine.name, source=args.source, fs=None)
    runner = SessionRunner(
        routine,
        open_step_source(args.source, speed=args.speed, seed=args.seed),
        sinks,
        device_id=device_id,
        recorder=session,
        source_name=args.source,
        options=SessionOptions(
            speed=args.speed,
            ready_s=5.0 if not args.source.startswith("replay") else 0.0,
            feel_score=args.feel,
            feel_note=args.note,
            ask_feel=_ask_feel if interactive and args.feel is None else None,
        ),
    )
    summary = None
    stopped = False
    try:
        with _terminate_like_ctrl_c():
            summary = asyncio.run(_run_and_close(runner))
    except KeyboardInterrupt:
        stopped = True
        print("\nStopped. The recording so far is kept (marked incomplete).")
        return 130
    finally:
        for sink in sinks:
            try:
                sink.close()
            except Exception:
                log.exception("closing %s", type(sink).__name__)
        if summary is None and not stopped and not session.samples_added:
            session.discard()  # it failed before it began (no sensor, a damaged recording)
        else:
            session.close()
        recorder.close()
    print(speak_summary(summary))
    print(f"Recording: session {session.id} in {Path(directory) / 'movecoach.sqlite'}")
    return 0 if summary.get("complete") else 1


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


async def _run_and_close(runner) -> dict:
    try:
        return await runner.run()
    finally:
        await runner.source.aclose()


def cmd_coach(args: argparse.Namespace) -> int:
    if args.mqtt_config is None:
        from movecoach.sinks.mqtt import default_config_path

        default = default_config_path()
        if default.is_file():
            log.info("MQTT settings from %s", default)
            args.mqtt_config = str(default)
    return run(args, routine_from_args(args), broker=args.broker)
