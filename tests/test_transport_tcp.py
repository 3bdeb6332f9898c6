"""tcp:// against a real asyncio server on 127.0.0.1 that plays the wearable."""

from __future__ import annotations

import asyncio

import pytest
from tcp_server import LocalTcpServer  # tests/tcp_server.py, on sys.path via conftest.py

from movecoach.firmware import framing, protocol
from movecoach.link.transport import LinkLost, TransportError, open_transport


def run(coro, timeout_s: float = 10.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


class Wearable(LocalTcpServer):
    """A TCP server that sends `payload` to each client and records the control frames it gets."""

    def __init__(self, payload: bytes, *, close_after_send: bool = False):
        self.payload = payload
        self.close_after_send = close_after_send
        self.controls: list[bytes] = []
        self.clients = 0

    async def handle(self, reader, writer):
        self.clients += 1
        deframer = framing.Deframer()
        writer.write(self.payload)
        await writer.drain()
        if self.close_after_send:
            writer.close()
            return
        while data := await reader.read(100):
            self.controls.extend(deframer.feed(data))
        writer.close()


FRAMES = b"".join(framing.encode_frame(bytes([i]) * 50) for i in range(1, 41))


def test_bytes_arrive_intact_and_control_commands_go_out_framed():
    async def main():
        async with Wearable(FRAMES) as wearable:
            async with open_transport(f"tcp://127.0.0.1:{wearable.port}", timeout_s=2.0) as link:
                assert link.framing == "stream"
                await link.send_control(protocol.encode_start())
                await link.send_control(protocol.encode_set_rate(208))
                got = b""
                async for chunk in link.chunks():
                    got += chunk
                    if len(got) >= len(FRAMES):
                        break
            await asyncio.sleep(0.05)
            return got, wearable.controls

    got, controls = run(main())
    assert got == FRAMES
    assert controls == [protocol.encode_start(), protocol.encode_set_rate(208)]


def test_the_wearable_closing_the_socket_is_a_lost_link_after_all_its_data():
    async def main():
        async with Wearable(FRAMES, close_after_send=True) as wearable:
            link = open_transport(f"tcp:127.0.0.1:{wearable.port}")
            got = b""
            async with link:
                with pytest.raises(LinkLost, match="closed the connection"):
                    async for chunk in link.chunks():
                        got += chunk
            return got

    assert run(main()) == FRAMES


def test_a_closed_link_can_be_opened_again():
    async def main():
        async with Wearable(FRAMES, close_after_send=True) as wearable:
            link = open_transport(f"tcp://127.0.0.1:{wearable.port}")
            for _ in range(2):
                await link.open()
                with pytest.raises(LinkLost):
                    async for _chunk in link.chunks():
                        pass
                await link.close()
            return wearable.clients

    assert run(main()) == 2


def test_nobody_listening_fails_fast_with_a_transport_error():
    async def main():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(TransportError, match=f"tcp://127.0.0.1:{port}"):
            await open_transport(f"tcp://127.0.0.1:{port}", timeout_s=2.0).open()

    run(main())


def test_sending_on_a_closed_link_is_a_lost_link():
    async def main():
        link = open_transport("tcp://127.0.0.1:9")
        with pytest.raises(LinkLost):
            await link.send_control(protocol.encode_start())

    run(main())
