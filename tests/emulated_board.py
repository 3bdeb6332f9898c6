"""The wearable's firmware on an emulated board: the real `micropython` binary runs firmware/main.py
unmodified, and this harness plays everything around the CPU that a real board has.

    async with EmulatedBoard(micropython, tmp_path, config={"link": "ble"}) as board:
        radio = fake_bleak.FakeRadio(fake_bleak.BoardWearable(board))
        async with open_source("ble://movecoach-1a2b", client_factory=radio.client_factory,
                               scanner=radio.scanner) as source:
            ...                       # the host's real BleTransport -> Source -> Decoder

On the MicroPython side (tests/mpboard/, first on MICROPYPATH) the firmware imports
micropython-lib's real aioble (tests/mpboard/vendor/) over an emulation of the low-level
`bluetooth` module, and an emulated `machine` (pins, I2C with an LSM6DSOX / LSM6DS3TR-C filling
its FIFO in real time, the fuel gauge, WDT). Both reach this harness over one TCP socket
(tests/mpboard/wire.py says what crosses it). Here:

- the radio and the central: advertising as the firmware set it, connections, the MTU exchange,
  writes and reads on the GATT table the firmware registered, subscriptions, notifications
  (held while `congested`: the stack then runs out of buffers and says ENOMEM, as on a link
  whose packets are not acknowledged);
- the watchdog hardware: after WDT(timeout) the board must feed() within `timeout` ms, or the
  process is killed and started again with reset_cause() WDT_RESET (a reboot); `resets` lists
  the reboots. machine.reset() reboots too;
- the bench: the IMU's power events, its FIFO counters (`counters()`), the board's log.

A board whose firmware ends (an exception at the top, or back at the REPL) stops advertising and
drops its connection, as a board sitting at the REPL would. `halt()` ends the process cleanly
(instrumented runs write their coverage then).
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpboard import wire

REPO = Path(__file__).resolve().parents[1]
MPBOARD = Path(__file__).resolve().parent / "mpboard"


@dataclass
class Notification:
    t_s: float  # host monotonic time it left the board
    conn: int
    handle: int
    data: bytes


@dataclass
class Connection:
    handle: int
    central_mtu: int  # 0: it never answers an MTU request
    mtu_delay_s: float = 0.0  # how long it takes to answer one
    mtu: int = 23
    subscribed: dict[int, Callable[[int, bytes], None]] = field(default_factory=dict)
    on_lost: Callable[[], None] | None = None
    open: bool = True


class EmulatedBoard:
    """firmware/main.py under `micropython` on an emulated board; see the module docstring.

    workdir: the board's filesystem (movecoach_config.py from `config`, the firmware's state).
    board: "feather-esp32s3" or "xiao-nrf52840" (tests/mpboard/machine.py).
    faults: per boot, the $MOVECOACH_FAULTS of tests/mpboard/machine.py (the last one repeats).
    firmware_root: the directory holding firmware/ (an instrumented copy for coverage runs).
    tx_buffers: notifications the stack holds before ENOMEM.
    command: what the board runs (`micropython -c`); a board boots firmware/main.py.
    env: more environment for the micropython process (e.g. $MOVECOACH_COVERAGE).
    """

    def __init__(self, micropython: str, workdir: Path, *, config: dict | None = None,
                 board: str = "feather-esp32s3", faults: tuple[str, ...] = ("",),
                 firmware_root: Path = REPO, tx_buffers: int = 8,
                 mac: str = "c3:5a:11:0f:1a:2b", extra_path: tuple[Path, ...] = (),
                 command: str = "import firmware.main", env: dict | None = None):
        self.micropython = micropython
        self.workdir = Path(workdir)
        self.config = {"link": "ble", "repl_window_s": 0, **(config or {})}
        self.board = board
        self.faults = faults
        self.firmware_root = Path(firmware_root)
        self.tx_buffers = tx_buffers
        self.mac = mac
        self.extra_path = extra_path
        self.command = command
        self.env = env or {}
        self.log = bytearray()  # the board's console (stdout and stderr), all boots
        self.boots = 0
        self.resets: list[str] = []  # "WDT" / "SOFT" for each reboot, in order
        self.exit_codes: list[int] = []
        self.advertising: dict | None = None
        self.gatt: dict[int, tuple[int, str]] = {}  # value handle -> (flags, uuid)
        self.notifications: list[Notification] = []
        self.imu_power: list[tuple[float, int, int]] = []  # (t, accel ODR code, gyro ODR code)
        self.congested = False
        self.wdt_timeout_ms: int | None = None
        self._last_feed = 0.0
        self._conns: dict[int, Connection] = {}
        self._next_conn = 1
        self._held: list[Notification] = []
        self._replies: dict[tuple[int, int, int], asyncio.Future] = {}
        self._counters: asyncio.Future | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task] = []
        self._connected = asyncio.Event()
        self._closing = False

    # --- lifecycle ----------------------------------------------------------------------------
    async def __aenter__(self) -> EmulatedBoard:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "movecoach_config.py").write_text(f"CONFIG = {self.config!r}\n")
        self._server = await asyncio.start_server(self._on_wire, "127.0.0.1", 0)
        self._tasks.append(asyncio.create_task(self._watchdog()))
        await self._boot("PWRON")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        self._closing = True
        for t in self._tasks:
            t.cancel()
        await self._kill()
        if self._server is not None:
            self._server.close()

    async def _boot(self, cause: str) -> None:
        faults = self.faults[min(self.boots, len(self.faults) - 1)]
        self.boots += 1
        port = self._server.sockets[0].getsockname()[1]
        path = [self.workdir, MPBOARD, MPBOARD / "vendor", self.firmware_root, *self.extra_path]
        env = dict(os.environ, MICROPYPATH=":".join(map(str, path)) + ":.frozen",
                   MOVECOACH_BOARD_WIRE=f"127.0.0.1:{port}", MOVECOACH_BOARD=self.board,
                   MOVECOACH_FAULTS=faults, MOVECOACH_RESET_CAUSE=cause,
                   MOVECOACH_TX_BUFFERS=str(self.tx_buffers), MOVECOACH_BLE_MAC=self.mac,
                   **self.env)
        self._connected.clear()
        self.wdt_timeout_ms = None
        self._proc = await asyncio.create_subprocess_exec(
            self.micropython, "-c", self.command, cwd=self.workdir, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        self._tasks.append(asyncio.create_task(self._console(self._proc)))

    async def _console(self, proc: asyncio.subprocess.Process) -> None:
        while chunk := await proc.stdout.read(4096):
            self.log += chunk
        code = await proc.wait()
        if proc is self._proc and not self._closing:
            self.exit_codes.append(code)
            self._board_gone()

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        self._board_gone()

    def _board_gone(self) -> None:
        """The radio went with the firmware: no advertising, every central loses its link."""
        self.advertising = None
        for conn in list(self._conns.values()):
            self._lose(conn)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def reboot(self, cause: str) -> None:
        self.resets.append(cause)
        await self._kill()
        await self._boot(cause)

    async def halt(self, timeout_s: float = 10.0) -> int:
        """Ask the board to stop (instrumented firmware writes its coverage); its exit code."""
        proc = self._proc
        self._send(wire.HALT, b"")
        code = await asyncio.wait_for(proc.wait(), timeout_s)
        await asyncio.sleep(0.05)  # let the console reader finish
        return code

    def interrupt(self) -> None:
        """Ctrl-C on the console (SIGINT: KeyboardInterrupt in the firmware)."""
        import signal

        if self.running:
            self._proc.send_signal(signal.SIGINT)

    async def wait_for(self, predicate: Callable[[], Any], timeout_s: float = 10.0,
                       what: str = "") -> Any:
        deadline = time.monotonic() + timeout_s
        while not (result := predicate()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what or predicate} not within {timeout_s} s; board log:\n"
                                   + self.log.decode(errors="replace")[-3000:])
            await asyncio.sleep(0.01)
        return result

    async def wait_log(self, text: str, timeout_s: float = 10.0) -> None:
        await self.wait_for(lambda: text.encode() in self.log, timeout_s, repr(text))

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    # --- the wire -----------------------------------------------------------------------------
    async def _on_wire(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._connected.set()
        try:
            while True:
                head = await reader.readexactly(wire.HEADER_SIZE)
                n = head[1] | head[2] << 8
                payload = await reader.readexactly(n) if n else b""
                self._dispatch(head[0], payload)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self._writer is writer:
                self._writer = None

    def _send(self, kind: int, payload: bytes) -> None:
        if self._writer is not None:
            self._writer.write(struct.pack("<BH", kind, len(payload)) + payload)

    def _dispatch(self, kind: int, p: bytes) -> None:
        now = time.monotonic()
        if kind == wire.ADVERTISE:
            interval, connectable, n_adv = struct.unpack_from("<IBB", p)
            self.advertising = None if interval == 0 else {
                "interval_us": interval, "connectable": bool(connectable),
                "adv": p[6:6 + n_adv], "resp": p[6 + n_adv:]}
        elif kind == wire.GATT:
            self.gatt = {}
            i = 0
            while i < len(p):
                handle, flags, n = struct.unpack_from("<HHB", p, i)
                self.gatt[handle] = (flags, _uuid_text(p[i + 5:i + 5 + n]))
                i += 5 + n
        elif kind == wire.NOTIFY:
            conn, handle = struct.unpack_from("<HH", p)
            note = Notification(now, conn, handle, p[4:])
            self.notifications.append(note)
            if self.congested:
                self._held.append(note)
            else:
                self._deliver(note)
        elif kind in (wire.WRITE_DONE, wire.READ_DONE):
            conn, handle, status = struct.unpack_from("<HHB", p)
            fut = self._replies.pop((kind, conn, handle), None)
            if fut is not None and not fut.done():
                fut.set_result((status, p[5:]))
        elif kind == wire.DISCONNECT_REQUEST:  # the controller terminates the link
            conn = struct.unpack_from("<H", p)[0]
            if conn in self._conns:
                self._send(wire.DISCONNECT, struct.pack("<HB", conn, 0x16))
                self._lose(self._conns[conn])
        elif kind == wire.MTU_REQUEST:  # the central answers with its MTU
            conn, mtu = struct.unpack_from("<HH", p)
            c = self._conns.get(conn)
            if c is not None and c.central_mtu:
                c.mtu = min(mtu, c.central_mtu)
                asyncio.get_running_loop().call_later(
                    c.mtu_delay_s, self._send, wire.MTU, struct.pack("<HHB", conn, c.central_mtu, 0))
        elif kind == wire.MTU_RESPONSE:  # the board answered the central's request
            conn, mtu = struct.unpack_from("<HH", p)
            c = self._conns.get(conn)
            if c is not None:
                c.mtu = min(mtu, c.central_mtu)
        elif kind == wire.WDT_START:
            self.wdt_timeout_ms = struct.unpack_from("<I", p)[0]
            self._last_feed = now
        elif kind == wire.WDT_FEED:
            self._last_feed = now
        elif kind == wire.IMU_POWER:
            self.imu_power.append((now, p[0], p[1]))
        elif kind == wire.COUNTERS:
            if self._counters is not None and not self._counters.done():
                self._counters.set_result(struct.unpack_from("<III", p))
        elif kind == wire.RESET:
            asyncio.get_running_loop().create_task(self.reboot("SOFT"))

    def _deliver(self, note: Notification) -> None:
        conn = self._conns.get(note.conn)
        self._send(wire.CREDITS, struct.pack("<H", 1))  # the controller's buffer is free again
        if conn is None or not conn.open:
            return
        callback = conn.subscribed.get(note.handle)
        if callback is not None:  # a central drops notifications it did not subscribe to
            callback(note.handle, note.data)

    def set_congested(self, on: bool) -> None:
        """While on, notifications are not acknowledged: the board's buffers fill (ENOMEM)."""
        self.congested = on
        if not on:
            held, self._held = self._held, []
            for note in held:
                self._deliver(note)

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(0.02)
            timeout = self.wdt_timeout_ms
            if timeout and self.running and time.monotonic() - self._last_feed > timeout / 1000:
                await self.reboot("WDT")

    async def counters(self) -> dict[str, int]:
        """The emulated IMU's counters: FIFO status reads, samples made, words overwritten."""
        self._counters = asyncio.get_running_loop().create_future()
        self._send(wire.QUERY, b"")
        reads, made, lost = await asyncio.wait_for(self._counters, 5)
        return {"status_reads": reads, "samples_made": made, "words_overwritten": lost}

    # --- the central's side -------------------------------------------------------------------
    def handle_of(self, uuid: str) -> int:
        uuid = uuid.lower()
        for handle, (_flags, u) in self.gatt.items():
            if u == uuid:
                return handle
        raise KeyError(f"no characteristic {uuid} in the board's GATT table")

    async def connect(self, central_mtu: int = 247, *, on_lost: Callable[[], None] | None = None,
                      addr: bytes = b"\x10\x20\x30\x40\x50\x60",
                      central_starts_mtu: bool = True, mtu_delay_s: float = 0.0) -> Connection:
        """A central connects while the board advertises; with central_starts_mtu it then
        exchanges MTUs at once, as BlueZ, macOS and Android do (central_mtu 0: it never
        answers an MTU request; mtu_delay_s: it answers that late)."""
        if not self.advertising or not self.advertising["connectable"]:
            raise ConnectionError("the board is not advertising")
        conn = Connection(self._next_conn, central_mtu, mtu_delay_s, on_lost=on_lost)
        self._next_conn += 1
        self._conns[conn.handle] = conn
        self.advertising = None  # advertising stops on connect
        self._send(wire.CONNECT, struct.pack("<HB", conn.handle, 0) + addr)
        if central_starts_mtu and central_mtu:  # the board answers with its preferred MTU
            self._send(wire.MTU, struct.pack("<HHB", conn.handle, central_mtu, 1))
        return conn

    def drop(self, conn: Connection) -> None:
        """The link breaks (out of range, host killed): both sides see a disconnect."""
        if conn.open:
            self._send(wire.DISCONNECT, struct.pack("<HB", conn.handle, 0x08))  # supervision timeout
            self._lose(conn)

    def _lose(self, conn: Connection) -> None:
        if not conn.open:
            return
        conn.open = False
        self._conns.pop(conn.handle, None)
        if conn.on_lost is not None:
            conn.on_lost()

    def subscribe(self, conn: Connection, handle: int,
                  callback: Callable[[int, bytes], None] | None) -> None:
        if callback is None:
            conn.subscribed.pop(handle, None)
        else:
            conn.subscribed[handle] = callback
        self._send(wire.SUBSCRIBE, struct.pack("<HHH", conn.handle, handle, 0 if callback is None
                                               else 1))

    async def write(self, conn: Connection, handle: int, data: bytes, timeout_s: float = 5.0) -> int:
        """A write with response; returns the ATT status (0 = done)."""
        return (await self._request(wire.WRITE, wire.WRITE_DONE, conn, handle, data,
                                    timeout_s))[0]

    async def read(self, conn: Connection, handle: int, timeout_s: float = 5.0) -> bytes:
        status, value = await self._request(wire.READ, wire.READ_DONE, conn, handle, b"",
                                            timeout_s)
        if status:
            raise OSError(f"ATT error {status} reading handle {handle}")
        return value

    async def _request(self, kind: int, reply: int, conn: Connection, handle: int, data: bytes,
                       timeout_s: float) -> tuple[int, bytes]:
        if not conn.open:
            raise ConnectionError("not connected")
        fut = asyncio.get_running_loop().create_future()
        self._replies[(reply, conn.handle, handle)] = fut
        self._send(kind, struct.pack("<HH", conn.handle, handle) + bytes(data))
        return await asyncio.wait_for(fut, timeout_s)


def _uuid_text(raw: bytes) -> str:
    """A UUID's little-endian bytes as bleak writes it: always the 128-bit form (a 16-bit UUID
    on the Bluetooth base UUID)."""
    if len(raw) == 2:
        return _bt_base(raw)
    h = raw[::-1].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def advertised(adv: bytes) -> dict[str, Any]:
    """The AD structures of an advertising payload: name, 16/128-bit service UUIDs, appearance."""
    out: dict[str, Any] = {"name": None, "uuids": [], "appearance": None}
    i = 0
    while i + 1 < len(adv):
        n, kind = adv[i], adv[i + 1]
        value = adv[i + 2:i + 1 + n]
        if kind == 0x09:
            out["name"] = value.decode()
        elif kind in (0x02, 0x03):
            out["uuids"] += [_uuid_text(value[j:j + 2]) for j in range(0, len(value), 2)]
        elif kind in (0x06, 0x07):
            out["uuids"] += [_uuid_text(value[j:j + 16]) for j in range(0, len(value), 16)]
        elif kind == 0x19:
            out["appearance"] = struct.unpack("<H", value)[0]
        i += 1 + n
    return out


def _bt_base(raw16: bytes) -> str:
    return f"0000{raw16[::-1].hex()}-0000-1000-8000-00805f9b34fb"



def hardware_md_configs() -> list[dict]:
    """The board settings hardware.md tells people to write into movecoach_config.py, in the
    order given there (build A, build B): the tests boot exactly those."""
    import ast
    import re

    text = (REPO / "hardware.md").read_text()
    return [ast.literal_eval(m.group(1)) for m in re.finditer(r"CONFIG = (\{.*?\})", text, re.S)]


# --- the host's side: its real pipeline, connecting to the emulated wearable by name ---------------
def host_source(board: EmulatedBoard, *, mtu: int = 517, **options: Any):
    """open_source("ble://movecoach-1a2b") over the bleak-boundary fake, to this board."""
    import fake_bleak

    from movecoach.link.source import open_source

    radio = fake_bleak.FakeRadio(fake_bleak.BoardWearable(board, mtu=mtu))
    options.setdefault("timeout_s", 5.0)
    return open_source("ble://movecoach-1a2b", client_factory=radio.client_factory,
                       scanner=radio.scanner, **options)


async def take(source: Any, n_samples: int, on_block: Callable | None = None) -> list:
    """Items from the source until n_samples samples arrived; on_block(block, total) after each."""
    from movecoach.samples import SampleBlock

    items, n = [], 0
    async for item in source:
        items.append(item)
        if isinstance(item, SampleBlock):
            n += len(item)
            if on_block is not None:
                on_block(item, n)
            if n >= n_samples:
                break
    return items


async def answer(source: Any, command: bytes, timeout_s: float = 5.0) -> list:
    """Send a control command and read on until its status record has arrived."""
    seen = source.stats.decoder.status_records
    await source.send_control(command)
    items = []
    deadline = time.monotonic() + timeout_s
    while source.stats.decoder.status_records == seen:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no status record answered {command.hex()}")
        try:  # after STOP no samples come: look at what arrived every 0.1 s
            items.append(await asyncio.wait_for(anext(source), 0.1))
        except TimeoutError:
            pass
    return items
