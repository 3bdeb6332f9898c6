"""The firmware core running under the real MicroPython unix port produces the byte stream; it is
served over TCP and read back through open_source (TcpTransport -> Decoder), bit-exact."""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
from pathlib import Path

import numpy as np

from movecoach.firmware import protocol
from movecoach.link.source import LinkEvent, open_source
from movecoach.samples import SampleBlock

REPO = Path(__file__).resolve().parents[1]


def firmware_stream(micropython: str, counts: np.ndarray) -> bytes:
    """Frames the firmware (firmware/simlink.py under micropython) sends for these int16 samples."""
    records = b"".join(b"S" + struct.pack("<6h", *row) for row in counts.tolist()) + b"Q"
    out = subprocess.run(
        [micropython, "-c", "from firmware import simlink; simlink.main()"],
        input=records, capture_output=True, timeout=60, check=True,
        env={**os.environ, "MICROPYPATH": f"{REPO}:.frozen"},
    )
    return out.stdout


def test_firmware_frames_from_micropython_decode_bit_exact_through_the_tcp_source(micropython):
    rng = np.random.default_rng(7)
    counts = rng.integers(-32768, 32767, size=(1000, 6), dtype=np.int64)
    counts[:, 2] = 8192  # ~1 g on z at 4 g full scale
    stream = firmware_stream(micropython, counts)
    assert len(stream) > 1000 * 12

    async def main():
        async def serve(reader, writer):
            writer.write(stream)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with open_source(f"tcp://127.0.0.1:{port}", reconnect=False) as source:
                items = [item async for item in source]
                return items, source.status, source.stats.decoder
        finally:
            server.close()

    items, status, dec = asyncio.run(asyncio.wait_for(main(), 30))
    assert isinstance(items[-1], LinkEvent) and items[-1].state == "lost"  # the end of the stream
    got = SampleBlock.concat([i for i in items if isinstance(i, SampleBlock)])
    assert len(got) == 1000 and got.fs == protocol.DEFAULT_RATE_HZ
    np.testing.assert_array_equal(
        got.acc_m_s2, counts[:, :3] * protocol.acc_scale_m_s2(protocol.DEFAULT_ACC_FS_G))
    np.testing.assert_array_equal(
        got.gyr_rad_s, counts[:, 3:] * protocol.gyr_scale_rad_s(protocol.DEFAULT_GYR_FS_DPS))
    np.testing.assert_allclose(np.diff(got.t_s), 1 / protocol.DEFAULT_RATE_HZ, atol=2e-6)
    assert (dec.crc_errors, dec.bad_packets, dec.lost_packets) == (0, 0, 0)
    assert status is not None and status["rate_hz"] == protocol.DEFAULT_RATE_HZ
