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

from movecoach.signal.detector import RepDetector
from movecoach.signal.filters import StreamingSOS
from movecoach.signal.measure import prefilter_delay_s, prefilter_sos
from movecoach.signal.resample import DEFAULT_MAX_GAP_S, UniformResampler, estimate_fs
from movecoach.signal.sway import sway_metrics
from movecoach.signal.types import Rep, RepEvent, SwayMetrics
from movecoach.signal.vectors import row_norm

log = logging.getLogger(__name__)

# Exercise movements are below ~3 Hz and tremor below ~10 Hz: the samples are put on a 50 Hz grid
# (any input rate, 25-400 Hz) and pre-filtered there (2 Hz: at 12.5 Hz and above what is left is
# under 3 % of it), then every DECIMATION-th is analysed: the stages run per sample in Python,
# and 25 Hz halves their cost with nothing lost below the pre-filter's cut-off.
ANALYSIS_FS = 50.0
DECIMATION = 2
DETECTOR_FS = ANALYSIS_FS / DECIMATION
# The declared sample rate is checked against this much of the first timestamps (at most
# RATE_CHECK_SAMPLES of them), and a difference of more than RATE_TOLERANCE is worth a word: the
# analysis itself resamples whatever arrives, but a wearable set to 104 Hz that sends 52 Hz, or a
# clock 20 % off, means something is wrong with the hardware.
RATE_CHECK_S = 2.0
RATE_CHECK_SAMPLES = 2000
RATE_TOLERANCE = 0.1
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

    exercise: a rep exercise of the registry ('heel-toe' | 'march' | 'wall-slide'); fs: the
    sensor's nominal rate in Hz (any 25-400 Hz; the analysis resamples to ANALYSIS_FS), or None
    to take it from the timestamps. A declared rate is checked against the timestamps once
    RATE_CHECK_S of samples have arrived: a sensor whose samples come at another rate (a wrong
    setting, a clock that runs fast or slow, many lost packets) is logged as a warning, once.
    ``push(t_s, acc_m_s2, gyr_rad_s)`` takes a
    block of any length (t_s (n,) s on the sensor clock, acc (n, 3) m/s^2, gyr (n, 3) rad/s,
    sensor frame) and returns the :class:`RepEvent` s it caused; ``finish()`` flushes at the
    end. ``reps_`` holds every rep so far, ``counts_`` the count per kind, ``angle_deg`` the
    current angle from rest in degrees.
    """

    def __init__(self, exercise: str, fs: float | None = None, *,
                 max_gap_s: float = DEFAULT_MAX_GAP_S):
        self.exercise = exercise
        self.fs = None if fs is None else float(fs)
        self._rate_t: list[float] = []  # the first timestamps, until the rate is checked
        self._det = RepDetector(exercise, DETECTOR_FS, delay_s=prefilter_delay_s(ANALYSIS_FS))
        self._k = 0  # grid samples seen (the detector takes every DECIMATION-th)
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
        if self._rate_t is not None:
            self._check_rate(t)
        grid = self._resampler.push(t, np.hstack([a, g]))
        if grid.t_s.shape[0] == 0:
            return []
        x = grid.x
        n = x.shape[0]
        impact = row_norm(self._hp(x[:, :3]))
        xf = self._pre(x)
        keep = slice((-self._k) % DECIMATION, None, DECIMATION)  # grid index multiple of it
        self._k += n
        if grid.t_s[keep].shape[0] == 0:
            return []
        return self._det.push(grid.t_s[keep], xf[keep, :3], xf[keep, 3:], impact[keep],
                              grid.valid[keep], grid.span_s[keep])

    def _check_rate(self, t: np.ndarray) -> None:
        """Compare the declared rate with the first RATE_CHECK_S of timestamps (see above)."""
        self._rate_t.extend(t[: RATE_CHECK_SAMPLES].tolist())
        if self._rate_t[-1] - self._rate_t[0] < RATE_CHECK_S:
            if len(self._rate_t) > RATE_CHECK_SAMPLES:
                self._rate_t = self._rate_t[-RATE_CHECK_SAMPLES:]
            return
        seen = estimate_fs(np.asarray(self._rate_t))
        self._rate_t = None
        if self.fs is None:
            self.fs = seen
        elif abs(seen - self.fs) > RATE_TOLERANCE * self.fs:
            log.warning("samples arrive at %.4g Hz, not the %.4g Hz the sensor was set to: its "
                        "clock, its setting or the link is off", seen, self.fs)

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
