"""open_source against the simulated wearable (`movecoach wearable --sim`: the firmware core fed
by a recording, served over TCP), as the coach uses it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import numpy as np

from movecoach.firmware import protocol
from movecoach.link.source import open_source
from movecoach.samples import SampleBlock
from movecoach.sim.wearable import serve_simulated


def test_a_simulated_wearable_streams_its_recording_through_the_tcp_source():
    fs = float(protocol.DEFAULT_RATE_HZ)
    t = np.arange(int(3 * fs)) / fs
    acc = np.column_stack([2.0 * np.sin(2 * np.pi * 0.5 * t), np.zeros_like(t), 9.81 + 0 * t])
    gyr = np.column_stack([np.zeros_like(t), 1.5 * np.cos(2 * np.pi * 0.5 * t), np.zeros_like(t)])
    rec = SimpleNamespace(t_s=t, acc_m_s2=acc, gyr_rad_s=gyr, fs=fs)

    async def main(url: str):
        blocks = []
        async with open_source(url, reconnect=False) as source:
            n = 0
            async for item in source:
                assert isinstance(item, SampleBlock), item
                blocks.append(item)
                n += len(item)
                if n >= len(t):
                    break
            return SampleBlock.concat(blocks), source.status, source.stats.decoder

    with serve_simulated("march", recording=rec, speed=20.0, seed=3) as wearable:
        got, status, dec = asyncio.run(asyncio.wait_for(main(wearable.url), 30))

    n = len(t)
    acc_lsb = protocol.acc_scale_m_s2(protocol.DEFAULT_ACC_FS_G)
    gyr_lsb = protocol.gyr_scale_rad_s(protocol.DEFAULT_GYR_FS_DPS)
    # what was simulated comes back, to within the int16 quantisation of the sensor
    np.testing.assert_allclose(got.acc_m_s2[:n], acc, atol=acc_lsb)
    np.testing.assert_allclose(got.gyr_rad_s[:n], gyr, atol=gyr_lsb)
    np.testing.assert_allclose(np.diff(got.t_s[:n]), 1 / fs, atol=2e-6)
    assert got.fs == fs
    assert (dec.lost_packets, dec.crc_errors, dec.bad_packets) == (0, 0, 0)
    assert status is not None and status["simulated"]
