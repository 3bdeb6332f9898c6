"""The sampler: turns a stream of int16 samples into numbered, timestamped packets.

Hardware-free (it runs unchanged on the unix port): a driver or simulator writes samples into
the :class:`~firmware.packets.Packer`'s views and calls :meth:`Sampler.committed`, or calls
:meth:`Sampler.add`. The sensor clock is the sample clock: sample k is stamped
floor(k * 1e6 / rate) microseconds after the clock's origin, so the host rebuilds every sample
time exactly from a packet's t0 and the rate. The loop allocates nothing (checked under
``micropython.heap_lock`` by the tests).

:func:`fixed_rate_loop` drives a polled sensor (no FIFO) on ticks_us deadlines.
"""

from . import protocol

try:
    from time import ticks_add, ticks_diff, ticks_us
except ImportError:  # CPython: only the hardware-free parts are used there
    ticks_add = ticks_diff = ticks_us = None


class SampleClock:
    """A u32 microsecond clock kept as two u16 halves (no big ints on 32-bit boards)."""

    def __init__(self, rate_hz):
        self.lo = 0
        self.hi = 0
        self.set_rate(rate_hz)

    def set_rate(self, rate_hz):
        self.rate_hz = rate_hz
        self._q = 1000000 // rate_hz
        self._r = 1000000 % rate_hz
        self._frac = 0

    def advance(self, n):
        """Move on by n sample periods (n * 1e6 / rate us, remainder carried exactly)."""
        f = self._frac + n * self._r
        us = n * self._q + f // self.rate_hz
        self._frac = f % self.rate_hz
        self._add_us(us)

    def _add_us(self, us):
        lo = self.lo + us
        if lo >= 65536:
            self.hi = (self.hi + (lo >> 16)) & 0xFFFF
            lo &= 0xFFFF
        self.lo = lo

    def advance_ms(self, ms):
        """Move on by a wall-clock time in ms (sensor idle while stopped)."""
        while ms > 0:
            step = ms if ms < 500000 else 500000
            self._add_us(step * 1000)
            ms -= step

    def value(self):
        """The time as an int (allocates a big int on 32-bit boards: not for the hot loop)."""
        return (self.hi << 16) | self.lo


class Sampler:
    """Streaming state: settings, sequence number, sensor clock, the packet being filled.

    send(packet) is called with a memoryview of each finished packet; it must use or copy it
    before returning. While stopped, samples still advance the clock (the sensor keeps time)
    but are dropped.
    """

    def __init__(self, packer, send, rate_hz=protocol.DEFAULT_RATE_HZ,
                 acc_fs_g=protocol.DEFAULT_ACC_FS_G, gyr_fs_dps=protocol.DEFAULT_GYR_FS_DPS,
                 simulated=False):
        if rate_hz not in protocol.RATES_HZ:
            raise ValueError("rate must be one of 52, 104, 208 Hz")
        if acc_fs_g not in protocol.ACC_FS_G or gyr_fs_dps not in protocol.GYR_FS_DPS:
            raise ValueError("unsupported full scale")
        self.packer = packer
        self.send = send
        self.rate_hz = rate_hz
        self.acc_fs_g = acc_fs_g
        self.gyr_fs_dps = gyr_fs_dps
        self.clock = SampleClock(rate_hz)
        self.seq = 0
        self.streaming = False
        self.packets_sent = 0
        self._base_flags = protocol.FLAG_SIMULATED if simulated else 0
        self._flags = self._base_flags | protocol.FLAG_RESTART
        self._t0_lo = 0
        self._t0_hi = 0

    # --- control (allocation allowed, never in the hot loop) ----------------------------------
    def start(self):
        if not self.streaming:
            self.packer.reset()
            self._flags |= protocol.FLAG_RESTART
            self.streaming = True

    def stop(self):
        if self.streaming:
            self.flush()
            self.streaming = False

    def set_rate(self, rate_hz):
        if rate_hz not in protocol.RATES_HZ:
            raise ValueError("rate must be one of 52, 104, 208 Hz")
        self.flush()
        self.rate_hz = rate_hz
        self.clock.set_rate(rate_hz)

    def set_range(self, acc_fs_g, gyr_fs_dps):
        if acc_fs_g not in protocol.ACC_FS_G or gyr_fs_dps not in protocol.GYR_FS_DPS:
            raise ValueError("unsupported full scale")
        self.flush()
        self.acc_fs_g = acc_fs_g
        self.gyr_fs_dps = gyr_fs_dps

    def set_packer(self, packer):
        """Switch packet size (e.g. after an MTU exchange); the partial packet is sent first."""
        self.flush()
        self.packer = packer

    def lost(self, n):
        """The sensor dropped n samples (FIFO overrun): close the packet, keep time honest."""
        self.flush()
        self.clock.advance(n)
        self._flags |= protocol.FLAG_OVERRUN

    def flush(self):
        """Send the partly filled packet now (flagged FLAG_FLUSH)."""
        if self.packer.count:
            self._flags |= protocol.FLAG_FLUSH
            self._emit()

    # --- hot path -----------------------------------------------------------------------------
    def committed(self, n):
        """n samples were written into packer views from packer.count on; pack or drop them."""
        p = self.packer
        if not self.streaming:
            self.clock.advance(n)
            return
        if p.count == 0:
            self._t0_lo = self.clock.lo
            self._t0_hi = self.clock.hi
        self.clock.advance(n)
        if p.commit(n):
            self._emit()

    def add(self, ax, ay, az, gx, gy, gz):
        """One sample of int16 counts."""
        if not self.streaming:
            self.clock.advance(1)
            return
        p = self.packer
        if p.count == 0:
            self._t0_lo = self.clock.lo
            self._t0_hi = self.clock.hi
        self.clock.advance(1)
        if p.add(ax, ay, az, gx, gy, gz):
            self._emit()

    def _emit(self):
        pkt = self.packer.finish(self.seq, self._t0_lo, self._t0_hi, self._flags, self.rate_hz,
                                 self.acc_fs_g, self.gyr_fs_dps)
        self.send(pkt)
        self.seq = (self.seq + 1) & 0xFFFF
        self.packets_sent += 1
        self._flags = self._base_flags
        self.packer.reset()


def fixed_rate_loop(sampler, imu, should_run, idle=None):
    """Poll imu.read_raw_into(acc_view, gyr_view) at the sampler's rate on ticks_us deadlines.

    For sensors or ports without a usable FIFO. Deadlines advance by whole periods (with the
    remainder carried), so the rate does not drift; if the loop falls more than a period behind,
    the missed samples are reported as lost and the schedule skips ahead. idle(us) is called
    with the time left until the next deadline (e.g. time.sleep_us, or an asyncio yield).
    """
    next_t = ticks_us()
    frac = 0
    while should_run():
        rate = sampler.rate_hz
        q = 1000000 // rate
        r = 1000000 % rate
        late = ticks_diff(ticks_us(), next_t)
        if late >= q:
            missed = late // q
            sampler.lost(missed)
            next_t = ticks_add(next_t, missed * q)
        p = sampler.packer
        imu.read_raw_into(p.acc_views[p.count], p.gyr_views[p.count])
        sampler.committed(1)
        frac += r
        step = q
        if frac >= rate:
            frac -= rate
            step += 1
        next_t = ticks_add(next_t, step)
        wait = ticks_diff(next_t, ticks_us())
        if wait > 0 and idle is not None:
            idle(wait)


def drain_fifo(sampler, imu, elapsed_us=0):
    """Move every complete sample waiting in the IMU's FIFO into packets; returns the count.

    elapsed_us: time since the previous drain. If the FIFO overflowed meanwhile, the samples it
    dropped (elapsed time x rate - samples still in the FIFO) are reported to the sampler as
    lost before the survivors are packed, so the host's timeline stays right and counts them.
    """
    total = 0
    hs = protocol.HEADER_SIZE
    ss = protocol.SAMPLE_SIZE
    while True:
        p = sampler.packer
        room = p.capacity - p.count
        seen = imu.overruns
        n = imu.read_fifo_into(p.buf, hs + p.count * ss, room)
        if imu.overruns != seen:  # the driver stopped before reading: account for the hole
            lost = (elapsed_us * sampler.rate_hz + 500000) // 1000000 - imu.pending_samples
            sampler.lost(lost if lost > 0 else 0)
            continue
        if n == 0:
            return total
        sampler.committed(n)
        total += n
        if n < room:
            return total
