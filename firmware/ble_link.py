"""BLE link (board only): the movecoach GATT service over aioble, one packet per notification.

Services:
  movecoach (protocol.SERVICE_UUID)
    data     (DATA_UUID, notify): data packets, sized to the negotiated ATT MTU
    control  (CONTROL_UUID, write + read + notify): commands in, status records out
  Battery Service 0x180F: Battery Level 0x2A19 (read, notify), percent
  Device Information 0x180A: manufacturer, model, firmware revision

Advertises ``movecoach-XXXX`` (the last two bytes of the radio address) and the service UUID.
On connection the MTU is exchanged (we offer 247: 19 samples per notification; a central that
exchanged first keeps what it agreed) and a packer of the matching size is installed.
Streaming starts when the central writes START to the control characteristic, which the host
does after subscribing, so that the first packet (FLAG_RESTART) and the status record answering
START reach it; it stops with STOP or with the link. A sensor task and an advertising task run
side by side, as in aioble's examples.

While the radio takes no more notifications (gatts_notify raises ENOMEM: the link is congested,
or the person walked out of range and the link has not timed out yet), packets wait here, in a
backlog of BACKLOG_BYTES, and go out oldest first once there is room. The sensor loop adds the
IMU's FIFO to that (sensor.py: it leaves the FIFO alone while the backlog is not empty, until
it is half full). When both are full the oldest packet is dropped: whole packets, which the
host counts to the sample from seq and t0, and never a compressed timeline.

Needs aioble (``mpremote mip install aioble``).
"""

import asyncio
import struct

import aioble
import bluetooth
from micropython import const

from . import packets, protocol
from .log import Log

_ADV_INTERVAL_US = const(250_000)
_APPEARANCE_GENERIC_SENSOR = const(0x0540)
# 8 KB: 33 packets of 19 samples = 3.0 s at 208 Hz, 6.0 s at 104 Hz; with half the LSM6DSOX
# FIFO (128 samples, 0.6 s at 208 Hz) the wearable rides out ~3.6 s of a congested radio at its
# highest rate. 4 % of the XIAO nRF52840's ~190 KB heap.
BACKLOG_BYTES = const(8192)
_MTU_WAIT_MS = const(1000)  # a central's own MTU exchange in flight: wait this long for it


class BleLink:
    """GATT server + advertising. `sampler.send` must be `link.send`."""

    def __init__(self, model="movecoach wearable", firmware_rev="1", log=None):
        self.log = log if log is not None else Log()
        self.service = aioble.Service(bluetooth.UUID(protocol.SERVICE_UUID))
        self.data_char = aioble.Characteristic(
            self.service, bluetooth.UUID(protocol.DATA_UUID), notify=True)
        self.control_char = aioble.Characteristic(
            self.service, bluetooth.UUID(protocol.CONTROL_UUID), read=True, write=True,
            notify=True, capture=True)
        self.battery_service = aioble.Service(bluetooth.UUID(protocol.BATTERY_SERVICE_UUID16))
        self.battery_char = aioble.Characteristic(
            self.battery_service, bluetooth.UUID(protocol.BATTERY_LEVEL_UUID16), read=True,
            notify=True, initial=b"\x64")
        info = aioble.Service(bluetooth.UUID(protocol.DEVICE_INFO_SERVICE_UUID16))
        for uuid16, text in ((protocol.MANUFACTURER_NAME_UUID16, "movecoach"),
                             (protocol.MODEL_NUMBER_UUID16, model),
                             (protocol.FIRMWARE_REVISION_UUID16, firmware_rev)):
            aioble.Characteristic(info, bluetooth.UUID(uuid16), read=True,
                                  initial=text.encode())
        aioble.register_services(self.service, self.battery_service, info)
        aioble.config(mtu=protocol.PREFERRED_ATT_MTU)
        mac = aioble.config("mac")[1]
        self.name = "%s%02x%02x" % (protocol.DEVICE_NAME_PREFIX, mac[4], mac[5])
        aioble.config(gap_name=self.name)
        self.connection = None
        self.ready = False  # connected, MTU agreed, packets sized: send() may notify
        self.att_mtu = protocol.DEFAULT_ATT_MTU
        self.dropped = 0  # packets dropped from a full backlog, this connection
        self._ring = bytearray(BACKLOG_BYTES)
        self._slots = ()  # one memoryview per packet slot of the ring (sized on connect)
        self._size = 0  # bytes in a full packet
        self._lens = []
        self._head = 0
        self._count = 0

    # --- data path (no allocation per packet) ---------------------------------------------------
    def _size_backlog(self, packet_bytes):
        n = BACKLOG_BYTES // packet_bytes
        mv = memoryview(self._ring)
        self._slots = tuple(mv[i * packet_bytes:(i + 1) * packet_bytes] for i in range(n))
        self._lens = [0] * n
        self._size = packet_bytes
        self._head = self._count = 0

    def held(self):
        """Packets waiting in the backlog."""
        return self._count

    def _notify(self, pkt):
        conn = self.connection
        if conn is None or not conn.is_connected():
            return False  # aioble has seen the disconnect: the link is gone
        try:
            self.data_char.notify(conn, pkt)
            return True
        except OSError:  # ENOMEM: the stack's buffers are full; ENOTCONN: the link just went
            return False

    def send(self, pkt):
        """Sampler callback: notify now, or keep a copy until the radio has room."""
        if not self.ready:
            return  # no central to send to: the packet goes nowhere (the next START restarts)
        if self._count == 0 and self._notify(pkt):
            return
        n = len(self._slots)
        if self._count == n:  # the oldest goes; the host counts it from seq and t0
            self._head = (self._head + 1) % n
            self._count -= 1
            self.dropped += 1
        i = (self._head + self._count) % n
        size = len(pkt)
        self._slots[i][:size] = pkt
        self._lens[i] = size
        self._count += 1

    def pump(self):
        """Send held packets, oldest first; True when none are left."""
        n = len(self._slots)
        while self._count:
            i = self._head
            size = self._lens[i]
            slot = self._slots[i]
            # a short packet (flushed by STOP or a settings change) is rare: a view is fine
            if not self._notify(slot if size == self._size else slot[:size]):
                return False
            self._head = (i + 1) % n
            self._count -= 1
        return True

    def send_status(self, status):
        self.control_char.write(bytes(status))
        conn = self.connection
        if conn is not None and conn.is_connected():
            try:
                self.control_char.notify(conn, status)
            except OSError:  # the radio is full; the value is still there to read
                pass

    def set_battery(self, percent):
        self.battery_char.write(struct.pack("B", percent), send_update=True)

    # --- tasks ------------------------------------------------------------------------------
    async def peripheral_task(self, sampler, controller):
        """Advertise, serve one central at a time, size packets to its MTU."""
        while True:
            self.log("advertising as", self.name)
            connection = await aioble.advertise(
                _ADV_INTERVAL_US, name=self.name,
                services=[bluetooth.UUID(protocol.SERVICE_UUID)],
                appearance=_APPEARANCE_GENERIC_SENSOR)
            try:
                await self._serve(connection, sampler, controller)
            except Exception:
                await self._hang_up(connection)  # a fault mid-connection: start clean
                raise
            finally:
                self._end(sampler)

    async def _serve(self, connection, sampler, controller):
        self.connection = connection
        self.dropped = 0
        mtu = await self._exchange_mtu(connection)
        spp = protocol.samples_per_packet(mtu)
        self.log("connected", connection.device, "mtu", mtu, "samples/packet", spp)
        self.att_mtu = controller.att_mtu = mtu
        if spp == 0:
            self.log("W: MTU too small for one sample; disconnecting")
            await connection.disconnect()
            return
        sampler.set_packer(packets.Packer(spp))
        self._size_backlog(protocol.packet_size(spp))
        self.ready = True
        if sampler.streaming:  # START came before the link was ready: start again, flagged
            sampler.stop()
            sampler.start()
        await connection.disconnected(timeout_ms=None)

    async def _exchange_mtu(self, connection):
        try:
            return await connection.exchange_mtu(protocol.PREFERRED_ATT_MTU)
        except Exception as exc:  # noqa: BLE001 - EALREADY (the central exchanged first), timeout
            for _ in range(_MTU_WAIT_MS // 20):
                if connection.mtu or not connection.is_connected():
                    break
                await asyncio.sleep_ms(20)
            if not connection.mtu:
                self.log("W: MTU exchange failed:", repr(exc))
            return connection.mtu or protocol.DEFAULT_ATT_MTU

    async def _hang_up(self, connection):
        try:
            if connection.is_connected():
                await connection.disconnect()
        except Exception as exc:  # noqa: BLE001 - it may be gone already
            self.log("W: disconnect failed:", repr(exc))

    def _end(self, sampler):
        """The link is gone: nothing more is sent on it (first), streaming stops."""
        self.ready = False
        self.connection = None
        sampler.stop()  # its partial packet goes nowhere; the next START restarts the stream
        if self.dropped or self.held():
            self.log("W: radio congested:", self.dropped, "packets dropped,", self.held(),
                     "unsent when the link went")
        self._count = 0
        self.log("disconnected")

    async def control_task(self, controller):
        """Apply each command written to the control characteristic."""
        while True:
            _conn, data = await self.control_char.written()
            controller.handle(data)
