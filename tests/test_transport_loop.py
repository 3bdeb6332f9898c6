"""loop://: the in-memory link tests use to play the wearable."""

from __future__ import annotations

import asyncio

import pytest

from movecoach.firmware import protocol
from movecoach.link.transport import LinkLost, TransportError, open_transport


def run(coro, timeout_s: float = 5.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def test_fed_bytes_come_out_in_order_and_controls_are_recorded():
    async def main():
        link = open_transport("loop://?framing=packet")
        async with link:
            for i in range(3):
                link.feed(bytes([i]) * 4)
            link.end()
            await link.send_control(protocol.encode_start())
            got = [chunk async for chunk in link.chunks()]
        return got, link.controls

    got, controls = run(main())
    assert got == [b"\0\0\0\0", b"\1\1\1\1", b"\2\2\2\2"]
    assert controls == [protocol.encode_start()]


def test_a_drop_delivers_what_was_sent_then_link_lost_and_data_sent_while_closed_is_gone():
    async def main():
        link = open_transport("loop://")
        await link.open()
        link.feed(b"abc")
        link.drop("walked away")
        link.feed(b"never arrives")
        got = []
        with pytest.raises(LinkLost, match="walked away"):
            async for chunk in link.chunks():
                got.append(chunk)
        with pytest.raises(LinkLost):
            await link.send_control(b"\x01")
        await link.close()
        await link.open()
        link.feed(b"again")
        link.end()
        got += [chunk async for chunk in link.chunks()]
        return got, link.discarded, link.connects

    assert run(main()) == ([b"abc", b"again"], 1, 2)


def test_a_refusing_loop_fails_to_open():
    async def main():
        link = open_transport("loop://")
        link.refuse_connections = True
        with pytest.raises(TransportError):
            await link.open()
        assert not link.is_open

    run(main())
