"""A motion script on a fine regular time grid: named joint/pose channels built up move by move.

Every move starts where the previous one ended, and the built-in moves start and end with zero
velocity and acceleration (minimum-jerk), so the pose is twice differentiable and the simulated
accelerometer sees no artificial spikes. Real impacts (heel strikes, landing on a chair) are
added explicitly as short decaying oscillations of the world-frame acceleration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from movecoach.sim.kinematics import bump, min_jerk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Impact:
    """A short transient: acceleration amp_m_s2 * exp(-t/tau_s) * sin(2 pi freq_hz t) along dir_world."""

    t_s: float
    amp_m_s2: float
    dir_world: tuple[float, float, float]
    freq_hz: float = 25.0
    tau_s: float = 0.015


@dataclass(frozen=True)
class RepMark:
    """Where a scripted rep lies on the grid and which channel measures it."""

    kind: str
    i_start: int
    i_end: int
    channel: str
    rest: float  # channel value (rad) at rest before the rep
    sign: float  # +1 if the rep increases the channel


@dataclass(frozen=True)
class SpanMark:
    """A scripted distractor (not a rep) on the grid."""

    kind: str
    i_start: int
    i_end: int


class Timeline:
    """Channels (rad for angles, m for positions) sampled at fs_hz, appended move by move."""

    def __init__(self, fs_hz: float, **channels: float):
        self.fs_hz = float(fs_hz)
        self.state: dict[str, float] = {k: float(v) for k, v in channels.items()}
        self._parts: dict[str, list[np.ndarray]] = {k: [np.array([float(v)])] for k, v in channels.items()}
        self.n = 1  # sample 0 is the initial state
        self.impacts: list[Impact] = []
        self.reps: list[RepMark] = []
        self.spans: list[SpanMark] = []

    @property
    def t_s(self) -> float:
        """Time (s) of the last sample so far."""
        return (self.n - 1) / self.fs_hz

    def samples(self, dur_s: float) -> int:
        """Number of grid samples in dur_s seconds (at least 1)."""
        return max(1, int(round(dur_s * self.fs_hz)))

    def add(self, m: int, arrays: dict[str, np.ndarray]) -> None:
        """Append m samples; channels not in arrays keep their value. Arrays must join smoothly."""
        unknown = set(arrays) - set(self.state)
        if unknown:
            raise KeyError(f"unknown channel(s) {sorted(unknown)}")
        for k in self.state:
            a = arrays.get(k)
            if a is None:
                a = np.full(m, self.state[k])
            elif len(a) != m:
                raise ValueError(f"channel {k}: expected {m} samples, got {len(a)}")
            self._parts[k].append(np.asarray(a, dtype=float))
            self.state[k] = float(a[-1])
        self.n += m

    def hold(self, dur_s: float) -> None:
        """Stay still for dur_s seconds."""
        if dur_s > 0:
            self.add(self.samples(dur_s), {})

    def move(self, dur_s: float, **targets: float) -> None:
        """Minimum-jerk move of the named channels to absolute targets in dur_s seconds."""
        m = self.samples(dur_s)
        s = min_jerk(m)
        self.add(m, {k: self.state[k] + (v - self.state[k]) * s for k, v in targets.items()})

    def move_bump(self, dur_s: float, bumps: dict[str, float], **targets: float) -> None:
        """Like move, plus channels that go out by bumps[k] and back (e.g. a foot lift) meanwhile."""
        m = self.samples(dur_s)
        s = min_jerk(m)
        b = bump(m)
        arrays = {k: self.state[k] + (v - self.state[k]) * s for k, v in targets.items()}
        for k, h in bumps.items():
            arrays[k] = arrays.get(k, np.full(m, self.state[k])) + h * b
        self.add(m, arrays)

    def impact(self, amp_m_s2: float, dir_world: tuple[float, float, float], *, freq_hz: float = 25.0,
               tau_s: float = 0.015) -> None:
        """A transient (heel strike, landing on a seat) starting now."""
        self.impacts.append(Impact(self.t_s, amp_m_s2, dir_world, freq_hz, tau_s))

    def arrays(self) -> dict[str, np.ndarray]:
        """The channels as (n,) arrays."""
        return {k: np.concatenate(v) for k, v in self._parts.items()}

    def impact_acc_world(self) -> np.ndarray:
        """(n, 3) m/s^2 world-frame acceleration of all impacts on the grid."""
        out = np.zeros((self.n, 3))
        for imp in self.impacts:
            i0 = int(round(imp.t_s * self.fs_hz))
            m = min(self.n - i0, int(8 * imp.tau_s * self.fs_hz) + 1)
            if m <= 0:
                continue
            tt = np.arange(m) / self.fs_hz
            a = imp.amp_m_s2 * np.exp(-tt / imp.tau_s) * np.sin(2 * np.pi * imp.freq_hz * tt)
            d = np.asarray(imp.dir_world, dtype=float)
            out[i0:i0 + m] += np.outer(a, d / np.linalg.norm(d))
        return out
