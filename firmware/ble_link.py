"""BLE link (board only): the movecoach GATT service over aioble, one packet per notification.

Services:
  movecoach (protocol.SERVICE_UUID)
    data     (DATA_UUID, notify): data packets, sized to the negotiated ATT MTU
    control  (CONTROL_UUID, write + read + notify): commands in, status records out
  Battery Service 0x180F: Battery Level 0x2A19 (read, notify), percent
  Device Information 0x180A: manufacturer, model, firmware revision

Advertises ``movecoach-XXXX`` (the last two bytes of the radio address) and the service UUID.
On connection the MTU is exchanged (we offer 247: 19 samples per notification), a packer of the
matching size is installed and streaming starts; START/STOP on the control characteristic pause
it. A sensor task and an advertising task run side by side, as in aioble's examples.
Needs ``mpremote mip install aioble``.
"""

import struct
import sys

import aioble
import bluetooth
from micropython import const

from . import packets, protocol

_ADV_INTERVAL_US = const(250_000)
_APPEARANCE_GENERIC_SENSOR = const(0x0540)
_BACKLOG = const(8)  # packets held while the radio's buffers are full


def _log(*args):
    print("[movecoach]", *args, file=sys.stderr)


class BleLink:
    """GATT server + advertising. `sampler.send` must be `link.send` (set by attach())."""

    def __init__(self, model="movecoach wearable", firmware_rev="1"):
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
        self.att_mtu = protocol.DEFAULT_ATT_MTU
        self._q = [bytearray(protocol.packet_size(protocol.MAX_BLE_SAMPLES_PER_PACKET))
                   for _ in range(_BACKLOG)]
        self._qlen = [0] * _BACKLOG
        self._qhead = 0
        self._qcount = 0
        self.dropped = 0

    # --- data path --------------------------------------------------------------------------
    def _notify(self, pkt):
        try:
            self.data_char.notify(self.connection, pkt)
            return True
        except OSError:  # the stack's notification buffers are full: retry later
            return False

    def send(self, pkt):
        """Sampler callback: notify now, or keep a copy until the radio has room."""
        if self.connection is None:
            return
        if self._qcount == 0 and self._notify(pkt):
            return
        if self._qcount == _BACKLOG:  # oldest goes; the host counts it from the sequence
            self._qhead = (self._qhead + 1) % _BACKLOG
            self._qcount -= 1
            self.dropped += 1
        i = (self._qhead + self._qcount) % _BACKLOG
        n = len(pkt)
        self._q[i][:n] = pkt
        self._qlen[i] = n
        self._qcount += 1

    def pump(self):
        """Send held packets, oldest first; True when none are left."""
        while self._qcount and self.connection is not None:
            i = self._qhead
            if not self._notify(memoryview(self._q[i])[:self._qlen[i]]):
                return False
            self._qhead = (i + 1) % _BACKLOG
            self._qcount -= 1
        return self._qcount == 0

    def send_status(self, status):
        self.control_char.write(bytes(status))
        if self.connection is not None:
            try:
                self.control_char.notify(self.connection, status)
            except OSError:
                pass

    def set_battery(self, percent):
        self.battery_char.write(struct.pack("B", percent), send_update=True)

    # --- tasks ------------------------------------------------------------------------------
    async def peripheral_task(self, sampler, controller):
        """Advertise, serve one central at a time, size packets to its MTU."""
        while True:
            _log("advertising as", self.name)
            connection = await aioble.advertise(
                _ADV_INTERVAL_US, name=self.name,
                services=[bluetooth.UUID(protocol.SERVICE_UUID)],
                appearance=_APPEARANCE_GENERIC_SENSOR)
            self.connection = connection
            try:
                self.att_mtu = await connection.exchange_mtu(protocol.PREFERRED_ATT_MTU)
            except Exception as exc:  # keep the default MTU if the central refuses
                _log("MTU exchange failed:", exc)
                self.att_mtu = connection.mtu or protocol.DEFAULT_ATT_MTU
            spp = protocol.samples_per_packet(self.att_mtu)
            _log("connected", connection.device, "mtu", self.att_mtu, "samples/packet", spp)
            controller.att_mtu = self.att_mtu
            if spp == 0:
                _log("MTU too small for one sample; disconnecting")
                await connection.disconnect()
                continue
            sampler.set_packer(packets.Packer(spp))
            sampler.start()
            controller.send_status()
            await connection.disconnected(timeout_ms=None)
            sampler.stop()
            self.connection = None
            self._qcount = 0
            _log("disconnected")

    async def control_task(self, controller):
        """Apply each command written to the control characteristic."""
        while True:
            _conn, data = await self.control_char.written()
            controller.handle(data)
