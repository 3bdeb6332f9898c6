"""Batch rep counting: whole recordings in, a list of :class:`Rep` out.

All of it runs the same causal chain as the live :class:`~movecoach.signal.streaming.RepAnalyzer`
(one detector for both), so a recording analysed afterwards gives exactly the reps the coach
announced live. :class:`RepCounter` follows the gaitmap/tpcp pattern: parameters in
``__init__``, ``detect(...)`` returns ``self``, results in trailing-underscore attributes. Which
exercises there are, and what they count, is the registry's (:mod:`movecoach.signal.exercises`).
"""

from __future__ import annotations

import logging

import numpy as np

from movecoach.signal.exercises import rep_exercise
from movecoach.signal.streaming import RepAnalyzer
from movecoach.signal.types import Rep, RepEvent

log = logging.getLogger(__name__)


class RepCounter:
    """Counts and measures one exercise's reps in a recording.

    exercise: a rep exercise of the registry ('heel-toe', 'march', 'wall-slide'); its sensor
    placement and frame are the registry's ``site`` and ``axes``.
    """

    def __init__(self, exercise: str):
        self.exercise = rep_exercise(exercise).name

    def detect(self, t_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, *,
               fs: float | None = None) -> RepCounter:
        """Find reps in one recording: t_s (n,) s (irregular and gappy allowed), acc_m_s2 (n, 3)
        m/s^2, gyr_rad_s (n, 3) rad/s in the placement's sensor frame; fs: the sensor's nominal
        rate in Hz, checked against the timestamps (default: taken from them). Returns self with
        ``reps_``, ``counts_`` and ``events_``."""
        an = RepAnalyzer(self.exercise, fs)
        events: list[RepEvent] = an.push(np.asarray(t_s, dtype=float), acc_m_s2, gyr_rad_s)
        events += an.finish()
        self.reps_: list[Rep] = list(an.reps_)
        self.counts_: dict[str, int] = an.counts_
        self.events_: list[RepEvent] = events
        return self


def count_reps(
    t_s: np.ndarray,
    acc_m_s2: np.ndarray,
    gyr_rad_s: np.ndarray,
    *,
    exercise: str,
    fs: float | None = None,
) -> list[Rep]:
    """Reps of ``exercise`` in one recording, time-ordered (see :meth:`RepCounter.detect`)."""
    return RepCounter(exercise).detect(t_s, acc_m_s2, gyr_rad_s, fs=fs).reps_


def counts_of(reps: list[Rep], exercise: str) -> dict[str, int]:
    """Count per rep kind of ``exercise`` (every kind present, zeros included)."""
    counts = {k: 0 for k in rep_exercise(exercise).rep_kinds}
    for r in reps:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return counts
