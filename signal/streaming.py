"""Live (causal) analyzers the coach feeds sample blocks as they arrive.

:class:`RepAnalyzer` = uniform resampler -> causal low-pass (vectorised per block, state carried
between blocks) -> the per-sample :class:`~movecoach.signal.detector.RepDetector`. The batch
functions in :mod:`movecoach.signal.reps` run this very pipeline over a whole recording, so
live and batch results agree by construction, whatever the block sizes.

Cost: the per-sample work is a few dozen float operations on the 50 Hz analysis grid; numpy is
only used per block.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import signal as sps

from movecoach.signal.detector import RepDetector, prefilter_sos
from movecoach.signal.filters import StreamingSOS
from movecoach.signal.resample import DEFAULT_MAX_GAP_S, UniformResampler
from movecoach.signal.sway import sway_metrics
from movecoach.signal.types import Rep, RepEvent, SwayMetrics

log = logging.getLogger(__name__)

# Exercise movements are below ~3 Hz and tremor below ~10 Hz: 50 Hz is plenty and keeps the
# per-sample loop cheap at any input rate (25-400 Hz).
ANALYSIS_FS = 50.0
# Impacts (heel strikes, landing on a seat, stamping) are bursts of acceleration of several m/s^2
# above exercise movement frequencies; tremor (a rotation) only tilts gravity by a few degrees
# (< 0.6 m/s^2). The detector sees the magnitude of the acceleration high-passed at IMPACT_HP_HZ.
IMPACT_HP_HZ = 6.0


def _as_block(t_s, acc, gyr) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.atleast_1d(np.asarray(t_s, dtype=float))
    a = np.asarray(acc, dtype=float).reshape(-1, 3)
    g = np.asarray(gyr, dtype=float).reshape(-1, 3)
    if not (t.shape[0] == a.shape[0] == g.shape[0]):
        raise ValueError(
            f"t_s, acc_m_s2, gyr_rad_s must have the same length, got {t.shape[0]}, "
            f"{a.shape[0]}, {g.shape[0]}"
        )
    return t, a, g


class RepAnalyzer:
    """Counts and measures reps of one exercise, live.

    exercise: 'heel-toe' | 'march' | 'wall-slide'; fs: the sensor's nominal rate in Hz (any
    25-400 Hz; the analysis resamples to ANALYSIS_FS). ``push(t_s, acc_m_s2, gyr_rad_s)`` takes a
    block of any length (t_s (n,) s on the sensor clock, acc (n, 3) m/s^2, gyr (n, 3) rad/s,
    sensor frame) and returns the :class:`RepEvent` s it caused; ``finish()`` flushes at the
    end. ``reps_`` holds every rep so far, ``counts_`` the count per kind, ``angle_deg`` the
    current angle from rest in degrees.
    """

    def __init__(self, exercise: str, fs: float, *, max_gap_s: float = DEFAULT_MAX_GAP_S):
        self.exercise = exercise
        self.fs = float(fs)
        self._det = RepDetector(exercise, ANALYSIS_FS)
        self._resampler = UniformResampler(ANALYSIS_FS, max_gap_s=max_gap_s)
        self._pre = StreamingSOS(prefilter_sos(ANALYSIS_FS))
        self._hp = StreamingSOS(
            sps.butter(2, IMPACT_HP_HZ, btype="highpass", fs=ANALYSIS_FS, output="sos")
        )
        self._finished = False

    @property
    def reps_(self) -> list[Rep]:
        return self._det.reps_

    @property
    def counts_(self) -> dict[str, int]:
        return dict(self._det.counts_)

    @property
    def angle_deg(self) -> float:
        return self._det.angle_deg

    @property
    def wrong_posture_moves(self) -> int:
        """Rep-sized movements not counted because the person was not seated (march) or not
        standing (wall slides) as far as the sensor can tell."""
        return self._det.wrong_posture_moves_

    @property
    def in_rep(self) -> bool:
        return self._det.in_rep

    def push(self, t_s, acc_m_s2, gyr_rad_s) -> list[RepEvent]:
        """Feed samples t_s (n,) s, acc_m_s2 (n, 3) m/s^2, gyr_rad_s (n, 3) rad/s; new events."""
        if self._finished:
            raise RuntimeError("push() after finish()")
        t, a, g = _as_block(t_s, acc_m_s2, gyr_rad_s)
        if t.shape[0] == 0:
            return []
        grid = self._resampler.push(t, np.hstack([a, g]))
        if grid.t_s.shape[0] == 0:
            return []
        x = grid.x
        impact = np.linalg.norm(self._hp(x[:, :3]), axis=1)
        xf = self._pre(x)
        return self._det.push(grid.t_s, xf[:, :3], xf[:, 3:], impact, grid.valid,
                              grid.span_s)

    def finish(self) -> list[RepEvent]:
        """End of the stream: report a rep that was already returning to rest."""
        self._finished = True
        return self._det.finish()


class SwayAnalyzer:
    """Collects a quiet-standing trial live and measures it at the end.

    fs: nominal rate in Hz. ``push(t_s, acc_m_s2)`` with t_s (n,) s and acc (n, 3) m/s^2 (lower
    back, +x up, +y left, +z backward); ``finish()`` returns :class:`SwayMetrics` (the
    definitions need the whole trial: mean gravity direction, zero-phase filter).
    ``duration_s`` tells how long the trial has run so far.
    """

    def __init__(self, fs: float):
        self.fs = float(fs)
        self._t: list[np.ndarray] = []
        self._a: list[np.ndarray] = []
        self._t0: float | None = None
        self._t_last: float | None = None

    @property
    def duration_s(self) -> float:
        if self._t0 is None:
            return 0.0
        return self._t_last - self._t0

    def push(self, t_s, acc_m_s2) -> None:
        """Add samples t_s (n,) s and acc_m_s2 (n, 3) m/s^2."""
        t = np.atleast_1d(np.asarray(t_s, dtype=float)).copy()
        a = np.asarray(acc_m_s2, dtype=float).reshape(-1, 3).copy()
        if t.shape[0] != a.shape[0]:
            raise ValueError(f"t_s has {t.shape[0]} samples but acc_m_s2 has {a.shape[0]}")
        if t.shape[0] == 0:
            return
        if self._t0 is None:
            self._t0 = float(t[0])
        self._t_last = float(t[-1])
        self._t.append(t)
        self._a.append(a)

    def finish(self) -> SwayMetrics:
        """Sway metrics of everything pushed (raises ValueError if shorter than 5 s)."""
        if not self._t:
            raise ValueError("no samples")
        return sway_metrics(np.concatenate(self._t), np.concatenate(self._a), fs=self.fs)
