"""``loop://``: an in-memory link with no hardware (like pyserial's ``loop://``), for tests.

The test plays the wearable: it feeds bytes (or SampleBlocks for ``framing="samples"``) with
:meth:`LoopTransport.feed`, drops the link with :meth:`drop`, ends the data with :meth:`end`,
and reads the control commands the host sent from :attr:`controls`. Like a radio link, data fed
while the link is closed is discarded (counted in ``discarded``).

    link = open_transport("loop://?framing=packet")
    async with link:
        link.feed(packet)
        async for chunk in link.chunks(): ...
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from movecoach.errors import UserError
from movecoach.link.transport import (
    DEFAULT_TIMEOUT_S,
    Framing,
    LinkLost,
    SourceURL,
    Transport,
    TransportError,
)

log = logging.getLogger(__name__)

_END = object()


class _Drop:
    def __init__(self, reason: str):
        self.reason = reason


class LoopTransport(Transport):
    """In-memory transport. framing: "stream" (default), "packet" or "samples".

    refuse_connections: while True, :meth:`open` fails with TransportError (a wearable that is
    switched off); tests flip it to exercise reconnect backoff.
    """

    scheme = "loop"

    def __init__(self, *, framing: Framing = "stream", timeout_s: float | None = DEFAULT_TIMEOUT_S):
        super().__init__(timeout_s=timeout_s)
        if framing not in ("stream", "packet", "samples"):
            raise UserError(f"loop:// framing must be stream, packet or samples, not {framing!r}")
        self.framing = framing
        self.controls: list[bytes] = []
        self.discarded = 0
        self.connects = 0
        self.refuse_connections = False
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._opened = asyncio.Event()

    @classmethod
    def from_url(cls, url: SourceURL, *, timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 **options: Any) -> LoopTransport:
        framing = options.pop("framing", url.param("framing", "stream"))
        if options:
            raise TypeError(f"loop:// got unexpected options {sorted(options)}")
        return cls(framing=framing, timeout_s=timeout_s)

    @property
    def url(self) -> str:
        return "loop://" if self.framing == "stream" else f"loop://?framing={self.framing}"

    async def _open(self, timeout_s: float | None) -> None:
        if self.refuse_connections:
            raise TransportError("loop:// is refusing connections")
        self._queue = asyncio.Queue()
        self.connects += 1
        self._opened.set()

    async def _close(self) -> None:
        self._opened.clear()

    # --- the wearable's side -------------------------------------------------------------------
    def feed(self, data: Any) -> None:
        """Deliver data to the host as if the wearable sent it (discarded while closed)."""
        if not self.is_open:
            self.discarded += 1
            return
        if self.framing != "samples":
            data = bytes(data)
        self._queue.put_nowait((time.time(), data))

    def drop(self, reason: str = "link dropped") -> None:
        """Break the open link: the reader gets LinkLost after the data already fed."""
        if self.is_open:
            self._queue.put_nowait(_Drop(reason))
            self._is_open = False
            self._opened.clear()

    def end(self) -> None:
        """End the data: ``chunks()`` finishes normally once the queue is drained."""
        self._queue.put_nowait(_END)

    async def wait_open(self, timeout_s: float | None = DEFAULT_TIMEOUT_S) -> None:
        """Wait until the host has (re)connected. timeout_s: None waits forever."""
        await asyncio.wait_for(self._opened.wait(), timeout_s)

    # --- the host's side -----------------------------------------------------------------------
    async def chunks(self) -> AsyncIterator[Any]:
        queue = self._queue
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, _Drop):
                raise LinkLost(f"loop://: {item.reason}")
            self.last_arrival_s, data = item
            yield data

    async def send_control(self, data: bytes) -> None:
        if not self.is_open:
            raise LinkLost("loop:// is not connected")
        self.controls.append(bytes(data))
