"""Crash-safe session recording in SQLite, and the query layer the review commands read.

Writing: :class:`Recorder` opens (creates, migrates) ``movecoach.sqlite`` in the data directory
and checks that it is writable with free space *before* a session starts.
:meth:`Recorder.start_session` returns a :class:`SessionRecorder`, which is also an event
:class:`~movecoach.events.Sink`. Its ``handle`` and ``add_samples`` only convert and enqueue;
one writer thread per session commits at least every ``commit_interval_s`` (0.5 s) and at once
on every rep, step, sway and session-end event. The database is in WAL mode, so a process killed
at any moment (SIGKILL included) loses at most the last uncommitted half second, and the session
reads back as *incomplete*.

Reading: :class:`SessionStore` answers the review commands with SQL aggregates over indexed
tables (:class:`Session`, :class:`ExerciseSummary`, :class:`RepRow`, :class:`SwayTrial`,
:class:`Walk`, :class:`StrideRow`, :class:`FeelEntry`), and :func:`read_samples` returns one
session's raw samples.

The schema is documented in docs/formats.md; it is versioned with ``PRAGMA user_version`` and
upgraded in place by :data:`MIGRATIONS`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import queue
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from movecoach.errors import UserError
from movecoach.events import Event, from_dict
from movecoach.samples import SampleBlock
from movecoach.signal.exercises import REGISTRY
from movecoach.signal.types import SwayMetrics
from movecoach.store.paths import db_path, make_private_dir, private_file

log = logging.getLogger(__name__)

SWAY_FIELDS = tuple(SwayMetrics.__dataclass_fields__)
# The walks table's measures (the `walk` event's fields of the same names; units in the names).
WALK_FIELDS = ("duration_s", "walking_s", "distance_m", "speed_m_s", "cadence_spm", "strides",
               "stride_time_s", "stride_time_cv", "stance_frac", "stride_length_m", "turns",
               "test_time_s", "test_distance_m")
BOUT_FIELDS = ("t_start", "t_end", "strides", "cadence_spm", "stride_time_s", "stride_time_cv",
               "stance_frac", "stride_length_m", "speed_m_s", "distance_m", "turns")
STRIDE_FIELDS = ("t_start", "t_end", "time_s", "length_m", "stance_s", "swing_s", "turn_deg")

# Each entry upgrades the schema from version i to i + 1 (user_version = index + 1).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: sessions, every event, typed rows for steps / reps / sway, samples in blocks.
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            device_id TEXT NOT NULL,
            routine TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            fs REAL,
            started_at REAL NOT NULL,
            ended_at REAL,
            complete INTEGER NOT NULL DEFAULT 0,
            summary TEXT)""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            kind TEXT NOT NULL,
            t_s REAL NOT NULL,
            data TEXT NOT NULL)""",
        """CREATE TABLE steps (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER,
            exercise TEXT NOT NULL,
            set_no INTEGER,
            sets INTEGER,
            target_reps INTEGER,
            hold_target_s REAL,
            placement TEXT,
            t_s REAL NOT NULL)""",
        """CREATE TABLE reps (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER,
            exercise TEXT NOT NULL,
            kind TEXT,
            count INTEGER,
            set_no INTEGER,
            amplitude_deg REAL,
            depth_deg REAL,
            hold_s REAL,
            hold_target_s REAL,
            hold_met INTEGER,
            t_start REAL,
            t_peak REAL,
            t_end REAL,
            t_s REAL NOT NULL)""",
        "CREATE TABLE sway (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), "
        "step INTEGER, exercise TEXT, t_s REAL NOT NULL, "
        + ", ".join(f"{name} REAL" for name in SWAY_FIELDS) + ")",
        """CREATE TABLE samples (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER,
            n INTEGER NOT NULL,
            fs REAL,
            t BLOB NOT NULL,
            acc BLOB NOT NULL,
            gyr BLOB NOT NULL,
            t_host BLOB)""",
        "CREATE INDEX samples_session ON samples(session_id, step, id)",
        "CREATE INDEX events_session ON events(session_id, id)",
    ),
    # 2: local day + writer liveness on sessions, sample count, how-you-feel, review indexes.
    (
        "ALTER TABLE sessions ADD COLUMN day TEXT",
        "ALTER TABLE sessions ADD COLUMN pid INTEGER",
        "ALTER TABLE sessions ADD COLUMN host TEXT",
        "ALTER TABLE sessions ADD COLUMN heartbeat_at REAL",
        "ALTER TABLE sessions ADD COLUMN n_samples INTEGER NOT NULL DEFAULT 0",
        "UPDATE sessions SET day = date(started_at, 'unixepoch', 'localtime')",
        "UPDATE sessions SET n_samples = "
        "(SELECT COALESCE(SUM(n), 0) FROM samples WHERE samples.session_id = sessions.id)",
        """CREATE TABLE feel (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            session_id INTEGER REFERENCES sessions(id),
            score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
            note TEXT,
            created_at REAL NOT NULL)""",
        "CREATE UNIQUE INDEX feel_session ON feel(session_id) WHERE session_id IS NOT NULL",
        "CREATE INDEX feel_day ON feel(day)",
        "CREATE INDEX sessions_day ON sessions(day, started_at)",
        "CREATE INDEX steps_session ON steps(session_id)",
        "CREATE INDEX reps_session ON reps(session_id, exercise)",
        "CREATE INDEX sway_session ON sway(session_id)",
    ),
    # 3: walks (one row per walk step: its totals and a timed test's result), their bouts and
    # the sensor foot's strides (sensor clock s, m, deg).
    (
        """CREATE TABLE walks (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER,
            exercise TEXT NOT NULL,
            test TEXT,
            trial INTEGER,
            t_s REAL NOT NULL,
            duration_s REAL,
            walking_s REAL,
            distance_m REAL,
            speed_m_s REAL,
            cadence_spm REAL,
            strides INTEGER,
            stride_time_s REAL,
            stride_time_cv REAL,
            stance_frac REAL,
            stride_length_m REAL,
            turns INTEGER,
            test_time_s REAL,
            test_distance_m REAL,
            test_done INTEGER)""",
        """CREATE TABLE walk_bouts (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER,
            bout INTEGER NOT NULL,
            t_start REAL,
            t_end REAL,
            strides INTEGER,
            cadence_spm REAL,
            stride_time_s REAL,
            stride_time_cv REAL,
            stance_frac REAL,
            stride_length_m REAL,
            speed_m_s REAL,
            distance_m REAL,
            turns INTEGER)""",
        """CREATE TABLE strides (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER,
            t_start REAL,
            t_end REAL,
            time_s REAL,
            length_m REAL,
            stance_s REAL,
            swing_s REAL,
            turn_deg REAL)""",
        "CREATE INDEX walks_session ON walks(session_id)",
        "CREATE INDEX walk_bouts_session ON walk_bouts(session_id, step)",
        "CREATE INDEX strides_session ON strides(session_id, step)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

# Events that are committed at once (a rep must survive a crash right after it is spoken).
FLUSH_KINDS = frozenset({"rep", "step_start", "sway", "walk", "session_end", "set_complete"})
HEARTBEAT_S = 10.0  # an idle writer still touches sessions.heartbeat_at this often
STALE_S = 60.0  # a session whose heartbeat is older than this is not 'recording' any more
MAX_BUFFER_SAMPLES = 104 * 600  # samples kept in memory while the disk refuses writes


# -- connection and schema ---------------------------------------------------------------------

def connect(path: str | os.PathLike, *, timeout_s: float = 10.0) -> sqlite3.Connection:
    """Open the database file in WAL mode (autocommit; use explicit BEGIN/COMMIT)."""
    conn = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None,
                           check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: commits survive a process kill
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, *, target: int = SCHEMA_VERSION) -> int:
    """Upgrade the schema to ``target`` one migration at a time, each in its own transaction.

    Safe against a second process migrating at the same time (BEGIN IMMEDIATE, then re-check).
    Returns the version reached. A database newer than this movecoach raises UserError.
    """
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise UserError(f"the database was written by a newer movecoach (schema {version}, "
                        f"this one knows {SCHEMA_VERSION}): upgrade movecoach")
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)
            if version >= target:
                conn.execute("COMMIT")
                break
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("database schema migrated to version %d", version + 1)
        version += 1
    return version


def local_day(t_s: float) -> str:
    """The local calendar day (YYYY-MM-DD) of a unix time, as stored in sessions.day."""
    return time.strftime("%Y-%m-%d", time.localtime(t_s))


def _clean(value):
    """A JSON-safe copy: numpy scalars/arrays to Python, NaN/inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dumps(value) -> str:
    return json.dumps(_clean(value), default=str, allow_nan=False)


def _num(value) -> float | None:
    """A finite float, or None for missing / non-numeric values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _int(value) -> int | None:
    f = _num(value)
    return None if f is None else int(round(f))


def _bool(value) -> int | None:
    return None if value is None else int(bool(value))


# -- writing -----------------------------------------------------------------------------------

class Recorder:
    """Owns the database of one data directory; starts recorded sessions.

    ``Recorder(data_dir)`` creates the directory and the database, migrates the schema, and
    raises :class:`UserError` ("cannot write to DATA_DIR: <reason>") if the directory is not
    writable or has less than ``min_free_mb`` free, so the problem shows before a session starts.
    """

    def __init__(self, data_dir: str | os.PathLike, *, min_free_mb: float = 50.0,
                 commit_interval_s: float = 0.5):
        self.data_dir = Path(data_dir)
        self.db_path = db_path(self.data_dir)
        self.commit_interval_s = float(commit_interval_s)
        self._sessions: list[SessionRecorder] = []
        directory = self.db_path.parent
        try:
            make_private_dir(directory)
            _probe_writable(directory)
            free_mb = shutil.disk_usage(directory).free / 1e6
        except OSError as exc:
            raise UserError(f"cannot write to {directory}: {exc.strerror or exc}") from exc
        if free_mb < min_free_mb:
            raise UserError(f"cannot write to {directory}: disk full "
                            f"({free_mb:.0f} MB free, need {min_free_mb:.0f} MB)")
        try:
            make_db_private(self.db_path)
        except OSError as exc:
            raise UserError(f"cannot write to {directory}: {exc.strerror or exc}") from exc
        try:
            self._conn = connect(self.db_path)
            migrate(self._conn)
        except sqlite3.DatabaseError as exc:
            raise UserError(f"cannot write to {directory}: {self.db_path.name}: {exc}") from exc

    def start_session(self, *, device_id: str, routine: str, source: str, fs: float | None,
                      started_at: float | None = None) -> SessionRecorder:
        """Insert the session row (committed at once) and start its writer thread."""
        t0 = time.time() if started_at is None else float(started_at)
        day = local_day(t0)
        try:
            cur = self._conn.execute(
                "INSERT INTO sessions (device_id, routine, source, fs, started_at, day, pid, host,"
                " heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (device_id, routine, source or "", _num(fs), t0, day, os.getpid(),
                 socket.gethostname(), time.time()),
            )
        except sqlite3.Error as exc:
            raise UserError(f"cannot write to {self.db_path.parent}: {exc}") from exc
        sess = SessionRecorder(self.db_path, int(cur.lastrowid), day=day,
                               commit_interval_s=self.commit_interval_s)
        self._sessions.append(sess)
        log.info("recording session %d in %s", sess.id, self.db_path)
        return sess

    def close(self) -> None:
        """Close every session still open (they stay incomplete unless finished) and the db."""
        for sess in self._sessions:
            sess.close()
        self._sessions.clear()
        self._conn.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_db_private(path: Path) -> None:
    """The database file 0600 before SQLite opens it: SQLite creates the -wal and -shm files
    with the database's own permissions. Files left 0644 by an older movecoach are tightened."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            private_file(side)


def _probe_writable(directory: Path) -> None:
    """Create, write, fsync and remove a small file: raises OSError if the disk refuses."""
    probe = directory / f".movecoach-probe-{os.getpid()}-{threading.get_ident()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * 65536)
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        try:
            probe.unlink()
        except FileNotFoundError:
            pass


@dataclass
class _Chunk:
    """Samples of one step waiting for the next commit."""

    fs: float
    t: list[np.ndarray] = field(default_factory=list)
    acc: list[np.ndarray] = field(default_factory=list)
    gyr: list[np.ndarray] = field(default_factory=list)
    t_host: list[np.ndarray | None] = field(default_factory=list)
    n: int = 0


class SessionRecorder:
    """Records one session: samples, every event, typed rows; a :class:`Sink` for the coach.

    Calls return at once (they convert and enqueue); the writer thread commits. ``id`` is the
    session's integer id in the database (used as ``session_id`` in the coach's events).
    ``error`` holds the last write error (e.g. disk full), if any; data is then kept in memory
    (up to ``MAX_BUFFER_SAMPLES`` samples) and retried at the next commit.
    """

    def __init__(self, db_file: Path, session_id: int, *, day: str, commit_interval_s: float = 0.5):
        self.id = session_id
        self.day = day
        self.db_path = Path(db_file)
        self.error: Exception | None = None
        self.samples_added = 0
        self._commit_interval_s = commit_interval_s
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._step: int | None = None
        self._step_starts = 0
        self._closed = False
        self._finished = False
        self._thread = threading.Thread(target=self._run, name=f"recorder-{session_id}", daemon=True)
        self._thread.start()

    # -- the producer side (coach thread) -----------------------------------------------------
    def add_samples(self, block: SampleBlock, *, step: int | None = None) -> None:
        """Queue a block of samples (t_s s, acc_m_s2 (n, 3) m/s^2, gyr_rad_s (n, 3) rad/s).

        step: the routine step index (0-based) the samples belong to; None = the current step
        (from the latest ``step_start`` event, or the last step given here).
        """
        n = len(block)
        if n == 0 or self._closed:
            return
        self.samples_added += n
        with self._lock:
            if step is not None:
                self._step = int(step)
            this_step = self._step
        t = np.array(block.t_s, dtype=np.float64).reshape(n)
        acc = np.array(block.acc_m_s2, dtype=np.float32).reshape(n, 3)
        gyr = np.array(block.gyr_rad_s, dtype=np.float32).reshape(n, 3)
        t_host = None if block.t_host_s is None else np.array(block.t_host_s, dtype=np.float64).reshape(n)
        self._q.put(("samples", this_step, float(block.fs), t, acc, gyr, t_host))

    def handle(self, event: Event) -> None:
        """Store the event (kind, t_s, JSON data) and its typed rows for
        step_start/rep/sway/walk/session_end."""
        if self._closed:
            return
        data = event.data or {}
        with self._lock:
            if event.kind == "step_start":
                if data.get("step") is not None:
                    self._step = _int(data.get("step"))
                elif data.get("set") in (None, 1) or self._step is None:
                    self._step = self._step_starts if self._step is None else self._step + 1
                self._step_starts += 1
            step = self._step
        payload = _dumps(data) if data else "{}"
        typed = _typed_rows(self.id, event.kind, data, step, event.t_s)
        self._q.put(("event", event.kind, float(event.t_s), payload, typed))

    def set_feel(self, score: int, note: str | None = None) -> None:
        """How the person feels after this session, 1 (worst) to 10 (best); replaces a previous one."""
        score = _check_score(score)
        self._q.put(("feel", score, note, time.time()))

    def finish(self, summary: dict | None = None, *, ended_at: float | None = None,
               timeout_s: float = 10.0) -> None:
        """Mark the session complete (ended_at unix s, default now; complete=1), commit, wait."""
        text = None if summary is None else _dumps(summary)
        self._finished = True
        self._call("finish", time.time() if ended_at is None else float(ended_at), text,
                   timeout_s=timeout_s)

    def flush(self, *, timeout_s: float = 10.0) -> None:
        """Commit everything queued so far and wait for it."""
        self._call("flush", timeout_s=timeout_s)

    def discard(self, *, timeout_s: float = 10.0) -> None:
        """Remove the session from the database and stop: for a session that failed before its
        first sample (the sensor or the recording to replay could not be opened), so history
        shows no empty INCOMPLETE session. Refused (RuntimeError) once samples were added."""
        if self._closed:
            return
        if self.samples_added:
            raise RuntimeError(f"session {self.id} has samples; close() it instead")
        self._closed = True
        done = threading.Event()
        self._q.put(("discard", done))
        self._thread.join(timeout_s)

    def close(self, *, ended_at: float | None = None, timeout_s: float = 10.0) -> None:
        """Commit and stop the writer. Without :meth:`finish` the session stays incomplete
        (its ended_at is then set to ``ended_at``, default now, unless finish set it)."""
        if self._closed:
            return
        self._closed = True
        done = threading.Event()
        self._q.put(("stop", time.time() if ended_at is None else float(ended_at), done))
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error("session %d: the writer did not stop within %.0f s", self.id, timeout_s)

    def _call(self, op: str, *args, timeout_s: float) -> None:
        if self._closed:
            raise RuntimeError(f"session {self.id} is closed")
        done = threading.Event()
        self._q.put((op, *args, done))
        if not done.wait(timeout_s):
            raise UserError(f"cannot write to {self.db_path.parent}: the recorder did not answer "
                            f"within {timeout_s:.0f} s")
        if self.error is not None:
            raise UserError(f"cannot write to {self.db_path.parent}: {self.error}")

    # -- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(self.db_path)
            self._loop(conn)
        except Exception:  # never let the writer die silently
            log.exception("session %d: recorder writer failed", self.id)
        finally:
            if conn is not None:
                conn.close()

    def _loop(self, conn: sqlite3.Connection) -> None:
        chunks: dict[int | None, _Chunk] = {}
        rows: list[tuple[str, tuple]] = []
        waiters: list[threading.Event] = []
        deadline: float | None = None
        last_commit = time.monotonic()
        stopping = False
        while not stopping:
            now = time.monotonic()
            wait = (deadline - now) if deadline is not None else (last_commit + HEARTBEAT_S - now)
            try:
                item = self._q.get(timeout=max(0.0, wait))
            except queue.Empty:
                item = None
            flush_now = item is None
            if item is not None:
                op = item[0]
                if op == "samples":
                    _, step, fs, t, acc, gyr, t_host = item
                    chunk = chunks.get(step)
                    if chunk is None or chunk.fs != fs:
                        if chunk is not None:  # rate changed mid-step: write the old rate first
                            rows.append(_chunk_row(self.id, step, chunk))
                        chunk = chunks[step] = _Chunk(fs)
                    chunk.t.append(t)
                    chunk.acc.append(acc)
                    chunk.gyr.append(gyr)
                    chunk.t_host.append(t_host)
                    chunk.n += len(t)
                elif op == "event":
                    _, kind, t_s, payload, typed = item
                    rows.append(("INSERT INTO events (session_id, kind, t_s, data) VALUES (?, ?, ?, ?)",
                                 (self.id, kind, t_s, payload)))
                    rows.extend(typed)
                    flush_now = kind in FLUSH_KINDS
                elif op == "feel":
                    _, score, note, t_s = item
                    rows.append(("DELETE FROM feel WHERE session_id = ?", (self.id,)))
                    rows.append(("INSERT INTO feel (day, session_id, score, note, created_at) "
                                 "VALUES (?, ?, ?, ?, ?)", (self.day, self.id, score, note, t_s)))
                    flush_now = True
                elif op == "finish":
                    _, t_s, summary, done = item
                    rows.append(("UPDATE sessions SET ended_at = ?, complete = 1, "
                                 "summary = COALESCE(?, summary) WHERE id = ?", (t_s, summary, self.id)))
                    waiters.append(done)
                    flush_now = True
                elif op == "flush":
                    waiters.append(item[1])
                    flush_now = True
                elif op == "stop":
                    _, t_s, done = item
                    rows.append(("UPDATE sessions SET ended_at = COALESCE(ended_at, ?) WHERE id = ?",
                                 (t_s, self.id)))
                    waiters.append(done)
                    flush_now = stopping = True
                elif op == "discard":  # a session that never started: no trace of it is kept
                    chunks.clear()
                    rows = [(f"DELETE FROM {table} WHERE session_id = ?", (self.id,))
                            for table in ("events", "steps", "reps", "sway", "walks",
                                          "walk_bouts", "strides", "samples", "feel")]
                    rows.append(("DELETE FROM sessions WHERE id = ?", (self.id,)))
                    waiters.append(item[1])
                    flush_now = stopping = True
                if deadline is None and not flush_now:
                    deadline = time.monotonic() + self._commit_interval_s
            if flush_now or (deadline is not None and time.monotonic() >= deadline):
                for step in list(chunks):
                    rows.append(_chunk_row(self.id, step, chunks.pop(step)))
                if self._commit(conn, rows):
                    rows = []
                elif sum(r[1][2] for r in rows if r[0].startswith("INSERT INTO samples")) > MAX_BUFFER_SAMPLES:
                    dropped = [r for r in rows if r[0].startswith("INSERT INTO samples")]
                    rows = [r for r in rows if not r[0].startswith("INSERT INTO samples")]
                    log.error("session %d: dropped %d unsaved sample blocks (%s)", self.id,
                              len(dropped), self.error)
                for done in waiters:
                    done.set()
                waiters = []
                deadline = None
                last_commit = time.monotonic()

    def _commit(self, conn: sqlite3.Connection, rows: list[tuple[str, tuple]]) -> bool:
        n_new = sum(r[1][2] for r in rows if r[0].startswith("INSERT INTO samples"))
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in rows:
                    conn.execute(sql, params)
                conn.execute("UPDATE sessions SET heartbeat_at = ?, n_samples = n_samples + ? "
                             "WHERE id = ?", (time.time(), n_new, self.id))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite rolls back by itself on e.g. SQLITE_FULL
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:  # disk full, I/O error, locked: keep and retry
            if self.error is None or str(self.error) != str(exc):
                log.error("session %d: cannot save to %s: %s", self.id, self.db_path, exc)
            self.error = exc
            return False
        except sqlite3.Error:  # a row the database refuses: save the others, drop that one
            try:
                for sql, params in rows:
                    try:
                        conn.execute(sql, params)
                    except (sqlite3.IntegrityError, sqlite3.ProgrammingError,
                            sqlite3.InterfaceError) as exc:
                        log.error("session %d: dropped a row the database refused (%s): %s",
                                  self.id, exc, sql.split("(")[0])
                conn.execute("UPDATE sessions SET heartbeat_at = ?, n_samples = n_samples + ? "
                             "WHERE id = ?", (time.time(), n_new, self.id))
            except sqlite3.Error as exc:
                self.error = exc
                return False
        self.error = None
        return True


def _chunk_row(session_id: int, step: int | None, chunk: _Chunk) -> tuple[str, tuple]:
    t = np.concatenate(chunk.t)
    t_host = None
    if any(h is not None for h in chunk.t_host):
        t_host = np.concatenate([np.full(len(tt), np.nan) if h is None else h
                                 for tt, h in zip(chunk.t, chunk.t_host, strict=True)]).tobytes()
    return ("INSERT INTO samples (session_id, step, n, fs, t, acc, gyr, t_host) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, step, chunk.n, chunk.fs, t.astype("<f8").tobytes(),
             np.concatenate(chunk.acc).astype("<f4").tobytes(),
             np.concatenate(chunk.gyr).astype("<f4").tobytes(), t_host))


def _typed_rows(sid: int, kind: str, d: dict, step: int | None, t_s: float) -> list[tuple[str, tuple]]:
    """The typed-table INSERTs for an event (none for kinds that only go to `events`)."""
    if kind == "walk":
        return _walk_rows(sid, d, step, t_s)
    row = _typed_row(sid, kind, d, step, t_s)
    return [] if row is None else [row]


def _walk_rows(sid: int, d: dict, step: int | None, t_s: float) -> list[tuple[str, tuple]]:
    """A walk step: its totals, each bout (numbered from 1) and each stride."""
    ints = ("strides", "turns")

    def values(src: dict, names: tuple[str, ...]) -> tuple:
        return tuple(_int(src.get(k)) if k in ints else _num(src.get(k)) for k in names)

    rows = [(f"INSERT INTO walks (session_id, step, exercise, test, trial, t_s, "
             f"{', '.join(WALK_FIELDS)}, test_done) "
             f"VALUES (?, ?, ?, ?, ?, ?, {', '.join('?' for _ in WALK_FIELDS)}, ?)",
             (sid, step, str(d.get("exercise", "walk")), d.get("test"), _int(d.get("trial")), t_s,
              *values(d, WALK_FIELDS), _bool(d.get("test_done"))))]
    for n, bout in enumerate(b for b in d.get("bouts") or [] if isinstance(b, dict)):
        rows.append((f"INSERT INTO walk_bouts (session_id, step, bout, {', '.join(BOUT_FIELDS)}) "
                     f"VALUES (?, ?, ?, {', '.join('?' for _ in BOUT_FIELDS)})",
                     (sid, step, n + 1, *values(bout, BOUT_FIELDS))))
    for stride in d.get("stride_list") or []:
        if isinstance(stride, dict):
            rows.append((f"INSERT INTO strides (session_id, step, {', '.join(STRIDE_FIELDS)}) "
                         f"VALUES (?, ?, {', '.join('?' for _ in STRIDE_FIELDS)})",
                         (sid, step, *values(stride, STRIDE_FIELDS))))
    return rows


def _typed_row(sid: int, kind: str, d: dict, step: int | None, t_s: float) -> tuple[str, tuple] | None:
    """The typed-table INSERT for a step, rep, sway or session_end event, else None."""
    if kind == "step_start":
        return ("INSERT INTO steps (session_id, step, exercise, set_no, sets, target_reps, "
                "hold_target_s, placement, t_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, step, str(d.get("exercise", "")), _int(d.get("set")), _int(d.get("sets")),
                 _int(d.get("target_reps")), _num(d.get("hold_target_s")), d.get("placement"), t_s))
    if kind == "rep":
        depth = _num(d.get("depth_deg"))
        if depth is None and d.get("kind") == "slide":
            depth = _num(d.get("amplitude_deg"))
        return ("INSERT INTO reps (session_id, step, exercise, kind, count, set_no, amplitude_deg, "
                "depth_deg, hold_s, hold_target_s, hold_met, t_start, t_peak, t_end, t_s) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, step, str(d.get("exercise", "")), d.get("kind"), _int(d.get("count")),
                 _int(d.get("set")), _num(d.get("amplitude_deg")), depth, _num(d.get("hold_s")),
                 _num(d.get("hold_target_s")), _bool(d.get("hold_met")), _num(d.get("t_start")),
                 _num(d.get("t_peak")), _num(d.get("t_end")), t_s))
    if kind == "sway":
        m = d.get("metrics") or {}
        cols = ", ".join(SWAY_FIELDS)
        marks = ", ".join("?" for _ in SWAY_FIELDS)
        return (f"INSERT INTO sway (session_id, step, exercise, t_s, {cols}) "
                f"VALUES (?, ?, ?, ?, {marks})",
                (sid, step, d.get("exercise", "sway"), t_s, *(_num(m.get(k)) for k in SWAY_FIELDS)))
    if kind == "session_end":
        summary = d.get("summary")
        text = None if summary is None else _dumps(summary)
        return ("UPDATE sessions SET summary = COALESCE(?, summary) WHERE id = ?", (text, sid))
    return None


def _check_score(score) -> int:
    try:
        value = int(score)
    except (TypeError, ValueError):
        raise UserError(f"how-you-feel score must be a whole number 1-10, got {score!r}") from None
    if isinstance(score, float) and not score.is_integer():
        raise UserError(f"how-you-feel score must be a whole number 1-10, got {score!r}")
    if not 1 <= value <= 10:
        raise UserError(f"how-you-feel score must be 1-10, got {value}")
    return value


# -- reading -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExerciseSummary:
    """One exercise within one session. Angles in degrees, holds in seconds."""

    exercise: str
    sets: int
    reps: int
    mean_amplitude_deg: float | None
    mean_depth_deg: float | None  # wall slides: thigh inclination at the deepest point
    mean_hold_s: float | None
    holds_met: int
    holds_total: int  # reps that had a hold target


@dataclass(frozen=True)
class Walk:
    """One walk step: when (t_s: host unix time of its result; day), what (test: None, '25ft',
    '2min'; trial: which trial of a test done several times, else 1), and its measures: duration_s (the step, s), walking_s (the bouts, s), distance_m,
    speed_m_s (distance / walking time), cadence_spm (steps/min), strides (of the sensor's foot),
    stride_time_s, stride_time_cv (fraction), stance_frac, stride_length_m, turns; a timed test's
    test_time_s (25 ft: the time) and test_distance_m (2 min: the distance), test_done. Damaged
    values read as None."""

    session_id: int
    step: int | None
    t_s: float
    day: str
    test: str | None
    duration_s: float | None
    walking_s: float | None
    distance_m: float | None
    speed_m_s: float | None
    cadence_spm: float | None
    strides: int | None
    stride_time_s: float | None
    stride_time_cv: float | None
    stance_frac: float | None
    stride_length_m: float | None
    turns: int | None
    test_time_s: float | None
    test_distance_m: float | None
    test_done: bool | None
    trial: int | None = 1


@dataclass(frozen=True)
class StrideRow:
    """One stride of the sensor's foot (sensor clock s, m, deg; see movecoach.signal.gait.Stride)."""

    session_id: int
    step: int | None
    t_start: float | None
    t_end: float | None
    time_s: float | None
    length_m: float | None
    stance_s: float | None
    swing_s: float | None
    turn_deg: float | None


@dataclass(frozen=True)
class Session:
    """One recorded session as the review commands see it.

    status: 'complete' (finished), 'incomplete' (stopped, crashed or killed before finishing),
    or 'recording' (its process is still alive and writing). problems: what is damaged in it
    (non-empty = shown as CORRUPT); the rest of the session is still shown.
    sway: the session's balance trial (mean of its trials if several), or None.
    walks: its walk steps, in order (:attr:`walk` is the one review follows week by week).
    """

    id: int
    device_id: str
    routine: str
    source: str
    fs: float | None
    started_at: float
    ended_at: float | None
    day: str
    status: str
    n_samples: int
    exercises: tuple[ExerciseSummary, ...]
    sway: SwayMetrics | None
    sway_trials: int
    feel_score: int | None
    feel_note: str | None
    problems: tuple[str, ...] = ()
    walks: tuple[Walk, ...] = ()

    @property
    def corrupt(self) -> bool:
        return bool(self.problems)

    @property
    def walk(self) -> Walk | None:
        """The walk whose speed, cadence and stride-time variation are followed week by week:
        the session's last walk at the person's own pace (not a timed test: a 25-foot walk is
        walked as fast as is safe and is too short to measure the variation, a 2-minute walk is
        walked as far as one can), else None. The tests are told on their own."""
        return next((w for w in reversed(self.walks) if w.test is None), None)

    def walk_test(self, name: str) -> Walk | None:
        """The session's last timed walk test called name ('25ft', '2min'), or None."""
        return next((w for w in reversed(self.walks) if w.test == name), None)

    def test_score(self, name: str) -> float | None:
        """A timed distance test's score (the 25-foot walk's time, s): the mean over its trials
        completed in this session, None when none was."""
        from movecoach.coach.timed_walk import trials_mean

        return trials_mean([w.test_time_s for w in self.walks if w.test == name and w.test_done])

    @property
    def reps(self) -> int:
        return sum(e.reps for e in self.exercises)

    @property
    def sets(self) -> int:
        return sum(e.sets for e in self.exercises)

    @property
    def holds_met(self) -> int:
        return sum(e.holds_met for e in self.exercises)

    @property
    def holds_total(self) -> int:
        return sum(e.holds_total for e in self.exercises)

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.started_at)

    def exercise(self, name: str) -> ExerciseSummary | None:
        return next((e for e in self.exercises if e.exercise == name), None)


@dataclass(frozen=True)
class StepRow:
    session_id: int
    step: int | None
    exercise: str
    set_no: int | None
    sets: int | None
    target_reps: int | None
    hold_target_s: float | None
    placement: str | None
    t_s: float


@dataclass(frozen=True)
class RepRow:
    """One counted rep. t_s: host unix time of the rep event; t_start/t_peak/t_end: sensor clock s."""

    session_id: int
    step: int | None
    exercise: str
    kind: str | None
    count: int | None
    set_no: int | None
    amplitude_deg: float | None
    depth_deg: float | None
    hold_s: float | None
    hold_target_s: float | None
    hold_met: bool | None
    t_start: float | None
    t_peak: float | None
    t_end: float | None
    t_s: float


@dataclass(frozen=True)
class SwayTrial:
    """One balance trial: its metrics and where its raw samples are (session, step)."""

    session_id: int
    step: int | None
    t_s: float
    day: str
    metrics: SwayMetrics


@dataclass(frozen=True)
class FeelEntry:
    """How the person felt (1-10) on a day, attached to a session or standalone."""

    day: str
    score: int
    note: str | None
    session_id: int | None
    created_at: float


def _avg_expr(col: str) -> str:
    """AVG over the numeric values of a column only (damaged text values do not count)."""
    return f"AVG(CASE WHEN typeof({col}) IN ('real', 'integer') THEN {col} END)"


def _bad_expr(cols: Iterable[str]) -> str:
    return " + ".join(f"SUM(CASE WHEN {c} IS NOT NULL AND typeof({c}) NOT IN ('real', 'integer') "
                      "THEN 1 ELSE 0 END)" for c in cols)


def _process_alive(pid: int | None, host: str | None) -> bool:
    if not pid or host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, ValueError, OverflowError):
        return False
    return True


class SessionStore:
    """Read (and feel-write) access to a data directory's database, for the review commands.

    A missing database is an empty history (nothing is created unless ``create=True``). An older
    schema is migrated in place; a damaged file raises UserError naming it.
    """

    def __init__(self, directory: str | os.PathLike, *, create: bool = False):
        self.db_path = db_path(directory)
        self._conn: sqlite3.Connection | None = None
        if not self.db_path.exists():
            if not create:
                return
            Recorder(self.db_path.parent, min_free_mb=1.0).close()
        try:
            make_db_private(self.db_path)  # one left readable by an older movecoach
        except OSError:
            pass  # a read-only copy: reading it is still fine
        try:
            self._conn = connect(self.db_path)
            migrate(self._conn)
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.db_path}: cannot read the database: {exc}") from exc

    @property
    def empty(self) -> bool:
        return self._conn is None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        if self._conn is None:
            return []
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.db_path}: the database is damaged ({exc}); a copy can be "
                            f"rescued with: sqlite3 {self.db_path} .recover") from exc

    # -- sessions -----------------------------------------------------------------------------
    def sessions(self, *, since: str | None = None, until: str | None = None,
                 exercise: str | None = None, ids: Iterable[int] | None = None) -> list[Session]:
        """Sessions, oldest first. since/until: inclusive local days 'YYYY-MM-DD'."""
        where, params = ["1"], []
        if since:
            where.append("day >= ?")
            params.append(since)
        if until:
            where.append("day <= ?")
            params.append(until)
        if ids is not None:
            id_list = [int(i) for i in ids]
            where.append(f"id IN ({', '.join('?' for _ in id_list) or 'NULL'})")
            params.extend(id_list)
        if exercise:
            where.append("(id IN (SELECT session_id FROM steps WHERE exercise = ?) "
                         "OR id IN (SELECT session_id FROM reps WHERE exercise = ?) "
                         "OR (? = 'sway' AND id IN (SELECT session_id FROM sway)))")
            params.extend([exercise, exercise, exercise])
        cond = " AND ".join(where)
        rows = self._query(
            "SELECT id, device_id, routine, source, fs, started_at, ended_at, complete, summary, day, "
            f"pid, host, heartbeat_at, n_samples FROM sessions WHERE {cond} ORDER BY started_at, id",
            params)
        if not rows:
            return []
        sub = f"(SELECT id FROM sessions WHERE {cond})"
        rep_agg: dict[int, dict[str, list]] = {}
        for (sid, ex, n, n_sets, amp, depth, hold, met, total, bad) in self._query(
                f"SELECT session_id, exercise, COUNT(*), COUNT(DISTINCT set_no), "
                f"{_avg_expr('amplitude_deg')}, {_avg_expr('depth_deg')}, {_avg_expr('hold_s')}, "
                "SUM(hold_met = 1), SUM(hold_met IS NOT NULL), "
                f"{_bad_expr(['amplitude_deg', 'depth_deg', 'hold_s'])} "
                f"FROM reps WHERE session_id IN {sub} GROUP BY session_id, exercise", params):
            rep_agg.setdefault(sid, {})[ex] = [n, n_sets, amp, depth, hold, met or 0, total or 0, bad or 0]
        step_sets: dict[int, dict[str, int]] = {}
        for sid, ex, n_sets in self._query(
                "SELECT session_id, exercise, COUNT(DISTINCT COALESCE(set_no, id)) FROM steps "
                f"WHERE session_id IN {sub} GROUP BY session_id, exercise ORDER BY MIN(id)", params):
            step_sets.setdefault(sid, {})[ex] = n_sets
        sway_cols = ", ".join(_avg_expr(k) for k in SWAY_FIELDS)
        sway_agg = {r[0]: r[1:] for r in self._query(
            f"SELECT session_id, COUNT(*), {_bad_expr(SWAY_FIELDS)}, {sway_cols} FROM sway "
            f"WHERE session_id IN {sub} GROUP BY session_id", params)}
        feel = {r[0]: (r[1], r[2]) for r in self._query(
            f"SELECT session_id, score, note FROM feel WHERE session_id IN {sub}", params)}
        walks: dict[int, list[Walk]] = {}
        walk_bad: dict[int, int] = {}
        for w, bad in self._walk_rows(f"w.session_id IN {sub}", params):
            walks.setdefault(w.session_id, []).append(w)
            walk_bad[w.session_id] = walk_bad.get(w.session_id, 0) + bad
        now = time.time()
        out = []
        for (sid, device, routine, source, fs, started, ended, complete, summary, day,
             pid, host, heartbeat, n_samples) in rows:
            problems: list[str] = []
            if summary is not None:
                try:
                    json.loads(summary)
                except (TypeError, ValueError):
                    problems.append("summary unreadable")
            if complete:
                status = "complete"
            elif ended is None and _process_alive(pid, host) and heartbeat and now - heartbeat < STALE_S:
                status = "recording"
            else:
                status = "incomplete"
            exercises = []
            reps_here = rep_agg.get(sid, {})
            names = list(step_sets.get(sid, {}))
            names += [ex for ex in reps_here if ex not in names]
            for ex in names:
                if ex in REGISTRY and REGISTRY[ex].analysis != "reps":
                    continue  # a balance trial, a walk: their own tables
                n, n_sets, amp, depth, hold, met, total, bad = reps_here.get(ex, [0, 0, None, None, None, 0, 0, 0])
                if bad:
                    problems.append(f"{bad} damaged {ex} rep value(s)")
                exercises.append(ExerciseSummary(
                    exercise=ex, sets=max(step_sets.get(sid, {}).get(ex, 0), n_sets), reps=n,
                    mean_amplitude_deg=amp, mean_depth_deg=depth, mean_hold_s=hold,
                    holds_met=int(met), holds_total=int(total)))
            sway = None
            n_trials = 0
            if sid in sway_agg:
                n_trials, bad, *values = sway_agg[sid]
                if bad:
                    problems.append(f"{bad} damaged sway value(s)")
                sway = SwayMetrics(*(math.nan if v is None else float(v) for v in values))
            if walk_bad.get(sid):
                problems.append(f"{walk_bad[sid]} damaged walk value(s)")
            score, note = feel.get(sid, (None, None))
            out.append(Session(
                id=sid, device_id=device, routine=routine, source=source, fs=fs,
                started_at=float(started), ended_at=ended, day=day or local_day(started),
                status=status, n_samples=int(n_samples or 0), exercises=tuple(exercises),
                sway=sway, sway_trials=int(n_trials), feel_score=score, feel_note=note,
                problems=tuple(problems), walks=tuple(walks.get(sid, ()))))
        return out

    def session(self, session_id: int) -> Session:
        """One session; UserError if there is no such session."""
        found = self.sessions(ids=[session_id])
        if not found:
            raise UserError(f"no session {session_id} in {self.db_path}")
        return found[0]

    def summary(self, session_id: int) -> dict | None:
        """The session summary the coach stored at the end (None if missing or unreadable)."""
        rows = self._query("SELECT summary FROM sessions WHERE id = ?", (session_id,))
        if not rows or rows[0][0] is None:
            return None
        try:
            return json.loads(rows[0][0])
        except (TypeError, ValueError):
            return None

    # -- rows ---------------------------------------------------------------------------------
    def steps(self, session_id: int) -> list[StepRow]:
        return [StepRow(*r) for r in self._query(
            "SELECT session_id, step, exercise, set_no, sets, target_reps, hold_target_s, placement, "
            "t_s FROM steps WHERE session_id = ? ORDER BY id", (session_id,))]

    def reps(self, *, session_ids: Iterable[int] | None = None,
             exercise: str | None = None) -> list[RepRow]:
        """Reps in recording order (damaged numeric values read as None)."""
        where, params = ["1"], []
        if session_ids is not None:
            ids = [int(i) for i in session_ids]
            where.append(f"session_id IN ({', '.join('?' for _ in ids) or 'NULL'})")
            params.extend(ids)
        if exercise:
            where.append("exercise = ?")
            params.append(exercise)
        out = []
        for r in self._query(
                "SELECT session_id, step, exercise, kind, count, set_no, amplitude_deg, depth_deg, "
                "hold_s, hold_target_s, hold_met, t_start, t_peak, t_end, t_s FROM reps "
                f"WHERE {' AND '.join(where)} ORDER BY session_id, id", params):
            vals = list(r)
            for i in (6, 7, 8, 9, 11, 12, 13):
                vals[i] = _num(vals[i]) if not isinstance(vals[i], str) else None
            vals[10] = None if vals[10] is None else bool(vals[10])
            out.append(RepRow(*vals))
        return out

    def sway_trials(self, *, session_ids: Iterable[int] | None = None) -> list[SwayTrial]:
        """Every balance trial, oldest first."""
        where, params = "", []
        if session_ids is not None:
            ids = [int(i) for i in session_ids]
            where = f"WHERE w.session_id IN ({', '.join('?' for _ in ids) or 'NULL'})"
            params = ids
        cols = ", ".join(f"w.{k}" for k in SWAY_FIELDS)
        out = []
        for sid, step, t_s, day, started, *values in self._query(
                f"SELECT w.session_id, w.step, w.t_s, s.day, s.started_at, {cols} FROM sway w "
                f"JOIN sessions s ON s.id = w.session_id {where} ORDER BY w.t_s, w.id", params):
            metrics = SwayMetrics(*(math.nan if _num(v) is None or isinstance(v, str) else float(v)
                                    for v in values))
            out.append(SwayTrial(sid, step, float(t_s), day or local_day(started), metrics))
        return out

    def _walk_rows(self, where: str, params: Iterable) -> list[tuple[Walk, int]]:
        """Walks matching ``where`` (on ``walks w``), oldest first, each with its count of
        damaged values (read as None)."""
        cols = ", ".join(f"w.{k}" for k in WALK_FIELDS)
        out = []
        for sid, step, t_s, day, started, test, trial, *values, done in self._query(
                f"SELECT w.session_id, w.step, w.t_s, s.day, s.started_at, w.test, w.trial, {cols}, "
                "w.test_done "
                f"FROM walks w JOIN sessions s ON s.id = w.session_id WHERE {where} ORDER BY w.t_s, w.id",
                params):
            clean = [None if isinstance(v, str) else _num(v) for v in values]
            bad = sum(1 for v, c in zip(values, clean, strict=True) if v is not None and c is None)
            fields = dict(zip(WALK_FIELDS, clean, strict=True))
            for k in ("strides", "turns"):
                fields[k] = None if fields[k] is None else int(fields[k])
            out.append((Walk(int(sid), step, float(t_s), day or local_day(started),
                             test if isinstance(test, str) else None, **fields,
                             test_done=None if done is None else bool(done),
                             trial=_int(trial) if not isinstance(trial, str) else None), bad))
        return out

    def walks(self, *, session_ids: Iterable[int] | None = None) -> list[Walk]:
        """Every walk step, oldest first."""
        where, params = "1", []
        if session_ids is not None:
            ids = [int(i) for i in session_ids]
            where = f"w.session_id IN ({', '.join('?' for _ in ids) or 'NULL'})"
            params = ids
        return [w for w, _ in self._walk_rows(where, params)]

    def strides(self, session_id: int, step: int | None = None) -> list[StrideRow]:
        """The strides of a session's walks (or of one walk step), in order."""
        where, params = "session_id = ?", [int(session_id)]
        if step is not None:
            where += " AND step = ?"
            params.append(int(step))
        cols = ", ".join(STRIDE_FIELDS)
        return [StrideRow(int(sid), st, *(None if isinstance(v, str) else _num(v) for v in values))
                for sid, st, *values in self._query(
                    f"SELECT session_id, step, {cols} FROM strides WHERE {where} ORDER BY id", params)]

    def sample_steps(self) -> set[tuple[int, int | None]]:
        """(session_id, step) pairs that have raw samples (uses the samples index only)."""
        return {(int(sid), step) for sid, step in self._query("SELECT DISTINCT session_id, step FROM samples")}

    def events(self, session_id: int) -> list[Event]:
        """The session's events in order (an unreadable event's data is {'damaged': True})."""
        out = []
        for kind, t_s, data in self._query(
                "SELECT kind, t_s, data FROM events WHERE session_id = ? ORDER BY id", (session_id,)):
            try:
                payload = json.loads(data)
            except (TypeError, ValueError):
                payload = {"damaged": True}
            out.append(from_dict(kind, float(t_s), payload))
        return out

    # -- how you feel -------------------------------------------------------------------------
    def feel_entries(self) -> list[FeelEntry]:
        return [FeelEntry(day, int(score), note, sid, float(created)) for day, score, note, sid, created
                in self._query("SELECT day, score, note, session_id, created_at FROM feel "
                               "ORDER BY day, created_at, id")]

    def feel_by_day(self) -> dict[str, FeelEntry]:
        """The day's score: from its latest session that has one, else the standalone entry."""
        out: dict[str, FeelEntry] = {}
        for day, score, note, sid, created in self._query(
                "SELECT f.day, f.score, f.note, f.session_id, f.created_at FROM feel f "
                "LEFT JOIN sessions s ON s.id = f.session_id "
                "ORDER BY f.day, f.session_id IS NOT NULL, s.started_at, f.created_at"):
            out[day] = FeelEntry(day, int(score), note, sid, float(created))
        return out

    def set_feel(self, score: int, *, note: str | None = None, day: str | None = None) -> FeelEntry:
        """Log or correct how the person feels (1-10) for a day (default today).

        Attached to that day's latest session if there is one (replacing its score), otherwise
        stored standalone for the day (replacing an earlier standalone entry for it).
        """
        score = _check_score(score)
        if self._conn is None:
            raise UserError(f"no database at {self.db_path}")
        day = day or dt.date.today().isoformat()
        latest = self._query("SELECT id FROM sessions WHERE day = ? ORDER BY started_at DESC, id DESC "
                             "LIMIT 1", (day,))
        sid = latest[0][0] if latest else None
        now = time.time()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            if sid is None:
                self._conn.execute("DELETE FROM feel WHERE day = ? AND session_id IS NULL", (day,))
            else:
                self._conn.execute("DELETE FROM feel WHERE session_id = ?", (sid,))
            self._conn.execute("INSERT INTO feel (day, session_id, score, note, created_at) "
                               "VALUES (?, ?, ?, ?, ?)", (day, sid, score, note, now))
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise UserError(f"cannot write to {self.db_path}: {exc}") from exc
        return FeelEntry(day, score, note, sid, now)


def _readable_sample_rows(conn: sqlite3.Connection, path: Path, where: str, params: list
                          ) -> tuple[list[tuple], int]:
    """The sample rows that can still be read one by one, and how many could not."""
    try:
        ids = [r[0] for r in conn.execute(
            f"SELECT id FROM samples INDEXED BY samples_session WHERE {where} ORDER BY id",
            params)]
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: the raw samples are damaged beyond reading ({exc}); a copy "
                        f"can be rescued with: sqlite3 {path} .recover") from exc
    rows, damaged = [], 0
    for block_id in ids:
        try:
            row = conn.execute("SELECT id, n, fs, t, acc, gyr, t_host FROM samples WHERE id = ?",
                               (block_id,)).fetchone()
        except sqlite3.DatabaseError:
            damaged += 1
            continue
        if row is not None:
            rows.append(row)
    return rows, damaged


def read_samples(db_path_or_dir: str | os.PathLike, session_id: int,
                 step: int | None = None) -> SampleBlock:
    """The raw samples of a session (or of one step), in recording order, as a SampleBlock.

    t_s s (sensor clock), acc_m_s2 (n, 3) m/s^2, gyr_rad_s (n, 3) rad/s (stored as float32),
    t_host_s unix s or None. A damaged block is skipped with a warning. UserError if the
    database or the session does not exist.
    """
    path = db_path(db_path_or_dir)
    if not path.exists():
        raise UserError(f"no database at {path}")
    try:
        conn = connect(path)
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: cannot read the database: {exc}") from exc
    where = "session_id = ?" + ("" if step is None else " AND step = ?")
    params: list = [int(session_id)] + ([] if step is None else [int(step)])
    damaged = 0
    try:
        try:
            if not conn.execute("SELECT 1 FROM sessions WHERE id = ?", (int(session_id),)).fetchone():
                raise UserError(f"no session {session_id} in {path}")
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{path}: cannot read the database: {exc}") from exc
        try:
            rows = conn.execute(f"SELECT id, n, fs, t, acc, gyr, t_host FROM samples WHERE {where}"
                                " ORDER BY id", params).fetchall()
        except sqlite3.DatabaseError:
            # damaged pages: read block by block (their ids come from the index) and skip those
            # that cannot be read
            rows, damaged = _readable_sample_rows(conn, path, where, params)
    finally:
        conn.close()
    if damaged:
        log.warning("session %s: skipped %d damaged sample block(s) of %d in %s", session_id,
                    damaged, damaged + len(rows), path)
    blocks = []
    for block_id, n, fs, t, acc, gyr, t_host in rows:
        try:
            n = int(n)
            tt = np.frombuffer(t, dtype="<f8")
            aa = np.frombuffer(acc, dtype="<f4").astype(np.float64)
            gg = np.frombuffer(gyr, dtype="<f4").astype(np.float64)
            hh = None if t_host is None else np.frombuffer(t_host, dtype="<f8")
            if len(tt) != n or aa.size != 3 * n or gg.size != 3 * n or (hh is not None and len(hh) != n):
                raise ValueError(f"expected {n} samples")
        except (TypeError, ValueError) as exc:
            log.warning("session %s: skipping damaged sample block %s (%s)", session_id, block_id, exc)
            continue
        blocks.append(SampleBlock(tt.copy(), aa.reshape(n, 3), gg.reshape(n, 3), float(fs or 0.0),
                                  None if hh is None else hh.copy()))
    if not blocks:
        return SampleBlock(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)), fs=0.0)
    fs_values = {b.fs for b in blocks}
    if len(fs_values) > 1:
        log.warning("session %s: sample rate changed within the recording (%s Hz)", session_id,
                    sorted(fs_values))
        blocks = [SampleBlock(b.t_s, b.acc_m_s2, b.gyr_rad_s, blocks[0].fs, b.t_host_s) for b in blocks]
    return SampleBlock.concat(blocks)
