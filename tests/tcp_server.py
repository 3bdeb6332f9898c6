"""A TCP server on 127.0.0.1 and a free port that plays the wearable in the tcp:// tests."""

from __future__ import annotations

import asyncio


class LocalTcpServer:
    """``async with`` starts it and stops it; a subclass answers each client in ``handle``."""

    server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]
