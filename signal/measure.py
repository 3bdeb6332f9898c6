"""Stage 6 of the rep analysis: measuring one finished rep over its own window (pure functions).

The window's up-directions are turned into the angle from rest, zero-phase low-passed at the
exercise's tremor cut-off, and the rep's amplitude (or a slide's depth), peak time, start and
end are read from that. The hold is the one definition the live countdown uses too
(:func:`held_s`), on the same causal angle, so "done" during the rep, the recorded ``hold_s``
and whether the hold target was met always agree.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np
from scipy import signal as sps

from movecoach.signal.exercises import RepRules
from movecoach.signal.filters import lowpass
from movecoach.signal.types import Rep

log = logging.getLogger(__name__)

# Causal pre-filter applied (vectorised) before the detector: a 2nd-order Bessel low-pass, as
# strong as a Butterworth against tremor but without its step overshoot (which would add ~4 % to
# the amplitude of quick reps). Its low-frequency group delay is subtracted from reported times.
PREFILTER_CUTOFF_HZ = 2.0
PREFILTER_ORDER = 2
# A rep's start and end: where the (tremor-free) angle crosses this share of its amplitude, but
# never below EDGE_MIN_DEG (the noise floor of a steady angle).
EDGE_FRAC = 0.1
EDGE_MIN_DEG = 1.0


def prefilter_sos(fs: float) -> np.ndarray:
    """SOS of the causal pre-filter at sample rate fs (Hz)."""
    return sps.bessel(PREFILTER_ORDER, PREFILTER_CUTOFF_HZ, fs=fs, output="sos", norm="phase")


@lru_cache(maxsize=16)
def prefilter_delay_s(fs: float) -> float:
    """Low-frequency group delay (s) of the pre-filter at sample rate fs (Hz)."""
    b, a = sps.sos2tf(prefilter_sos(fs))
    _, gd = sps.group_delay((b, a), w=[0.01], fs=fs)
    return float(gd[0]) / fs


def held_s(angle_deg: np.ndarray, fs: float, frac: float) -> float:
    """The hold: time (s) an angle trace (n,) deg at fs Hz spends at or beyond frac of its own
    largest value. Live, the trace so far gives the countdown; the finished rep's trace gives
    its recorded hold."""
    if angle_deg.shape[0] == 0:
        return 0.0
    return float(np.count_nonzero(angle_deg >= frac * float(angle_deg.max()))) / fs


def measure_rep(t_s: np.ndarray, angle_deg: np.ndarray, signed_deg: np.ndarray | None,
                live_deg: np.ndarray, fs: float, r: RepRules, kinds: tuple[str, ...],
                min_amplitude_deg: float, delay_s: float = 0.0) -> Rep | None:
    """Measure one rep from its window, or None (with the reason logged) if it is not one.

    t_s (n,) s, uniform at fs Hz; angle_deg (n,) the angle from rest of each sample's
    up-direction (deg); signed_deg (n,) the signed angle (heel-toe pitch, toes down +) or None;
    live_deg (n,) the causal angle the live countdown saw (the hold is measured on it);
    min_amplitude_deg: the smallest rep (deg: r.min_amplitude_deg, or within a set the rules'
    min_amplitude_in_set_deg); delay_s: the group delay of the filters the samples went
    through, taken off the times.
    """
    if t_s.shape[0] < 3:
        return None
    if signed_deg is None:
        a = lowpass(angle_deg, r.tremor_cutoff_hz, fs, order=4)
    else:  # (one filter call for both)
        a, pf = lowpass(np.column_stack([angle_deg, signed_deg]), r.tremor_cutoff_hz, fs, order=4).T
    i_pk = int(np.argmax(a))
    amp = float(a[i_pk])
    if amp < min_amplitude_deg:
        log.info("excursion at t=%.2f s not counted: %.1f deg once tremor is smoothed out, a rep "
                 "is %.1f deg or more", t_s[i_pk], amp, min_amplitude_deg)
        return None
    if amp > r.max_amplitude_deg:
        log.info("excursion at t=%.2f s not counted: %.0f deg is more than a rep (%.0f deg at "
                 "most)", t_s[i_pk], amp, r.max_amplitude_deg)
        return None
    edge = max(EDGE_MIN_DEG, EDGE_FRAC * amp)
    below = np.flatnonzero(a[:i_pk] < edge)
    i0 = int(below[-1]) + 1 if below.size else 0
    after = np.flatnonzero(a[i_pk:] < edge)
    i1 = i_pk + int(after[0]) if after.size else a.shape[0] - 1
    hold = held_s(live_deg, fs, r.hold_frac)
    if hold < r.min_hold_s:
        log.info("excursion at t=%.2f s too brief at its top for a rep", t_s[i_pk])
        return None
    kind = kinds[0]
    if signed_deg is not None:
        if abs(pf[i_pk]) < r.min_pitch_share * amp:
            log.info("excursion at t=%.2f s is a foot roll, not a heel or toe raise", t_s[i_pk])
            return None
        kind = kinds[0] if pf[i_pk] >= 0 else kinds[1]
    d = delay_s
    return Rep(kind=kind, t_start=float(t_s[i0]) - d, t_peak=float(t_s[i_pk]) - d,
               t_end=float(t_s[i1]) - d, amplitude_deg=amp, hold_s=hold)
