"""Butterworth filters for batch (zero-phase) and streaming (causal, state carried) use.

Every filter is designed with ``butter(..., fs=fs, output="sos")`` so cutoffs are in Hz at any
sample rate. Batch code uses :func:`scipy.signal.sosfiltfilt`; streaming code uses
:class:`StreamingSOS`, which carries ``zi`` between blocks so that filtering a signal in blocks
of any length gives exactly the same output as filtering it in one go.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np
from scipy import signal as sps

log = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def _butter_sos(order: int, cutoff_hz: float, btype: str, fs: float) -> np.ndarray:
    nyq = fs / 2.0
    if not 0.0 < cutoff_hz < nyq:
        raise ValueError(f"cutoff {cutoff_hz} Hz must be between 0 and Nyquist ({nyq} Hz)")
    sos = sps.butter(order, cutoff_hz, btype=btype, fs=fs, output="sos")
    sos.setflags(write=False)
    return sos


def lowpass_sos(cutoff_hz: float, fs: float, order: int = 4) -> np.ndarray:
    """Second-order sections of a Butterworth low-pass; cutoff_hz and fs in Hz."""
    return _butter_sos(int(order), float(cutoff_hz), "lowpass", float(fs))


def lowpass(x: np.ndarray, cutoff_hz: float, fs: float, *, order: int = 4, axis: int = 0) -> np.ndarray:
    """Zero-phase Butterworth low-pass of x (any units) along ``axis`` (time); fs in Hz.

    The effective order is doubled by the forward-backward pass. Short inputs are padded as much
    as they allow (sosfiltfilt's odd extension), so windows of a few samples still work.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[axis]
    if n < 2:
        return x.copy()
    sos = np.array(lowpass_sos(cutoff_hz, fs, order))
    padlen = min(3 * (2 * sos.shape[0] + 1), n - 1)
    return sps.sosfiltfilt(sos, x, axis=axis, padlen=padlen)


class StreamingSOS:
    """A causal SOS filter that keeps its state between blocks (``sosfilt`` with ``zi``).

    The state is seeded on the first sample (``sosfilt_zi(sos) * x[0]``) so a signal that starts
    at a non-zero level (gravity, a rest angle) does not ring. Works on (n,) or (n, k) blocks
    with time along axis 0.
    """

    def __init__(self, sos: np.ndarray):
        self.sos = np.array(sos, dtype=float)  # a writable copy (sosfilt needs one)
        self._zi_unit = sps.sosfilt_zi(self.sos)  # (n_sections, 2)
        self._zi: np.ndarray | None = None

    def reset(self) -> None:
        self._zi = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter one block x: (n,) or (n, k), any units; returns the same shape."""
        x = np.asarray(x, dtype=float)
        if x.shape[0] == 0:
            return x.copy()
        if self._zi is None:
            x0 = x[0]
            if x.ndim == 1:
                self._zi = self._zi_unit * x0
            else:
                self._zi = self._zi_unit[:, :, None] * np.asarray(x0)[None, None, :]
        y, self._zi = sps.sosfilt(self.sos, x, axis=0, zi=self._zi)
        return y
