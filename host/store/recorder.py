"""Crash-safe session recording: the coach's recording sink, and the writer thread behind it.

:meth:`Store.start_session <movecoach.store.base.Store.start_session>` returns a
:class:`SessionRecorder`, which is also an event :class:`~movecoach.events.Sink`. Its ``handle``
and ``add_samples`` only convert and enqueue; one writer thread per session hands the store's
:class:`~movecoach.store.base.SessionWriter` a batch at least every ``commit_interval_s`` (0.5 s)
and at once on every rep, step, sway and session-end event. With the SQLite store (WAL) a process
killed at any moment (SIGKILL included) loses at most the last uncommitted half second, and the
session reads back as *incomplete*.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import numpy as np

from movecoach.errors import UserError
from movecoach.events import Event
from movecoach.samples import SampleBlock
from movecoach.store.base import Discard, End, Feel, Op, Row, SessionWriter
from movecoach.store.blocks import Chunk, chunk_row
from movecoach.store.rows import event_row, typed_rows
from movecoach.store.values import check_score, dumps, whole

log = logging.getLogger(__name__)

# Events that are committed at once (a rep must survive a crash right after it is spoken).
FLUSH_KINDS = frozenset({"rep", "step_start", "sway", "walk", "session_end", "set_complete"})
HEARTBEAT_S = 10.0  # an idle writer still tells the store it is alive this often
MAX_BUFFER_SAMPLES = 104 * 600  # samples kept in memory while the disk refuses writes


class SessionRecorder:
    """Records one session: samples, every event, typed rows; a :class:`Sink` for the coach.

    Calls return at once (they convert and enqueue); the writer thread commits. ``id`` is the
    session's integer id in the store (used as ``session_id`` in the coach's events).
    ``error`` holds the last write error (e.g. disk full), if any; data is then kept in memory
    (up to ``MAX_BUFFER_SAMPLES`` samples) and retried at the next commit.
    """

    def __init__(self, writer: SessionWriter, session_id: int, *, day: str,
                 commit_interval_s: float = 0.5):
        self.id = session_id
        self.day = day
        self.where = writer.where
        self._writer = writer
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
                    self._step = whole(data.get("step"))
                elif data.get("set") in (None, 1) or self._step is None:
                    self._step = self._step_starts if self._step is None else self._step + 1
                self._step_starts += 1
            step = self._step
        payload = dumps(data) if data else "{}"
        typed = typed_rows(event.kind, data, step, event.t_s)
        self._q.put(("event", event.kind, float(event.t_s), payload, typed))

    def set_feel(self, score: int, note: str | None = None) -> None:
        """How the person feels after this session, 1 (worst) to 10 (best); replaces a previous one."""
        score = check_score(score)
        self._q.put(("feel", score, note, time.time()))

    def finish(self, summary: dict | None = None, *, ended_at: float | None = None,
               timeout_s: float = 10.0) -> None:
        """Mark the session complete (ended_at unix s, default now; complete=1), commit, wait."""
        text = None if summary is None else dumps(summary)
        self._finished = True
        self._call("finish", time.time() if ended_at is None else float(ended_at), text,
                   timeout_s=timeout_s)

    def flush(self, *, timeout_s: float = 10.0) -> None:
        """Commit everything queued so far and wait for it."""
        self._call("flush", timeout_s=timeout_s)

    def discard(self, *, timeout_s: float = 10.0) -> None:
        """Remove the session from the store and stop: for a session that failed before its
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
            raise UserError(f"cannot write to {self.where}: the recorder did not answer "
                            f"within {timeout_s:.0f} s")
        if self.error is not None:
            raise UserError(f"cannot write to {self.where}: {self.error}")

    # -- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # never let the writer die silently
            log.exception("session %d: recorder writer failed", self.id)
        finally:
            self._writer.close()

    def _loop(self) -> None:
        chunks: dict[int | None, Chunk] = {}
        ops: list[Op] = []
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
                            ops.append(chunk_row(step, chunk))
                        chunk = chunks[step] = Chunk(fs)
                    chunk.t.append(t)
                    chunk.acc.append(acc)
                    chunk.gyr.append(gyr)
                    chunk.t_host.append(t_host)
                    chunk.n += len(t)
                elif op == "event":
                    _, kind, t_s, payload, typed = item
                    ops.append(event_row(kind, t_s, payload))
                    ops.extend(typed)
                    flush_now = kind in FLUSH_KINDS
                elif op == "feel":
                    _, score, note, t_s = item
                    ops.append(Feel(self.day, score, note, t_s))
                    flush_now = True
                elif op == "finish":
                    _, t_s, summary, done = item
                    ops.append(End(t_s, complete=True, summary=summary))
                    waiters.append(done)
                    flush_now = True
                elif op == "flush":
                    waiters.append(item[1])
                    flush_now = True
                elif op == "stop":
                    _, t_s, done = item
                    ops.append(End(t_s, complete=False))
                    waiters.append(done)
                    flush_now = stopping = True
                elif op == "discard":  # a session that never started: no trace of it is kept
                    chunks.clear()
                    ops = [Discard()]
                    waiters.append(item[1])
                    flush_now = stopping = True
                if deadline is None and not flush_now:
                    deadline = time.monotonic() + self._commit_interval_s
            if flush_now or (deadline is not None and time.monotonic() >= deadline):
                for step in list(chunks):
                    ops.append(chunk_row(step, chunks.pop(step)))
                self.error = self._writer.commit(ops, heartbeat_at=time.time())
                if self.error is None:
                    ops = []
                elif _buffered_samples(ops) > MAX_BUFFER_SAMPLES:
                    dropped = [o for o in ops if _is_samples(o)]
                    ops = [o for o in ops if not _is_samples(o)]
                    log.error("session %d: dropped %d unsaved sample blocks (%s)", self.id,
                              len(dropped), self.error)
                for done in waiters:
                    done.set()
                waiters = []
                deadline = None
                last_commit = time.monotonic()


def _is_samples(op: Op) -> bool:
    return isinstance(op, Row) and op.table == "samples"


def _buffered_samples(ops: list[Op]) -> int:
    return sum(o.values["n"] for o in ops if _is_samples(o))
