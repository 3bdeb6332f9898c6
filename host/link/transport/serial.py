"""``serial:///dev/ttyACM0`` (also ``serial:COM3``, ``?baud=115200``): USB serial via pyserial.

A reader thread blocks in ``Serial.read`` and hands each chunk to the event loop through an
``asyncio.Queue`` (pyserial ``threaded`` style: this side only moves bytes; the decoder finds the
frames). The port is opened with ``serial_for_url``, so pyserial URLs such as
``serial:rfc2217://host:port`` work too. A port that is not there yet (the wearable was just
plugged in and is still enumerating) is retried until the connect timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from movecoach.errors import UserError

from . import DEFAULT_TIMEOUT_S, LinkLost, SourceURL, Transport, TransportError
from .framing import frame_control

log = logging.getLogger(__name__)

DEFAULT_BAUDRATE = 115200
_READ_POLL_S = 0.1  # how often the reader thread checks for close()
_OPEN_RETRY_S = 0.2
# A device file that does not exist is waited for this long at most, however long the open may
# retry: a board's USB serial port appears within ~1-2 s of plugging it in or of its reset; a
# port that exists but is busy (another program has it) is retried for the whole timeout.
_MISSING_GRACE_S = 3.0
_WRITE_TIMEOUT_S = 2.0


def _available_ports_hint(wanted: str) -> str:
    """" (serial ports here: /dev/ttyACM1, ...)" to help a user who guessed the wrong port."""
    try:
        from serial.tools import list_ports

        # USB ports only: built-in UARTs (hwid "n/a", e.g. /dev/ttyS0) are never the wearable
        ports = sorted(p.device for p in list_ports.comports() if p.hwid not in ("n/a", "", None))
    except Exception:  # noqa: BLE001 - only a hint
        return ""
    ports = [p for p in ports if p != wanted]
    if not ports:
        return " (no serial ports found: is the wearable plugged in with a data cable?)"
    return f" (serial ports here: {', '.join(ports[:6])})"


class _Lost:
    def __init__(self, reason: str):
        self.reason = reason


class SerialTransport(Transport):
    """Serial-port link with ``framing = "stream"``.

    port: device path (``/dev/ttyACM0``), ``COM3`` or a pyserial URL.
    baudrate: bits/s (USB CDC ignores it; real UARTs need the wearable's rate).
    timeout_s: how long :meth:`open` keeps retrying a missing/busy port (None: forever,
    0: one attempt).
    serial_for_url: the pyserial opener, injectable for tests.
    """

    scheme = "serial"
    framing = "stream"

    def __init__(self, port: str, *, baudrate: int = DEFAULT_BAUDRATE,
                 timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 serial_for_url: Callable[..., Any] | None = None):
        super().__init__(timeout_s=timeout_s)
        if not port:
            raise UserError("serial source names no port, e.g. serial:///dev/ttyACM0")
        if baudrate <= 0:
            raise UserError(f"serial baud rate must be positive, got {baudrate}")
        self.port = port
        self.baudrate = int(baudrate)
        self._serial_for_url = serial_for_url
        self._ser: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    @classmethod
    def from_url(cls, url: SourceURL, *, timeout_s: float | None = DEFAULT_TIMEOUT_S,
                 **options: Any) -> SerialTransport:
        baud_text = url.param("baud") or url.param("baudrate")
        if baud_text is not None and "baudrate" not in options:
            try:
                options["baudrate"] = int(baud_text)
            except ValueError:
                raise UserError(f"{url.text}: baud {baud_text!r} is not a number") from None
        return cls(url.target, timeout_s=timeout_s, **options)

    @property
    def url(self) -> str:
        base = f"serial://{self.port}" if self.port.startswith("/") else f"serial:{self.port}"
        return base if self.baudrate == DEFAULT_BAUDRATE else f"{base}?baud={self.baudrate}"

    def _opener(self) -> Callable[..., Any]:
        if self._serial_for_url is not None:
            return self._serial_for_url
        import serial

        return serial.serial_for_url

    async def _open(self, timeout_s: float | None) -> None:
        import serial

        opener = self._opener()
        start = time.monotonic()
        deadline = None if timeout_s is None else start + timeout_s
        while True:
            try:
                ser = await asyncio.to_thread(
                    opener, self.port, baudrate=self.baudrate, timeout=_READ_POLL_S,
                    write_timeout=_WRITE_TIMEOUT_S, exclusive=True,
                )
                break
            except ValueError as exc:
                raise UserError(f"serial port {self.port}: {exc}") from None
            except (serial.SerialException, OSError) as exc:
                now = time.monotonic()
                missing = self.port.startswith("/") and not os.path.exists(self.port)
                if (deadline is not None and now + _OPEN_RETRY_S > deadline) or (
                        missing and deadline is not None and now - start >= _MISSING_GRACE_S):
                    reason = "no such device" if missing else str(exc)
                    raise TransportError(f"cannot open serial port {self.port}: {reason}"
                                         f"{_available_ports_hint(self.port)}") from exc
                log.debug("serial port %s not ready (%s); retrying", self.port, exc)
                await asyncio.sleep(_OPEN_RETRY_S)
        try:
            ser.reset_input_buffer()  # stale bytes from before we opened: half a frame at best
        except (serial.SerialException, OSError):
            pass
        self._ser = ser
        self._queue = asyncio.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._read_loop, args=(ser, asyncio.get_running_loop(), self._queue, self._stop),
            name=f"movecoach-serial-{self.port}", daemon=True,
        )
        self._thread.start()

    @staticmethod
    def _read_loop(ser: Any, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any],
                   stop: threading.Event) -> None:
        def deliver(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody is listening any more
                stop.set()

        try:
            while not stop.is_set():
                data = ser.read(ser.in_waiting or 1)
                if data:
                    deliver((time.time(), bytes(data)))
        except Exception as exc:  # noqa: BLE001 - any failure of the port means the link is gone
            if not stop.is_set():
                deliver(_Lost(str(exc) or type(exc).__name__))

    async def _close(self) -> None:
        ser, thread, self._ser, self._thread = self._ser, self._thread, None, None
        self._stop.set()
        if ser is None:
            return
        try:
            ser.cancel_read()
        except Exception:  # noqa: BLE001 - not every platform/port supports it
            pass
        if thread is not None:
            await asyncio.to_thread(thread.join, 2 * _READ_POLL_S + 1.0)
        try:
            ser.close()
        except Exception as exc:  # noqa: BLE001 - closing a vanished device can fail; ignore
            log.debug("closing %s: %s", self.port, exc)

    async def chunks(self) -> AsyncIterator[bytes]:
        queue = self._queue
        if self._ser is None:
            raise LinkLost(f"{self.url} is not open")
        while True:
            item = await queue.get()
            if isinstance(item, _Lost):
                raise LinkLost(f"serial port {self.port}: {item.reason}")
            self.last_arrival_s, data = item
            yield data

    async def send_control(self, data: bytes) -> None:
        ser = self._ser
        if ser is None:
            raise LinkLost(f"{self.url} is not open")
        frame = frame_control(data)
        try:
            await asyncio.to_thread(ser.write, frame)
        except Exception as exc:  # noqa: BLE001 - SerialException, SerialTimeoutException, OSError
            raise LinkLost(f"serial port {self.port}: write failed: {exc}") from exc
