"""Unit mistakes and impossible values in recorded IMU data, caught where the data comes in.

The mistakes users of IMU libraries make most, and what they do to the analysis when nobody says
a word (measured on the simulator's recordings before these checks existed):

- the gyroscope in deg/s instead of rad/s: every rotation 57x too fast, 0 reps in every exercise;
- the accelerometer in g instead of m/s^2: reps still counted, sway shrunk 9.8x;
- a flat sensor (all zeros, or a column that never changes): 0 reps, no warning.

:class:`UnitCheck` gathers evidence block by block (bounded memory, any file length) and names
the likely mistake; :func:`beyond_full_scale` finds values no IMU can measure. Conversion happens
only when the user says what the file holds (``--acc-unit g``, ``--gyro-unit deg/s``).

How the gyroscope's unit is told: the accelerometer gives the direction of gravity in the sensor
frame; when the sensor tilts, that direction turns at exactly the rate the gyroscope measures
about the axes across gravity, |w x g| = |dg/dt| (rad/s). The least-squares ratio of the two
over the recording is ~1 when the gyroscope is in rad/s and ~57 in deg/s. Measured with both
low-passed at 1.5 Hz: 0.62-1.54 on the 68 real walking recordings in ../shared/real/walking and
0.41-1.02 on simulated heel-toe, march and wall-slide sets (clean and hard); the same data in
deg/s gives 23-58. Linear acceleration (heel strikes) only lowers the ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2
from movecoach.signal.vectors import column_max, column_min, row_norm

ACC_UNITS = {"m/s^2": 1.0, "g": STANDARD_GRAVITY_M_S2}  # file unit -> m/s^2 per unit
GYRO_UNITS = {"rad/s": 1.0, "deg/s": math.pi / 180.0}  # file unit -> rad/s per unit

# Beyond any IMU's full scale: MEMS accelerometers end at +-16 g (a few high-g parts at
# +-32 g), gyroscopes at +-4000 deg/s = 70 rad/s. A value beyond these is a broken cell or a
# unit mistake, never a measurement.
ACC_LIMIT_M_S2 = 50.0 * STANDARD_GRAVITY_M_S2
GYRO_LIMIT_RAD_S = 100.0

# The median of |acc| over a recording is the magnitude of gravity (movements average out):
# 9.4-10.4 m/s^2 on the real walking set (some units read 5 % high), 9.6-9.9 on the simulator.
GRAVITY_OK_M_S2 = (7.0, 13.0)
GRAVITY_IN_G = (0.6, 1.6)  # the same recording with the accelerometer in g

# Gyroscope / gravity-direction ratio (see the module docstring): rad/s data gives 0.4-1.6,
# deg/s data 23-58. Outside RATIO_OK the unit is wrong by a large factor.
RATIO_OK = (0.125, 8.0)
RATIO_LOWPASS_HZ = 1.5
# Both signals are smoothed alike before the ratio is taken (a linear filter on both keeps their
# ratio, so its exact shape hardly matters): a moving average of RATIO_SMOOTH_S taken twice has
# its -3 dB point at 0.32 / RATIO_SMOOTH_S = RATIO_LOWPASS_HZ. Numpy, not scipy.signal: importing
# that costs ~0.6 s CPU, a sixth of `movecoach analyze --exercise walk` on an hour of data.
RATIO_SMOOTH_S = 0.32 / RATIO_LOWPASS_HZ
# The ratio is judged only on recordings where gravity's direction turns faster than
# MOVING_RAD_S for at least MOVING_MIN_S (sensor noise alone stays below ~0.01 rad/s after the
# low-pass): every rep exercise qualifies (march: 6 s and more in a 5-rep set), quiet standing
# does not.
MOVING_RAD_S = 0.1
MOVING_MIN_S = 0.5
_MIN_BLOCK_S = 1.0  # shorter blocks are too short to low-pass
_GRAV_BIN_M_S2 = 0.01  # histogram resolution for the median of |acc|


@dataclass
class UnitCheck:
    """Evidence about the units of one recording, gathered with :meth:`add` block by block.

    ``problem(uses_gyro=...)`` names the likely mistake in one sentence, or returns None.
    """

    samples: int = 0
    moving_s: float = 0.0
    _acc_min: np.ndarray = field(default_factory=lambda: np.full(3, np.inf))
    _acc_max: np.ndarray = field(default_factory=lambda: np.full(3, -np.inf))
    _gyr_min: np.ndarray = field(default_factory=lambda: np.full(3, np.inf))
    _gyr_max: np.ndarray = field(default_factory=lambda: np.full(3, -np.inf))
    _grav_hist: dict[int, int] = field(default_factory=dict)
    _cross: float = 0.0  # sum |w x g| * |dg/dt|
    _tilt2: float = 0.0  # sum |dg/dt|^2

    def add(self, t_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray) -> None:
        """One block of consecutive samples: t_s (n,) s, acc (n, 3) m/s^2, gyr (n, 3) rad/s."""
        n = t_s.shape[0]
        if n == 0:
            return
        self.samples += n
        np.minimum(self._acc_min, column_min(acc_m_s2), out=self._acc_min)
        np.maximum(self._acc_max, column_max(acc_m_s2), out=self._acc_max)
        np.minimum(self._gyr_min, column_min(gyr_rad_s), out=self._gyr_min)
        np.maximum(self._gyr_max, column_max(gyr_rad_s), out=self._gyr_max)
        bins = np.rint(row_norm(acc_m_s2) / _GRAV_BIN_M_S2).astype(np.int64)
        values, counts = np.unique(bins, return_counts=True)
        hist = self._grav_hist
        for v, c in zip(values.tolist(), counts.tolist(), strict=True):
            hist[v] = hist.get(v, 0) + c
        if n < 16 or t_s[-1] - t_s[0] < _MIN_BLOCK_S:
            return
        self._add_rotation(t_s, acc_m_s2, gyr_rad_s)

    def _add_rotation(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> None:
        dt = np.diff(t_s)
        fs = 1.0 / float(np.median(dt))
        if not 2 * RATIO_LOWPASS_HZ < fs / 2:
            return
        both = smooth(np.hstack([acc, gyr]), fs)
        a, w = both[:, :3], both[:, 3:]
        norm = row_norm(a)[:, None]
        ok = norm[:, 0] > 1e-9
        if ok.sum() < 16:
            return
        g = a[ok] / norm[ok]
        tilt = row_norm(np.gradient(g, t_s[ok], axis=0))  # rad/s
        turn = row_norm(np.cross(w[ok], g))  # gyro units
        # (einsum, not np.dot: on a block's ~30k samples OpenBLAS hands a dot to a second thread,
        # which then spins waiting for more work: ~0.4 s of CPU over an hour's file on 2 cores)
        self._cross += float(np.einsum("i,i->", turn, tilt))
        self._tilt2 += float(np.einsum("i,i->", tilt, tilt))
        self.moving_s += float(np.count_nonzero(tilt > MOVING_RAD_S)) / fs

    @property
    def gravity_m_s2(self) -> float:
        """Median |acc| over every sample so far (m/s^2, to 0.01)."""
        if not self._grav_hist:
            return math.nan
        keys = sorted(self._grav_hist)
        counts = np.cumsum([self._grav_hist[k] for k in keys])
        return keys[int(np.searchsorted(counts, counts[-1] / 2))] * _GRAV_BIN_M_S2

    @property
    def gyro_flat(self) -> bool:
        """True if every gyroscope column held one value throughout."""
        return self.samples > 0 and bool(np.all(self._gyr_max == self._gyr_min))

    @property
    def gyro_ratio(self) -> float | None:
        """|w x g| / |dg/dt| (1 for rad/s), or None without enough movement to tell."""
        if self.moving_s < MOVING_MIN_S or self._tilt2 <= 0:
            return None
        return self._cross / self._tilt2

    def problem(self, *, uses_gyro: bool = True, judge_rotation: bool = True) -> str | None:
        """The likely unit mistake in one sentence, or None. uses_gyro=False: the analysis
        does not read the gyroscope (sway), so only the accelerometer is judged.
        judge_rotation=False: skip the gyroscope/tilt ratio (a few seconds of live data)."""
        if self.samples == 0:
            return None
        if np.all(self._acc_max == self._acc_min):
            return (f"the accelerometer reads {_xyz(self._acc_min)} in every sample: the sensor is "
                    "not working or its columns are empty")
        if uses_gyro and self.gyro_flat:
            return (f"the gyroscope reads {_xyz(self._gyr_min)} in every sample: the sensor is "
                    "not working or its columns are empty")
        grav = self.gravity_m_s2
        if GRAVITY_IN_G[0] <= grav <= GRAVITY_IN_G[1]:
            return (f"the accelerometer reads {grav:.2f} at rest, not 9.81: it looks like g, not "
                    "m/s^2 (convert with --acc-unit g)")
        if not GRAVITY_OK_M_S2[0] <= grav <= GRAVITY_OK_M_S2[1]:
            return (f"the accelerometer reads {grav:.3g} at rest, far from gravity's 9.81 m/s^2: "
                    "check its unit and scale")
        ratio = self.gyro_ratio if judge_rotation else None
        if uses_gyro and ratio is not None:
            if ratio > RATIO_OK[1]:
                return (f"the gyroscope turns {ratio:.0f}x faster than the sensor tilts: it looks "
                        "like deg/s, not rad/s (convert with --gyro-unit deg/s)")
            if ratio < RATIO_OK[0]:
                return (f"the gyroscope turns {1 / ratio:.0f}x slower than the sensor tilts" if ratio
                        else "the gyroscope does not turn while the sensor tilts") + \
                    ": check its unit (rad/s expected) and that it is connected"
        return None


def beyond_full_scale(acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray) -> tuple[int, int] | None:
    """(row, column 0-5 over ax..gz) of the first value beyond any IMU's full scale, or None."""
    bad_a = np.abs(acc_m_s2) > ACC_LIMIT_M_S2
    bad_g = np.abs(gyr_rad_s) > GYRO_LIMIT_RAD_S
    if not (bad_a.any() or bad_g.any()):
        return None
    bad = np.hstack([bad_a, bad_g])
    row = int(np.flatnonzero(bad.any(axis=1))[0])
    return row, int(np.flatnonzero(bad[row])[0])


def _xyz(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x + 0.0:g}" for x in v.tolist()) + ")"  # no "-0"


def smooth(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """x (n, c) sampled at fs_hz, each column smoothed by a centred moving average of
    RATIO_SMOOTH_S taken twice (a triangle window: gain 1 at 0 Hz, -3 dB near RATIO_LOWPASS_HZ,
    zero phase); the ends are padded with the end values."""
    h = int(round(RATIO_SMOOTH_S * fs_hz / 2))  # an odd window, 2h + 1 samples: centred
    n = 2 * h + 1
    y = np.asarray(x, dtype=float)
    for _ in range(2):
        c = np.cumsum(np.pad(y, ((h + 1, h), (0, 0)), mode="edge"), axis=0)
        y = (c[n:] - c[:-n]) / n
    return y
