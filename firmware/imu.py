"""Register-level drivers for ST's LSM6DSOX and LSM6DS3TR-C IMUs over an injected machine.I2C.

Both chips sample accelerometer and gyroscope at the same output data rate into an on-chip FIFO
that holds the samples while the CPU or the radio is busy: LSM6DSOX 3 KB = 512 words of a tag
and 6 bytes (its "up to 9 KB" needs the FIFO compression, which this driver leaves off), so
256 samples: 2.46 s at 104 Hz, 1.23 s at 208 Hz; LSM6DS3TR-C 4 KB = 2048 16-bit words, 341
samples: 3.3 s at 104 Hz. Raw int16 counts come out, little-endian, straight into the packet
buffer, in the wire order ax ay az gx gy gz; the scales are the datasheet sensitivities for the
configured full scales (protocol.ACC_UG_PER_LSB: micro-g per count, GYR_UDPS_PER_LSB:
micro-degrees/s per count).

Note: micropython-lib's lsm6dsox driver scales the gyro by full_scale/32768; the datasheet
sensitivity is 14% larger at every range (e.g. 70 mdps/LSB at 2000 dps, not 61), which this
driver and the host decoder use.

Usage::

    i2c = machine.I2C(0, scl=..., sda=..., freq=400_000)
    imu = LSM6DSOX(i2c)                      # OSError if no LSM6DSOX answers at 0x6A
    imu.configure(rate_hz=104, acc_fs_g=4, gyr_fs_dps=500)
    n = imu.read_fifo_into(packer.buf, offset, max_samples)   # whole samples only

    # a new rate or full scale while streaming, losing no sample (firmware/sensor.py):
    imu.pause_fifo()                          # nothing new enters; what is there stays
    ... read the FIFO empty: every word in it was taken at the old settings ...
    imu.resume_fifo(rate_hz=208, acc_fs_g=4, gyr_fs_dps=500)
"""

try:
    from micropython import const
except ImportError:  # CPython (tests, docs)

    def const(x):
        return x


# common to both chips
_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)
_CTRL2_G = const(0x11)
_CTRL3_C = const(0x12)
_OUTX_L_G = const(0x22)
_OUTX_L_XL = const(0x28)
_FIFO_STATUS1 = const(0x3A)  # FIFO_STATUS2 (0x3B) follows: both read in one transfer

# LSM6DSOX FIFO
_DSOX_FIFO_CTRL1 = const(0x07)
_DSOX_FIFO_CTRL2 = const(0x08)
_DSOX_FIFO_CTRL3 = const(0x09)
_DSOX_FIFO_CTRL4 = const(0x0A)
_DSOX_FIFO_DATA_OUT_TAG = const(0x78)
_DSOX_TAG_GYRO = const(0x01)
_DSOX_TAG_ACC = const(0x02)
_DSOX_TAG_CNT = const(0x06)  # FIFO_DATA_OUT_TAG bits 2:1: the sample's time slot

# LSM6DS3TR-C FIFO
_DS3_FIFO_CTRL1 = const(0x06)
_DS3_FIFO_CTRL2 = const(0x07)
_DS3_FIFO_CTRL3 = const(0x08)
_DS3_FIFO_CTRL5 = const(0x0A)
_DS3_FIFO_STATUS3 = const(0x3C)
_DS3_FIFO_DATA_OUT_L = const(0x3E)

_BDU_IF_INC = const(0x44)
_SW_RESET = const(0x01)
_FIFO_MODE_BYPASS = const(0x00)
_FIFO_MODE_CONTINUOUS = const(0x06)
_FIFO_OVR = const(0x40)  # FIFO_STATUS2: overrun (both chips)

# tables: value -> register code
ODR_CODES = {52: 0x3, 104: 0x4, 208: 0x5}
ACC_FS_CODES = {2: 0x0, 4: 0x2, 8: 0x3, 16: 0x1}
GYR_FS_CODES = {125: 0x2, 250: 0x0, 500: 0x4, 1000: 0x8, 2000: 0xC}  # FS_G << 2 | FS_125 << 1


class _LSM6:
    """Shared parts: chip check, configuration, one-shot reads."""

    CHIP_ID = 0
    NAME = ""
    FIFO_WORDS = 0

    def __init__(self, i2c, address=0x6A):
        self.i2c = i2c
        self.address = address
        self._b1 = bytearray(1)
        self._st = bytearray(2)  # FIFO_STATUS1, FIFO_STATUS2
        self._scratch = bytearray(7)
        try:
            chip = self._read_u8(_WHO_AM_I)
        except OSError:
            raise OSError("no %s answers on I2C address 0x%02x" % (self.NAME, address)) from None
        if chip != self.CHIP_ID:
            raise OSError("device at 0x%02x is not a %s (WHO_AM_I 0x%02x, expected 0x%02x)"
                          % (address, self.NAME, chip, self.CHIP_ID))
        self.rate_hz = 0
        self.acc_fs_g = 0
        self.gyr_fs_dps = 0
        self.overruns = 0
        self.pending_samples = 0  # samples in the FIFO when an overrun was reported
        self._ovr_reported = False
        self._acc_ready = False
        self._gyr_ready = False
        self._cnt = 0  # TAG_CNT of the half sample waiting for its partner
        self._half_buf = None  # where that half sample waits (a packet buffer, an offset)
        self._half_off = 0

    def _read_u8(self, reg):
        self.i2c.readfrom_mem_into(self.address, reg, self._b1)
        return self._b1[0]

    def _write_u8(self, reg, value):
        self._b1[0] = value
        self.i2c.writeto_mem(self.address, reg, self._b1)

    def reset(self):
        """Software reset; registers return to power-on values (sensor powered down)."""
        self._write_u8(_CTRL3_C, _SW_RESET)
        for _ in range(100):
            if not self._read_u8(_CTRL3_C) & _SW_RESET:
                break

    @staticmethod
    def check(rate_hz, acc_fs_g, gyr_fs_dps):
        """ValueError for a rate (52/104/208 Hz) or full scale outside the tables."""
        if rate_hz not in ODR_CODES:
            raise ValueError("rate must be one of 52, 104, 208 Hz")
        if acc_fs_g not in ACC_FS_CODES:
            raise ValueError("acc full scale must be one of 2, 4, 8, 16 g")
        if gyr_fs_dps not in GYR_FS_CODES:
            raise ValueError("gyro full scale must be one of 125, 250, 500, 1000, 2000 dps")

    def configure(self, rate_hz=104, acc_fs_g=4, gyr_fs_dps=500):
        """Start both sensors at rate_hz (52/104/208) with the full scales (g, degrees/s) and
        stream them into the FIFO, which starts empty. ValueError (see check) before any write."""
        self.check(rate_hz, acc_fs_g, gyr_fs_dps)
        self._write_u8(_CTRL3_C, _BDU_IF_INC)
        odr = self._sensors(rate_hz, acc_fs_g, gyr_fs_dps)
        self._fifo_setup(odr)

    def resume_fifo(self, rate_hz, acc_fs_g, gyr_fs_dps):
        """After pause_fifo() and reading the FIFO empty: both sensors to the new rate and full
        scales, batched again (still continuous mode), the FIFO not emptied. The samples made
        while it was paused (a few I2C transfers) were never in it, so none is lost. A half
        sample left from before waits no more (its partner was not batched). ValueError (see
        check) before any write."""
        self.check(rate_hz, acc_fs_g, gyr_fs_dps)
        self._batch(self._sensors(rate_hz, acc_fs_g, gyr_fs_dps))
        self._acc_ready = self._gyr_ready = False

    def _sensors(self, rate_hz, acc_fs_g, gyr_fs_dps):
        """Write both sensors' ODR and full scale; returns the ODR code."""
        odr = ODR_CODES[rate_hz]
        self._write_u8(_CTRL1_XL, (odr << 4) | (ACC_FS_CODES[acc_fs_g] << 2))
        self._write_u8(_CTRL2_G, (odr << 4) | GYR_FS_CODES[gyr_fs_dps])
        self.rate_hz = rate_hz
        self.acc_fs_g = acc_fs_g
        self.gyr_fs_dps = gyr_fs_dps
        return odr

    def power_down(self):
        """Both sensors off, FIFO bypassed (a few uA)."""
        self._fifo_off()
        self._write_u8(_CTRL1_XL, 0)
        self._write_u8(_CTRL2_G, 0)

    def read_raw_into(self, acc, gyr):
        """Latest output registers as int16 counts into acc (6 bytes) and gyr (6 bytes)."""
        self.i2c.readfrom_mem_into(self.address, _OUTX_L_XL, acc)
        self.i2c.readfrom_mem_into(self.address, _OUTX_L_G, gyr)

    def fifo_words(self):
        """Unread FIFO words (of FIFO_WORDS); self._st[1] & _FIFO_OVR tells of an overrun.

        One status read, no allocation: cheap enough to ask on every pass of a loop."""
        self.i2c.readfrom_mem_into(self.address, _FIFO_STATUS1, self._st)
        return self._st[0] | ((self._st[1] & self._DIFF_HI_MASK) << 8)

    def fifo_level(self):
        """(unread FIFO words, whether the FIFO overflowed: oldest words overwritten)."""
        words = self.fifo_words()
        return words, bool(self._st[1] & _FIFO_OVR)

    def _check_overrun(self, words):
        """True (once per overrun) if the caller must account for lost samples first."""
        ovr = self._st[1] & _FIFO_OVR
        if ovr and not self._ovr_reported:
            self._ovr_reported = True
            self.overruns += 1
            self.pending_samples = words // self.WORDS_PER_SAMPLE
            # the oldest words were overwritten: a half sample waiting for its partner has lost
            # it (its partner's slot may now hold a later sample's word)
            self._acc_ready = self._gyr_ready = False
            return True
        if not ovr:
            self._ovr_reported = False
        return False


class LSM6DSOX(_LSM6):
    """LSM6DSOX (e.g. Adafruit 4438, Arduino Nano RP2040 Connect): tagged FIFO words."""

    CHIP_ID = 0x6C
    NAME = "LSM6DSOX"
    FIFO_WORDS = 512  # 3 KB uncompressed (DS12814 "FIFO"); DIFF_FIFO has 10 bits
    WORDS_PER_SAMPLE = 2
    _DIFF_HI_MASK = 0x03

    def _fifo_setup(self, odr):
        self._fifo_off()
        self._batch(odr)
        self._write_u8(_DSOX_FIFO_CTRL4, _FIFO_MODE_CONTINUOUS)

    def _batch(self, odr):
        self._write_u8(_DSOX_FIFO_CTRL3, (odr << 4) | odr)  # BDR_GY, BDR_XL: at the ODR

    def pause_fifo(self):
        """Stop batching (FIFO_CTRL3 BDR_GY = BDR_XL = 0000: "not batched"): no new word
        enters the FIFO; the words in it stay, to be read (continuous mode is kept)."""
        self._write_u8(_DSOX_FIFO_CTRL3, 0)

    def _fifo_off(self):
        self._write_u8(_DSOX_FIFO_CTRL4, _FIFO_MODE_BYPASS)  # also empties the FIFO
        self._acc_ready = self._gyr_ready = False

    def read_fifo_into(self, buf, offset, max_samples):
        """Move whole samples from the FIFO into buf at offset (12 bytes each, ax..gz int16 LE).

        Returns the number of complete samples written (<= max_samples); a half sample (one
        sensor's word) waits in buf for its partner. A sample's two words share TAG_CNT (the
        chip's 2-bit time-slot counter): a word whose partner was lost (overwritten, or read
        away) is dropped rather than paired with the next sample's. On a FIFO overrun it first
        returns 0 with self.overruns incremented and self.pending_samples set (see
        sampler.drain_fifo). An I2C error (OSError) after some samples were read ends the
        call with those samples, which are in buf already; before any, it is raised.
        """
        words = self.fifo_words()
        if self._check_overrun(words):
            return 0
        if buf is not self._half_buf or offset != self._half_off:
            self._acc_ready = self._gyr_ready = False  # the waiting half is not in this slot
        i2c = self.i2c
        addr = self.address
        s = self._scratch
        n = 0
        o = offset
        while words > 0 and n < max_samples:
            try:
                i2c.readfrom_mem_into(addr, _DSOX_FIFO_DATA_OUT_TAG, s)
            except OSError:
                if n == 0:
                    raise
                break  # keep the samples already read; the bus error shows on the next call
            words -= 1
            tag = s[0] >> 3
            cnt = s[0] & _DSOX_TAG_CNT
            if tag == _DSOX_TAG_ACC:
                d = o
                if self._acc_ready or (self._gyr_ready and cnt != self._cnt):
                    self._gyr_ready = False  # a second acc word, or one from another slot
                self._acc_ready = True
            elif tag == _DSOX_TAG_GYRO:
                d = o + 6
                if self._gyr_ready or (self._acc_ready and cnt != self._cnt):
                    self._acc_ready = False
                self._gyr_ready = True
            else:  # temperature, timestamp, ...: not batched by configure(), skip
                continue
            self._cnt = cnt
            buf[d] = s[1]
            buf[d + 1] = s[2]
            buf[d + 2] = s[3]
            buf[d + 3] = s[4]
            buf[d + 4] = s[5]
            buf[d + 5] = s[6]
            if self._acc_ready and self._gyr_ready:
                self._acc_ready = self._gyr_ready = False
                n += 1
                o += 12
        self._half_buf = buf
        self._half_off = o
        return n


class LSM6DS3TRC(_LSM6):
    """LSM6DS3TR-C (Seeed XIAO nRF52840 Sense): untagged FIFO, pattern Gx Gy Gz XLx XLy XLz."""

    CHIP_ID = 0x6A
    NAME = "LSM6DS3TR-C"
    FIFO_WORDS = 2048  # 4 KB of 16-bit words
    WORDS_PER_SAMPLE = 6
    _DIFF_HI_MASK = 0x07
    # pattern position -> byte offset inside a 12-byte sample (ax ay az gx gy gz)
    _SLOT = (6, 8, 10, 0, 2, 4)

    def _fifo_setup(self, odr):
        self._fifo_off()
        self._batch(odr)

    def _batch(self, odr):
        self._write_u8(_DS3_FIFO_CTRL5, (odr << 3) | _FIFO_MODE_CONTINUOUS)  # ODR_FIFO
        self._write_u8(_DS3_FIFO_CTRL3, 0x09)  # gyro and acc in FIFO, no decimation

    def pause_fifo(self):
        """As LSM6DSOX.pause_fifo: FIFO_CTRL3 DEC_FIFO_GYRO = DEC_FIFO_XL = 000, "sensor not in
        FIFO"; ODR_FIFO and continuous mode are kept."""
        self._write_u8(_DS3_FIFO_CTRL3, 0)

    def _fifo_off(self):
        self._write_u8(_DS3_FIFO_CTRL5, _FIFO_MODE_BYPASS)
        self._acc_ready = self._gyr_ready = False

    def read_fifo_into(self, buf, offset, max_samples):
        """As LSM6DSOX.read_fifo_into; words are placed by the FIFO pattern index."""
        words = self.fifo_words()
        if self._check_overrun(words):
            return 0
        i2c = self.i2c
        addr = self.address
        pair = self._pair
        n = 0
        o = offset
        slot = self._SLOT
        if words > 0:
            # the pattern index of the next word; it then advances by one per word read
            i2c.readfrom_mem_into(addr, _DS3_FIFO_STATUS3, self._b1)
            pattern = self._b1[0] % 6
        while words > 0 and n < max_samples:
            try:
                i2c.readfrom_mem_into(addr, _DS3_FIFO_DATA_OUT_L, pair)
            except OSError:
                if n == 0:
                    raise
                break  # as LSM6DSOX: the samples already read are kept
            words -= 1
            d = o + slot[pattern]
            buf[d] = pair[0]
            buf[d + 1] = pair[1]
            if pattern == 5:  # the sample's last word
                pattern = 0
                n += 1
                o += 12
            else:
                pattern += 1
        return n

    def __init__(self, i2c, address=0x6A):
        self._pair = bytearray(2)
        super().__init__(i2c, address)
