"""A fake radio at the bleak boundary: BleakScanner / BleakClient look-alikes and fake wearables.

Everything above it (BleTransport, the source, the decoder) is the real code. The fakes use
bleak's own data types (``BLEDevice``, ``AdvertisementData``) and behave like bleak:

- ``FakeRadio.scanner``: ``discover(timeout, return_adv=True, service_uuids=...)`` returns
  ``{address: (BLEDevice, AdvertisementData)}``; ``find_device_by_name`` /
  ``find_device_by_address`` return a ``BLEDevice`` or ``None``.
- ``FakeRadio.client_factory(device, disconnected_callback=..., timeout=...)`` builds a
  ``FakeClient`` with ``connect``, ``start_notify`` (notifications delivered from a task),
  ``stop_notify``, ``write_gatt_char``, ``disconnect``, ``is_connected`` and ``mtu_size``.
- A ``FakeWearable`` starts sending packets when it receives the protocol's "start" command on
  the control characteristic (as the firmware does), one packet per notification, and can drop
  the connection (``drop(missed_packets=...)``), which fires the disconnected callback.
- A ``BoardWearable`` is the real firmware instead: an ``EmulatedBoard`` (tests/emulated_board.py,
  firmware/main.py under the `micropython` binary with aioble over an emulated radio). The
  scanner sees it only while the firmware advertises, with the name and service UUIDs of the
  advertising payload the firmware built; its ``BoardClient`` connects over the emulated radio
  (the central exchanges MTUs, then takes ``discovery_s`` for service discovery, as bleak's
  connect does), subscribes by writing the CCCD, writes commands with response, and gets the
  notifications the firmware really sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from movecoach.firmware import protocol
from movecoach.firmware.packets import Packer

# --- real protocol v1 packets, built with the firmware's own packer -------------------------------
RATE_HZ = 104
SAMPLES_PER_PACKET = 8
ACC_FS_G = 4
GYR_FS_DPS = 500


def imu_counts(seq: int, n: int = SAMPLES_PER_PACKET) -> list[tuple[int, ...]]:
    """The int16 counts (ax ay az gx gy gz) of packet number seq: distinct for every sample."""
    out = []
    for i in range(n):
        k = seq * n + i
        out.append(((k * 37) % 4000 - 2000, (k * 11) % 900 - 450, 8197 - k % 50,
                    (k * 13) % 3000 - 1500, -(k % 200), k % 1000))
    return out


def imu_packet(seq: int, n: int = SAMPLES_PER_PACKET, *, flags: int = 0) -> bytes:
    """Packet number seq of an uninterrupted 104 Hz stream (t0 on the sensor clock in us)."""
    packer = Packer(n)
    for counts in imu_counts(seq, n):
        packer.add(*counts)
    t0_us = round(seq * n * 1e6 / RATE_HZ) & 0xFFFFFFFF
    return bytes(packer.finish(seq & 0xFFFF, t0_us & 0xFFFF, t0_us >> 16, flags, RATE_HZ,
                               ACC_FS_G, GYR_FS_DPS))


def expected_samples(seqs: list[int], n: int = SAMPLES_PER_PACKET):
    """(t_s, acc_m_s2, gyr_rad_s) the decoder must produce for these packets, in SI units."""
    import numpy as np

    counts = np.array([c for s in seqs for c in imu_counts(s, n)], dtype=np.float64)
    t_s = np.array([round(s * n * 1e6 / RATE_HZ) * 1e-6 + i / RATE_HZ
                    for s in seqs for i in range(n)])
    return (t_s, counts[:, :3] * protocol.acc_scale_m_s2(ACC_FS_G),
            counts[:, 3:] * protocol.gyr_scale_rad_s(GYR_FS_DPS))


class FakeCharacteristic:
    def __init__(self, uuid: str):
        self.uuid = uuid

    def __repr__(self) -> str:
        return f"<FakeCharacteristic {self.uuid}>"


class _InRange:
    """What a scan sees of a peripheral: bleak's BLEDevice and AdvertisementData, from its
    name, address, rssi and service_uuids."""

    def device(self) -> BLEDevice:
        return BLEDevice(self.address, self.name, details={"fake": True})

    def advertisement(self) -> AdvertisementData:
        return AdvertisementData(local_name=self.name, manufacturer_data={}, service_data={},
                                 service_uuids=list(self.service_uuids), tx_power=None,
                                 rssi=self.rssi, platform_data=())


class FakeWearable(_InRange):
    """A peripheral in range. make_packet(seq) -> bytes builds packet number seq.

    interval_s: time between notifications. n_packets: stop after this many (None: forever).
    """

    def __init__(self, name: str, address: str, *, rssi: int = -60,
                 make_packet: Callable[[int], bytes] | None = None,
                 interval_s: float = 0.001, n_packets: int | None = None, mtu_size: int = 247,
                 service_uuids: list[str] | None = None, connectable: bool = True):
        self.name = name
        self.address = address
        self.rssi = rssi
        self.make_packet = make_packet or (lambda seq: bytes([seq & 0xFF]))
        self.interval_s = interval_s
        self.n_packets = n_packets
        self.mtu_size = mtu_size
        self.service_uuids = [protocol.SERVICE_UUID] if service_uuids is None else service_uuids
        self.connectable = connectable
        self.battery_pct = 87
        self.seq = 0  # next packet number to produce
        self.controls: list[bytes] = []
        self.connections = 0
        self.client: FakeClient | None = None
        self.streaming = False
        self.advertising = True  # in range and visible to a scan

    def drop(self, missed_packets: int = 0) -> None:
        """Lose the connection (out of range); packets produced meanwhile never arrive."""
        self.streaming = False
        self.seq += missed_packets
        if self.client is not None:
            self.client._lose()


class FakeRadio:
    """The air around the host: wearables in range. adapter_error: raise it on any scan."""

    def __init__(self, *wearables: FakeWearable, adapter_error: BaseException | None = None):
        self.wearables = list(wearables)
        self.adapter_error = adapter_error
        self.scans: list[dict[str, Any]] = []
        self.clients: list[FakeClient] = []
        self.scanner = FakeScanner(self)

    def client_factory(self, device: BLEDevice, disconnected_callback: Any = None,
                       **kwargs: Any) -> FakeClient | BoardClient:
        wearable = self.wearable(device.address)
        cls = BoardClient if isinstance(wearable, BoardWearable) else FakeClient
        client = cls(self, device, disconnected_callback, **kwargs)
        self.clients.append(client)
        return client

    def wearable(self, address: str) -> FakeWearable | None:
        return next((w for w in self.wearables if w.address.lower() == address.lower()), None)


class FakeScanner:
    """BleakScanner's class-method API, bound to one FakeRadio."""

    def __init__(self, radio: FakeRadio):
        self.radio = radio

    async def discover(self, timeout: float = 5.0, *, return_adv: bool = False,
                       service_uuids: list[str] | None = None, **kwargs: Any) -> Any:
        self.radio.scans.append({"timeout": timeout, "service_uuids": service_uuids, **kwargs})
        if self.radio.adapter_error is not None:
            raise self.radio.adapter_error
        await asyncio.sleep(0)
        seen = {}
        for w in self.radio.wearables:
            if not w.advertising:
                continue
            wanted = {u.lower() for u in service_uuids or []}
            if wanted and not wanted & {u.lower() for u in w.service_uuids}:
                continue
            seen[w.address] = (w.device(), w.advertisement())
        if return_adv:
            return seen
        return [d for d, _ in seen.values()]

    async def find_device_by_filter(self, filterfunc: Callable[[BLEDevice, AdvertisementData], bool],
                                    timeout: float = 10.0, **kwargs: Any) -> BLEDevice | None:
        """Like bleak, an emulated board (which starts advertising some time after boot) is
        waited for until the timeout; the plain fakes are either in range or not."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = await self.discover(timeout, return_adv=True, **kwargs)
            device = next((d for d, a in found.values() if filterfunc(d, a)), None)
            waiting = any(isinstance(w, BoardWearable) for w in self.radio.wearables)
            if device is not None or not waiting or asyncio.get_running_loop().time() > deadline:
                return device
            await asyncio.sleep(0.05)

    async def find_device_by_name(self, name: str, timeout: float = 10.0,
                                  **kwargs: Any) -> BLEDevice | None:
        return await self.find_device_by_filter(lambda d, a: a.local_name == name, timeout,
                                                **kwargs)

    async def find_device_by_address(self, device_identifier: str, timeout: float = 10.0,
                                     **kwargs: Any) -> BLEDevice | None:
        ident = device_identifier.lower()
        return await self.find_device_by_filter(lambda d, a: d.address.lower() == ident, timeout,
                                                **kwargs)


class FakeClient:
    """BleakClient's API for one connection to a FakeWearable."""

    def __init__(self, radio: FakeRadio, device: BLEDevice, disconnected_callback: Any = None,
                 *, timeout: float = 30.0, **kwargs: Any):
        self.radio = radio
        self.device = device
        self.address = device.address
        self._disconnected_callback = disconnected_callback
        self.timeout = timeout
        self._connected = False
        self._notify: dict[str, Callable[[Any, bytearray], Any]] = {}
        self._task: asyncio.Task | None = None
        self.wearable = radio.wearable(device.address)

    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def mtu_size(self) -> int:
        if not self._connected:
            raise BleakError("Not connected")
        return self.wearable.mtu_size

    async def connect(self, **kwargs: Any) -> None:
        await asyncio.sleep(0)
        w = self.wearable
        if w is None or not w.connectable or w not in self.radio.wearables:
            raise BleakError(f"Device with address {self.address} was not found.")
        self._connected = True
        w.client = self
        w.connections += 1

    async def disconnect(self) -> None:
        was = self._connected
        self._stop_streaming()
        self._connected = False
        if self.wearable is not None and self.wearable.client is self:
            self.wearable.client = None
            self.wearable.streaming = False
        if was and self._disconnected_callback is not None:
            self._disconnected_callback(self)  # bleak calls it on a requested disconnect too

    async def start_notify(self, char_specifier: Any, callback: Callable[[Any, bytearray], Any],
                           **kwargs: Any) -> None:
        if not self._connected:
            raise BleakError("Not connected")
        uuid = str(char_specifier).lower()
        if uuid not in (protocol.DATA_UUID, protocol.CONTROL_UUID):
            raise BleakError(f"Characteristic {char_specifier} was not found!")
        self._notify[uuid] = callback

    async def stop_notify(self, char_specifier: Any) -> None:
        self._notify.pop(str(char_specifier).lower(), None)

    async def write_gatt_char(self, char_specifier: Any, data: Any,
                              response: bool | None = None) -> None:
        if not self._connected:
            raise BleakError("Not connected")
        if str(char_specifier).lower() != protocol.CONTROL_UUID:
            raise BleakError(f"Characteristic {char_specifier} was not found!")
        w = self.wearable
        cmd = bytes(data)
        w.controls.append(cmd)
        status_callback = self._notify.get(protocol.CONTROL_UUID)
        if status_callback is not None:  # every command is answered with a status record
            status = bytearray(protocol.STATUS_SIZE)
            protocol.pack_status_into(status, protocol.STATE_STREAMING, protocol.RESULT_OK,
                                      cmd[0], w.battery_pct, RATE_HZ, ACC_FS_G,
                                      SAMPLES_PER_PACKET, GYR_FS_DPS, w.seq & 0xFFFF,
                                      w.mtu_size)
            status_callback(FakeCharacteristic(protocol.CONTROL_UUID), status)
        if cmd == protocol.encode_start() and not w.streaming:
            w.streaming = True
            self._task = asyncio.get_running_loop().create_task(self._stream())
        elif cmd == protocol.encode_stop():
            w.streaming = False
            self._stop_streaming()

    async def _stream(self) -> None:
        w = self.wearable
        char = FakeCharacteristic(protocol.DATA_UUID)
        while self._connected and w.streaming:
            if w.n_packets is not None and w.seq >= w.n_packets:
                return
            callback = self._notify.get(protocol.DATA_UUID)
            if callback is not None:
                callback(char, bytearray(w.make_packet(w.seq)))
            w.seq += 1
            await asyncio.sleep(w.interval_s)

    def _stop_streaming(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _lose(self) -> None:
        """The radio link broke: no more notifications, and bleak calls disconnected_callback."""
        if not self._connected:
            return
        self._stop_streaming()
        self._connected = False
        if self.wearable is not None:
            self.wearable.client = None
        if self._disconnected_callback is not None:
            self._disconnected_callback(self)


class BoardWearable(_InRange):
    """The real firmware on an EmulatedBoard (tests/emulated_board.py), seen over the air.

    mtu: the central's ATT MTU (BlueZ offers 517, iOS 185); discovery_s: how long service
    discovery takes after the link is up (bleak's connect returns after it).
    """

    def __init__(self, board: Any, *, rssi: int = -55, mtu: int = 517, discovery_s: float = 0.3):
        self.board = board
        self.rssi = rssi
        self.mtu = mtu
        self.discovery_s = discovery_s
        self.address = board.mac.upper()
        self.connections = 0

    @property
    def advertising(self) -> bool:
        return bool(self.board.advertising)

    def _fields(self) -> dict[str, Any]:
        from emulated_board import advertised

        adv = self.board.advertising or {"adv": b"", "resp": b""}
        return advertised(adv["adv"] + adv["resp"])  # an active scan merges the scan response

    @property
    def name(self) -> str | None:
        return self._fields()["name"]

    @property
    def service_uuids(self) -> list[str]:
        return self._fields()["uuids"]



class BoardClient:
    """BleakClient's API for one connection to a BoardWearable, over the emulated radio."""

    def __init__(self, radio: FakeRadio, device: BLEDevice, disconnected_callback: Any = None,
                 *, timeout: float = 30.0, **kwargs: Any):
        self.radio = radio
        self.device = device
        self.address = device.address
        self.timeout = timeout
        self.wearable: BoardWearable = radio.wearable(device.address)
        self._disconnected_callback = disconnected_callback
        self._conn: Any = None

    @property
    def is_connected(self) -> bool:
        return self._conn is not None and self._conn.open

    @property
    def mtu_size(self) -> int:
        if not self.is_connected:
            raise BleakError("Not connected")
        return self._conn.mtu

    async def connect(self, **kwargs: Any) -> None:
        w = self.wearable
        if not w.advertising:
            raise BleakError(f"Device with address {self.address} was not found.")
        self._conn = await w.board.connect(w.mtu, on_lost=self._lost)
        w.connections += 1
        await asyncio.sleep(w.discovery_s)
        if not self.is_connected:
            raise BleakError("Not connected")

    def _lost(self) -> None:
        if self._disconnected_callback is not None:
            self._disconnected_callback(self)

    async def disconnect(self) -> None:
        if self.is_connected:
            self.wearable.board.drop(self._conn)  # fires _lost: bleak calls the callback too

    def _handle(self, char_specifier: Any) -> int:
        try:
            return self.wearable.board.handle_of(str(char_specifier))
        except KeyError:
            raise BleakError(f"Characteristic {char_specifier} was not found!") from None

    async def start_notify(self, char_specifier: Any, callback: Callable[[Any, bytearray], Any],
                           **kwargs: Any) -> None:
        if not self.is_connected:
            raise BleakError("Not connected")
        handle = self._handle(char_specifier)
        char = FakeCharacteristic(str(char_specifier).lower())
        self.wearable.board.subscribe(self._conn, handle,
                                      lambda _h, data: callback(char, bytearray(data)))

    async def stop_notify(self, char_specifier: Any) -> None:
        if self.is_connected:
            self.wearable.board.subscribe(self._conn, self._handle(char_specifier), None)

    async def write_gatt_char(self, char_specifier: Any, data: Any,
                              response: bool | None = None) -> None:
        if not self.is_connected:
            raise BleakError("Not connected")
        try:
            status = await self.wearable.board.write(self._conn, self._handle(char_specifier),
                                                     bytes(data))
        except (TimeoutError, ConnectionError) as exc:
            raise BleakError(f"write failed: {exc or type(exc).__name__}") from exc
        if status:
            raise BleakError(f"ATT error {status} writing {char_specifier}")

    async def read_gatt_char(self, char_specifier: Any, **kwargs: Any) -> bytearray:
        if not self.is_connected:
            raise BleakError("Not connected")
        return bytearray(await self.wearable.board.read(self._conn, self._handle(char_specifier)))
