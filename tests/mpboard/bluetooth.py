"""MicroPython's low-level ``bluetooth`` module, emulated for the unix port (tests only).

aioble and the firmware run on top of it unmodified; the other end of the radio (a central, the
air) is the test harness, reached through ``wire.py``. Written from MicroPython's
docs/library/bluetooth.rst and the C sources at commit 1c3c201 (extmod/modbluetooth.c, the
Python binding; extmod/nimble/modbluetooth_nimble.c, the NimBLE stack the ESP32 port uses).
What behaves as on a board:

- ``BLE()`` is a singleton; ``active()``, ``config()`` (``mac``, ``gap_name``, ``mtu``,
  ``rxbuf``, ``addr_mode``; "must query one param", "unknown config param"; ``mtu`` outside
  23..527 is OSError(EINVAL), as NimBLE's ble_att_set_preferred_mtu), ``irq()``. The preferred
  MTU starts at 23 (NimBLE sets MP_BLUETOOTH_DEFAULT_ATTR_LEN + 3 at startup). Anything used
  before ``active(True)`` raises OSError(ENODEV), NimBLE's ERRNO_BLUETOOTH_NOT_ACTIVE.
- IRQs come through ``micropython.schedule``, as on the ports whose stack runs in a scheduled
  task (stm32, rp2, unix): the harness's events are read whenever the firmware's event loop
  waits, queued, and the handler runs in scheduler context with the C code's tuples (the
  address is a memoryview the stack reuses, so it must be copied, as aioble does). An exception
  in the handler prints "Unhandled exception in IRQ callback handler" and disables the handler.
- ``gatts_notify(conn_handle, value_handle, data=None)`` converts both handles with the C
  code's mp_obj_get_int, so None raises TypeError("can't convert NoneType to int"); a handle
  that is not connected raises OSError(ENOTCONN); with no free notification buffer it raises
  OSError(ENOMEM) (NimBLE's mbuf pool: the harness frees buffers as the central takes
  notifications, and a congested link frees none); data longer than MTU - 3 is truncated, as
  NimBLE does; data=None sends the characteristic's local value. It sends whether or not the
  central subscribed: dropping notifications for unsubscribed handles is the central's job.
- ``gatts_register_services`` validates its tuples like the C code and returns value handles
  numbered as NimBLE does (a declaration handle before each value, a CCCD after a notify or
  indicate value); ``gatts_read`` / ``gatts_write(handle, data, send_update=False)`` keep the
  local values (a central's write is truncated to the value's buffer, 20 bytes unless
  ``gatts_set_buffer`` or a local write made it larger); ``send_update`` notifies subscribers.
- ``gap_advertise(interval_us, adv_data=None, *, resp_data=None, connectable=True)`` (None
  stops; more than 31 bytes is OSError(EINVAL)); advertising stops when a central connects, as in
  NimBLE. ``gap_disconnect`` returns False for a handle that is not connected. ``gattc_exchange_mtu``
  asks the central; _IRQ_MTU_EXCHANGED brings min(preferred, central's), or nothing if the
  central never answers. A central's own MTU request is answered by the stack (and raises the
  IRQ); after that, or after a first request, gattc_exchange_mtu raises OSError(EALREADY), as
  NimBLE's ble_att_clt_tx_mtu does once BLE_L2CAP_CHAN_F_TXED_MTU is set.

Not emulated: scanning and the central role, the GATT client (gattc_* but exchange_mtu),
indications, L2CAP, pairing and bonding, and everything about time on the air (connection
intervals, radio timing): only a real board and a real controller can show those.
"""

import errno
import struct
import sys

import micropython
from micropython import const

import wire as _wire_mod

FLAG_READ = const(0x0002)
FLAG_WRITE_NO_RESPONSE = const(0x0004)
FLAG_WRITE = const(0x0008)
FLAG_NOTIFY = const(0x0010)
FLAG_INDICATE = const(0x0020)
_FLAG_READ_AUTHORIZED = const(0x0800)

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_MTU_EXCHANGED = const(21)

_NOT_ACTIVE = errno.ENODEV  # NimBLE's ERRNO_BLUETOOTH_NOT_ACTIVE
_ATT_MTU_MIN = const(23)
_ATT_MTU_MAX = const(527)  # NimBLE's BLE_ATT_MTU_MAX
_ATTR_LEN = const(20)  # MP_BLUETOOTH_DEFAULT_ATTR_LEN
_ADV_MAX = const(31)
_RXBUF = const(128)  # MICROPY_PY_BLUETOOTH_RINGBUF_SIZE
_W = _wire_mod.HEADER_SIZE  # payloads are packed into the wire's buffer after its header


def _int(x):
    """mp_obj_get_int: ints (and bools) only."""
    if isinstance(x, int):
        return x
    raise TypeError("can't convert %s to int" % type(x).__name__)


class UUID:
    """bluetooth.UUID: 16-bit int, 2/4/16 raw bytes (little-endian), or the 128-bit string form."""

    def __init__(self, value):
        if isinstance(value, int):
            if value > 65535:
                raise ValueError("invalid UUID")
            self._data = bytes((value & 0xFF, (value >> 8) & 0xFF))
            return
        raw = value.encode() if isinstance(value, str) else bytes(value)
        if len(raw) in (2, 4, 16):
            self._data = raw
            return
        digits = [c for c in raw.decode() if c != "-"]
        for c in digits:
            if c not in "0123456789abcdefABCDEF":
                raise ValueError("invalid char in UUID")
        if len(digits) > 32:
            raise ValueError("UUID too long")
        if len(digits) < 32:
            raise ValueError("UUID too short")
        big = bytes(int("".join(digits[i:i + 2]), 16) for i in range(0, 32, 2))
        self._data = bytes(reversed(big))

    def __iter__(self):  # the buffer protocol's bytes: bytes(uuid), len(bytes(uuid))
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __eq__(self, other):
        return isinstance(other, UUID) and self._data == other._data

    def __hash__(self):
        return hash(self._data)

    def __repr__(self):
        h = "".join("%02x" % b for b in reversed(self._data))
        if len(self._data) <= 4:
            return "UUID(0x%s)" % h
        return "UUID('%s-%s-%s-%s-%s')" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


class BLE:
    """The radio. One instance (BLE() returns it again), like the C object in MP_STATE_VM."""

    _instance = None

    def __new__(cls):
        if BLE._instance is None:
            BLE._instance = object.__new__(cls)
        return BLE._instance

    def __init__(self):
        if hasattr(self, "_wire"):
            return
        self._wire = _wire_mod.wire()
        if self._wire is None:
            raise OSError(_NOT_ACTIVE)  # no radio: the harness is not attached
        self._active = False
        self._irq = None
        self._name = b"MPY NIMBLE"
        mac = _wire_mod.mac()
        self._addr_type = 0  # public
        self._addr = bytes(mac)
        self._mtu = _ATT_MTU_MIN
        self._values = {}  # value handle -> bytearray
        self._sizes = {}  # value handle -> buffer size for a central's write
        self._flags = {}  # value handle -> characteristic flags
        self._conns = {}  # conn handle -> [mtu, {value handle: cccd}, MTU exchange sent]
        self._credits = _wire_mod.tx_buffers()
        self._events = []
        self._scheduled = False
        self._irq_addr = bytearray(6)
        self._irq_addr_view = memoryview(self._irq_addr)
        w = self._wire
        w.on(_wire_mod.CONNECT, self._on_connect)
        w.on(_wire_mod.DISCONNECT, self._on_disconnect)
        w.on(_wire_mod.WRITE, self._on_write)
        w.on(_wire_mod.READ, self._on_read)
        w.on(_wire_mod.SUBSCRIBE, self._on_subscribe)
        w.on(_wire_mod.MTU, self._on_mtu)
        w.on(_wire_mod.CREDITS, self._on_credits)

    # --- general ------------------------------------------------------------------------------
    def _check_active(self):
        if not self._active:
            raise OSError(_NOT_ACTIVE)

    def active(self, change=None):
        if change is not None:
            if change:
                self._active = True
            else:
                self._active = False
                self._conns = {}
                self._values = {}
                self._sizes = {}
                self._flags = {}
                self._wire_advertise(None, b"", b"", False)
        return self._active

    def config(self, *args, **kwargs):
        if not kwargs:
            if len(args) != 1:
                raise TypeError("must query one param")
            name = args[0]
            if name == "gap_name":
                return bytes(self._name)
            if name == "mac":
                self._check_active()
                return (self._addr_type, self._addr)
            if name == "rxbuf":
                return _RXBUF
            if name == "mtu":
                self._check_active()
                return self._mtu
            raise ValueError("unknown config param")
        if args:
            raise TypeError("can't specify pos and kw args")
        for name, value in kwargs.items():
            if name == "gap_name":
                self._check_active()
                self._name = bytes(value.encode() if isinstance(value, str) else value)
            elif name == "mtu":
                self._check_active()
                mtu = _int(value)
                if not _ATT_MTU_MIN <= mtu <= _ATT_MTU_MAX:
                    raise OSError(errno.EINVAL)
                self._mtu = mtu
            elif name in ("rxbuf", "addr_mode"):
                _int(value)
            else:
                raise ValueError("unknown config param")
        return None

    def irq(self, handler):
        if handler is not None and not callable(handler):
            raise ValueError("invalid handler")
        self._irq = handler

    # --- IRQ delivery -------------------------------------------------------------------------
    def _post(self, event, data, done=None):
        """Queue an event; the handler runs in scheduler context (micropython.schedule)."""
        self._events.append((event, data, done))
        if not self._scheduled:
            self._scheduled = True
            micropython.schedule(self._run_irqs, None)

    def _run_irqs(self, _arg):
        self._scheduled = False
        while self._events:
            event, data, done = self._events.pop(0)
            result = None
            if self._irq is not None:
                try:
                    result = self._irq(event, data)
                except Exception as exc:  # noqa: BLE001 - the C code catches everything here
                    print("Unhandled exception in IRQ callback handler")
                    sys.print_exception(exc)
                    self._irq = None
            if done is not None:
                done(result)

    # --- GAP ----------------------------------------------------------------------------------
    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        self._check_active()
        if interval_us is None:
            self._wire_advertise(None, b"", b"", False)
            return None
        interval_us = _int(interval_us)
        adv = bytes(adv_data) if adv_data is not None else b""
        resp = bytes(resp_data) if resp_data is not None else b""
        if len(adv) > _ADV_MAX or len(resp) > _ADV_MAX:
            raise OSError(errno.EINVAL)
        self._wire_advertise(interval_us, adv, resp, connectable)
        return None

    def _wire_advertise(self, interval_us, adv, resp, connectable):
        w = self._wire
        struct.pack_into("<IBB", w.tx, _W, interval_us or 0, 1 if connectable else 0, len(adv))
        n = 6
        w.tx[_W + n:_W + n + len(adv)] = adv
        n += len(adv)
        w.tx[_W + n:_W + n + len(resp)] = resp
        w.send(_wire_mod.ADVERTISE, n + len(resp))

    def gap_disconnect(self, conn_handle):
        conn = _int(conn_handle)
        self._check_active()
        if conn not in self._conns:
            return False  # MP_ENOTCONN -> False
        struct.pack_into("<H", self._wire.tx, _W, conn)
        self._wire.send(_wire_mod.DISCONNECT_REQUEST, 2)
        return True

    # --- GATT server --------------------------------------------------------------------------
    def gatts_register_services(self, services):
        self._check_active()
        handle = 16  # after NimBLE's own GAP and GATT services
        result = []
        table = bytearray()
        self._values = {}
        self._sizes = {}
        self._flags = {}
        for service in services:
            uuid, characteristics = service  # mp_obj_get_array_fixed_n(2)
            if not isinstance(uuid, UUID):
                raise ValueError("invalid service UUID")
            handle += 1  # service declaration
            handles = []
            for characteristic in characteristics:
                if not 2 <= len(characteristic) <= 3:
                    raise ValueError("invalid characteristic tuple")
                c_uuid, flags = characteristic[0], _int(characteristic[1])
                if not isinstance(c_uuid, UUID):
                    raise ValueError("invalid characteristic UUID")
                handle += 2  # declaration, value
                self._add_value(handle, flags, c_uuid, table)
                handles.append(handle)
                if flags & (FLAG_NOTIFY | FLAG_INDICATE):
                    handle += 1  # CCCD
                descriptors = characteristic[2] if len(characteristic) == 3 else ()
                for d_uuid, d_flags in descriptors:
                    if not isinstance(d_uuid, UUID):
                        raise ValueError("invalid descriptor UUID")
                    handle += 1
                    self._add_value(handle, _int(d_flags), d_uuid, table)
                    handles.append(handle)
            result.append(tuple(handles))
        self._wire.send_bytes(_wire_mod.GATT, table)
        return tuple(result)

    def _add_value(self, handle, flags, uuid, table):
        self._values[handle] = bytearray()
        self._sizes[handle] = _ATTR_LEN
        self._flags[handle] = flags
        raw = bytes(uuid)
        table.extend(struct.pack("<HHB", handle, flags, len(raw)))
        table.extend(raw)

    def gatts_read(self, value_handle):
        self._check_active()
        return bytes(self._values.get(_int(value_handle), b""))

    def gatts_write(self, value_handle, data, send_update=False):
        self._check_active()
        handle = _int(value_handle)
        if handle not in self._values:
            raise OSError(errno.EINVAL)
        value = bytearray(data)
        self._values[handle] = value
        if len(value) > self._sizes[handle]:
            self._sizes[handle] = len(value)
        if send_update:  # NimBLE's ble_gatts_chr_updated: notify the subscribed centrals
            for conn, (_mtu, cccds, _sent) in self._conns.items():
                if cccds.get(handle, 0) & 1 and self._credits:
                    self._send_notification(conn, handle, value)
        return len(value)

    def gatts_set_buffer(self, value_handle, buffer_len, append=False):
        self._check_active()
        self._sizes[_int(value_handle)] = _int(buffer_len)

    def gatts_notify(self, conn_handle, value_handle, data=None):
        conn = _int(conn_handle)
        handle = _int(value_handle)
        self._check_active()
        if data is None:  # NimBLE reads the local value
            data = self._values.get(handle, b"")
        if not self._credits:  # ble_hs_mbuf_from_flat found no buffer
            raise OSError(errno.ENOMEM)
        if conn not in self._conns:  # ble_gattc_notify_custom: BLE_HS_ENOTCONN
            raise OSError(errno.ENOTCONN)
        self._send_notification(conn, handle, data)

    def _send_notification(self, conn, handle, data):
        """One notification on the air: at most MTU - 3 bytes; uses a buffer (no allocation)."""
        n = len(data)
        room = self._conns[conn][0] - 3
        if n > room:
            n = room
        w = self._wire
        tx = w.tx
        struct.pack_into("<HH", tx, _W, conn, handle)
        tx[_W + 4:_W + 4 + n] = data if n == len(data) else memoryview(data)[:n]
        w.send(_wire_mod.NOTIFY, 4 + n)
        self._credits -= 1

    def gattc_exchange_mtu(self, conn_handle):
        conn = _int(conn_handle)
        self._check_active()
        if conn not in self._conns:
            raise OSError(errno.ENOTCONN)
        if self._conns[conn][2]:  # this side already sent an MTU request or response
            raise OSError(errno.EALREADY)
        self._conns[conn][2] = True
        struct.pack_into("<HH", self._wire.tx, _W, conn, self._mtu)
        self._wire.send(_wire_mod.MTU_REQUEST, 4)

    # --- events from the air ------------------------------------------------------------------
    def _on_connect(self, p):
        conn, addr_type = struct.unpack_from("<HB", p)
        self._conns[conn] = [_ATT_MTU_MIN, {}, False]
        self._wire_advertise(None, b"", b"", False)  # NimBLE stops advertising on connect
        self._irq_addr[:] = p[3:9]
        self._post(_IRQ_CENTRAL_CONNECT, (conn, addr_type, self._irq_addr_view))

    def _on_disconnect(self, p):
        conn = struct.unpack_from("<H", p)[0]
        if self._conns.pop(conn, None) is None:
            return
        self._post(_IRQ_CENTRAL_DISCONNECT, (conn, 0, self._irq_addr_view))

    def _on_write(self, p):
        conn, handle = struct.unpack_from("<HH", p)
        if conn not in self._conns or not self._flags.get(handle, 0) & (FLAG_WRITE |
                                                                        FLAG_WRITE_NO_RESPONSE):
            self._reply(_wire_mod.WRITE_DONE, conn, handle, 3)  # ATT: write not permitted
            return
        self._values[handle] = bytearray(p[4:4 + self._sizes[handle]])
        self._post(_IRQ_GATTS_WRITE, (conn, handle),
                   lambda _result: self._reply(_wire_mod.WRITE_DONE, conn, handle, 0))

    def _on_read(self, p):
        conn, handle = struct.unpack_from("<HH", p)
        flags = self._flags.get(handle, 0)
        if conn not in self._conns or not flags & FLAG_READ:
            self._reply(_wire_mod.READ_DONE, conn, handle, 2)  # ATT: read not permitted
            return

        def answer(result):
            if result:
                self._reply(_wire_mod.READ_DONE, conn, handle, result)
            else:
                mtu = self._conns[conn][0] if conn in self._conns else _ATT_MTU_MIN
                self._reply(_wire_mod.READ_DONE, conn, handle, 0, self._values[handle][:mtu - 1])

        if flags & _FLAG_READ_AUTHORIZED:
            self._post(_IRQ_GATTS_READ_REQUEST, (conn, handle), answer)
        else:
            answer(None)

    def _reply(self, kind, conn, handle, status, value=b""):
        tx = self._wire.tx
        struct.pack_into("<HHB", tx, _W, conn, handle, status)
        tx[_W + 5:_W + 5 + len(value)] = value
        self._wire.send(kind, 5 + len(value))

    def _on_subscribe(self, p):
        conn, handle, cccd = struct.unpack_from("<HHH", p)
        if conn in self._conns:
            self._conns[conn][1][handle] = cccd

    def _on_mtu(self, p):
        conn, mtu, by_central = struct.unpack_from("<HHB", p)
        if conn not in self._conns:
            return
        if by_central:  # the central's request: the stack answers with the preferred MTU
            struct.pack_into("<HH", self._wire.tx, _W, conn, self._mtu)
            self._wire.send(_wire_mod.MTU_RESPONSE, 4)
            self._conns[conn][2] = True  # NimBLE: BLE_L2CAP_CHAN_F_TXED_MTU
        agreed = min(mtu, self._mtu)
        self._conns[conn][0] = agreed
        self._post(_IRQ_MTU_EXCHANGED, (conn, agreed))

    def _on_credits(self, p):
        self._credits += struct.unpack_from("<H", p)[0]
