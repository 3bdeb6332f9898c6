"""`movecoach feel`: log or correct how the person feels (1-10) for a day."""

from __future__ import annotations

import datetime as dt
import time

from movecoach.store.base import Store
from movecoach.store.models import FeelEntry


def log_feel(store: Store, score: int, *, note: str | None = None,
             day: str | None = None) -> FeelEntry:
    """Store the score for `day` (default today): on that day's latest session, else standalone."""
    return store.set_feel(score, note=note, day=day or dt.date.today().isoformat())


def describe(entry: FeelEntry, store: Store) -> str:
    """A one-line confirmation, e.g. 'Saved: feeling 7/10 on Tue 24 Nov 2026 (session 12 at 08:10).'"""
    day = dt.date.fromisoformat(entry.day)
    text = f"Saved: feeling {entry.score}/10 on {day:%a %d %b %Y}"
    if entry.session_id is not None:
        s = store.session(entry.session_id)
        text += f" (session {s.id} at {time.strftime('%H:%M', time.localtime(s.started_at))})"
    else:
        text += " (no session that day; kept for the day)"
    if entry.note:
        text += f", note: {entry.note}"
    return text + "."
