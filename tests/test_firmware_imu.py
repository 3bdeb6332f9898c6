"""The IMU drivers against an emulated chip on a fake I2C bus, under MicroPython.

FAKE_CHIP emulates the registers the drivers use (WHO_AM_I, CTRL1_XL/CTRL2_G/CTRL3_C, FIFO
control, FIFO status and data) for both chips; samples pushed into its FIFO come out of the
firmware as packets that the host decodes bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np

from movecoach.decoder import Decoder
from movecoach.firmware import protocol
from movecoach.samples import SampleBlock

REPO = Path(__file__).resolve().parents[1]

FAKE_CHIP = textwrap.dedent("""
    import struct

    class FakeLSM6:
        '''An LSM6DSOX ("dsox") or LSM6DS3TR-C ("ds3") behind a fake machine.I2C.'''

        def __init__(self, chip, address=0x6A, fifo_words=64):
            self.chip = chip
            self.address = address
            self.regs = bytearray(128)
            self.regs[0x0F] = 0x6C if chip == "dsox" else 0x6A
            self.fifo = []
            self.capacity = fifo_words
            self.ovr = False
            self.pattern = 0
            self.writes = []

        def fifo_on(self):
            if self.chip == "dsox":
                return self.regs[0x0A] & 7 == 6
            return self.regs[0x0A] & 7 == 6

        def push(self, acc, gyr, acc_first=False):
            if not self.fifo_on():
                return
            if self.chip == "dsox":
                a = bytes((0x02 << 3,)) + struct.pack("<hhh", *acc)
                g = bytes((0x01 << 3,)) + struct.pack("<hhh", *gyr)
                words = [a, g] if acc_first else [g, a]
            else:
                words = [struct.pack("<h", v) for v in tuple(gyr) + tuple(acc)]
            for w in words:
                if len(self.fifo) >= self.capacity:  # continuous mode: oldest overwritten
                    self.fifo.pop(0)
                    self.ovr = True
                    if self.chip == "ds3":
                        self.pattern = (self.pattern + 1) % 6
                self.fifo.append(w)

        # --- machine.I2C --------------------------------------------------------------
        def readfrom_mem_into(self, addr, reg, buf):
            if addr != self.address:
                raise OSError(19)  # ENODEV, as machine.I2C raises
            n = len(buf)
            if self.chip == "dsox" and reg == 0x78:
                w = self.fifo.pop(0)
                for i in range(7):
                    buf[i] = w[i]
            elif self.chip == "ds3" and reg == 0x3E:
                w = self.fifo.pop(0)
                buf[0] = w[0]
                buf[1] = w[1]
                self.pattern = (self.pattern + 1) % 6
            elif reg == 0x3A:  # FIFO_STATUS1 (+ FIFO_STATUS2 with auto-increment)
                buf[0] = len(self.fifo) & 0xFF
                if n > 1:
                    buf[1] = (0x40 if self.ovr else 0) | (len(self.fifo) >> 8)
                    self.ovr = False
            elif self.chip == "ds3" and reg == 0x3C:
                buf[0] = self.pattern
            else:
                for i in range(n):
                    buf[i] = self.regs[reg + i]

        def writeto_mem(self, addr, reg, buf):
            if addr != self.address:
                raise OSError(19)
            self.writes.append((reg, buf[0]))
            self.regs[reg] = buf[0]
            if reg == 0x12 and buf[0] & 1:  # SW_RESET
                who = self.regs[0x0F]
                self.regs = bytearray(128)
                self.regs[0x0F] = who
            if reg == 0x0A and buf[0] & 7 == 0:  # bypass mode empties the FIFO
                self.fifo = []
                self.pattern = 0
""")

DRIVE = textwrap.dedent("""
    import sys
    from firmware import framing, packets, protocol
    from firmware.imu import LSM6DSOX, LSM6DS3TRC
    from firmware.sampler import Sampler, drain_fifo

    out = sys.stdout.buffer
    framer = framing.Framer(protocol.packet_size(8))

    def send(pkt):
        out.write(framer.frame(pkt))

    cls = LSM6DSOX if CHIP == "dsox" else LSM6DS3TRC
    bus = FakeLSM6(CHIP)
    imu = cls(bus)
    imu.configure(rate_hz=104, acc_fs_g=8, gyr_fs_dps=1000)
    sampler = Sampler(packets.Packer(8), send, 104, 8, 1000)
    sampler.start()
    k = 0
    for burst in BURSTS:  # samples arriving between two reads of the FIFO
        for j in range(burst):
            s = SAMPLES[k]
            bus.push(s[0:3], s[3:6], acc_first=(k % 3 == 0))
            k += 1
        drain_fifo(sampler, imu, elapsed_us=burst * 1000000 // 104)
    sampler.stop()
    print(CHIP, imu.overruns, hex(bus.regs[0x10]), hex(bus.regs[0x11]), hex(bus.regs[0x12]),
          file=sys.stderr)
""")

ERRORS = textwrap.dedent("""
    from firmware.imu import LSM6DSOX, LSM6DS3TRC
    msgs = []
    try:
        LSM6DSOX(FakeLSM6("dsox"), address=0x6B)
    except OSError as e:
        msgs.append(str(e))
    try:
        LSM6DSOX(FakeLSM6("ds3"))
    except OSError as e:
        msgs.append(str(e))
    imu = LSM6DS3TRC(FakeLSM6("ds3"))
    for bad in ((100, 4, 500), (104, 3, 500), (104, 4, 300)):
        try:
            imu.configure(*bad)
        except ValueError as e:
            msgs.append(str(e))
    print("|".join(msgs))
""")


def run_mp(micropython: str, code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MICROPYPATH=f"{REPO}:.frozen")
    r = subprocess.run([micropython, "-c", code], capture_output=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r


def drive(micropython: str, chip: str, samples: np.ndarray, bursts: list[int]):
    code = (FAKE_CHIP + f"CHIP = {chip!r}\nSAMPLES = {samples.tolist()!r}\n"
            f"BURSTS = {bursts!r}\n" + DRIVE)
    r = run_mp(micropython, code)
    dec = Decoder()
    block = SampleBlock.concat(dec.feed_stream(r.stdout, t_host_s=0.0))
    return dec, block, r.stderr.decode().split()


def test_lsm6dsox_fifo_samples_reach_the_host_bit_exact(micropython):
    samples = np.random.default_rng(5).integers(-32768, 32768, size=(100, 6), dtype=np.int16)
    dec, block, info = drive(micropython, "dsox", samples, [3, 10, 1, 25, 30, 31])
    # configure(104 Hz, 8 g, 1000 dps): ODR 0100, FS_XL 11, FS_G 10; BDU + IF_INC
    assert info == ["dsox", "0", "0x4c", "0x48", "0x44"]
    np.testing.assert_array_equal(block.acc_m_s2, samples[:, :3] * protocol.acc_scale_m_s2(8))
    np.testing.assert_array_equal(block.gyr_rad_s, samples[:, 3:] * protocol.gyr_scale_rad_s(1000))
    assert dec.stats.lost_samples == 0


def test_lsm6ds3trc_fifo_pattern_is_unscrambled(micropython):
    samples = np.random.default_rng(6).integers(-32768, 32768, size=(50, 6), dtype=np.int16)
    dec, block, info = drive(micropython, "ds3", samples, [1, 2, 7, 10, 10, 10, 10])
    assert info[:2] == ["ds3", "0"]
    np.testing.assert_array_equal(block.acc_m_s2, samples[:, :3] * protocol.acc_scale_m_s2(8))
    np.testing.assert_array_equal(block.gyr_rad_s, samples[:, 3:] * protocol.gyr_scale_rad_s(1000))


def test_fifo_overrun_is_reported_as_lost_samples(micropython):
    # the radio was busy for 60 samples; the fake FIFO holds 64 words = 32 samples
    samples = np.arange(80 * 6, dtype=np.int16).reshape(80, 6)
    dec, block, info = drive(micropython, "dsox", samples, [10, 60, 10])
    assert info[1] == "1"
    assert dec.stats.overruns == 1
    assert dec.stats.lost_samples == 28  # 60 arrived, the newest 32 survived
    assert len(block) == 10 + 32 + 10
    # the survivors are the newest samples, and they keep their true sample times
    counts = np.rint(block.acc_m_s2 / protocol.acc_scale_m_s2(8)).astype(int)
    np.testing.assert_array_equal(counts[10:42], samples[38:70, :3])
    np.testing.assert_allclose(block.t_s[10:42], np.arange(38, 70) / 104, atol=1e-6)


def test_wrong_chip_missing_chip_and_bad_settings_are_reported(micropython):
    msgs = run_mp(micropython, FAKE_CHIP + ERRORS).stdout.decode().strip().split("|")
    assert msgs[0] == "no LSM6DSOX answers on I2C address 0x6b"
    assert msgs[1] == "device at 0x6a is not a LSM6DSOX (WHO_AM_I 0x6a, expected 0x6c)"
    assert msgs[2:] == ["rate must be one of 52, 104, 208 Hz",
                        "acc full scale must be one of 2, 4, 8, 16 g",
                        "gyro full scale must be one of 125, 250, 500, 1000, 2000 dps"]


NO_ALLOC = textwrap.dedent("""
    import gc, micropython, struct
    from firmware import framing, packets, protocol
    from firmware.imu import LSM6DSOX
    from firmware.sampler import Sampler, drain_fifo

    class RingBus:
        '''An LSM6DSOX FIFO in a preallocated ring: reading it allocates nothing either.'''
        def __init__(self, cap):
            self.regs = bytearray(128)
            self.regs[0x0F] = 0x6C
            self.ring = bytearray(7 * cap)
            self.cap = cap
            self.head = 0
            self.count = 0
            self.k = 0
        def fill(self, n):
            for _ in range(n):
                for tag in (0x08, 0x10):  # gyro, then acc
                    off = 7 * ((self.head + self.count) % self.cap)
                    self.ring[off] = tag
                    struct.pack_into("<hhh", self.ring, off + 1, self.k & 0x7FFF, tag, -1)
                    self.count += 1
                self.k += 1
        def readfrom_mem_into(self, addr, reg, buf):
            if reg == 0x3A:
                buf[0] = self.count & 0xFF
                buf[1] = self.count >> 8
            elif reg == 0x78:
                off = 7 * self.head
                for i in range(7):
                    buf[i] = self.ring[off + i]
                self.head = (self.head + 1) % self.cap
                self.count -= 1
            else:
                buf[0] = self.regs[reg]
        def writeto_mem(self, addr, reg, buf):
            self.regs[reg] = buf[0]

    class Sink:
        def __init__(self):
            self.frames = 0
            self.nbytes = 0
        def write(self, view):
            self.frames += 1
            self.nbytes += len(view)

    sink = Sink()
    framer = framing.Framer(protocol.packet_size(19))
    def send(pkt):
        sink.write(framer.frame(pkt))

    bus = RingBus(256)
    imu = LSM6DSOX(bus)
    imu.configure(104, 4, 500)
    sampler = Sampler(packets.Packer(19), send)
    sampler.start()

    def run(n_reads):
        for _ in range(n_reads):
            bus.fill(10)
            drain_fifo(sampler, imu, 96000)

    run(3)
    gc.collect()
    gc.disable()
    free0 = gc.mem_free()
    micropython.heap_lock()
    try:
        run(1000)
        ok = 1
    except MemoryError:
        ok = 0
    micropython.heap_unlock()
    print(ok, free0 - gc.mem_free(), sink.frames, bus.k)
""")


def test_fifo_to_frame_path_allocates_nothing_over_10000_samples(micropython):
    ok, grew, frames, made = map(int, run_mp(micropython, NO_ALLOC).stdout.split())
    assert ok == 1 and grew == 0  # driver + drain + packer + framer with the heap locked
    assert made == 10030 and frames == 10030 // 19
