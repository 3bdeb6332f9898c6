"""The storage interface: what the coach writes and what review reads, whatever keeps it.

A :class:`Store` records sessions (``start_session`` returns a
:class:`~movecoach.store.recorder.SessionRecorder`, the coach's recording sink) and answers the
review commands with the read models of :mod:`movecoach.store.models`. The recorder's writer
thread hands a store's :class:`SessionWriter` batches of :data:`Op` (the rows of one session),
committed all or nothing.

Stores: :mod:`movecoach.store.sqlite` (a data directory or ``.sqlite`` file: the default) and
:mod:`movecoach.store.memory` (``memory:``, for tests). A new kind is one module with an
``open_store(location, *, record, create, min_free_mb, commit_interval_s)`` function, registered
by its URL scheme in :data:`movecoach.store.STORES`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from movecoach.events import Event
    from movecoach.samples import SampleBlock
    from movecoach.store.models import (
        FeelEntry,
        RepRow,
        Session,
        StepRow,
        StrideRow,
        SwayTrial,
        Walk,
    )
    from movecoach.store.recorder import SessionRecorder

# The tables of a session's rows (each row carries its session_id, which the store adds).
SESSION_TABLES = ("events", "steps", "reps", "sway", "walks", "walk_bouts", "strides", "samples")


@dataclass(frozen=True)
class Row:
    """One row of a session's table (one of SESSION_TABLES): column -> value.

    samples: step, n, fs (Hz), and t (little-endian float64 s), acc / gyr (float32 (n, 3), m/s^2
    and rad/s) and t_host (float64 unix s, or None) as bytes (see store/blocks.py)."""

    table: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Summary:
    """The session's summary (JSON text) from its session_end event; None keeps the one stored."""

    text: str | None


@dataclass(frozen=True)
class Feel:
    """How the person feels after this session (1-10); replaces the session's earlier score."""

    day: str
    score: int
    note: str | None
    created_at: float


@dataclass(frozen=True)
class End:
    """finish (complete=True): the session is complete, ended at ended_at (unix s), with its
    summary (None keeps the stored one). close (complete=False): ended_at unless already set."""

    ended_at: float
    complete: bool
    summary: str | None = None


@dataclass(frozen=True)
class Discard:
    """Remove the session and everything of it: it never really started."""


Op = Row | Summary | Feel | End | Discard


class SessionWriter(Protocol):
    """A store's side of one session's writer thread."""

    where: str  # named in "cannot write to WHERE: ..." (the data directory, a server)

    def commit(self, ops: Sequence[Op], *, heartbeat_at: float) -> Exception | None:
        """Apply ops in order, all or nothing, and mark the session alive at heartbeat_at (unix s)
        with its sample count raised by the samples rows' n. Returns None when saved; else the
        error (disk full, locked, ...): nothing was saved and the caller retries later. A row the
        store refuses on its own (not the disk) is dropped, logged, and the rest saved."""
        ...

    def close(self) -> None: ...


class Store(Protocol):
    """Sessions recorded and read back. Days are local 'YYYY-MM-DD'; every list is oldest first."""

    location: str  # what the store is, for messages: a database file, a URL
    directory: Path | None  # the data directory it belongs to (reports go there), if any

    @property
    def empty(self) -> bool:
        """Nothing was ever recorded here (no database yet)."""
        ...

    # -- writing ---------------------------------------------------------------------------
    def start_session(self, *, device_id: str, routine: str, source: str, fs: float | None,
                      started_at: float | None = None) -> SessionRecorder:
        """A new session (stored at once, incomplete) and its recorder."""
        ...

    def set_feel(self, score: int, *, note: str | None = None, day: str | None = None) -> FeelEntry:
        """Log or correct how the person feels (1-10) for a day (default today): attached to the
        day's latest session if any (replacing its score), else standalone for the day."""
        ...

    def add_rows(self, session_id: int, ops: Sequence[Op]) -> None:
        """Add writes to a session that is no longer recording (a walk cut short by Ctrl-C or a
        kill, analysed afterwards from its samples: :mod:`movecoach.coach.recover`); UserError if
        they cannot be written."""
        ...

    # -- reading ---------------------------------------------------------------------------
    def sessions(self, *, since: str | None = None, until: str | None = None,
                 exercise: str | None = None, ids: Iterable[int] | None = None) -> list[Session]: ...

    def session(self, session_id: int) -> Session:
        """One session; UserError if there is no such session."""
        ...

    def summary(self, session_id: int) -> dict | None:
        """The summary the coach stored at the end (None if missing or unreadable)."""
        ...

    def steps(self, session_id: int) -> list[StepRow]: ...

    def reps(self, *, session_ids: Iterable[int] | None = None,
             exercise: str | None = None) -> list[RepRow]: ...

    def sway_trials(self, *, session_ids: Iterable[int] | None = None) -> list[SwayTrial]: ...

    def walks(self, *, session_ids: Iterable[int] | None = None) -> list[Walk]: ...

    def strides(self, session_id: int, step: int | None = None) -> list[StrideRow]: ...

    def sample_steps(self) -> set[tuple[int, int | None]]:
        """(session_id, step) pairs that have raw samples."""
        ...

    def steps_without_walk(self, exercises: Iterable[str]) -> set[tuple[int, int | None]]:
        """(session_id, step) of steps of these (walk) exercises that have samples but no walk
        result, in sessions not finished: walks a session ended in."""
        ...

    def events(self, session_id: int) -> list[Event]:
        """The session's events in order (an unreadable event's data is {'damaged': True})."""
        ...

    def feel_entries(self) -> list[FeelEntry]: ...

    def feel_by_day(self) -> dict[str, FeelEntry]:
        """The day's score: from its latest session that has one, else the standalone entry."""
        ...

    def read_samples(self, session_id: int, step: int | None = None) -> SampleBlock:
        """A session's (or one step's) raw samples in recording order; UserError if there is no
        such session. Damaged blocks are skipped with a warning."""
        ...

    def close(self) -> None:
        """Close every session still open (incomplete unless finished) and the store."""
        ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc) -> None: ...
