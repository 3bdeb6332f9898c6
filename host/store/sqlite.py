"""The SQLite store: one database file in the data directory (``movecoach.sqlite``), the default.

Writing: :func:`open_store` with ``record=True`` creates the data directory (0700) and the
database (0600, WAL mode), migrates the schema (store/migrations.py) and checks that the directory
is writable with free space *before* a session starts. Each session's writer thread commits on
its own connection; WAL + synchronous=NORMAL: a commit survives a process kill.

Reading: SQL aggregates over indexed tables answer the review commands; a missing database is an
empty history; a damaged file is a one-line UserError naming it (with how to rescue a copy), and
damaged sample pages are read past block by block.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from movecoach.errors import UserError
from movecoach.events import Event
from movecoach.samples import SampleBlock
from movecoach.store.base import Discard, End, Feel, Op, Row, Summary
from movecoach.store.blocks import decode_blocks
from movecoach.store.migrations import migrate
from movecoach.store.models import (
    REP_FIELDS,
    REP_MEASURES,
    STEP_FIELDS,
    STRIDE_FIELDS,
    SWAY_FIELDS,
    WALK_FIELDS,
    FeelEntry,
    RepRow,
    RepTotals,
    Session,
    SessionRecord,
    StepRow,
    StrideRow,
    SwayTotals,
    SwayTrial,
    Walk,
    assemble_session,
    rep_row,
    stride_row,
    sway_metrics,
    walk_row,
)
from movecoach.store.paths import DB_SUFFIXES, db_path, make_private_dir, private_file
from movecoach.store.recorder import SessionRecorder
from movecoach.store.rows import stored_event
from movecoach.store.values import check_score, local_day, num

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"


def is_database(path: Path) -> bool:
    """Whether a path is a data directory or an SQLite file (by its name, else its header)."""
    if path.is_dir() or path.suffix.lower() in DB_SUFFIXES:
        return True
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def connect(path: str | os.PathLike, *, timeout_s: float = 10.0) -> sqlite3.Connection:
    """Open the database file in WAL mode (autocommit; use explicit BEGIN/COMMIT)."""
    conn = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None,
                           check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: commits survive a process kill
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def open_store(location: str | os.PathLike, *, record: bool = False, create: bool = False,
               min_free_mb: float = 50.0, commit_interval_s: float = 0.5) -> SqliteStore:
    """The store of a data directory or ``.sqlite`` file (``sqlite:PATH`` too).

    record: to record sessions: the directory and database are created and checked writable with
    ``min_free_mb`` free ("cannot write to DIR: <reason>" otherwise). Else (review) a missing
    database is an empty store unless ``create``.
    """
    text = os.fspath(location)
    if isinstance(text, str) and text.startswith("sqlite:"):
        text = text.removeprefix("sqlite:").removeprefix("//")
    return SqliteStore(Path(text).expanduser(), record=record, create=create,
                       min_free_mb=min_free_mb, commit_interval_s=commit_interval_s)


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


def _prepare_directory(db_file: Path, min_free_mb: float) -> None:
    """Create the data directory (0700) and the database file (0600); UserError if the disk
    refuses or has less than min_free_mb free."""
    directory = db_file.parent
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
        make_db_private(db_file)
    except OSError as exc:
        raise UserError(f"cannot write to {directory}: {exc.strerror or exc}") from exc


# -- writing -----------------------------------------------------------------------------------

def _insert(session_id: int, row: Row) -> tuple[str, tuple]:
    cols = ", ".join(["session_id", *row.values])
    marks = ", ".join("?" for _ in range(len(row.values) + 1))
    return f"INSERT INTO {row.table} ({cols}) VALUES ({marks})", (session_id, *row.values.values())


def _statements(session_id: int, op: Op) -> list[tuple[str, tuple]]:
    """The SQL of one write of a session."""
    if isinstance(op, Row):
        return [_insert(session_id, op)]
    if isinstance(op, Summary):
        return [("UPDATE sessions SET summary = COALESCE(?, summary) WHERE id = ?", (op.text, session_id))]
    if isinstance(op, Feel):
        return [("DELETE FROM feel WHERE session_id = ?", (session_id,)),
                ("INSERT INTO feel (day, session_id, score, note, created_at) VALUES (?, ?, ?, ?, ?)",
                 (op.day, session_id, op.score, op.note, op.created_at))]
    if isinstance(op, End) and op.complete:
        return [("UPDATE sessions SET ended_at = ?, complete = 1, summary = COALESCE(?, summary) "
                 "WHERE id = ?", (op.ended_at, op.summary, session_id))]
    if isinstance(op, End):
        return [("UPDATE sessions SET ended_at = COALESCE(ended_at, ?) WHERE id = ?",
                 (op.ended_at, session_id))]
    if isinstance(op, Discard):
        tables = ("events", "steps", "reps", "sway", "walks", "walk_bouts", "strides", "samples", "feel")
        return [*((f"DELETE FROM {t} WHERE session_id = ?", (session_id,)) for t in tables),
                ("DELETE FROM sessions WHERE id = ?", (session_id,))]
    raise TypeError(f"not a store write: {op!r}")


class SqliteWriter:
    """One session's connection, used by its writer thread only (opened by the caller's thread,
    so the store's checks come first)."""

    def __init__(self, db_file: Path, session_id: int):
        self.db_path = db_file
        self.where = str(db_file.parent)
        self.session_id = session_id
        self._conn = connect(db_file)
        self._last_error: str | None = None

    def commit(self, ops: Sequence[Op], *, heartbeat_at: float) -> Exception | None:
        sql = [s for op in ops for s in _statements(self.session_id, op)]
        n_new = sum(op.values["n"] for op in ops if isinstance(op, Row) and op.table == "samples")
        alive = ("UPDATE sessions SET heartbeat_at = ?, n_samples = n_samples + ? WHERE id = ?",
                 (heartbeat_at, n_new, self.session_id))
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement, params in sql:
                    conn.execute(statement, params)
                conn.execute(*alive)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite rolls back by itself on e.g. SQLITE_FULL
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:  # disk full, I/O error, locked: keep and retry
            if self._last_error != str(exc):
                log.error("session %d: cannot save to %s: %s", self.session_id, self.db_path, exc)
            self._last_error = str(exc)
            return exc
        except sqlite3.Error:  # a row the database refuses: save the others, drop that one
            try:
                for statement, params in sql:
                    try:
                        conn.execute(statement, params)
                    except (sqlite3.IntegrityError, sqlite3.ProgrammingError,
                            sqlite3.InterfaceError) as exc:
                        log.error("session %d: dropped a row the database refused (%s): %s",
                                  self.session_id, exc, statement.split("(")[0])
                conn.execute(*alive)
            except sqlite3.Error as exc:
                self._last_error = str(exc)
                return exc
        self._last_error = None
        return None

    def close(self) -> None:
        self._conn.close()


# -- reading -----------------------------------------------------------------------------------

def _avg_expr(col: str) -> str:
    """AVG over the numeric values of a column only (damaged text values do not count)."""
    return f"AVG(CASE WHEN typeof({col}) IN ('real', 'integer') THEN {col} END)"


def _bad_expr(cols: Iterable[str]) -> str:
    return " + ".join(f"SUM(CASE WHEN {c} IS NOT NULL AND typeof({c}) NOT IN ('real', 'integer') "
                      "THEN 1 ELSE 0 END)" for c in cols)


def _in(column: str, ids: Iterable[int]) -> tuple[str, list[int]]:
    id_list = [int(i) for i in ids]
    return f"{column} IN ({', '.join('?' for _ in id_list) or 'NULL'})", id_list


class SqliteStore:
    """A data directory's database (see the module doc). ``db_path``: the database file."""

    def __init__(self, path: Path, *, record: bool = False, create: bool = False,
                 min_free_mb: float = 50.0, commit_interval_s: float = 0.5):
        self.db_path = db_path(path)
        self.location = str(self.db_path)
        self.directory: Path | None = self.db_path.parent
        self.commit_interval_s = float(commit_interval_s)
        self._sessions: list[SessionRecorder] = []
        self._conn: sqlite3.Connection | None = None
        if record or (create and not self.db_path.exists()):
            _prepare_directory(self.db_path, min_free_mb if record else 1.0)
        elif not self.db_path.exists():
            return
        else:
            try:
                make_db_private(self.db_path)  # one left readable by an older movecoach
            except OSError:
                pass  # a read-only copy: reading it is still fine
        try:
            self._conn = connect(self.db_path)
            migrate(self._conn)
        except sqlite3.DatabaseError as exc:
            if record:
                raise UserError(f"cannot write to {self.db_path.parent}: {self.db_path.name}: "
                                f"{exc}") from exc
            raise UserError(f"{self.db_path}: cannot read the database: {exc}") from exc

    @property
    def empty(self) -> bool:
        return self._conn is None

    def close(self) -> None:
        for sess in self._sessions:
            sess.close()
        self._sessions.clear()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------------
    def start_session(self, *, device_id: str, routine: str, source: str, fs: float | None,
                      started_at: float | None = None) -> SessionRecorder:
        """Insert the session row (committed at once) and start its writer thread."""
        if self._conn is None:
            raise UserError(f"no database at {self.db_path}")
        t0 = time.time() if started_at is None else float(started_at)
        day = local_day(t0)
        try:
            cur = self._conn.execute(
                "INSERT INTO sessions (device_id, routine, source, fs, started_at, day, pid, host,"
                " heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (device_id, routine, source or "", num(fs), t0, day, os.getpid(),
                 socket.gethostname(), time.time()),
            )
            writer = SqliteWriter(self.db_path, int(cur.lastrowid))
        except sqlite3.Error as exc:
            raise UserError(f"cannot write to {self.db_path.parent}: {exc}") from exc
        sess = SessionRecorder(writer, writer.session_id, day=day,
                               commit_interval_s=self.commit_interval_s)
        self._sessions.append(sess)
        log.info("recording session %d in %s", sess.id, self.db_path)
        return sess

    def add_rows(self, session_id: int, ops: Sequence[Op]) -> None:
        if self._conn is None:
            raise UserError(f"no database at {self.db_path}")
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for op in ops:
                    for statement, params in _statements(session_id, op):
                        conn.execute(statement, params)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise UserError(f"cannot write to {self.db_path}: {exc}") from exc

    def set_feel(self, score: int, *, note: str | None = None, day: str | None = None) -> FeelEntry:
        score = check_score(score)
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

    # -- reading ----------------------------------------------------------------------------
    def _query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        if self._conn is None:
            return []
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.db_path}: the database is damaged ({exc}); a copy can be "
                            f"rescued with: sqlite3 {self.db_path} .recover") from exc

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
            cond, id_list = _in("id", ids)
            where.append(cond)
            params.extend(id_list)
        if exercise:
            where.append("(id IN (SELECT session_id FROM steps WHERE exercise = ?) "
                         "OR id IN (SELECT session_id FROM reps WHERE exercise = ?) "
                         "OR (? = 'sway' AND id IN (SELECT session_id FROM sway)))")
            params.extend([exercise, exercise, exercise])
        cond = " AND ".join(where)
        rows = self._query(
            f"SELECT {', '.join(SessionRecord._fields)} FROM sessions WHERE {cond} ORDER BY started_at, id",
            params)
        if not rows:
            return []
        sub = f"(SELECT id FROM sessions WHERE {cond})"
        rep_totals: dict[int, dict[str, RepTotals]] = {}
        for (sid, ex, n, n_sets, amp, depth, hold, met, total, bad) in self._query(
                f"SELECT session_id, exercise, COUNT(*), COUNT(DISTINCT set_no), "
                f"{', '.join(_avg_expr(k) for k in REP_MEASURES)}, "
                "SUM(hold_met = 1), SUM(hold_met IS NOT NULL), "
                f"{_bad_expr(REP_MEASURES)} "
                f"FROM reps WHERE session_id IN {sub} GROUP BY session_id, exercise", params):
            rep_totals.setdefault(sid, {})[ex] = RepTotals(n, n_sets, amp, depth, hold, met or 0,
                                                           total or 0, bad or 0)
        step_sets: dict[int, dict[str, int]] = {}
        for sid, ex, n_sets in self._query(
                "SELECT session_id, exercise, COUNT(DISTINCT COALESCE(set_no, id)) FROM steps "
                f"WHERE session_id IN {sub} GROUP BY session_id, exercise ORDER BY MIN(id)", params):
            step_sets.setdefault(sid, {})[ex] = n_sets
        sway_cols = ", ".join(_avg_expr(k) for k in SWAY_FIELDS)
        sway = {r[0]: SwayTotals(r[1], r[2] or 0, tuple(r[3:])) for r in self._query(
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
        return [assemble_session(rec, reps=rep_totals.get(rec.id, {}), step_sets=step_sets.get(rec.id, {}),
                                 sway=sway.get(rec.id), feel=feel.get(rec.id, (None, None)),
                                 walks=walks.get(rec.id, []), walk_damaged=walk_bad.get(rec.id, 0),
                                 now=now)
                for rec in (SessionRecord(*r) for r in rows)]

    def session(self, session_id: int) -> Session:
        found = self.sessions(ids=[session_id])
        if not found:
            raise UserError(f"no session {session_id} in {self.db_path}")
        return found[0]

    def summary(self, session_id: int) -> dict | None:
        rows = self._query("SELECT summary FROM sessions WHERE id = ?", (session_id,))
        if not rows or rows[0][0] is None:
            return None
        try:
            return json.loads(rows[0][0])
        except (TypeError, ValueError):
            return None

    def steps(self, session_id: int) -> list[StepRow]:
        return [StepRow(*r) for r in self._query(
            f"SELECT session_id, {', '.join(STEP_FIELDS)} FROM steps WHERE session_id = ? ORDER BY id",
            (session_id,))]

    def reps(self, *, session_ids: Iterable[int] | None = None,
             exercise: str | None = None) -> list[RepRow]:
        """Reps in recording order (damaged numeric values read as None)."""
        where, params = ["1"], []
        if session_ids is not None:
            cond, ids = _in("session_id", session_ids)
            where.append(cond)
            params.extend(ids)
        if exercise:
            where.append("exercise = ?")
            params.append(exercise)
        return [rep_row(sid, tuple(values)) for sid, *values in self._query(
            f"SELECT session_id, {', '.join(REP_FIELDS)} FROM reps "
            f"WHERE {' AND '.join(where)} ORDER BY session_id, id", params)]

    def _timed(self, table: str, cols: Sequence[str], where: str, params: Iterable) -> list[tuple]:
        """(session_id, step, t_s, day, *cols) of a table's rows matching ``where`` (on the table
        as ``w``) that belong to a session, by time."""
        return [(sid, step, t_s, day or local_day(started), *values)
                for sid, step, t_s, day, started, *values in self._query(
                    f"SELECT w.session_id, w.step, w.t_s, s.day, s.started_at, "
                    f"{', '.join(f'w.{c}' for c in cols)} FROM {table} w "
                    f"JOIN sessions s ON s.id = w.session_id WHERE {where} ORDER BY w.t_s, w.id", params)]

    def sway_trials(self, *, session_ids: Iterable[int] | None = None) -> list[SwayTrial]:
        where, params = ("1", []) if session_ids is None else _in("w.session_id", session_ids)
        return [SwayTrial(sid, step, float(t_s), day, sway_metrics(tuple(values)))
                for sid, step, t_s, day, *values in self._timed("sway", SWAY_FIELDS, where, params)]

    def _walk_rows(self, where: str, params: Iterable) -> list[tuple[Walk, int]]:
        """Walks matching ``where`` (on ``walks w``), oldest first, each with its count of
        damaged values (read as None)."""
        return [walk_row(sid, step, t_s, day, test, trial, tuple(values), done)
                for sid, step, t_s, day, test, trial, *values, done in self._timed(
                    "walks", ("test", "trial", *WALK_FIELDS, "test_done"), where, params)]

    def walks(self, *, session_ids: Iterable[int] | None = None) -> list[Walk]:
        where, params = ("1", []) if session_ids is None else _in("w.session_id", session_ids)
        return [w for w, _ in self._walk_rows(where, params)]

    def strides(self, session_id: int, step: int | None = None) -> list[StrideRow]:
        where, params = "session_id = ?", [int(session_id)]
        if step is not None:
            where += " AND step = ?"
            params.append(int(step))
        return [stride_row(sid, st, tuple(values)) for sid, st, *values in self._query(
            f"SELECT session_id, step, {', '.join(STRIDE_FIELDS)} FROM strides WHERE {where} "
            "ORDER BY id", params)]

    def sample_steps(self) -> set[tuple[int, int | None]]:
        """(session_id, step) pairs that have raw samples (uses the samples index only)."""
        return {(int(sid), step) for sid, step in self._query("SELECT DISTINCT session_id, step FROM samples")}

    def steps_without_walk(self, exercises: Iterable[str]) -> set[tuple[int, int | None]]:
        names = sorted(set(exercises))
        if not names:
            return set()
        marks = ", ".join("?" for _ in names)
        return {(int(sid), step) for sid, step in self._query(
            "SELECT st.session_id, st.step FROM steps st JOIN sessions s ON s.id = st.session_id"
            f" WHERE s.complete = 0 AND st.exercise IN ({marks})"
            " AND NOT EXISTS (SELECT 1 FROM walks w WHERE w.session_id = st.session_id"
            " AND w.step IS st.step)"
            " AND EXISTS (SELECT 1 FROM samples x WHERE x.session_id = st.session_id"
            " AND x.step IS st.step)", names)}

    def events(self, session_id: int) -> list[Event]:
        return [stored_event(kind, t_s, data) for kind, t_s, data in self._query(
            "SELECT kind, t_s, data FROM events WHERE session_id = ? ORDER BY id", (session_id,))]

    def feel_entries(self) -> list[FeelEntry]:
        return [FeelEntry(day, int(score), note, sid, float(created)) for day, score, note, sid, created
                in self._query("SELECT day, score, note, session_id, created_at FROM feel "
                               "ORDER BY day, created_at, id")]

    def feel_by_day(self) -> dict[str, FeelEntry]:
        out: dict[str, FeelEntry] = {}
        for day, score, note, sid, created in self._query(
                "SELECT f.day, f.score, f.note, f.session_id, f.created_at FROM feel f "
                "LEFT JOIN sessions s ON s.id = f.session_id "
                "ORDER BY f.day, f.session_id IS NOT NULL, s.started_at, f.created_at"):
            out[day] = FeelEntry(day, int(score), note, sid, float(created))
        return out

    def read_samples(self, session_id: int, step: int | None = None) -> SampleBlock:
        """t_s s (sensor clock), acc_m_s2 (n, 3) m/s^2, gyr_rad_s (n, 3) rad/s (stored as
        float32), t_host_s unix s or None. Damaged pages are read past block by block."""
        path, conn = self.db_path, self._conn
        if conn is None:
            raise UserError(f"no database at {path}")
        where = "session_id = ?" + ("" if step is None else " AND step = ?")
        params: list = [int(session_id)] + ([] if step is None else [int(step)])
        damaged = 0
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
        if damaged:
            log.warning("session %s: skipped %d damaged sample block(s) of %d in %s", session_id,
                        damaged, damaged + len(rows), path)
        return decode_blocks(rows, session_id)


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
