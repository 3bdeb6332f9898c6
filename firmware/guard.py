"""Keeping the wearable alive: a task that fails is restarted, a hung loop is reset by the
watchdog, and a board that keeps hanging stops resetting itself (no boot loop).

- :func:`supervise` runs one of the firmware's tasks (sensor, link, control, battery) for good:
  an exception (an I2C error, a dropped link at the wrong moment) is logged with its traceback
  and the task starts again after a pause that doubles from 0.5 s up to 8 s. One task failing
  never stops the others.
- :class:`Watchdog` holds the hardware watchdog (machine.WDT: the ESP32 port has one, the nRF
  port has none). The event loop feeds it; if the loop hangs (a driver that never returns, a
  busy loop) the board resets after ``timeout_ms`` and starts streaming again.
- A watchdog reset is counted in a small file. After MAX_RESETS of them in a row, each before
  the board had run ``healthy_s`` seconds, the next boot runs without the watchdog ("safe
  mode"): a fault that hangs the board at every boot then leaves it hung, with the REPL still
  reachable, instead of resetting it for ever. A power-on or a reset by hand clears the count;
  so does running ``healthy_s`` seconds.
"""

import asyncio
import time

MAX_RESETS = 3  # watchdog resets in a row before a boot goes without the watchdog
_BACKOFF_MS = 500  # first pause before a failed task starts again; doubles up to _MAX_BACKOFF_MS
_MAX_BACKOFF_MS = 8000
_STABLE_MS = 30_000  # a task that ran this long before failing starts again after _BACKOFF_MS


async def supervise(name, start, log):
    """Run the coroutine start() returns, again and again: a failure is logged, never fatal."""
    delay = _BACKOFF_MS
    while True:
        began = time.ticks_ms()
        try:
            await start()
            log("task", name, "ended; starting it again")
        except Exception as exc:  # noqa: BLE001 - containing every fault is the point
            log("E: task", name, "failed:", repr(exc))
            log.exception(exc)
        if time.ticks_diff(time.ticks_ms(), began) > _STABLE_MS:
            delay = _BACKOFF_MS
        await asyncio.sleep_ms(delay)
        delay = min(delay * 2, _MAX_BACKOFF_MS)


class Watchdog:
    """The hardware watchdog and the count of watchdog resets in a row (see the module doc).

    timeout_ms: None for no watchdog. state_path: the file holding the count (on the board's
    flash; written only after a watchdog reset and when the count is cleared).
    """

    def __init__(self, timeout_ms, state_path, log, healthy_s=60):
        import machine

        self.log = log
        self.timeout_ms = timeout_ms
        self.state_path = state_path
        self.healthy_ms = int(healthy_s * 1000)
        self.wdt = None
        self._boot_ms = time.ticks_ms()
        self.resets = self._count_resets(machine)
        self.safe_mode = self.resets >= MAX_RESETS
        if self.safe_mode:
            log("E: the watchdog reset the board", self.resets, "times in a row, each soon after "
                "boot: safe mode, running without the watchdog (the REPL stays reachable). "
                "Power it off and on once the fault is fixed.")

    def _count_resets(self, machine):
        previous = self._read()
        if machine.reset_cause() != getattr(machine, "WDT_RESET", None):
            if previous:
                self._write(0)  # a power-on or a reset by hand: a fresh start
            return 0
        count = previous + 1
        self._write(count)
        self.log("W: reset by the watchdog (%d in a row)" % count)
        return count

    def _read(self):
        try:
            with open(self.state_path) as f:
                return int(f.read() or 0)
        except (OSError, ValueError):
            return 0

    def _write(self, count):
        try:
            if count:
                with open(self.state_path, "w") as f:
                    f.write(str(count))
            else:
                import os

                os.remove(self.state_path)
        except OSError as exc:
            self.log("W: cannot keep the watchdog count in", self.state_path, exc)

    def start(self):
        """Start the hardware watchdog, where there is one and it is wanted."""
        if self.timeout_ms is None or self.safe_mode:
            return
        import machine

        if not hasattr(machine, "WDT"):
            self.log("no hardware watchdog on this port")
            return
        self.wdt = machine.WDT(timeout=self.timeout_ms)
        self.log("watchdog on:", self.timeout_ms, "ms")

    def feed(self):
        if self.wdt is not None:
            self.wdt.feed()
        if self.resets and time.ticks_diff(time.ticks_ms(), self._boot_ms) > self.healthy_ms:
            self.resets = 0  # it ran well: the next watchdog reset counts from one again
            self._write(0)

    async def task(self):
        """Feed the watchdog from the event loop: it only runs while the loop is not hung."""
        period = self.timeout_ms // 4 if self.wdt is not None else 1000
        while True:
            self.feed()
            await asyncio.sleep_ms(period)
