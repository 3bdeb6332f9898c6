"""Batch rep counting: whole recordings in, a list of :class:`Rep` out.

All of it runs the same causal pipeline as the live :class:`~movecoach.signal.streaming.RepAnalyzer`
(one detector for both), so a recording analysed afterwards gives exactly the reps the coach
announced live. Detector classes follow the gaitmap/tpcp pattern: parameters in ``__init__``,
``detect(...)`` returns ``self``, results in trailing-underscore attributes.
"""

from __future__ import annotations

import logging

import numpy as np

from movecoach.signal.resample import estimate_fs
from movecoach.signal.streaming import RepAnalyzer
from movecoach.signal.types import Rep, RepEvent

log = logging.getLogger(__name__)


class _Counter:
    exercise = ""

    def detect(self, t_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, *, fs: float | None = None):
        """Find reps in one recording: t_s (n,) s, acc_m_s2 (n, 3) m/s^2, gyr_rad_s (n, 3)
        rad/s in the placement's sensor frame; fs Hz (default: from t_s). Returns self with
        ``reps_``, ``counts_`` and ``events_``."""
        t = np.asarray(t_s, dtype=float)
        if fs is None:
            fs = estimate_fs(t)
        an = RepAnalyzer(self.exercise, fs)
        events: list[RepEvent] = an.push(t, acc_m_s2, gyr_rad_s)
        events += an.finish()
        self.reps_: list[Rep] = list(an.reps_)
        self.counts_: dict[str, int] = an.counts_
        self.events_: list[RepEvent] = events
        return self


class HeelToeCounter(_Counter):
    """Heel raises (foot pitches toes-down) and toe raises (toes-up); sensor on top of the foot,
    +x to the toes, +z up (strap tilt up to ~25 deg is corrected from the rest posture)."""

    exercise = "heel-toe"


class MarchCounter(_Counter):
    """Seated march lifts; sensor on the front of the thigh in any orientation."""

    exercise = "march"


class WallSlideCounter(_Counter):
    """Wall slides; sensor on the thigh in any orientation; depth = thigh inclination from
    the standing rest (0 standing, 90 thigh horizontal)."""

    exercise = "wall-slide"


COUNTERS = {c.exercise: c for c in (HeelToeCounter, MarchCounter, WallSlideCounter)}


def count_reps(
    t_s: np.ndarray,
    acc_m_s2: np.ndarray,
    gyr_rad_s: np.ndarray,
    *,
    exercise: str,
    fs: float | None = None,
) -> list[Rep]:
    """Reps of ``exercise`` in one recording, time-ordered.

    t_s (n,) seconds (irregular and gappy allowed); acc_m_s2 (n, 3) m/s^2; gyr_rad_s (n, 3)
    rad/s; sensor frame of the exercise's placement; fs Hz (default: from t_s).
    """
    try:
        cls = COUNTERS[exercise]
    except KeyError:
        raise ValueError(f"unknown rep exercise {exercise!r}; expected one of {', '.join(COUNTERS)}") from None
    return cls().detect(t_s, acc_m_s2, gyr_rad_s, fs=fs).reps_


def counts_of(reps: list[Rep], exercise: str) -> dict[str, int]:
    """Count per rep kind of ``exercise`` (every kind present, zeros included)."""
    from movecoach.signal.types import REP_KINDS

    counts = {k: 0 for k in REP_KINDS[exercise]}
    for r in reps:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return counts
