"""``tcp://HOST:PORT``: a framed byte stream over TCP (asyncio streams).

The simulated wearable (``movecoach wearable --sim --tcp 9000``) and serial-to-WiFi bridges
speak the same COBS framing as USB serial, so this link has ``framing = "stream"``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from movecoach.errors import UserError

from . import DEFAULT_TIMEOUT_S, LinkLost, SourceURL, Transport, TransportError
from .framing import frame_control

log = logging.getLogger(__name__)

READ_SIZE = 4096
_SINGLE_TRY_S = 1.0  # timeout_s=0: one connect attempt, bounded so a silent host cannot hang it


def parse_host_port(target: str) -> tuple[str, int]:
    """``"host:port"`` or ``"[v6addr]:port"`` -> (host, port); UserError naming the target."""
    host, sep, port_text = target.rpartition(":")
    if not sep or not host:
        raise UserError(f"tcp source {target!r} must be HOST:PORT, e.g. tcp://127.0.0.1:9000")
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise UserError(f"tcp source {target!r}: port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise UserError(f"tcp source {target!r}: port {port} is outside 1-65535")
    return host, port


class TcpTransport(Transport):
    """TCP client link. timeout_s bounds the connect (None: the OS's own limit; 0: one attempt
    of at most 1 s)."""

    scheme = "tcp"
    framing = "stream"

    def __init__(self, host: str, port: int, *, timeout_s: float | None = DEFAULT_TIMEOUT_S):
        super().__init__(timeout_s=timeout_s)
        self.host = host
        self.port = int(port)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @classmethod
    def from_url(cls, url: SourceURL, *, timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 **options: Any) -> TcpTransport:
        if options:
            raise TypeError(f"tcp:// got unexpected options {sorted(options)}")
        host, port = parse_host_port(url.target)
        return cls(host, port, timeout_s=timeout_s)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    async def _open(self, timeout_s: float | None) -> None:
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port),
                None if timeout_s is None else (timeout_s or _SINGLE_TRY_S),
            )
        except TimeoutError:
            raise TransportError(f"cannot connect to {self.url}: no answer within {timeout_s:g} s "
                                 "(is the address right, and the wearable on this network?)") from None
        except OSError as exc:
            # asyncio's own text repeats the address ("Connect call failed ('127.0.0.1', 1)"):
            # the plain reason for the errno reads better.
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            if exc.errno == errno.ECONNREFUSED:
                reason += " (nothing is listening on that port: is the wearable running?)"
            raise TransportError(f"cannot connect to {self.url}: {reason}") from exc

    async def _close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is None:
            return
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except (OSError, TimeoutError):
            pass

    async def chunks(self) -> AsyncIterator[bytes]:
        reader = self._reader
        if reader is None:
            raise LinkLost(f"{self.url} is not connected")
        while True:
            try:
                data = await reader.read(READ_SIZE)
            except OSError as exc:
                raise LinkLost(f"{self.url}: {exc.strerror or exc}") from exc
            if not data:
                raise LinkLost(f"{self.url}: the wearable closed the connection")
            self.last_arrival_s = time.time()
            yield data

    async def send_control(self, data: bytes) -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            raise LinkLost(f"{self.url} is not connected")
        try:
            writer.write(frame_control(data))
            await writer.drain()
        except OSError as exc:
            raise LinkLost(f"{self.url}: {exc.strerror or exc}") from exc
