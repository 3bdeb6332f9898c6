"""open_source over a real pseudo-terminal: the wearable's side writes framed packets after it
receives "start", the host decodes them; pulling the plug ends the stream."""

from __future__ import annotations

import asyncio
import os
import select

import fake_bleak as fake  # tests/fake_bleak.py, on sys.path via conftest.py
import numpy as np
import pytest

from movecoach.firmware import framing, protocol
from movecoach.link.source import LinkEvent, SourceUnavailable, open_source
from movecoach.samples import SampleBlock

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs POSIX pseudo-terminals")




def run(coro, timeout_s: float = 15.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def wait_for_command(master: int, command: bytes, timeout_s: float = 5.0) -> list[bytes]:
    """Read control frames from the host until `command` arrives (the wearable's side)."""
    deframer = framing.Deframer()
    got: list[bytes] = []
    while command not in got:
        ready, _, _ = select.select([master], [], [], timeout_s)
        if not ready:
            raise TimeoutError(f"no {command!r} from the host; got {got}")
        got.extend(deframer.feed(os.read(master, 256)))
    return got


def test_serial_samples_decode_exactly_and_unplugging_ends_the_stream(pty_pair):
    master, port = pty_pair
    seqs = list(range(25))

    async def main():
        items = []
        async with open_source(f"serial://{port}", reconnect=False) as source:
            await asyncio.to_thread(wait_for_command, master, protocol.encode_start())
            # a wearable that was already streaming: the host joins in the middle of a frame
            os.write(master, framing.encode_frame(fake.imu_packet(99))[-20:])
            stream = b"".join(framing.encode_frame(fake.imu_packet(s)) for s in seqs)
            os.write(master, stream)
            n = 0
            async for item in source:
                items.append(item)
                if isinstance(item, SampleBlock):
                    n += len(item)
                    if n == len(seqs) * 8:
                        os.close(master)  # the cable is pulled
            return items, source.stats.decoder

    items, dec = run(main())
    assert isinstance(items[-1], LinkEvent) and items[-1].state == "lost"
    got = SampleBlock.concat([i for i in items if isinstance(i, SampleBlock)])
    t_s, acc, gyr = fake.expected_samples(seqs)
    np.testing.assert_allclose(got.t_s, t_s, atol=1e-9)
    np.testing.assert_array_equal(got.acc_m_s2, acc)
    np.testing.assert_array_equal(got.gyr_rad_s, gyr)
    assert dec.crc_errors == 0  # the partial frame at the start is a resync, not an error


def test_a_port_that_never_comes_back_gives_up_after_the_deadline(pty_pair):
    master, port = pty_pair

    async def main():
        async with open_source(f"serial://{port}", reconnect_timeout_s=0.6, timeout_s=0.2,
                               backoff_initial_s=0.1, backoff_max_s=0.2) as source:
            await asyncio.to_thread(wait_for_command, master, protocol.encode_start())
            os.write(master, framing.encode_frame(fake.imu_packet(0)))
            states = []
            with pytest.raises(SourceUnavailable, match=f"lost the link to serial://{port}"):
                async for item in source:
                    if isinstance(item, LinkEvent):
                        states.append(item.state)
                    elif not states:
                        os.close(master)
            return states

    assert run(main()) == ["lost"]
