"""`movecoach history`: one line per session, oldest first, with markers for what went wrong."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from movecoach.store.base import Store
from movecoach.store.models import FeelEntry, Session, Walk


@dataclass(frozen=True)
class HistoryLine:
    """One line of the history: a session, or a day with only a how-you-feel entry."""

    day: str
    text: str
    session_id: int | None
    markers: tuple[str, ...]


def _deg(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.0f}°"


def _num(v: float | None, digits: int = 3) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.{digits}g}"


def markers(session: Session) -> tuple[str, ...]:
    """INCOMPLETE / RECORDING / CORRUPT markers for a session."""
    out = []
    if session.status == "incomplete":
        out.append("INCOMPLETE")
    elif session.status == "recording":
        out.append("RECORDING")
    if session.corrupt:
        out.append("CORRUPT (" + "; ".join(session.problems) + ")")
    return tuple(out)


def walk_text(w: Walk) -> str:
    """``walk 152 m 1.27 m/s 108 steps/min``; ``25-ft walk 6.1 s``; ``2-min walk 152 m 1.27 m/s``."""
    if w.test == "25ft":
        if not w.test_done or w.test_time_s is None:
            return f"25-ft walk not finished ({_num(w.distance_m)} m)"
        return f"25-ft walk {w.test_time_s:.1f} s"
    head = "2-min walk" if w.test == "2min" else "walk"
    distance = w.test_distance_m if w.test == "2min" else w.distance_m
    if not w.strides or distance is None:
        return f"{head}: no strides found"
    text = f"{head} {distance:.0f} m"
    if w.speed_m_s is not None:
        text += f" {w.speed_m_s:.2f} m/s"
    if w.cadence_spm is not None:
        text += f" {w.cadence_spm:.0f} steps/min"
    return text


def session_line(session: Session) -> str:
    """e.g. ``2026-11-24 Tue 08:12 #365  march 2 sets 20 reps 32°; ...; balance: sway 0.127 m/s²; feel 7/10``."""
    started = dt.datetime.fromtimestamp(session.started_at)
    parts = []
    for e in session.exercises:
        text = f"{e.exercise} {e.sets} set{'s' if e.sets != 1 else ''} {e.reps} rep{'s' if e.reps != 1 else ''}"
        if e.mean_depth_deg is not None:
            text += f" depth {_deg(e.mean_depth_deg)}"
        elif e.mean_amplitude_deg is not None:
            text += f" {_deg(e.mean_amplitude_deg)}"
        if e.holds_total:
            text += f" holds {e.holds_met}/{e.holds_total}"
        parts.append(text)
    if session.sway is not None:  # the other balance measures: report and export
        parts.append(f"balance: sway {_num(session.sway.rms)} m/s²")
    quick = [w for w in session.walks if w.test == "25ft"]
    parts.extend(walk_text(w) for w in session.walks if w.test != "25ft")
    if len(quick) > 1:  # the trials of a timed 25-foot walk and its score, their mean
        times = ", ".join("not finished" if not w.test_done or w.test_time_s is None
                          else f"{w.test_time_s:.1f} s" for w in quick)
        score = session.test_score("25ft")
        parts.append(f"25-ft walk {times}" + (f": mean {score:.1f} s" if score is not None else ""))
    elif quick:
        parts.append(walk_text(quick[0]))
    if session.feel_score is not None:
        feel = f"feel {session.feel_score}/10"
        if session.feel_note:
            feel += f" ({session.feel_note})"
        parts.append(feel)
    if not parts:
        parts.append("no exercises recorded")
    head = f"{started:%Y-%m-%d %a %H:%M} #{session.id:<4d}"
    tail = "".join(f"  {m}" for m in markers(session))
    return f"{head} {'; '.join(parts)}{tail}"


def feel_only_line(entry: FeelEntry) -> str:
    day = dt.date.fromisoformat(entry.day)
    text = f"{day:%Y-%m-%d %a}       no session; feel {entry.score}/10"
    return text + (f" ({entry.note})" if entry.note else "")


def history_lines(store: Store, *, since: str | None = None, until: str | None = None,
                  exercise: str | None = None) -> list[HistoryLine]:
    """The history, oldest first: sessions, and (without an exercise filter) feel-only days."""
    lines = [HistoryLine(s.day, session_line(s), s.id, markers(s))
             for s in store.sessions(since=since, until=until, exercise=exercise)]
    if exercise is None:
        days_with_session = {ln.day for ln in lines}
        for entry in store.feel_entries():
            if entry.session_id is not None or entry.day in days_with_session:
                continue
            if (since and entry.day < since) or (until and entry.day > until):
                continue
            lines.append(HistoryLine(entry.day, feel_only_line(entry), None, ()))
        lines.sort(key=lambda ln: (ln.day, ln.session_id is not None, ln.session_id or 0))
    return lines


def history_footer(lines: list[HistoryLine]) -> str:
    n = sum(1 for ln in lines if ln.session_id is not None)
    incomplete = sum(1 for ln in lines if "INCOMPLETE" in ln.markers)
    corrupt = sum(1 for ln in lines if any(m.startswith("CORRUPT") for m in ln.markers))
    text = f"{n} session{'s' if n != 1 else ''}"
    if incomplete:
        text += f", {incomplete} incomplete"
    if corrupt:
        text += f", {corrupt} with damaged data (shown as CORRUPT; the rest of each is kept)"
    text += ". Angles: mean per exercise; holds: met/with a hold target"
    if any("balance: sway" in ln.text for ln in lines):
        text += "; sway: how much your lower back moved standing still (smaller is steadier)"
    if any("walk " in ln.text for ln in lines):
        text += ("; walks: the distance, your speed while walking (m/s) and steps a minute; "
                 "25-ft walk: the time it took")
    return text + "."
