"""Putting irregular, gappy sensor timestamps onto a uniform time grid.

How gaps are filled: the grid is ``t0 + k / fs_out`` (t0 = the first sample's time). Each grid
point is linearly interpolated between the two real samples around it. A grid point whose
bracketing samples are more than ``max_gap_s`` apart lies in a *long gap* (lost link, many lost
packets): it is still filled by the same interpolation (so filters see a continuous signal), but
it is flagged ``valid=False`` so that detectors drop any rep in progress and never count across
it. Samples with a time at or before the previous one (duplicates, clock steps backwards) are
dropped. Interpolating at a grid point only ever uses the samples on either side of it, so the
streaming :class:`UniformResampler` gives the same grid whatever the block sizes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MAX_GAP_S = 0.5
# Blocks of at most this many samples are resampled in plain floats (UniformResampler._small): a
# live block is a handful of samples (8 at 104 Hz), where ~25 numpy calls' set-up (~60 us) would
# be most of the cost.
SMALL_BLOCK = 32


def estimate_fs(t_s: np.ndarray) -> float:
    """Sample rate in Hz from timestamps t_s (n,) in seconds: 1 / median positive interval."""
    t = np.asarray(t_s, dtype=float)
    if t.shape[0] < 2:
        raise ValueError("need at least 2 timestamps to estimate a sample rate")
    dt = np.diff(t)
    dt = dt[dt > 0]
    if dt.size == 0:
        raise ValueError("timestamps never increase")
    return float(1.0 / np.median(dt))


@dataclass(frozen=True)
class UniformBlock:
    """Samples on the uniform grid. t_s (n,) s; x (n, k) the interpolated channels (input units);
    valid (n,) bool, False inside long gaps; span_s (n,) s, the interval between the two real
    samples each grid point was interpolated from (about one input period; more in a gap)."""

    t_s: np.ndarray
    x: np.ndarray
    valid: np.ndarray
    span_s: np.ndarray


class UniformResampler:
    """Causal linear resampler onto ``t0 + k / fs_out`` for blocks of (t_s, x) of any length.

    fs_out in Hz; max_gap_s in seconds (longer gaps are filled but flagged invalid). x has k
    channels in any units (here acceleration m/s^2 and angular rate rad/s side by side).
    """

    def __init__(self, fs_out: float, *, max_gap_s: float = DEFAULT_MAX_GAP_S):
        if fs_out <= 0:
            raise ValueError(f"fs_out must be positive, got {fs_out}")
        self.fs_out = float(fs_out)
        self.max_gap_s = float(max_gap_s)
        self._t0: float | None = None
        self._k_next = 0  # index of the next grid point to emit
        self._t_last = -math.inf
        self._x_last: np.ndarray | None = None

    def push(self, t_s: np.ndarray, x: np.ndarray) -> UniformBlock:
        """Add samples t_s (n,) seconds, x (n, k); return the grid points they complete."""
        t = np.asarray(t_s, dtype=float).reshape(-1)
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x.reshape(t.shape[0], -1)
        if x.shape[0] != t.shape[0]:
            raise ValueError(f"t_s has {t.shape[0]} samples but x has {x.shape[0]}")
        k_ch = x.shape[1]
        if t.shape[0] <= SMALL_BLOCK:
            return self._small(t, x)
        # Keep only strictly increasing times (relative to what we already have).
        if t.shape[0]:
            keep = np.empty(t.shape[0], dtype=bool)
            run_max = np.maximum.accumulate(np.concatenate(([self._t_last], t)))
            keep[:] = t > run_max[:-1]
            keep &= np.isfinite(t) & np.all(np.isfinite(x), axis=1)
            if not keep.all():
                log.debug("dropping %d non-increasing or non-finite samples", int((~keep).sum()))
                t, x = t[keep], x[keep]
        empty = UniformBlock(np.zeros(0), np.zeros((0, k_ch)), np.zeros(0, dtype=bool), np.zeros(0))
        if t.shape[0] == 0:
            return empty
        if self._t0 is None:
            self._t0 = float(t[0])
        if self._x_last is not None:
            t = np.concatenate(([self._t_last], t))
            x = np.concatenate((self._x_last[None, :], x))
        self._t_last = float(t[-1])
        self._x_last = x[-1].copy()
        # Grid points in [t[0], t[-1]] not yet emitted.
        k_end = int(math.floor((t[-1] - self._t0) * self.fs_out + 1e-9))
        if k_end < self._k_next:
            return empty
        k = np.arange(self._k_next, k_end + 1)
        self._k_next = k_end + 1
        tg = self._t0 + k / self.fs_out
        # each grid point between the two samples around it (as np.interp, all channels at once)
        j = np.clip(np.searchsorted(t, tg, side="right"), 1, t.shape[0] - 1)
        span = t[j] - t[j - 1]  # also the gap length around each grid point
        frac = np.clip((tg - t[j - 1]) / np.where(span > 0, span, 1.0), 0.0, 1.0)[:, None]
        xg = x[j - 1] + frac * (x[j] - x[j - 1])
        valid = span <= self.max_gap_s
        return UniformBlock(tg, xg, valid, span)

    def _small(self, t_s: np.ndarray, x: np.ndarray) -> UniformBlock:
        """:meth:`push` for a few samples in plain floats: the same operations in the same order
        (so the same grid to the last bit, whatever the block sizes)."""
        k_ch = x.shape[1]
        ts: list[float] = []
        xs: list[list[float]] = []
        run_max = self._t_last  # the running maximum of the times (NaN once one was NaN)
        for ti, xi in zip(t_s.tolist(), x.tolist(), strict=True):
            if ti > run_max and math.isfinite(ti) and all(map(math.isfinite, xi)):
                ts.append(ti)
                xs.append(xi)
            if run_max == run_max and (ti > run_max or ti != ti):
                run_max = ti
        if len(ts) < t_s.shape[0]:
            log.debug("dropping %d non-increasing or non-finite samples", t_s.shape[0] - len(ts))
        if not ts:
            return UniformBlock(np.zeros(0), np.zeros((0, k_ch)), np.zeros(0, dtype=bool), np.zeros(0))
        if self._t0 is None:
            self._t0 = ts[0]
        if self._x_last is not None:
            ts.insert(0, self._t_last)
            xs.insert(0, self._x_last.tolist())
        self._t_last = ts[-1]
        self._x_last = np.array(xs[-1])
        t0, fs_out, max_gap = self._t0, self.fs_out, self.max_gap_s
        k_end = int(math.floor((ts[-1] - t0) * fs_out + 1e-9))
        if k_end < self._k_next:
            return UniformBlock(np.zeros(0), np.zeros((0, k_ch)), np.zeros(0, dtype=bool), np.zeros(0))
        last = len(ts) - 1
        j = 1
        tgs, xgs, spans = [], [], []
        for k in range(self._k_next, k_end + 1):
            tg = t0 + k / fs_out
            while j < last and ts[j] <= tg:  # the first sample after tg (as searchsorted)
                j += 1
            jj = min(j, last)
            ta = ts[jj - 1]
            span = ts[jj] - ta
            frac = (tg - ta) / (span if span > 0 else 1.0)
            frac = 0.0 if frac < 0.0 else 1.0 if frac > 1.0 else frac
            xa, xb = xs[jj - 1], xs[jj]
            tgs.append(tg)
            spans.append(span)
            xgs.append([a + frac * (b - a) for a, b in zip(xa, xb, strict=True)])
        self._k_next = k_end + 1
        span_a = np.array(spans)
        return UniformBlock(np.array(tgs), np.array(xgs).reshape(-1, k_ch), span_a <= max_gap, span_a)


def resample_uniform(
    t_s: np.ndarray, x: np.ndarray, fs_out: float, *, max_gap_s: float = DEFAULT_MAX_GAP_S
) -> UniformBlock:
    """Batch form of :class:`UniformResampler`: t_s (n,) s, x (n, k) -> grid at fs_out Hz."""
    return UniformResampler(fs_out, max_gap_s=max_gap_s).push(t_s, x)
