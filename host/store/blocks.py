"""Raw samples as a store keeps them: blocks of one step each, packed little-endian.

t: float64 s (sensor clock); acc, gyr: float32 (n, 3) m/s^2 and rad/s (float32 keeps the
sensor's 16-bit resolution at half the size); t_host: float64 unix s, or None.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from movecoach.samples import SampleBlock
from movecoach.store.base import Row

log = logging.getLogger(__name__)


@dataclass
class Chunk:
    """Samples of one step waiting for the next commit (fs Hz)."""

    fs: float
    t: list[np.ndarray] = field(default_factory=list)
    acc: list[np.ndarray] = field(default_factory=list)
    gyr: list[np.ndarray] = field(default_factory=list)
    t_host: list[np.ndarray | None] = field(default_factory=list)
    n: int = 0


def chunk_row(step: int | None, chunk: Chunk) -> Row:
    """The samples row of a chunk."""
    t = np.concatenate(chunk.t)
    t_host = None
    if any(h is not None for h in chunk.t_host):
        t_host = np.concatenate([np.full(len(tt), np.nan) if h is None else h
                                 for tt, h in zip(chunk.t, chunk.t_host, strict=True)]).tobytes()
    return Row("samples", {
        "step": step, "n": chunk.n, "fs": chunk.fs, "t": t.astype("<f8").tobytes(),
        "acc": np.concatenate(chunk.acc).astype("<f4").tobytes(),
        "gyr": np.concatenate(chunk.gyr).astype("<f4").tobytes(), "t_host": t_host})


def decode_blocks(rows: Iterable[tuple], session_id: int) -> SampleBlock:
    """One SampleBlock from stored blocks (block_id, n, fs, t, acc, gyr, t_host), in order.

    A block whose sizes do not match its n is skipped with a warning; a rate that changes within
    the session is warned about and the first one kept.
    """
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
