"""Emulated ST LSM6DSOX and LSM6DS3TR-C IMUs on an I2C bus, for running the firmware's driver.

The registers the driver uses (WHO_AM_I, CTRL1_XL / CTRL2_G / CTRL3_C, the FIFO controls,
FIFO_STATUS1..3, the FIFO data output) behave as the datasheets say (LSM6DSOX DS12814,
LSM6DS3TR-C DS12336):

- The FIFO holds its real depth: LSM6DSOX 3 KB = 512 words of tag + 6 bytes (without the
  compression the driver leaves off), LSM6DS3TR-C 4 KB = 2048 16-bit words. In continuous mode a
  full FIFO overwrites its oldest word and sets FIFO_OVR (FIFO_STATUS2 bit 6), which reads 1 until
  a word has been read out. Bypass mode empties it.
- LSM6DSOX words carry TAG_SENSOR (bits 7:3: 1 gyro, 2 accelerometer) and TAG_CNT (bits 2:1: the
  2-bit time-slot counter, the same for the gyro and accelerometer words of one sample); the
  parity bit is left 0. A sample is written gyro word first. LSM6DS3TR-C words follow the pattern
  Gx Gy Gz XLx XLy XLz; FIFO_STATUS3 gives the pattern index of the next word to be read.
- CTRL1_XL / CTRL2_G ODR code 0 is power-down: nothing is batched. Nor is anything batched while
  the FIFO does not take the sensors (LSM6DSOX FIFO_CTRL3 BDR_XL / BDR_GY 0000: "not batched";
  LSM6DS3TR-C FIFO_CTRL3 DEC_FIFO_XL / DEC_FIFO_GYRO 000: "not in FIFO"); the words already in
  the FIFO stay there to be read. (Only both sensors batched at one rate, or neither, is
  modelled: the driver uses nothing else.)

Samples come either from `push()` (a test decides each one) or, with `realtime=True`, from the
sample clock: sample k is due at k / BDR seconds of ``clock`` after the FIFO started, and
holds ax = gx = k & 0x7FFF (so the host can check order, loss and acc/gyro pairing), ay = 0,
az = 1 g at the accelerometer's full scale when the sample was made (CTRL1_XL FS_XL: 8197 at
4 g, 2049 at 16 g; the datasheet sensitivities), gy = 1, gz = 2. ``clock`` (a function giving
microseconds; ``time.ticks_us`` by default) is the time that sample clock runs on: a test can
give it a clock of its own to decide when samples come due. Reading allocates nothing (a
preallocated ring), so the firmware's read path can be checked under ``micropython.heap_lock``.

Faults for the tests (`faults`, a dict): ``"status_error_at": n`` / ``"data_error_at": n`` raise
OSError(ETIMEDOUT), as a stuck bus does on the ESP32, at the n-th FIFO status / data read (the
word is not taken out); ``"hang_at": n`` never returns from the n-th FIFO status read;
``"hang_whoami": 1`` never returns from WHO_AM_I (a hung boot).
"""

import errno
import struct

try:
    from time import sleep_ms, ticks_diff, ticks_us
except ImportError:  # CPython: push() only
    sleep_ms = ticks_diff = ticks_us = None

WHO_AM_I = 0x0F
CTRL1_XL = 0x10
CTRL2_G = 0x11
CTRL3_C = 0x12
FIFO_STATUS1 = 0x3A
DS3_FIFO_STATUS3 = 0x3C
DS3_FIFO_DATA_OUT_L = 0x3E
DSOX_FIFO_DATA_OUT_TAG = 0x78
FIFO_CTRL_MODE = 0x0A  # DSOX FIFO_CTRL4 / DS3 FIFO_CTRL5: FIFO_MODE in bits 2:0
DSOX_FIFO_CTRL3 = 0x09  # BDR_GY (7:4), BDR_XL (3:0)
DS3_FIFO_CTRL3 = 0x08  # DEC_FIFO_GYRO (5:3), DEC_FIFO_XL (2:0)
MODE_CONTINUOUS = 6
FIFO_OVR = 0x40

CHIPS = {
    # chip: (WHO_AM_I, FIFO words, bytes per word, DIFF_FIFO high-bit mask in FIFO_STATUS2)
    "dsox": (0x6C, 512, 7, 0x03),
    "ds3": (0x6A, 2048, 2, 0x07),
}
TAG_GYRO = 0x01
TAG_ACC = 0x02
ODR_DHZ = (0, 125, 260, 520, 1040, 2080, 4160, 8330)  # ODR / BDR code -> rate in 0.1 Hz
ONE_G = (16393, 2049, 8197, 4098)  # FS_XL code (2, 16, 4, 8 g) -> counts of 1 g (61..488 ug/LSB)


class LSM6:
    """One chip at `address`; it is also a bus of its own (readfrom_mem_into / writeto_mem)."""

    def __init__(self, chip="dsox", address=0x6A, fifo_words=None, realtime=False, faults=None,
                 on_power=None, clock=None):
        who, depth, word, mask = CHIPS[chip]
        self.chip = chip
        self.address = address
        self.capacity = fifo_words or depth
        self.word_size = word
        self.diff_mask = mask
        self.regs = bytearray(128)
        self.regs[WHO_AM_I] = who
        self.ring = bytearray(self.capacity * word)
        self.head = 0
        self.count = 0
        self.ovr = False
        self.pattern = 0  # DS3: pattern index of the word at the head
        self.k = 0  # samples made
        self.overwritten = 0  # words lost to overruns
        self.status_reads = 0
        self.data_reads = 0
        self.writes = []
        self.realtime = realtime
        self.clock = clock or ticks_us
        self.faults = faults or {}
        self.on_power = on_power  # on_power(accel ODR code, gyro ODR code) after a change
        self._t_us = 0
        self._carry = 0

    # --- state --------------------------------------------------------------------------------
    def batching(self):
        """True while samples go into the FIFO: continuous mode, both sensors on and batched."""
        r = self.regs
        on = r[CTRL1_XL] >> 4 and r[CTRL2_G] >> 4 and r[FIFO_CTRL_MODE] & 7 == MODE_CONTINUOUS
        if self.chip == "dsox":
            return bool(on and r[DSOX_FIFO_CTRL3] & 0x0F and r[DSOX_FIFO_CTRL3] >> 4)
        return bool(on and r[DS3_FIFO_CTRL3] & 0x07 and r[DS3_FIFO_CTRL3] & 0x38)

    def bdr_dhz(self):
        """The FIFO's batch rate in 0.1 Hz (DSOX: BDR_XL; DS3: ODR_FIFO)."""
        r = self.regs
        code = r[DSOX_FIFO_CTRL3] & 0x0F if self.chip == "dsox" else (r[FIFO_CTRL_MODE] >> 3) & 0x0F
        return ODR_DHZ[code] if code < len(ODR_DHZ) else 0

    # --- filling the FIFO ---------------------------------------------------------------------
    def _drop_oldest(self):
        self.head = (self.head + 1) % self.capacity
        self.count -= 1
        self.overwritten += 1
        self.ovr = True
        if self.chip == "ds3":
            self.pattern = (self.pattern + 1) % 6

    def _put_dsox(self, tag, x, y, z):
        """Append one tagged word; the oldest goes if the FIFO is full (continuous mode)."""
        if self.count == self.capacity:
            self._drop_oldest()
        struct.pack_into("<Bhhh", self.ring, ((self.head + self.count) % self.capacity) * 7,
                         tag, x, y, z)
        self.count += 1

    def _put_ds3(self, v):
        if self.count == self.capacity:
            self._drop_oldest()
        struct.pack_into("<h", self.ring, ((self.head + self.count) % self.capacity) * 2, v)
        self.count += 1

    def _put_sample(self, ax, ay, az, gx, gy, gz, acc_first=False, cnt=None):
        if self.chip == "dsox":
            c = ((self.k if cnt is None else cnt) & 3) << 1
            if acc_first:
                self._put_dsox((TAG_ACC << 3) | c, ax, ay, az)
            self._put_dsox((TAG_GYRO << 3) | c, gx, gy, gz)
            if not acc_first:
                self._put_dsox((TAG_ACC << 3) | c, ax, ay, az)
        else:
            self._put_ds3(gx)
            self._put_ds3(gy)
            self._put_ds3(gz)
            self._put_ds3(ax)
            self._put_ds3(ay)
            self._put_ds3(az)
        self.k += 1

    def push_gyro_word(self, gyr):
        """Only the gyroscope word of the next sample (its accelerometer word comes later)."""
        if self.batching() and self.chip == "dsox":
            self._put_dsox((TAG_GYRO << 3) | ((self.k & 3) << 1), gyr[0], gyr[1], gyr[2])

    def push(self, acc, gyr, acc_first=False, cnt=None):
        """One sample (int16 x, y, z each) into the FIFO, if batching is on. cnt: the DSOX
        TAG_CNT to stamp (default: the sample number)."""
        if self.batching():
            self._put_sample(acc[0], acc[1], acc[2], gyr[0], gyr[1], gyr[2], acc_first, cnt)

    def make(self):
        """The next sample of the standard stream (ax = gx = k), if batching is on; no
        allocation."""
        if self.batching():
            k = self.k & 0x7FFF
            self._put_sample(k, 0, ONE_G[(self.regs[CTRL1_XL] >> 2) & 3], k, 1, 2)

    def _catch_up(self):
        """Real time: batch every sample that has come due since the last look."""
        now = self.clock()
        if not self.batching():
            self._t_us = now
            self._carry = 0
            return
        self._carry += ticks_diff(now, self._t_us) * self.bdr_dhz()
        self._t_us = now
        while self._carry >= 10_000_000:
            self._carry -= 10_000_000
            self.make()

    def _empty(self):
        self.head = self.count = self.pattern = 0
        self.ovr = False

    # --- the bus ------------------------------------------------------------------------------
    def readfrom_mem_into(self, addr, reg, buf):
        if addr != self.address:
            raise OSError(errno.ENODEV)  # no ACK, as machine.I2C raises
        if reg == WHO_AM_I and self.faults.get("hang_whoami"):
            while True:  # a hung boot: only the watchdog gets the board out of here
                sleep_ms(50)
        if reg == FIFO_STATUS1:
            self.status_reads += 1
            if self.status_reads == self.faults.get("status_error_at"):
                raise OSError(errno.ETIMEDOUT)
            if self.status_reads == self.faults.get("hang_at"):
                while True:
                    sleep_ms(50)
            if self.realtime:
                self._catch_up()
            buf[0] = self.count & 0xFF
            if len(buf) > 1:
                buf[1] = (FIFO_OVR if self.ovr else 0) | ((self.count >> 8) & self.diff_mask)
        elif self.chip == "dsox" and reg == DSOX_FIFO_DATA_OUT_TAG:
            self._read_word(buf, 7)
        elif self.chip == "ds3" and reg == DS3_FIFO_DATA_OUT_L:
            self._read_word(buf, 2)
            self.pattern = (self.pattern + 1) % 6
        elif self.chip == "ds3" and reg == DS3_FIFO_STATUS3:
            buf[0] = self.pattern
        else:
            for i in range(len(buf)):
                buf[i] = self.regs[reg + i]

    def _read_word(self, buf, n):
        self.data_reads += 1
        if self.data_reads == self.faults.get("data_error_at"):
            raise OSError(errno.ETIMEDOUT)
        if self.count == 0:  # reading an empty FIFO gives zeros (tag 0: no sensor)
            for i in range(n):
                buf[i] = 0
            return
        o = self.head * self.word_size
        ring = self.ring
        for i in range(n):
            buf[i] = ring[o + i]
        self.head = (self.head + 1) % self.capacity
        self.count -= 1
        self.ovr = False

    def writeto_mem(self, addr, reg, buf):
        if addr != self.address:
            raise OSError(errno.ENODEV)
        value = buf[0]
        self.writes.append((reg, value))
        before = (self.regs[CTRL1_XL] >> 4, self.regs[CTRL2_G] >> 4)
        if self.realtime:
            self._catch_up()  # samples due under the old settings
        self.regs[reg] = value
        if reg == CTRL3_C and value & 1:  # SW_RESET: power-on values, sensors off
            who = self.regs[WHO_AM_I]
            self.regs = bytearray(128)
            self.regs[WHO_AM_I] = who
            self._empty()
        if reg == FIFO_CTRL_MODE and value & 7 == 0:  # bypass mode empties the FIFO
            self._empty()
        after = (self.regs[CTRL1_XL] >> 4, self.regs[CTRL2_G] >> 4)
        if after != before and self.on_power is not None:
            self.on_power(after[0], after[1])


class MAX17048:
    """The fuel gauge on the Adafruit ESP32-S3 Feather (0x36): SOC register 0x04, percent."""

    def __init__(self, percent=87, address=0x36):
        self.address = address
        self.percent = percent

    def readfrom_mem_into(self, addr, reg, buf):
        if reg == 0x04:  # SOC: high byte percent, low byte 1/256 %
            buf[0] = self.percent
            if len(buf) > 1:
                buf[1] = 0
        else:
            for i in range(len(buf)):
                buf[i] = 0

    def writeto_mem(self, addr, reg, buf):
        pass
