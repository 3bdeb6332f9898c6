"""``ble://NAME-or-ADDRESS``: the wearable over Bluetooth Low Energy, via bleak.

The only module that touches bleak. The bleak classes are injectable
(``BleTransport(..., client_factory=BleakClient, scanner=BleakScanner)``) so tests put a fake
radio exactly at the bleak boundary and run everything above it for real.

- ``ble://movecoach-1a2b`` connects by advertised name (``BleakScanner.find_device_by_name``),
  ``ble://AA:BB:CC:DD:EE:FF`` (or a macOS UUID) by address, and plain ``ble://`` to the nearest
  wearable advertising the movecoach service.
- One notification on the data characteristic is one packet (``framing = "packet"``); the notify
  callback only puts the bytes on an ``asyncio.Queue``.
- Control commands are written to the control characteristic (write with response); the status
  records the wearable answers with are notified there and join the same queue.
- A larger ATT MTU is requested where the platform allows (BlueZ needs ``_acquire_mtu``; macOS
  and Windows negotiate on their own); the wearable sizes its packets to the MTU it agreed.
- bleak's disconnected callback ends ``chunks()`` with :class:`LinkLost`, so the source reconnects.

"No Bluetooth adapter" (bleak raises FileNotFoundError for a missing DBus socket,
BleakBluetoothNotAvailableError, or BleakError/BleakDBusError from BlueZ) becomes a one-line
:class:`UserError`; everything else that goes wrong while connecting is a retryable
:class:`TransportError`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from movecoach.errors import UserError
from movecoach.link.transport import (
    DEFAULT_TIMEOUT_S,
    LinkLost,
    SourceURL,
    Transport,
    TransportError,
)

try:  # the wire protocol's single source of truth, shared with the firmware
    from movecoach.firmware import protocol as _protocol
except ImportError:  # pragma: no cover - only before firmware/protocol.py existed
    _protocol = None

log = logging.getLogger(__name__)

SERVICE_UUID: str = getattr(_protocol, "SERVICE_UUID", "6d6f7665-636f-6163-6800-000000000001")
DATA_UUID: str = getattr(_protocol, "DATA_UUID", "6d6f7665-636f-6163-6800-000000000002")
CONTROL_UUID: str = getattr(_protocol, "CONTROL_UUID", "6d6f7665-636f-6163-6800-000000000003")
DEVICE_NAME_PREFIX: str = getattr(_protocol, "DEVICE_NAME_PREFIX", "movecoach-")

DEFAULT_SCAN_S = 5.0
_DISCONNECT_TIMEOUT_S = 5.0
_ADDRESS_RE = re.compile(
    r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$"  # Linux/Windows MAC address
    r"|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",  # macOS device UUID
    re.I,
)


def is_address(text: str) -> bool:
    """True for a Bluetooth address (``AA:BB:CC:DD:EE:FF``) or a macOS device UUID."""
    return bool(_ADDRESS_RE.match(text))


@dataclass(frozen=True)
class FoundDevice:
    """A wearable seen while scanning. rssi in dBm (higher = nearer, typically -40..-100)."""

    name: str
    address: str
    rssi: int

    @property
    def url(self) -> str:
        """The source URL that connects to this wearable."""
        return f"ble://{self.name or self.address}"

    def to_json(self) -> dict:
        return {"name": self.name, "address": self.address, "rssi": self.rssi, "url": self.url}


def _bleak_scanner() -> Any:
    from bleak import BleakScanner

    return BleakScanner


def _bleak_client() -> Any:
    from bleak import BleakClient

    return BleakClient


def _is_adapter_error(exc: BaseException) -> bool:
    """Errors meaning "there is no usable Bluetooth here", not "this wearable is not answering"."""
    if isinstance(exc, FileNotFoundError | PermissionError):
        return True  # no DBus system socket / not allowed to talk to bluetoothd
    name = type(exc).__name__
    if name == "BleakBluetoothNotAvailableError":
        return True
    text = str(exc).lower()
    return any(s in text for s in ("no bluetooth adapter", "not ready", "powered off",
                                   "serviceunknown", "org.bluez.error.notready",
                                   "bluetooth device is turned off", "no such adapter"))


TROUBLESHOOTING = "hardware.md, \"Bluetooth troubleshooting\""


def _adapter_error(exc: BaseException) -> UserError:
    """One line: what is wrong with the machine's Bluetooth and what to check (on Linux the
    usual causes: bluetoothd not running, the user not in the bluetooth group, the radio off)."""
    text = str(exc).lower()
    if isinstance(exc, FileNotFoundError):
        detail = ("cannot reach BlueZ, the Bluetooth service, over DBus: check that bluetoothd runs "
                  "(`systemctl status bluetooth`; Debian package bluez)")
    elif isinstance(exc, PermissionError) or "accessdenied" in text or "not authorized" in text:
        detail = ("not allowed to use BlueZ: add yourself to the bluetooth group "
                  "(`sudo usermod -aG bluetooth $USER`, then log out and in again)")
    elif "serviceunknown" in text:
        detail = "bluetoothd is not running: start it with `sudo systemctl start bluetooth`"
    elif "powered off" in text or "turned off" in text or "notready" in text or "not ready" in text:
        detail = "the Bluetooth radio is off: turn it on with `bluetoothctl power on` (or `rfkill unblock bluetooth`)"
    else:
        detail = (f"{str(exc) or type(exc).__name__}: check `bluetoothctl list` shows an adapter "
                  "and that bluetoothd runs")
    return UserError(f"no Bluetooth adapter: {detail}; see {TROUBLESHOOTING}")


def _matches_service(device: Any, adv: Any) -> bool:
    uuids = {u.lower() for u in (getattr(adv, "service_uuids", None) or [])}
    if SERVICE_UUID in uuids:
        return True
    name = getattr(adv, "local_name", None) or getattr(device, "name", None) or ""
    return name.startswith(DEVICE_NAME_PREFIX)


async def _discover(scanner: Any, timeout_s: float) -> list[tuple[Any, Any]]:
    """(BLEDevice, AdvertisementData) of every movecoach wearable heard, nearest first."""
    try:
        found = await scanner.discover(timeout=timeout_s, return_adv=True,
                                       service_uuids=[SERVICE_UUID])
    except Exception as exc:  # any scanner failure means the adapter is unusable
        raise _adapter_error(exc) from exc
    pairs = [(d, a) for d, a in found.values() if _matches_service(d, a)]
    pairs.sort(key=lambda p: getattr(p[1], "rssi", -999), reverse=True)
    return pairs


async def scan(timeout_s: float = DEFAULT_SCAN_S, *, scanner: Any = None) -> list[FoundDevice]:
    """Listen for ``timeout_s`` seconds and list movecoach wearables, nearest (highest RSSI) first.

    A device counts when it advertises the movecoach service UUID (or, if its advertisement
    carries no UUIDs, a ``movecoach-`` name). Raises UserError("no Bluetooth adapter: ...")
    when there is no usable adapter. scanner: a BleakScanner-like class (default bleak's).
    """
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be > 0 seconds, got {timeout_s!r}")
    pairs = await _discover(scanner or _bleak_scanner(), timeout_s)
    return [
        FoundDevice(name=a.local_name or d.name or "", address=d.address, rssi=int(a.rssi))
        for d, a in pairs
    ]


_LOST = object()


class BleTransport(Transport):
    """BLE link to one wearable, ``framing = "packet"``.

    target: advertised name (``movecoach-1a2b``), address, or "" for the nearest wearable.
    timeout_s: for :meth:`open`, finding plus connecting, seconds. None keeps scanning (in
    10 s rounds) until the wearable shows up; 0 means one default-length (10 s) attempt, since a
    BLE scan and connect cannot be instant.
    client_factory / scanner: bleak's ``BleakClient`` / ``BleakScanner`` or look-alikes.
    request_mtu: ask BlueZ for the negotiated MTU (other platforms negotiate by themselves).
    """

    scheme = "ble"
    framing = "packet"

    def __init__(self, target: str = "", *, timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 client_factory: Any = None, scanner: Any = None, request_mtu: bool = True):
        super().__init__(timeout_s=timeout_s)
        self.target = target.strip()
        self._client_factory = client_factory
        self._scanner = scanner
        self.request_mtu = request_mtu
        self.mtu_size: int | None = None
        self.address: str | None = None
        self.name: str | None = None
        self._client: Any = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._state: dict[str, bool] = {"closing": False}

    @classmethod
    def from_url(cls, url: SourceURL, *, timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 **options: Any) -> BleTransport:
        return cls(url.target, timeout_s=timeout_s, **options)

    @property
    def url(self) -> str:
        return f"ble://{self.target}"

    def describe(self) -> str:
        if self.address and self.address != self.target:
            return f"{self.url} ({self.name or '?'} at {self.address})"
        return self.url

    async def _find(self, scanner: Any, timeout_s: float) -> Any:
        try:
            if not self.target:
                pairs = await _discover(scanner, timeout_s)
                if len(pairs) > 1:
                    log.info("%d wearables in range; taking the nearest, %s (%s dBm)",
                             len(pairs), pairs[0][0].address, pairs[0][1].rssi)
                return pairs[0][0] if pairs else None
            if is_address(self.target):
                return await scanner.find_device_by_address(self.target, timeout=timeout_s)
            return await scanner.find_device_by_name(self.target, timeout=timeout_s)
        except UserError:
            raise
        except Exception as exc:  # the scanner failing means the adapter is unusable
            raise _adapter_error(exc) from exc

    async def _open(self, timeout_s: float | None) -> None:
        total_s = DEFAULT_TIMEOUT_S if not timeout_s else timeout_s
        deadline = time.monotonic() + total_s
        scanner = self._scanner or _bleak_scanner()
        client_factory = self._client_factory or _bleak_client()

        device = await self._find(scanner, total_s)
        while device is None and timeout_s is None:
            log.info("still looking for %s", self.url)
            device = await self._find(scanner, DEFAULT_TIMEOUT_S)
        if timeout_s is None:  # found at last: the connect itself gets the default time
            deadline = time.monotonic() + DEFAULT_TIMEOUT_S
        if device is None:
            what = f"named {self.target!r}" if self.target and not is_address(self.target) \
                else (f"at {self.target}" if self.target else "advertising the movecoach service")
            raise TransportError(f"no movecoach wearable {what} found within {total_s:g} s "
                                 "(is it switched on, charged and not connected to another host?)")

        queue: asyncio.Queue[Any] = asyncio.Queue()
        state = {"closing": False}

        def on_notify(_characteristic: Any, data: bytearray) -> None:
            queue.put_nowait((time.time(), bytes(data)))

        def on_disconnect(_client: Any) -> None:
            if not state["closing"]:
                queue.put_nowait(_LOST)

        remaining_s = max(deadline - time.monotonic(), 1.0)
        client = client_factory(device, disconnected_callback=on_disconnect, timeout=remaining_s)
        try:
            await asyncio.wait_for(client.connect(), remaining_s)
            await self._negotiate_mtu(client)
            await client.start_notify(DATA_UUID, on_notify)
            await self._subscribe_status(client, on_notify)
        except BaseException as exc:
            state["closing"] = True
            await self._disconnect(client)
            if isinstance(exc, TimeoutError):
                raise TransportError(f"{self.url}: connect timed out after {total_s:g} s") from None
            if isinstance(exc, Exception) and _is_adapter_error(exc):
                raise _adapter_error(exc) from exc
            if isinstance(exc, Exception):
                raise TransportError(f"{self.url}: {exc or type(exc).__name__}") from exc
            raise
        self._client, self._queue, self._state = client, queue, state
        self.address = getattr(device, "address", None)
        self.name = getattr(device, "name", None)

    async def _negotiate_mtu(self, client: Any) -> None:
        backend = getattr(client, "_backend", None)
        acquire = getattr(backend, "_acquire_mtu", None)
        if self.request_mtu and acquire is not None:
            try:
                await acquire()
            except Exception as exc:  # noqa: BLE001 - best effort: small packets still work
                log.debug("could not acquire the MTU from BlueZ: %s", exc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BlueZ warns when it falls back to 23
            try:
                self.mtu_size = int(client.mtu_size)
            except Exception:  # noqa: BLE001
                self.mtu_size = None
        log.info("BLE MTU %s bytes (ATT payload %s)", self.mtu_size,
                 None if self.mtu_size is None else self.mtu_size - 3)

    @staticmethod
    async def _subscribe_status(client: Any, on_notify: Any) -> None:
        """Status records (the answer to every command, battery level) are notified on the
        control characteristic; they share the data queue (the decoder tells them apart by
        their first byte). Optional: older firmware may not notify there."""
        try:
            await client.start_notify(CONTROL_UUID, on_notify)
        except Exception as exc:  # noqa: BLE001
            log.debug("no status notifications on the control characteristic: %s", exc)

    @staticmethod
    async def _disconnect(client: Any) -> None:
        try:
            await asyncio.wait_for(client.disconnect(), _DISCONNECT_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - it may be gone already
            log.debug("BLE disconnect: %s", exc)

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        self._state["closing"] = True
        if getattr(client, "is_connected", False):
            for uuid in (DATA_UUID, CONTROL_UUID):
                try:
                    await asyncio.wait_for(client.stop_notify(uuid), _DISCONNECT_TIMEOUT_S)
                except Exception as exc:  # noqa: BLE001
                    log.debug("BLE stop_notify %s: %s", uuid, exc)
        await self._disconnect(client)

    async def chunks(self) -> AsyncIterator[bytes]:
        queue = self._queue
        if self._client is None:
            raise LinkLost(f"{self.url} is not connected")
        while True:
            item = await queue.get()
            if item is _LOST:
                raise LinkLost(f"{self.describe()}: the wearable disconnected")
            self.last_arrival_s, data = item
            yield data

    async def send_control(self, data: bytes) -> None:
        client = self._client
        if client is None:
            raise LinkLost(f"{self.url} is not connected")
        try:
            await client.write_gatt_char(CONTROL_UUID, bytes(data), response=True)
        except Exception as exc:
            raise LinkLost(f"{self.describe()}: control write failed: {exc}") from exc
