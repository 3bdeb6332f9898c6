"""serial:// through a real pseudo-terminal pair: the test writes frames into the master side."""

from __future__ import annotations

import asyncio
import os
import select

import pytest

from movecoach.firmware import framing, protocol
from movecoach.link.transport import LinkLost, TransportError, open_transport

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs POSIX pseudo-terminals")


def run(coro, timeout_s: float = 10.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def read_master(master: int, n: int, timeout_s: float = 2.0) -> bytes:
    got = b""
    while len(got) < n:
        ready, _, _ = select.select([master], [], [], timeout_s)
        if not ready:
            break
        got += os.read(master, 4096)
    return got


FRAMES = b"".join(framing.encode_frame(bytes(range(i, i + 60))) for i in range(0, 180, 3))


def test_frames_written_by_the_wearable_arrive_byte_exact(pty_pair):
    master, port = pty_pair

    async def main():
        async with open_transport(f"serial://{port}", timeout_s=2.0) as link:
            assert link.framing == "stream"
            os.write(master, FRAMES)
            got = b""
            async for chunk in link.chunks():
                got += chunk
                if len(got) >= len(FRAMES):
                    return got

    assert run(main()) == FRAMES


def test_control_commands_reach_the_wearable_as_frames(pty_pair):
    master, port = pty_pair

    async def main():
        async with open_transport(f"serial:{port}?baud=921600") as link:
            await link.send_control(protocol.encode_start())
            await link.send_control(protocol.encode_set_range(8, 1000))
            expected = framing.encode_frame(protocol.encode_start()) + framing.encode_frame(
                protocol.encode_set_range(8, 1000))
            return await asyncio.to_thread(read_master, master, len(expected))

    deframer = framing.Deframer()
    assert deframer.feed(run(main())) == [protocol.encode_start(),
                                          protocol.encode_set_range(8, 1000)]
    assert deframer.bad_frames == 0


def test_unplugging_the_wearable_is_a_lost_link(pty_pair):
    master, port = pty_pair

    async def main():
        async with open_transport(f"serial://{port}") as link:
            os.write(master, FRAMES[:100])
            got = b""
            with pytest.raises(LinkLost, match=port):
                async for chunk in link.chunks():
                    got += chunk
                    if len(got) >= 100:
                        os.close(master)  # the device vanished: reads now fail with EIO
            return got

    assert run(main()) == FRAMES[:100]


def test_a_missing_port_is_retried_until_the_timeout(tmp_path):
    missing = tmp_path / "ttyACM9"

    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(TransportError, match="cannot open serial port .*: no such device"):
            await open_transport(f"serial://{missing}", timeout_s=0.5).open()
        return loop.time() - t0

    waited = run(main())
    assert 0.2 <= waited < 3.0


def test_a_port_that_does_not_exist_is_said_within_seconds_not_at_the_timeout(tmp_path):
    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(TransportError, match="no such device"):
            await open_transport(f"serial://{tmp_path / 'ttyACM9'}", timeout_s=30.0).open()
        return loop.time() - t0

    assert run(main(), timeout_s=10.0) < 4.0


def test_a_board_plugged_in_a_moment_later_is_opened(tmp_path, pty_pair):
    _, device = pty_pair
    port = tmp_path / "ttyACM0"

    async def main():
        asyncio.get_running_loop().call_later(1.0, os.symlink, device, port)  # (the USB port appears)
        transport = open_transport(f"serial://{port}", timeout_s=30.0)
        await transport.open()
        await transport.close()

    run(main())


def test_timeout_zero_tries_once(tmp_path):
    async def main():
        with pytest.raises(TransportError):
            await open_transport(f"serial://{tmp_path / 'nope'}", timeout_s=0).open()

    run(main(), timeout_s=2.0)
