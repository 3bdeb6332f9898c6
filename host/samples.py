"""The block of IMU samples that flows from the decoder to the analyzers and the recorder."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SampleBlock:
    """A run of consecutive IMU samples in SI units, sensor frame.

    t_s: (n,) float64 seconds on the sensor clock (unwrapped, rebuilt from the packet timestamps;
    gaps from lost packets show as missing times, never as invented samples).
    acc_m_s2: (n, 3) float64 specific force in m/s^2 (+9.81 on the axis pointing up at rest).
    gyr_rad_s: (n, 3) float64 angular rate in rad/s.
    fs: nominal sample rate in Hz as configured on the wearable.
    t_host_s: (n,) float64 estimated host wall-clock time (unix seconds) of each sample, or None.
    """

    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    fs: float
    t_host_s: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @staticmethod
    def concat(blocks: list[SampleBlock]) -> SampleBlock:
        """Join blocks in order (all must share fs)."""
        if not blocks:
            empty = np.zeros(0)
            return SampleBlock(empty, np.zeros((0, 3)), np.zeros((0, 3)), fs=0.0)
        hosts = [b.t_host_s for b in blocks]
        return SampleBlock(
            t_s=np.concatenate([b.t_s for b in blocks]),
            acc_m_s2=np.concatenate([b.acc_m_s2 for b in blocks]),
            gyr_rad_s=np.concatenate([b.gyr_rad_s for b in blocks]),
            fs=blocks[0].fs,
            t_host_s=None if any(h is None for h in hosts) else np.concatenate(hosts),
        )
