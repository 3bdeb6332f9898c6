"""``replay://PATH``: play a recording back as if the wearable were streaming it.

Recordings:

- the analyze CSV (``t,ax,ay,az,gx,gy,gz``; read by ``movecoach.store.csvio.read_csv``);
- the coach's recordings (a store, ``movecoach.store.open_store``): a ``.sqlite`` file or a
  data directory, ``?session=ID`` (default: the latest session) and optionally ``&step=N``.

``?speed=1`` (default) replays in real time, ``speed=10`` ten times faster, ``speed=0`` as fast
as possible. The recording's own sensor clock is kept in ``t_s``; ``t_host_s`` is the wall clock
the samples would have arrived at (``start + (t - t0) / speed``; for ``speed=0`` the recording's
own timeline from the start). Samples come out in blocks of ``block_s`` seconds (split at gaps in
the recording too, so each block is a run of consecutive samples) with ``framing = "samples"``:
the source passes them straight through, no decoder involved.

Paths: ``replay://session.csv`` is relative, ``replay:///home/me/session.csv`` absolute.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

from movecoach.errors import UserError
from movecoach.link.transport import DEFAULT_TIMEOUT_S, SourceURL, Transport
from movecoach.samples import SampleBlock
from movecoach.store import is_store

log = logging.getLogger(__name__)

DEFAULT_BLOCK_S = 0.1


def _float_param(url: SourceURL, name: str, default: float) -> float:
    text = url.param(name)
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{url.text}: {name} {text!r} is not a number") from None


def _int_param(url: SourceURL, name: str) -> int | None:
    text = url.param(name)
    if text in (None, ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise UserError(f"{url.text}: {name} {text!r} is not a whole number") from None


def load_recording(path: str | Path, *, session: int | None = None,
                   step: int | None = None) -> SampleBlock:
    """All samples of a recording (CSV or SQLite session) as one SampleBlock.

    t_s (n,) s sensor clock; acc_m_s2 (n, 3) m/s^2; gyr_rad_s (n, 3) rad/s; sensor frame.
    Raises UserError naming the file for anything unreadable.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise UserError(f"replay: no such recording {p}")
    if p.suffix.lower() != ".csv" and is_store(p):
        from movecoach.store import open_store

        with open_store(p) as store:
            if session is None:
                sessions = store.sessions()
                if not sessions:
                    raise UserError(f"replay: {p} holds no recorded sessions")
                session = int(sessions[-1].id)
                log.info("replaying the latest session, %d, from %s", session, p)
            block = store.read_samples(session, step=step)
        if len(block) == 0:
            what = f"session {session}" + ("" if step is None else f" step {step}")
            raise UserError(f"replay: {what} in {p} has no samples")
        return block
    from movecoach.store.csvio import read_csv

    rec = read_csv(p, check_units=True)  # a gyro in deg/s would count nothing, silently
    return SampleBlock(np.asarray(rec.t_s, dtype=np.float64),
                       np.asarray(rec.acc_m_s2, dtype=np.float64),
                       np.asarray(rec.gyr_rad_s, dtype=np.float64), fs=float(rec.fs))


def block_edges(t_s: np.ndarray, fs: float, block_s: float) -> np.ndarray:
    """Start indices of replay blocks (plus n at the end): every block_s seconds and at gaps.

    t_s: (n,) s, increasing; fs: Hz; a gap is a step longer than 1.5 sample periods.
    """
    n = len(t_s)
    if n == 0:
        return np.zeros(1, dtype=np.int64)
    bins = np.floor((t_s - t_s[0]) / block_s + 1e-9).astype(np.int64)  # 0.3 / 0.1 -> 3, not 2
    cut = np.diff(bins) != 0
    if fs > 0:
        cut |= np.diff(t_s) > 1.5 / fs
    return np.concatenate([[0], np.flatnonzero(cut) + 1, [n]]).astype(np.int64)


class ReplayTransport(Transport):
    """A recording replayed in time. speed: x real time (0: as fast as possible).

    block_s: seconds of samples per block (0.1 s is about one BLE packet at 104 Hz).
    session / step: which SQLite session (default latest) and step (default all).
    """

    scheme = "replay"
    framing = "samples"

    def __init__(self, path: str | Path, *, speed: float = 1.0, block_s: float = DEFAULT_BLOCK_S,
                 session: int | None = None, step: int | None = None,
                 timeout_s: float | None = DEFAULT_TIMEOUT_S):
        super().__init__(timeout_s=timeout_s)
        speed = float(speed)
        if not (speed >= 0 and math.isfinite(speed)):
            raise UserError(f"replay speed must be 0 (as fast as possible) or more, not {speed:g}")
        if not block_s > 0:
            raise UserError(f"replay block must be longer than 0 s, not {block_s:g}")
        self.path = Path(path)
        self.speed = speed
        self.block_s = float(block_s)
        self.session = session
        self.step = step
        self.recording: SampleBlock | None = None
        self._edges = np.zeros(1, dtype=np.int64)
        self._pos = 0
        self._anchor: tuple[float, float] | None = None  # (monotonic, wall) at the first sample

    @classmethod
    def from_url(cls, url: SourceURL, *, timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 **options: Any) -> ReplayTransport:
        options.setdefault("speed", _float_param(url, "speed", 1.0))
        options.setdefault("block_s", _float_param(url, "block_s", DEFAULT_BLOCK_S))
        options.setdefault("session", _int_param(url, "session"))
        options.setdefault("step", _int_param(url, "step"))
        return cls(url.target, timeout_s=timeout_s, **options)

    @property
    def url(self) -> str:
        query = [f"speed={self.speed:g}"]
        if self.session is not None:
            query.append(f"session={self.session}")
        if self.step is not None:
            query.append(f"step={self.step}")
        return f"replay://{self.path}?{'&'.join(query)}"

    @property
    def duration_s(self) -> float:
        """Length of the loaded recording on its own clock, seconds (0 before open)."""
        rec = self.recording
        return 0.0 if rec is None or len(rec) < 2 else float(rec.t_s[-1] - rec.t_s[0])

    async def _open(self, timeout_s: float | None) -> None:
        if self.recording is None:
            self.recording = await asyncio.to_thread(
                load_recording, self.path, session=self.session, step=self.step)
            rec = self.recording
            self._edges = block_edges(rec.t_s, rec.fs, self.block_s)
            log.info("replaying %d samples (%.1f s at %g Hz) from %s at speed %g", len(rec),
                     self.duration_s, rec.fs, self.path, self.speed)
        self._pos = 0
        self._anchor = None

    async def _close(self) -> None:
        return None

    async def chunks(self) -> AsyncIterator[SampleBlock]:
        # position and timeline live on the object: a cancelled reader resumes where it was
        rec = self.recording
        if rec is None:
            return
        t = rec.t_s
        t0 = float(t[0])
        while self._pos < len(self._edges) - 1:
            i0, i1 = int(self._edges[self._pos]), int(self._edges[self._pos + 1])
            if self._anchor is None:
                self._anchor = (time.monotonic(), time.time())
            mono0, wall0 = self._anchor
            if self.speed > 0:
                delay = mono0 + (float(t[i1 - 1]) - t0) / self.speed - time.monotonic()
                await asyncio.sleep(max(delay, 0.0))
            else:
                await asyncio.sleep(0)
            scale = self.speed if self.speed > 0 else 1.0
            block = SampleBlock(
                t_s=t[i0:i1].copy(),
                acc_m_s2=rec.acc_m_s2[i0:i1].copy(),
                gyr_rad_s=rec.gyr_rad_s[i0:i1].copy(),
                fs=rec.fs,
                t_host_s=wall0 + (t[i0:i1] - t0) / scale,
            )
            self._pos += 1
            yield block
