"""Links to the wearable: one small async interface, one backend per URL scheme.

Every source is a URL (pyserial ``serial_for_url`` style)::

    ble://movecoach-1a2b          BLE, by advertised name (or ble://AA:BB:CC:DD:EE:FF by address;
                                  plain ble:// picks the nearest movecoach wearable)
    serial:///dev/ttyACM0         USB serial (also serial:/dev/ttyACM0, serial:COM3; ?baud=115200)
    tcp://127.0.0.1:9000          TCP stream, e.g. `movecoach wearable --sim --tcp 9000`
    replay://session.csv?speed=10 a recording (analyze CSV or coach SQLite), replayed in time
    loop://                       in memory, for tests (data fed by the test itself)

Use (bleak style: ``async with`` connects and disconnects)::

    async with open_transport("tcp://127.0.0.1:9000", timeout_s=10.0) as link:
        link.framing                 # "stream" | "packet" | "samples"
        async for chunk in link.chunks():
            ...
        await link.send_control(command)

``framing`` says what ``chunks()`` yields: ``"stream"`` bytes of COBS frames in any chunking
(serial, TCP), ``"packet"`` one raw packet per chunk (one BLE notification), ``"samples"``
ready-made :class:`movecoach.samples.SampleBlock` objects (replay). ``chunks()`` ends normally
only when the data ends (a recording's last sample); a dropped link raises :class:`LinkLost`.
Reconnecting is the caller's business (see :mod:`movecoach.link.source`): a closed transport can be
opened again.

Only ``ble.py`` imports bleak and only ``serial.py`` imports pyserial, both lazily, so the other
schemes work without a radio stack.
"""

from __future__ import annotations

import abc
import importlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from movecoach.errors import UserError
from movecoach.samples import SampleBlock

log = logging.getLogger(__name__)

Framing = Literal["stream", "packet", "samples"]

# scheme -> "module:Class" (imported on first use so bleak/pyserial load only when needed)
BACKENDS: dict[str, str] = {
    "ble": "movecoach.link.transport.ble:BleTransport",
    "serial": "movecoach.link.transport.serial:SerialTransport",
    "tcp": "movecoach.link.transport.tcp:TcpTransport",
    "replay": "movecoach.link.transport.replay:ReplayTransport",
    "loop": "movecoach.link.transport.loop:LoopTransport",
}

DEFAULT_TIMEOUT_S = 10.0


class TransportError(ConnectionError):
    """Could not connect (device not found, refused, timed out). Worth retrying later."""


class LinkLost(TransportError):
    """An open link dropped (disconnect, cable pulled, peer closed the socket)."""


@dataclass(frozen=True)
class SourceURL:
    """A parsed source URL. ``target`` is scheme-specific (name, address, port, host:port, path)."""

    scheme: str
    target: str
    params: dict[str, str] = field(default_factory=dict)
    text: str = ""

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)


_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$", re.S)


def parse_url(url: str, *, schemes: tuple[str, ...] = tuple(BACKENDS)) -> SourceURL:
    """Split ``scheme://target?key=value&...`` (or ``scheme:target``) into a :class:`SourceURL`.

    Raises UserError naming the URL when the scheme is not one of ``schemes`` (default: every
    backend's) or the target is missing. Parsing is deliberately simple (no urllib) so BLE
    addresses ``AA:BB:..`` and Windows ports ``COM3`` survive as-is.
    """
    text = url.strip()
    m = _SCHEME_RE.match(text)
    if not m or m.group(1).lower() not in schemes:
        known = ", ".join(f"{s}://" for s in schemes)
        raise UserError(f"unknown source {url!r}: expected one of {known}")
    scheme, rest = m.group(1).lower(), m.group(2)
    if rest.startswith("//"):
        rest = rest[2:]
    target, _, query = rest.partition("?")
    params: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        params[key.strip().lower()] = value.strip()
    if not target and scheme in ("serial", "tcp", "replay"):
        raise UserError(f"source {url!r} names no {_TARGET_NAMES[scheme]}")
    return SourceURL(scheme, target, params, text)


_TARGET_NAMES = {"serial": "serial port", "tcp": "HOST:PORT", "replay": "recording file"}


class Transport(abc.ABC):
    """One link to one wearable (or one recording). Subclasses only open, read, write, close.

    timeout_s: default connect timeout in seconds for :meth:`open` and ``async with``; None waits
    forever, 0 means a single attempt without waiting for the peer to appear (each backend
    documents the short limit it puts on that one attempt).
    """

    scheme: ClassVar[str] = ""
    framing: Framing = "stream"

    def __init__(self, *, timeout_s: float | None = DEFAULT_TIMEOUT_S):
        self.timeout_s = _check_timeout("timeout_s", timeout_s)
        self._is_open = False
        # host wall-clock time (unix s) at which the chunk last yielded by chunks() was received;
        # links that buffer (BLE, serial, loop) stamp on receipt, so a slow reader does not
        # skew the decoder's sensor-to-host clock mapping
        self.last_arrival_s: float | None = None

    # --- what backends implement -------------------------------------------------------------
    @classmethod
    def from_url(cls, url: SourceURL, *, timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 **options: Any) -> Transport:
        """Build from a parsed URL; keyword ``options`` override the URL's query parameters."""
        raise NotImplementedError

    @abc.abstractmethod
    async def _open(self, timeout_s: float | None) -> None:
        """Connect; raise TransportError (or UserError for unfixable setup problems)."""

    @abc.abstractmethod
    async def _close(self) -> None:
        """Disconnect and release everything; must not raise and must be safe to call twice."""

    @abc.abstractmethod
    def chunks(self) -> AsyncIterator[Any]:
        """Yield data as it arrives (bytes, or SampleBlocks for framing "samples").

        Ends normally only at the end of finite data; raises LinkLost when the link drops.
        Sets ``last_arrival_s`` to each chunk's receive time before yielding it.
        """

    async def send_control(self, data: bytes) -> None:
        """Write one control command (raw command bytes; stream links frame it) to the wearable."""
        raise TransportError(f"{self.describe()} cannot send control commands")

    @property
    def url(self) -> str:
        """The URL that re-creates this transport (``open_transport(link.url)``)."""
        return f"{self.scheme}://"

    # --- shared behaviour --------------------------------------------------------------------
    def describe(self) -> str:
        return self.url

    @property
    def is_open(self) -> bool:
        return self._is_open

    async def open(self, timeout_s: float | None | Literal["default"] = "default") -> None:
        """Connect. timeout_s: seconds (None: wait forever, 0: one immediate attempt);
        the default is the ``timeout_s`` given at construction."""
        if self._is_open:
            return
        t = self.timeout_s if timeout_s == "default" else _check_timeout("timeout_s", timeout_s)
        await self._open(t)
        self._is_open = True
        log.info("connected to %s", self.describe())

    async def close(self) -> None:
        """Disconnect (idempotent). The transport may be opened again afterwards."""
        was_open, self._is_open = self._is_open, False
        await self._close()
        if was_open:
            log.info("disconnected from %s", self.describe())

    async def __aenter__(self) -> Transport:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:  # closes whether or not it raised
        await self.close()

    def __repr__(self) -> str:
        state = "open" if self._is_open else "closed"
        return f"<{type(self).__name__} {self.url} framing={self.framing} {state}>"


def _check_timeout(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not value >= 0.0:  # also rejects NaN
        raise ValueError(f"{name} must be None or >= 0 seconds, got {value!r}")
    return value


def transport_class(scheme: str) -> type[Transport]:
    """The backend class for a URL scheme (imports its module on first use)."""
    module_name, _, class_name = BACKENDS[scheme].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def open_transport(url: str | SourceURL, *, timeout_s: float | None = DEFAULT_TIMEOUT_S,
                   **options: Any) -> Transport:
    """Create the transport for ``url`` (not yet connected: use ``async with`` or ``await .open()``).

    timeout_s: connect timeout in seconds (None: wait forever; 0: one immediate attempt).
    options: backend keywords (e.g. ``baudrate=`` for serial, ``speed=`` for replay,
    ``client_factory=``/``scanner=`` for BLE); URL query parameters give the same settings.
    """
    parsed = url if isinstance(url, SourceURL) else parse_url(url)
    cls = transport_class(parsed.scheme)
    return cls.from_url(parsed, timeout_s=timeout_s, **options)


__all__ = [
    "BACKENDS",
    "DEFAULT_TIMEOUT_S",
    "Framing",
    "LinkLost",
    "SampleBlock",
    "SourceURL",
    "Transport",
    "TransportError",
    "open_transport",
    "parse_url",
    "transport_class",
]
