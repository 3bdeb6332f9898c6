"""open_source over TCP: real framed protocol packets from a local server, decoded, with a drop
and reconnect in the middle."""

from __future__ import annotations

import asyncio
import time

import fake_bleak as fake  # tests/fake_bleak.py, on sys.path via conftest.py
import numpy as np
from tcp_server import LocalTcpServer  # tests/tcp_server.py

from movecoach.firmware import framing, protocol
from movecoach.link.source import LinkEvent, open_source
from movecoach.samples import SampleBlock


def run(coro, timeout_s: float = 15.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


class TcpWearable(LocalTcpServer):
    """A wearable on TCP: per connection, waits for "start", then sends the next planned packets
    (framed, in awkward 37-byte chunks). Every connection but the last is then dropped."""

    def __init__(self, plan: list[range]):
        self.plan = list(plan)
        self.controls: list[list[bytes]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        seqs = self.plan.pop(0)
        last = not self.plan
        got: list[bytes] = []
        self.controls.append(got)
        deframer = framing.Deframer()
        while protocol.encode_start() not in got:
            got.extend(deframer.feed(await reader.read(64)))
        stream = b"".join(framing.encode_frame(fake.imu_packet(s)) for s in seqs)
        for i in range(0, len(stream), 37):
            writer.write(stream[i:i + 37])
            await writer.drain()
        if not last:
            writer.close()  # the link drops here
            return
        while data := await reader.read(64):
            got.extend(deframer.feed(data))
        writer.close()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"


def test_samples_decode_exactly_and_a_drop_is_reported_with_the_lost_packets():
    sent = [range(0, 30), range(35, 60)]  # packets 30..34 were sent while the link was down
    expected = fake.expected_samples([s for r in sent for s in r])

    async def main():
        async with TcpWearable(sent) as wearable:
            items: list = []
            async with open_source(wearable.url, timeout_s=2.0) as source:
                n = 0
                async for item in source:
                    items.append(item)
                    n += len(item) if isinstance(item, SampleBlock) else 0
                    if n >= len(expected[0]):
                        break
                stats = source.stats
            await asyncio.sleep(0.1)
            return items, stats, wearable.controls

    items, stats, controls = run(main())
    events = [i for i in items if isinstance(i, LinkEvent)]
    assert [e.state for e in events] == ["lost", "restored"]
    assert "closed the connection" in events[0].reason
    assert events[1].lost_packets == 5
    assert 0.4 < events[1].gap_s < 5.0  # the first retry waits 0.5 s
    # the restored event comes right before the first samples after the gap
    after = items[items.index(events[1]) + 1]
    assert isinstance(after, SampleBlock) and after.t_s[0] == expected[0][30 * 8]

    got = SampleBlock.concat([i for i in items if isinstance(i, SampleBlock)])
    t_s, acc, gyr = expected
    np.testing.assert_allclose(got.t_s, t_s, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(got.acc_m_s2, acc)
    np.testing.assert_array_equal(got.gyr_rad_s, gyr)
    assert got.fs == 104.0
    assert got.t_host_s is not None  # arrival times went to the decoder's clock mapping
    assert abs(got.t_host_s[-1] - time.time()) < 10.0

    # "start" after each connect, "stop" when the source closes
    assert controls[0] == [protocol.encode_start()]
    assert controls[1] == [protocol.encode_start(), protocol.encode_stop()]
    assert (stats.connects, stats.link_losses, stats.restored) == (2, 1, 1)
    assert stats.decoder.lost_packets == 5 and stats.decoder.crc_errors == 0


def test_without_reconnect_the_samples_end_when_the_link_does():
    async def main():
        async with TcpWearable([range(0, 10), range(10, 20)]) as wearable:
            async with open_source(wearable.url, reconnect=False) as source:
                return [item async for item in source], wearable.controls

    items, controls = run(main())
    blocks = [i for i in items if isinstance(i, SampleBlock)]
    assert sum(len(b) for b in blocks) == 80
    assert isinstance(items[-1], LinkEvent) and items[-1].state == "lost"
    assert len(controls) == 1  # never reconnected
