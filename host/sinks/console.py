"""Show the session in a terminal: a live status line plus permanent lines for what matters.

On a terminal (``tty=True``) one status line is rewritten in place (``\\r`` + clear line)::

    Heel-toe raises · 3 of 20 · angle 18° · holding 1.2 of 2 s

(for a walk: ``Walking · 1:23 of 2:00 · 95 metres · 42 strides``) and the steps, reps, cues,
a walk's minutes and result and the summary are printed above it as permanent lines::

    Heel-toe raises: 10 heel raises and 10 toe raises, alternating; hold 2 seconds up on your toes
      Get ready: strap the sensor on the top of your foot, ...
      Starting in 3, 2, 1, go!
      3 of 20: heel raise, 24°, held 2.1 s

Anything else written to the terminal while the line is up (a warning, a question) goes through
:meth:`ConsoleSink.print_above` or :meth:`ConsoleSink.paused`, so it never lands glued onto the
status line. Without a terminal (a pipe, CI, systemd) there are no carriage-return games: one
plain, timestamped line per event that matters; status updates and hold ticks are not printed.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from movecoach import events as ev
from movecoach import words

log_time_format = "%H:%M:%S"
_CLEAR = "\r\x1b[2K"
INDENT = "  "
# Phrases the voice would have said that the permanent lines do not already show word for word:
# with no sound device they appear at the end of the status line.
VOICE_ONLY_KINDS = ("rep", "hold_start", "hold_tick", "hold_done", "countdown")
VOICE_SHOWN_S = 2.0  # a silent phrase stays on the status line this long (about as long as said)


class ConsoleSink:
    """Writes the session to ``stream``; ``tty=None`` asks the stream whether it is a terminal.

    The runner calls ``status(exercise, count, target, angle_deg, hold_s)`` a few times per second
    for the live line (shown on a terminal only; for a balance trial ``hold_s`` is the time stood,
    for a walk the time walked and ``count`` the strides).
    """

    def __init__(self, stream: TextIO = sys.stdout, *, tty: bool | None = None):
        self.stream = stream
        if tty is None:
            isatty = getattr(stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self._lock = threading.RLock()
        self._live = ""
        self._paused = False
        self._exercise: str | None = None
        self._set: tuple[int, int] | None = None
        self._target: int | None = None
        self._count: int | None = None
        self._angle_deg: float | None = None
        self._hold = ""
        self._hold_target_s: float | None = None
        self._duration_s: float | None = None
        self._distance_m: float | None = None  # a walk's distance so far
        self._countdown: list[str] = []
        self._voice = ""
        self._voice_at = 0.0
        self._holding = False  # between a hold_start and the rep: only kinds with a hold target
        self._explained: set[str] = set()

    # -- public API ---------------------------------------------------------------------------

    def status(self, exercise: str, count: int, target: int | None, angle_deg: float | None,
               hold_s: float | None) -> None:
        """Live numbers: reps so far of ``target``, current angle (deg), hold time so far (s)."""
        with self._lock:
            self._exercise = exercise
            self._count = count
            self._target = target or self._target
            self._angle_deg = angle_deg
            if words.analysis_of(exercise) == "walk" and isinstance(hold_s, int | float):
                of = f" of {_clock(self._duration_s)}" if self._duration_s else ""
                self._hold = f"{_clock(hold_s)}{of}"
                if self._distance_m is not None:
                    self._hold += f" · {self._distance_m:.0f} metres · {count} strides"
            elif words.analysis_of(exercise) == "sway" and isinstance(hold_s, int | float):
                of = f" of {self._duration_s:g}" if self._duration_s else ""
                self._hold = f"{hold_s:.0f}{of} s · stand still"
            elif self._hold.startswith("held"):
                pass  # "held 10 s: done" stays until the rep is counted
            elif self._holding and isinstance(hold_s, int | float) and hold_s > 0 and self._hold_target_s:
                self._hold = f"holding {hold_s:.1f} of {self._hold_target_s:g} s"
            else:
                self._hold = ""
            self._redraw()

    def say(self, text: str, kind: str) -> None:
        """A phrase the voice could not say (no sound device): shown on the status line when the
        permanent lines do not already carry it."""
        if kind not in VOICE_ONLY_KINDS:
            return
        with self._lock:
            self._voice = f'says "{text}"'
            self._voice_at = time.monotonic()
            self._redraw()

    def handle(self, event: ev.Event) -> None:
        with self._lock:
            lines = self._lines_for(event)
            for line in lines:
                self._permanent(line, event.t_s)
            if not lines and self.tty:
                self._redraw()

    def print_above(self, text: str, stream: TextIO | None = None) -> None:
        """Write ``text`` (a whole line, e.g. a warning to stderr) above the status line."""
        stream = stream or self.stream
        with self._lock:
            if self.tty and self._live:
                self.stream.write(_CLEAR)
                self.stream.flush()
                self._live = ""
            stream.write(self._wrapped(text.rstrip("\n")) + "\n")
            stream.flush()
            self._redraw()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Clear the status line and keep it away while the caller uses the terminal (a question)."""
        with self._lock:
            self._paused = True
            if self.tty and self._live:
                self.stream.write(_CLEAR)
                self._live = ""
            self.stream.flush()
        try:
            yield
        finally:
            with self._lock:
                self._paused = False
                self._redraw()

    def close(self) -> None:
        """Leave the terminal clean: the live line is erased."""
        with self._lock:
            if self.tty and self._live:
                self.stream.write(_CLEAR)
                self._live = ""
            self.stream.flush()

    # -- what each event shows ------------------------------------------------------------------

    def _lines_for(self, e: ev.Event) -> list[str]:
        d = e.data  # the words are written from the message's fields (as review reads them too)
        if isinstance(e, ev.SessionStart):
            self._explained.clear()
            return [words.session_intro(d)]
        if isinstance(e, ev.StepStart):
            self._exercise = e.exercise
            self._target = e.target_reps
            self._count = 0
            self._angle_deg = None
            self._hold = self._voice = ""
            self._holding = False
            self._hold_target_s = e.hold_target_s or None
            self._duration_s = e.duration_s or None
            self._distance_m = None
            self._set = (e.set, e.sets) if e.set and e.sets else None
            blank = [""] if self.tty else []  # on a terminal, a gap before each exercise
            return [*blank, words.step_header(d), INDENT + words.get_ready(d)]
        if isinstance(e, ev.Countdown):
            seconds = int(e.seconds or 0)
            self._countdown.append(words.countdown_words(seconds))
            if seconds > 0:
                return []
            text = "Starting in " + ", ".join(self._countdown)
            self._countdown = []
            return [INDENT + text]
        if isinstance(e, ev.Rep):
            self._count = e.count
            self._hold = self._voice = ""
            self._holding = False
            exercise = e.exercise or e.rep_kind
            explain = exercise not in self._explained  # what the angle means: once per exercise
            self._explained.add(exercise)
            return [INDENT + words.rep_text(d, e.target_reps or self._target, explain=explain)]
        if isinstance(e, ev.HoldStart):
            self._holding = True
            self._hold = f"holding 0.0 of {e.target_s:g} s"
        elif isinstance(e, ev.HoldTick):
            held, remaining = e.held_s or 0.0, e.remaining_s or 0.0
            self._hold = f"holding {held:.1f} of {held + remaining:g} s"
        elif isinstance(e, ev.HoldDone):
            self._hold = f"held {e.target_s:g} s: done"
        elif isinstance(e, ev.Cue) and e.text:
            return [INDENT + e.text]
        elif isinstance(e, ev.SetComplete):
            return [INDENT + words.set_done(d)]
        elif isinstance(e, ev.Rest):
            if e.walk_back or e.seconds > 0:
                return [INDENT + words.rest_words(d)]
        elif isinstance(e, ev.Sway):
            return [INDENT + words.sway_text(e.metrics or {})]
        elif isinstance(e, ev.WalkProgress):
            if e.distance_m is not None:
                self._distance_m = float(e.distance_m)
        elif isinstance(e, ev.WalkMinute):
            return [INDENT + words.walk_minute_words(d)]
        elif isinstance(e, ev.Walk):
            return [INDENT + words.walk_text(d)]
        elif isinstance(e, ev.Link):
            return [INDENT + _link_text(e)]
        elif isinstance(e, ev.SessionEnd):
            summary = e.summary or {}
            self._exercise = None
            self._count = None
            text = words.summary_sentence(summary, e.complete)
            feel = words.feel_words(summary)
            lost = summary.get("lost_packets")
            if isinstance(lost, int) and lost:
                text += f" ({lost} sensor packets were lost on the way.)"
            return [*([""] if self.tty else []), text + (f" {feel}" if feel else "")]
        return []

    # -- output -------------------------------------------------------------------------------

    def live_text(self) -> str:
        """The status line as it would be shown now."""
        if not self._exercise:
            return ""
        parts = [words.exercise_title(self._exercise)]
        if self._set and self._set[1] > 1:
            parts.append(f"set {self._set[0]} of {self._set[1]}")
        if self._countdown:
            parts.append("starting in " + ", ".join(self._countdown))
        elif words.analysis_of(self._exercise) == "reps":
            if self._count is not None:
                parts.append(f"{self._count} of {self._target}" if self._target
                             else f"{self._count} so far")
            if isinstance(self._angle_deg, int | float):
                parts.append(f"angle {self._angle_deg:.0f}°")
        if self._hold:
            parts.append(self._hold)
        if self._voice and time.monotonic() - self._voice_at < VOICE_SHOWN_S:
            parts.append(self._voice)
        return " · ".join(parts)

    def _wrapped(self, line: str) -> str:
        return wrapped(line) if self.tty else line

    def _permanent(self, line: str, t_s: float) -> None:
        if self.tty:
            self.stream.write(_CLEAR + self._wrapped(line) + "\n")
            self._live = ""
            self._redraw()
        else:
            stamp = time.strftime(log_time_format, time.localtime(t_s))
            self.stream.write(f"{stamp} {line}\n")
            self.stream.flush()

    def _redraw(self) -> None:
        if not self.tty or self._paused:
            return
        width = shutil.get_terminal_size((80, 24)).columns
        text = self.live_text()[: max(width - 1, 10)]
        if text != self._live:
            self.stream.write(_CLEAR + text)
            self._live = text
        self.stream.flush()


def wrapped(text: str) -> str:
    """Each line of ``text`` broken between words to the terminal's width, its indent kept and
    continuation lines indented two more (a terminal would cut a long line mid-word)."""
    width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.append(textwrap.fill(line, width=width, subsequent_indent=indent + "  ",
                                 break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


def say(text: str, stream: TextIO | None = None) -> None:
    """print() for the coach's own lines outside a session: wrapped on a terminal."""
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    print(wrapped(text) if isatty and isatty() else text, file=stream, flush=True)


def _clock(seconds: float) -> str:
    """``1:23`` (minutes:seconds)."""
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


def _link_text(e: ev.Link) -> str:
    state = str(e.state or "").lower()
    if state in ("lost", "down", "disconnected", "stalled"):
        return "Lost the sensor's signal: keep going, it reconnects by itself."
    gap = e.gap_s
    lost = e.lost_packets
    text = "Sensor connected again"
    if isinstance(gap, int | float) and gap > 0:
        text += f" after {gap:.1f} s"
        if isinstance(lost, int) and lost:
            text += f" ({lost} packets missed)"
    return text + "."
