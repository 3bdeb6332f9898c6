"""Show the session in a terminal: a live status line plus permanent lines for what matters.

On a terminal (``tty=True``) one status line is rewritten in place (``\\r`` + clear line)::

    heel and toe raises  set 1/2  3/10  angle 18 deg  hold 1.2/2 s

and reps, cues, set and session news are printed above it as permanent lines::

    rep 3/10  heel raise  24 deg  hold 2.1 s

Without a terminal (a pipe, CI, systemd) there are no carriage-return games: one plain,
timestamped line per event that matters; status updates and hold ticks are not printed.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import TextIO

from movecoach.events import Event
from movecoach.sinks.speech import exercise_name, summary_reps

log_time_format = "%H:%M:%S"
_CLEAR = "\r\x1b[2K"


def _num(value, fmt: str = "g") -> str:
    return format(value, fmt) if isinstance(value, int | float) else "?"


def rep_line(data: dict, target: int | None = None) -> str:
    """``rep 3/10  heel raise  24 deg  hold 2.1 s`` (``depth 40 deg`` for slides; a missed hold
    target reads ``hold 1.2 s, target 2 s``)."""
    count = data.get("count")
    head = f"rep {count}/{target}" if target else f"rep {count}"
    parts = [head, str(data.get("kind") or data.get("exercise") or "").replace("_", " ")]
    if isinstance(data.get("depth_deg"), int | float):
        parts.append(f"depth {data['depth_deg']:.0f} deg")
    elif isinstance(data.get("amplitude_deg"), int | float):
        parts.append(f"{data['amplitude_deg']:.0f} deg")
    hold_s = data.get("hold_s")
    if isinstance(hold_s, int | float):
        hold = f"hold {hold_s:.1f} s"
        if data.get("hold_met") is False and isinstance(data.get("hold_target_s"), int | float):
            hold += f", target {data['hold_target_s']:g} s"
        parts.append(hold)
    return "  ".join(p for p in parts if p)


def sway_line(data: dict) -> str:
    """``sway: rms 0.120 m/s2  ellipse 0.050 (m/s2)2  path 3.10 m/s2 over 30 s``."""
    m = data.get("metrics") or {}
    return (f"sway: rms {_num(m.get('rms'), '.3f')} m/s2  ellipse {_num(m.get('ellipse_area_95'), '.3f')}"
            f" (m/s2)2  path {_num(m.get('path_length'), '.2f')} m/s2 over {_num(m.get('duration_s'), '.0f')} s")


def summary_line(data: dict) -> str:
    """``session complete: morning, 6.2 min; heel-toe 20 reps, march 10 reps; feel 7`` from a
    session summary (``routine``, ``duration_s``, ``steps[].sets[].reps``, ``lost_packets``,
    ``feel``; a plain ``reps`` total is shown when there are no steps)."""
    summary = data.get("summary") or {}
    head = "session complete" if data.get("complete", True) else "session ended early"
    parts = []
    first = [str(summary["routine"])] if summary.get("routine") else []
    if isinstance(summary.get("duration_s"), int | float):
        first.append(f"{summary['duration_s'] / 60:.1f} min")
    if first:
        parts.append(", ".join(first))
    per_exercise = summary_reps(summary)
    if per_exercise:
        parts.append(", ".join(f"{ex} {n} reps" for ex, n in per_exercise.items()))
    elif isinstance(summary.get("reps"), int):
        parts.append(f"{summary['reps']} reps")
    if summary.get("sway"):
        parts.append("balance trial done")
    if summary.get("lost_packets"):
        parts.append(f"{summary['lost_packets']} packets lost")
    if summary.get("feel") is not None:
        parts.append(f"feel {summary['feel']}" + (f" ({summary['feel_note']})" if summary.get("feel_note") else ""))
    return head + (": " + "; ".join(parts) if parts else "")


class ConsoleSink:
    """Writes the session to ``stream``; ``tty=None`` asks the stream whether it is a terminal.

    The runner calls ``status(exercise, count, target, angle_deg, hold_s)`` a few times per second
    for the live line (shown on a terminal only).
    """

    def __init__(self, stream: TextIO = sys.stdout, *, tty: bool | None = None):
        self.stream = stream
        if tty is None:
            isatty = getattr(stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self._lock = threading.Lock()
        self._live = ""
        self._exercise: str | None = None
        self._set: tuple[int, int] | None = None
        self._target: int | None = None
        self._count: int | None = None
        self._angle_deg: float | None = None
        self._hold: str = ""
        self._hold_target_s: float | None = None

    # -- public API ---------------------------------------------------------------------------

    def status(self, exercise: str, count: int, target: int | None, angle_deg: float | None,
               hold_s: float | None) -> None:
        """Live numbers: reps so far of ``target``, current angle (deg), hold time so far (s)."""
        with self._lock:
            self._exercise = exercise
            self._count = count
            self._target = target or self._target
            self._angle_deg = angle_deg
            if isinstance(hold_s, int | float) and hold_s > 0:
                of = f"/{self._hold_target_s:g}" if self._hold_target_s else ""
                self._hold = f"hold {hold_s:.1f}{of} s"
            else:
                self._hold = ""
            self._redraw()

    def handle(self, event: Event) -> None:
        d = event.data
        k = event.kind
        with self._lock:
            line: str | None = None
            if k == "session_start":
                line = (f"session {d.get('session_id', '')} started: {d.get('routine') or 'routine'}, "
                        f"{d.get('steps', '?')} steps, from {d.get('source', '?')}")
            elif k == "step_start":
                self._exercise = d.get("exercise")
                self._target = d.get("target_reps")
                self._count = 0
                self._hold = ""
                self._hold_target_s = d.get("hold_target_s") or None
                if d.get("set") and d.get("sets"):
                    self._set = (d["set"], d["sets"])
                line = f"== {exercise_name(self._exercise)}"
                if self._set:
                    line += f", set {self._set[0]}/{self._set[1]}"
                if self._target:
                    line += f", {self._target} reps"
                if d.get("hold_target_s"):
                    line += f", hold {d['hold_target_s']:g} s"
                if d.get("placement"):
                    line += f"; sensor {d['placement']}"
            elif k == "rep":
                if isinstance(d.get("count"), int):
                    self._count = d["count"]
                self._hold = ""
                line = rep_line(d, d.get("target_reps") or self._target)
            elif k == "hold_start":
                self._hold = f"hold 0.0/{_num(d.get('target_s'))} s"
            elif k == "hold_tick":
                total_s = (d.get("held_s") or 0) + (d.get("remaining_s") or 0)
                self._hold = f"hold {_num(d.get('held_s'), '.1f')}/{total_s:g} s"
            elif k == "hold_done":
                self._hold = f"hold {_num(d.get('held_s'), '.1f')} s done"
            elif k == "cue":
                line = f"cue: {d.get('text') or d.get('cue')}"
            elif k == "set_complete":
                line = f"set {d.get('set')}/{d.get('sets')} complete: {d.get('reps')} reps"
            elif k == "rest":
                line = f"rest {_num(d.get('seconds'), '.0f')} s"
            elif k == "sway":
                line = sway_line(d)
            elif k == "link":
                line = f"sensor link {d.get('state')}"
                if isinstance(d.get("gap_s"), int | float) and d["gap_s"] > 0:
                    line += f" (gap {d['gap_s']:.1f} s, {d.get('lost_packets', 0)} packets lost)"
            elif k == "session_end":
                line = summary_line(d)
            if line is not None:
                self._permanent(line, event.t_s)
            elif self.tty:
                self._redraw()

    def close(self) -> None:
        """Leave the terminal clean: the live line is erased."""
        with self._lock:
            if self.tty and self._live:
                self.stream.write(_CLEAR)
                self._live = ""
            self.stream.flush()

    # -- output -------------------------------------------------------------------------------

    def live_text(self) -> str:
        """The status line as it would be shown now."""
        parts = [exercise_name(self._exercise)] if self._exercise else []
        if self._set:
            parts.append(f"set {self._set[0]}/{self._set[1]}")
        if self._count is not None:
            parts.append(f"{self._count}/{self._target}" if self._target else f"{self._count} reps")
        if isinstance(self._angle_deg, int | float):
            parts.append(f"angle {self._angle_deg:.0f} deg")
        if self._hold:
            parts.append(self._hold)
        return "  ".join(parts)

    def _permanent(self, line: str, t_s: float) -> None:
        if self.tty:
            self.stream.write(_CLEAR + line + "\n")
            self._live = ""
            self._redraw()
        else:
            stamp = time.strftime(log_time_format, time.localtime(t_s))
            self.stream.write(f"{stamp} {line}\n")
            self.stream.flush()

    def _redraw(self) -> None:
        if not self.tty:
            return
        width = shutil.get_terminal_size((80, 24)).columns
        text = self.live_text()[: max(width - 1, 10)]
        if text != self._live:
            self.stream.write(_CLEAR + text)
            self._live = text
        self.stream.flush()
