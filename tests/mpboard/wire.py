"""The emulated board's one connection to the test harness: the radio, the watchdog, the bench.

The firmware runs unmodified under the MicroPython unix port; what a real board has around its
CPU (the BLE controller and the air, the watchdog timer, the power switch) is played by the
harness (tests/emulated_board.py) on the other end of a TCP socket whose address is in
``$MOVECOACH_BOARD_WIRE`` ("host:port"). ``bluetooth.py`` and ``machine.py`` talk over it.

A message is ``kind (u8) | length (u16 LE) | payload``. The kinds (ASCII letters, upper case from
the board, lower case to the board):

    board -> harness                               harness -> board
    B  booted: reset cause u8                      c  central connected: conn u16, addr type u8, addr 6
    S  GATT table: (handle u16, flags u16,         d  central disconnected: conn u16, reason u8
       uuid len u8, uuid LE) per characteristic    w  write (with response): conn, value handle u16, data
    A  advertising: interval_us u32 (0 = off),     r  read: conn, value handle
       connectable u8, adv len u8, adv, resp       s  subscribe: conn, value handle, cccd u16
    N  notification: conn, value handle, data      m  MTU: conn, mtu u16, by_central u8
    W  write done / R read done: conn, handle,     k  notification buffers freed: count u16
       status u8 (+ value on R)                    q  query the bench counters (answered by Q)
    X  disconnect requested: conn                  h  halt: write coverage, exit
    M  MTU exchange requested: conn, preferred mtu
    U  MTU request answered: conn, preferred mtu
    T  watchdog started: timeout_ms u32
    F  watchdog fed
    P  IMU power: accelerometer ODR code u8, gyroscope ODR code u8
    Q  bench counters: FIFO status reads u32, samples made u32, words overwritten u32
    Z  machine.reset() called

Only this file knows the socket. Sending allocates nothing (one preallocated buffer), so the
firmware's BLE send path can be checked under ``micropython.heap_lock``.
"""

BOOT = 0x42  # B
GATT = 0x53  # S
ADVERTISE = 0x41  # A
NOTIFY = 0x4E  # N
WRITE_DONE = 0x57  # W
READ_DONE = 0x52  # R
DISCONNECT_REQUEST = 0x58  # X
MTU_REQUEST = 0x4D  # M
MTU_RESPONSE = 0x55  # U
WDT_START = 0x54  # T
WDT_FEED = 0x46  # F
IMU_POWER = 0x50  # P
COUNTERS = 0x51  # Q
RESET = 0x5A  # Z

CONNECT = 0x63  # c
DISCONNECT = 0x64  # d
WRITE = 0x77  # w
READ = 0x72  # r
SUBSCRIBE = 0x73  # s
MTU = 0x6D  # m
CREDITS = 0x6B  # k
QUERY = 0x71  # q
HALT = 0x68  # h

HEADER_SIZE = 3
MAX_PAYLOAD = 600  # > 527 (NimBLE's largest ATT MTU) + headers


class Wire:
    """The socket to the harness. `tx` is the one send buffer: pack a payload at `tx[3:]`, then
    `send(kind, n)`. `on(kind, handler)` routes received messages (handler(payload bytes))."""

    def __init__(self, address):
        import socket

        host, port = address.rsplit(":", 1)
        self.sock = socket.socket()
        self.sock.connect(socket.getaddrinfo(host, int(port))[0][-1])
        self.tx = bytearray(HEADER_SIZE + MAX_PAYLOAD)
        mv = memoryview(self.tx)
        self._frames = tuple(mv[:HEADER_SIZE + n] for n in range(MAX_PAYLOAD + 1))
        self.handlers = {}
        self._rx_task = None
        self.on(HALT, self._halt)

    @staticmethod
    def _halt(_payload):
        """The bench is done: stop (an instrumented run writes its coverage at exit)."""
        import sys

        sys.exit(0)

    def send(self, kind, n):
        """Send the n payload bytes already packed at tx[3:] (no allocation)."""
        tx = self.tx
        tx[0] = kind
        tx[1] = n & 0xFF
        tx[2] = n >> 8
        self.sock.write(self._frames[n])

    def send_bytes(self, kind, data):
        n = len(data)
        self.tx[HEADER_SIZE:HEADER_SIZE + n] = data
        self.send(kind, n)

    def on(self, kind, handler):
        self.handlers[kind] = handler
        if self._rx_task is None:
            import asyncio

            # like a port's HCI poll: runs whenever the firmware's event loop waits
            self._rx_task = asyncio.create_task(self._receive())

    async def _receive(self):
        import asyncio

        reader = asyncio.StreamReader(self.sock)
        while True:
            head = await reader.readexactly(HEADER_SIZE)
            n = head[1] | (head[2] << 8)
            payload = await reader.readexactly(n) if n else b""
            handler = self.handlers.get(head[0])
            if handler is not None:
                handler(payload)


def setting(name, default):
    """A bench setting from the environment the harness started the board with."""
    import os

    value = os.getenv("MOVECOACH_" + name)
    return default if value is None else value


def mac():
    """The radio's 6-byte address ($MOVECOACH_BLE_MAC, "c3:5a:11:0f:1a:2b" by default)."""
    text = setting("BLE_MAC", "c3:5a:11:0f:1a:2b")
    return bytes(int(part, 16) for part in text.split(":"))


def tx_buffers():
    """Notifications the stack can hold before gatts_notify says ENOMEM ($MOVECOACH_TX_BUFFERS).

    8 by default: an assumption (NimBLE's pool is a few ACL buffers on every port); the tests
    that depend on it set it."""
    return int(setting("TX_BUFFERS", "8"))


_wire = None


def wire():
    """The board's wire, or None when no harness is attached (a plain unix-port run)."""
    global _wire
    if _wire is None:
        import os

        address = os.getenv("MOVECOACH_BOARD_WIRE")
        if not address:
            return None
        _wire = Wire(address)
    return _wire
