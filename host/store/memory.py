"""The in-memory store (``memory:``): every session kept in Python lists, gone with the process.

For tests, and the proof that the storage interface is whole: the contract tests
(tests/test_store_contract.py) run against it and the SQLite store alike. Each
``open_store("memory:")`` is a new, empty store.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from movecoach.errors import UserError
from movecoach.events import Event
from movecoach.samples import SampleBlock
from movecoach.store import models
from movecoach.store.base import SESSION_TABLES, Discard, End, Feel, Op, Row, Summary
from movecoach.store.blocks import decode_blocks
from movecoach.store.recorder import SessionRecorder
from movecoach.store.rows import stored_event
from movecoach.store.values import check_score, local_day, num

LOCATION = "memory:"


def open_store(location: str | os.PathLike = LOCATION, *, commit_interval_s: float = 0.5,
               **_disk_options) -> MemoryStore:
    """A new empty store (record, create and min_free_mb are for the stores on disk)."""
    return MemoryStore(commit_interval_s=commit_interval_s)


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _mean(values: Iterable) -> float | None:
    """The mean of the numeric values (damaged text values do not count), None if there are none."""
    nums = [float(v) for v in values if _numeric(v)]
    return sum(nums) / len(nums) if nums else None


def _damaged(rows: list[dict], cols: Iterable[str]) -> int:
    return sum(1 for r in rows for c in cols if r[c] is not None and not _numeric(r[c]))


class MemoryWriter:
    """A session's writes, applied under the store's lock (nothing in memory can refuse them)."""

    def __init__(self, store: MemoryStore, session_id: int):
        self.where = LOCATION
        self._store = store
        self.session_id = session_id

    def commit(self, ops: Sequence[Op], *, heartbeat_at: float) -> Exception | None:
        self._store._apply(self.session_id, ops, heartbeat_at)
        return None

    def close(self) -> None:
        pass


class MemoryStore:
    """See the module doc; the same answers as the SQLite store, from lists of dicts."""

    def __init__(self, *, commit_interval_s: float = 0.5):
        self.location = LOCATION
        self.commit_interval_s = float(commit_interval_s)
        self.directory: Path | None = None
        self._lock = threading.RLock()
        self._sessions: dict[int, dict[str, Any]] = {}
        self._tables: dict[str, list[dict[str, Any]]] = {t: [] for t in (*SESSION_TABLES, "feel")}
        self._next_id = 1
        self._recorders: list[SessionRecorder] = []

    @property
    def empty(self) -> bool:
        with self._lock:
            return not self._sessions and not self._tables["feel"]

    def close(self) -> None:
        for sess in self._recorders:
            sess.close()
        self._recorders.clear()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def start_session(self, *, device_id: str, routine: str, source: str, fs: float | None,
                      started_at: float | None = None) -> SessionRecorder:
        t0 = time.time() if started_at is None else float(started_at)
        with self._lock:
            sid = max(self._sessions, default=0) + 1
            self._sessions[sid] = dict(
                id=sid, device_id=device_id, routine=routine, source=source or "", fs=num(fs),
                started_at=t0, ended_at=None, complete=0, summary=None, day=local_day(t0),
                pid=os.getpid(), host=socket.gethostname(), heartbeat_at=time.time(), n_samples=0)
        sess = SessionRecorder(MemoryWriter(self, sid), sid, day=local_day(t0),
                               commit_interval_s=self.commit_interval_s)
        self._recorders.append(sess)
        return sess

    def _apply(self, sid: int, ops: Sequence[Op], heartbeat_at: float) -> None:
        with self._lock:
            session = self._sessions.get(sid)
            for op in ops:
                if session is None:
                    break
                if isinstance(op, Row):
                    self._tables[op.table].append({"id": self._new_id(), "session_id": sid, **op.values})
                    if op.table == "samples":
                        session["n_samples"] += op.values["n"]
                elif isinstance(op, Summary):
                    session["summary"] = op.text if op.text is not None else session["summary"]
                elif isinstance(op, Feel):
                    self._drop("feel", lambda r: r["session_id"] == sid)
                    self._tables["feel"].append(dict(id=self._new_id(), day=op.day, session_id=sid,
                                                     score=op.score, note=op.note,
                                                     created_at=op.created_at))
                elif isinstance(op, End) and op.complete:
                    session.update(ended_at=op.ended_at, complete=1)
                    session["summary"] = op.summary if op.summary is not None else session["summary"]
                elif isinstance(op, End) and session["ended_at"] is None:
                    session["ended_at"] = op.ended_at
                elif isinstance(op, Discard):
                    for table in self._tables:
                        self._drop(table, lambda r: r["session_id"] == sid)
                    del self._sessions[sid]
                    session = None
            if session is not None:
                session["heartbeat_at"] = heartbeat_at

    def add_rows(self, session_id: int, ops: Sequence[Op]) -> None:
        with self._lock:
            heartbeat = self._sessions[session_id]["heartbeat_at"]
        self._apply(session_id, ops, heartbeat)

    def _drop(self, table: str, which) -> None:
        self._tables[table] = [r for r in self._tables[table] if not which(r)]

    def set_feel(self, score: int, *, note: str | None = None, day: str | None = None) -> models.FeelEntry:
        score = check_score(score)
        day = day or dt.date.today().isoformat()
        now = time.time()
        with self._lock:
            that_day = [s for s in self._sessions.values() if s["day"] == day]
            sid = max(that_day, key=lambda s: (s["started_at"], s["id"]))["id"] if that_day else None
            self._drop("feel", lambda r: r["session_id"] == sid and (sid is not None or r["day"] == day))
            self._tables["feel"].append(dict(id=self._new_id(), day=day, session_id=sid, score=score,
                                             note=note, created_at=now))
        return models.FeelEntry(day, score, note, sid, now)

    # -- reading ----------------------------------------------------------------------------
    def _rows(self, table: str, session_ids: Iterable[int] | None = None) -> list[dict]:
        with self._lock:
            rows = list(self._tables[table])
        if session_ids is None:
            return rows
        ids = {int(i) for i in session_ids}
        return [r for r in rows if r["session_id"] in ids]

    def _day(self, sid: int) -> str:
        s = self._sessions.get(sid)
        return "" if s is None else s["day"] or local_day(s["started_at"])

    def _by_time(self, table: str, session_ids: Iterable[int] | None) -> list[dict]:
        """A table's rows of existing sessions, by (t_s, id) (as joined with sessions)."""
        return sorted((r for r in self._rows(table, session_ids) if r["session_id"] in self._sessions),
                      key=lambda r: (r["t_s"], r["id"]))

    def sessions(self, *, since: str | None = None, until: str | None = None,
                 exercise: str | None = None, ids: Iterable[int] | None = None) -> list[models.Session]:
        with self._lock:
            chosen = sorted((dict(s) for s in self._sessions.values()),
                            key=lambda s: (s["started_at"], s["id"]))
        id_set = None if ids is None else {int(i) for i in ids}
        if exercise:
            has = ({r["session_id"] for r in self._rows("steps") if r["exercise"] == exercise}
                   | {r["session_id"] for r in self._rows("reps") if r["exercise"] == exercise}
                   | ({r["session_id"] for r in self._rows("sway")} if exercise == "sway" else set()))
        chosen = [s for s in chosen if (not since or s["day"] >= since) and (not until or s["day"] <= until)
                  and (id_set is None or s["id"] in id_set) and (not exercise or s["id"] in has)]
        now = time.time()
        return [self._session(models.SessionRecord(**s), now) for s in chosen]

    def _session(self, rec: models.SessionRecord, now: float) -> models.Session:
        """What the SQLite store's aggregates give, from the session's rows."""
        sid = rec.id
        reps: dict[str, list[dict]] = {}
        for r in self._rows("reps", [sid]):
            reps.setdefault(r["exercise"], []).append(r)
        step_sets: dict[str, set] = {}
        for r in self._rows("steps", [sid]):  # a step without a set number is a set of its own
            step_sets.setdefault(r["exercise"], set()).add(
                ("set", r["set_no"]) if r["set_no"] is not None else ("id", r["id"]))
        sway = self._rows("sway", [sid])
        feel = [(f["score"], f["note"]) for f in self._rows("feel", [sid])]
        walks = [models.walk_row(sid, r["step"], r["t_s"], self._day(sid), r["test"], r["trial"],
                                 tuple(r[k] for k in models.WALK_FIELDS), r["test_done"])
                 for r in self._by_time("walks", [sid])]
        return models.assemble_session(
            rec,
            reps={ex: models.RepTotals(
                len(rows), len({r["set_no"] for r in rows} - {None}),
                *(_mean(r[k] for r in rows) for k in models.REP_MEASURES),
                sum(1 for r in rows if r["hold_met"] == 1),
                sum(1 for r in rows if r["hold_met"] is not None), _damaged(rows, models.REP_MEASURES))
                for ex, rows in sorted(reps.items())},  # by name, as SQL's GROUP BY gives them
            step_sets={ex: len(sets) for ex, sets in step_sets.items()},
            sway=None if not sway else models.SwayTotals(
                len(sway), _damaged(sway, models.SWAY_FIELDS),
                tuple(_mean(r[k] for r in sway) for k in models.SWAY_FIELDS)),
            feel=feel[0] if feel else (None, None),
            walks=[w for w, _ in walks], walk_damaged=sum(bad for _, bad in walks), now=now)

    def session(self, session_id: int) -> models.Session:
        found = self.sessions(ids=[session_id])
        if not found:
            raise UserError(f"no session {session_id} in {self.location}")
        return found[0]

    def summary(self, session_id: int) -> dict | None:
        with self._lock:
            text = self._sessions.get(session_id, {}).get("summary")
        try:
            return None if text is None else json.loads(text)
        except (TypeError, ValueError):
            return None

    def steps(self, session_id: int) -> list[models.StepRow]:
        return [models.StepRow(r["session_id"], *(r[k] for k in models.STEP_FIELDS)) for r in self._rows("steps", [session_id])]

    def reps(self, *, session_ids: Iterable[int] | None = None,
             exercise: str | None = None) -> list[models.RepRow]:
        rows = sorted(self._rows("reps", session_ids), key=lambda r: (r["session_id"], r["id"]))
        return [models.rep_row(r["session_id"], tuple(r[k] for k in models.REP_FIELDS)) for r in rows
                if not exercise or r["exercise"] == exercise]

    def sway_trials(self, *, session_ids: Iterable[int] | None = None) -> list[models.SwayTrial]:
        return [models.SwayTrial(r["session_id"], r["step"], float(r["t_s"]), self._day(r["session_id"]),
                          models.sway_metrics(tuple(r[k] for k in models.SWAY_FIELDS)))
                for r in self._by_time("sway", session_ids)]

    def walks(self, *, session_ids: Iterable[int] | None = None) -> list[models.Walk]:
        return [models.walk_row(r["session_id"], r["step"], r["t_s"], self._day(r["session_id"]), r["test"],
                         r["trial"], tuple(r[k] for k in models.WALK_FIELDS), r["test_done"])[0]
                for r in self._by_time("walks", session_ids)]

    def strides(self, session_id: int, step: int | None = None) -> list[models.StrideRow]:
        return [models.stride_row(r["session_id"], r["step"], tuple(r[k] for k in models.STRIDE_FIELDS))
                for r in self._rows("strides", [session_id]) if step is None or r["step"] == step]

    def sample_steps(self) -> set[tuple[int, int | None]]:
        return {(r["session_id"], r["step"]) for r in self._rows("samples")}

    def steps_without_walk(self, exercises: Iterable[str]) -> set[tuple[int, int | None]]:
        names = set(exercises)
        with self._lock:
            open_ids = {sid for sid, s in self._sessions.items() if not s["complete"]}
        walked = {(r["session_id"], r["step"]) for r in self._rows("walks")}
        return {(r["session_id"], r["step"]) for r in self._rows("steps")
                if r["session_id"] in open_ids and r["exercise"] in names
                and (r["session_id"], r["step"]) not in walked} & self.sample_steps()

    def events(self, session_id: int) -> list[Event]:
        return [stored_event(r["kind"], r["t_s"], r["data"]) for r in self._rows("events", [session_id])]

    def feel_entries(self) -> list[models.FeelEntry]:
        rows = sorted(self._rows("feel"), key=lambda r: (r["day"], r["created_at"], r["id"]))
        return [models.FeelEntry(r["day"], r["score"], r["note"], r["session_id"], r["created_at"]) for r in rows]

    def feel_by_day(self) -> dict[str, models.FeelEntry]:
        def started(r: dict) -> float:  # a standalone entry (no session) sorts first, as NULL does
            s = self._sessions.get(r["session_id"])
            return -float("inf") if s is None else s["started_at"]

        rows = sorted(self._rows("feel"), key=lambda r: (r["day"], r["session_id"] is not None,
                                                         started(r), r["created_at"]))
        return {r["day"]: models.FeelEntry(r["day"], r["score"], r["note"], r["session_id"], r["created_at"])
                for r in rows}

    def read_samples(self, session_id: int, step: int | None = None) -> SampleBlock:
        if session_id not in self._sessions:
            raise UserError(f"no session {session_id} in {self.location}")
        rows = [(r["id"], r["n"], r["fs"], r["t"], r["acc"], r["gyr"], r["t_host"])
                for r in self._rows("samples", [session_id]) if step is None or r["step"] == step]
        return decode_blocks(rows, session_id)
