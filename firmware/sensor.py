"""The IMU as the board runs it: on only while streaming, read about once a packet.

Off, an LSM6DSOX draws 3 uA instead of 0.55 mA (an LSM6DS3TR-C: 0.9 mA) and nothing polls its
FIFO; while streaming the FIFO is read about once a packet (19 samples: every 183 ms at 104 Hz)
and the CPU idles in between. The sample clock keeps wall time across the off spells, so the
packets after a restart carry the real elapsed time.

`drain()` measures the time since the previous drain, so the samples a FIFO overrun cost are
counted even after passes that left the FIFO alone (while the radio was congested).
"""

import time

from .sampler import drain_fifo

IDLE_MS = 200  # not streaming: how often the sensor task looks whether a host started it
POLL_MIN_MS = 20  # FIFO reads: about once a packet, within these bounds
POLL_MAX_MS = 250  # (the LSM6DSOX FIFO holds 1.2 s at 208 Hz, 4.9 s at 52 Hz)


class Sensor:
    def __init__(self, imu, sampler):
        self.imu = imu
        self.sampler = sampler
        self.on = False
        self.half_fifo = imu.FIFO_WORDS // 2
        self._off_ms = time.ticks_ms()
        self._drained_us = time.ticks_us()

    def follow(self):
        """Switch the IMU on or off to match the sampler; True while it is on."""
        s = self.sampler
        if s.streaming and not self.on:
            self.imu.configure(s.rate_hz, s.acc_fs_g, s.gyr_fs_dps)
            s.clock.advance_ms(time.ticks_diff(time.ticks_ms(), self._off_ms))
            self._drained_us = time.ticks_us()
            self.on = True
        elif self.on and not s.streaming:
            self.drain()  # what it took since the last read still moves the clock on
            self.imu.power_down()
            self._off_ms = time.ticks_ms()
            self.on = False
        return self.on

    def serve(self, link):
        """One pass of the BLE sensor task; returns the ms to sleep until the next one.

        While the radio is congested (link.pump() False: packets wait in its backlog) the
        samples stay in the FIFO until it is half full, then are read anyway: the backlog then
        drops its oldest packet, which the host counts, and the FIFO never overruns.
        Allocates nothing (checked under micropython.heap_lock by the tests)."""
        if not self.follow():
            return IDLE_MS
        if link.pump() or self.imu.fifo_words() >= self.half_fifo:
            self.drain()
        return self.poll_ms()

    def drain(self):
        now = time.ticks_us()
        n = drain_fifo(self.sampler, self.imu, time.ticks_diff(now, self._drained_us))
        self._drained_us = now
        return n

    def due(self):
        """True once a packet's worth of time has passed since the last drain."""
        return time.ticks_diff(time.ticks_us(), self._drained_us) >= self.poll_ms() * 1000

    def poll_ms(self):
        """The time one packet takes to fill, within the poll bounds."""
        s = self.sampler
        ms = s.packer.capacity * 1000 // s.rate_hz
        return POLL_MIN_MS if ms < POLL_MIN_MS else POLL_MAX_MS if ms > POLL_MAX_MS else ms

    def reconfigure(self, rate_hz, acc_fs_g, gyr_fs_dps):
        """Controller.on_settings: pack what the FIFO holds, then switch the chip (if it is on;
        off, the sampler keeps the settings for the next start). No sample is lost: the chip
        stops batching before the FIFO is read for the last time, so that read takes every
        sample made at the old settings, packed with the old rate and scale (the Controller
        switches the sampler after this); then the chip batches at the new ones. ValueError
        before anything changes."""
        if self.on:
            imu = self.imu
            imu.check(rate_hz, acc_fs_g, gyr_fs_dps)
            self.drain()  # most of it while the chip still batches: it stops for a few words
            imu.pause_fifo()
            try:
                self.drain()  # what came in meanwhile; nothing more can
            except OSError:  # the bus: batch on as before, the words wait for the next drain
                imu.resume_fifo(imu.rate_hz, imu.acc_fs_g, imu.gyr_fs_dps)
                raise
            imu.resume_fifo(rate_hz, acc_fs_g, gyr_fs_dps)
