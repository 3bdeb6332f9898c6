"""The IMU drivers against an emulated chip on a fake I2C bus, under MicroPython.

tests/mpboard/lsm6.py emulates the registers the drivers use (WHO_AM_I, CTRL1_XL/CTRL2_G/CTRL3_C,
FIFO control, FIFO status and data) for both chips; samples pushed into its FIFO come out of the
firmware as packets that the host decodes bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from movecoach.firmware import framing, protocol
from movecoach.link.decoder import Decoder, parse_packet
from movecoach.samples import SampleBlock

REPO = Path(__file__).resolve().parents[1]
MPBOARD = Path(__file__).resolve().parent / "mpboard"

# the emulated chips of tests/mpboard/lsm6.py; the tests here give each one a small FIFO
FAKE_CHIP = textwrap.dedent("""
    from lsm6 import LSM6

    def FakeLSM6(chip, address=0x6A, fifo_words=64):
        return LSM6(chip, address, fifo_words=fifo_words)
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
    env = dict(os.environ, MICROPYPATH=f"{MPBOARD}:{REPO}:.frozen")
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
    import gc, micropython
    from firmware import framing, packets, protocol
    from firmware.imu import LSM6DSOX
    from firmware.sampler import Sampler, drain_fifo

    from lsm6 import LSM6

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

    bus = LSM6("dsox")  # its FIFO is a preallocated ring: reading it allocates nothing either
    imu = LSM6DSOX(bus)
    imu.configure(104, 4, 500)
    sampler = Sampler(packets.Packer(19), send)
    sampler.start()

    def run(n_reads):
        for _ in range(n_reads):
            for _ in range(10):
                bus.make()
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


def run_chip(micropython: str, script: str) -> tuple[Decoder, SampleBlock, str]:
    """Run `script` (FAKE_CHIP and a sampler sending frames to stdout are set up) and decode."""
    code = FAKE_CHIP + textwrap.dedent("""
        import sys
        from firmware import framing, packets, protocol
        from firmware.imu import LSM6DSOX
        from firmware.sampler import Sampler, drain_fifo

        framer = framing.Framer(protocol.packet_size(8))

        def send(pkt):
            sys.stdout.buffer.write(framer.frame(pkt))

        sampler = Sampler(packets.Packer(8), send, 104, 4, 500)
        sampler.start()

        def sample(k):  # ax = gx = k: a pairing error shows at once
            return (k, 0, 8197), (k, 1, 2)

        PERIOD_US = 1000000 // 104
    """) + textwrap.dedent(script) + "\nsampler.stop()\n"
    r = run_mp(micropython, code)
    dec = Decoder()
    return dec, SampleBlock.concat(dec.feed_stream(r.stdout, t_host_s=0.0)), r.stderr.decode()


def numbers(block: SampleBlock) -> tuple[np.ndarray, np.ndarray]:
    return (np.rint(block.acc_m_s2[:, 0] / protocol.acc_scale_m_s2(4)).astype(int),
            np.rint(block.gyr_rad_s[:, 0] / protocol.gyr_scale_rad_s(500)).astype(int))


def test_the_driver_knows_the_lsm6dsox_fifo_is_512_words(micropython):
    # at its real depth the chip is full at 512 words (3 KB: 2.46 s at 104 Hz), which its 10-bit
    # DIFF_FIFO field counts; the firmware holds the FIFO until half of that when the radio is busy
    _dec, _block, out = run_chip(micropython, """
        bus = LSM6("dsox")
        imu = LSM6DSOX(bus)
        imu.configure(104, 4, 500)
        for k in range(300):
            bus.push(*sample(k))
        print(imu.fifo_words(), imu.FIFO_WORDS, imu.FIFO_WORDS * 7, file=sys.stderr)
    """)
    assert out.split() == ["512", "512", "3584"]


def test_a_word_left_without_its_partner_by_an_overrun_is_not_paired_with_the_next_sample(
        micropython):
    dec, block, _ = run_chip(micropython, """
        bus = FakeLSM6("dsox", fifo_words=64)
        imu = LSM6DSOX(bus)
        imu.configure(104, 4, 500)
        for k in range(10):
            bus.push(*sample(k))
        drain_fifo(sampler, imu, 10 * PERIOD_US)
        for k in range(10, 50):  # 80 words into 64: samples 10..17 and the gyro of 18 are gone
            bus.push(*sample(k))
        bus.push_gyro_word(sample(50)[1])  # the next sample's gyro word is in, its acc not yet
        drain_fifo(sampler, imu, 41 * PERIOD_US)
    """)
    ax, gx = numbers(block)
    np.testing.assert_array_equal(ax, list(range(10)) + list(range(19, 50)))
    np.testing.assert_array_equal(gx, ax)  # each accelerometer sample with its own gyro sample
    assert dec.stats.overruns == 1
    assert dec.stats.lost_samples in (8, 9)  # 9 lost; the estimate from the MCU's clock is +-1


def test_an_i2c_error_mid_read_keeps_the_samples_already_read(micropython):
    dec, block, out = run_chip(micropython, """
        bus = LSM6("dsox", faults={"data_error_at": 15})  # the gyro word of sample 7
        imu = LSM6DSOX(bus)
        imu.configure(104, 4, 500)
        for k in range(20):
            bus.push(*sample(k))
        for _ in range(2):
            try:
                print(drain_fifo(sampler, imu, 20 * PERIOD_US), file=sys.stderr)
            except OSError as exc:
                print("error", exc, file=sys.stderr)
    """)
    ax, gx = numbers(block)
    np.testing.assert_array_equal(ax, np.arange(20))  # none lost, none twice
    np.testing.assert_array_equal(gx, ax)
    assert out.split() == ["7", "13"] and dec.stats.lost_samples == 0


STREAMING_ON_A_SLOW_BUS = textwrap.dedent("""
    import sys
    from firmware import framing, packets, protocol
    from firmware.control import Controller
    from firmware.imu import LSM6DS3TRC, LSM6DSOX
    from firmware.sampler import Sampler
    from firmware.sensor import Sensor

    from lsm6 import LSM6

    class Bus100kHz:
        '''The emulated chip in real time on a clock of this bus's own, at 100 kHz: each byte
        takes 90 us (9 bits), so samples come due while the firmware reads and writes.'''

        def __init__(self, chip):
            self.us = 0
            self.chip = LSM6(chip, realtime=True, clock=lambda: self.us)

        def readfrom_mem_into(self, addr, reg, buf):  # address, register, address, data
            self.us += (3 + len(buf)) * 90
            self.chip.readfrom_mem_into(addr, reg, buf)

        def writeto_mem(self, addr, reg, buf):  # address, register, data
            self.us += (2 + len(buf)) * 90
            self.chip.writeto_mem(addr, reg, buf)

    framer = framing.Framer(protocol.packet_size(8))

    def send(pkt):
        sys.stdout.buffer.write(framer.frame(pkt))

    bus = Bus100kHz(CHIP)
    imu = (LSM6DSOX if CHIP == "dsox" else LSM6DS3TRC)(bus)
    sampler = Sampler(packets.Packer(8), send, 104, 4, 500)
    sensor = Sensor(imu, sampler)
    ctl = Controller(sampler, send, on_settings=sensor.reconfigure)

    def stream(ms):  # the serial loop: the FIFO read every 50 ms
        for _ in range(ms // 50):
            bus.us += 50000
            sensor.drain()

    ctl.handle(protocol.encode_start())
    sensor.follow()
""")

SETTINGS_WHILE_STREAMING = STREAMING_ON_A_SLOW_BUS + textwrap.dedent("""
    switched_us = [bus.us]
    for cmd in COMMANDS:
        stream(500)
        ctl.handle(cmd)
        switched_us.append(bus.us)
    stream(500)
    ctl.handle(protocol.encode_stop())  # the last packet goes out
    # every sample the chip made, up to the last FIFO read; when the settings changed
    print(bus.chip.k, " ".join(str(t) for t in switched_us + [bus.us]), file=sys.stderr)
""")


@pytest.mark.parametrize("chip", ["dsox", "ds3"])
def test_changing_rate_and_range_while_streaming_loses_no_sample(micropython, chip):
    commands = [protocol.encode_set_rate(208), protocol.encode_set_range(16, 2000),
                protocol.encode_set_rate(52), protocol.encode_set_range(2, 125)]
    r = run_mp(micropython, f"CHIP = {chip!r}\nCOMMANDS = {commands!r}\n"
               + SETTINGS_WHILE_STREAMING)
    made, *switched_us = map(int, r.stderr.split())
    payloads = framing.Deframer().feed(r.stdout)
    assert [protocol.parse_status(p)["result_text"] for p in payloads if p[:1] == b"S"] == [
        "ok"] * 6
    data = [parse_packet(p) for p in payloads if p[:1] == b"M"]
    counts = np.concatenate([p.counts for p in data]).astype(int)
    # every sample the chip made arrived once and in order, through four changes
    np.testing.assert_array_equal(counts[:, 0], np.arange(made))
    np.testing.assert_array_equal(counts[:, 3], counts[:, 0])  # each with its own gyro sample
    # each packed with the full scale it was taken at: gravity reads 1 g in every one
    acc_g = np.concatenate([p.counts[:, 2] * (protocol.ACC_UG_PER_LSB[p.acc_fs_g] * 1e-6)
                            for p in data])
    np.testing.assert_allclose(acc_g, 1.0, atol=0.001)
    # and with the rate it was taken at, on a timeline that keeps the chip's time
    spells = {}  # settings -> their packets, in the order the settings came in
    for p in data:
        spells.setdefault((p.rate_hz, p.acc_fs_g, p.gyr_fs_dps), []).append(p)
    assert list(spells) == [(104, 4, 500), (208, 4, 500), (208, 16, 2000), (52, 16, 2000),
                            (52, 2, 125)]
    rates = np.array([rate for rate, _, _ in spells])
    took_us = np.diff(switched_us)  # each spell, on the chip's clock
    np.testing.assert_allclose([sum(len(p.counts) for p in ps) for ps in spells.values()],
                               took_us * rates / 1e6, atol=1.5)
    # the sample count is the clock: each spell's length is right to a sample period either side
    starts_us = [ps[0].t0_us for ps in spells.values()]
    assert np.all(np.abs(np.diff(starts_us) - took_us[:-1]) < 1e6 / rates[:-1] + 1e6 / rates[1:])
    dec = Decoder()
    dec.feed_stream(r.stdout)
    assert dec.stats.lost_samples == 0 and dec.stats.overruns == 0


def test_a_bus_error_during_a_rate_change_leaves_the_stream_as_it_was(micropython):
    r = run_mp(micropython, 'CHIP = "dsox"\n' + STREAMING_ON_A_SLOW_BUS + textwrap.dedent("""
        stream(300)
        # the FIFO status read after the chip stopped batching fails (the first drain's is +1)
        bus.chip.faults["status_error_at"] = bus.chip.status_reads + 2
        try:
            ctl.handle(protocol.encode_set_rate(208))
        except OSError as exc:
            print("error", exc, file=sys.stderr)
        stream(300)
        ctl.handle(protocol.encode_stop())
        print(bus.chip.k, bus.us, file=sys.stderr)
    """))
    error, end = r.stderr.decode().splitlines()
    made, took_us = map(int, end.split())
    data = [parse_packet(p) for p in framing.Deframer().feed(r.stdout) if p[:1] == b"M"]
    counts = np.concatenate([p.counts for p in data])
    assert error == "error [Errno 110] ETIMEDOUT"  # to the firmware's loop, which logs it
    assert {p.rate_hz for p in data} == {104}  # the change did not happen, on either side
    np.testing.assert_array_equal(counts[:, 0], np.arange(made))  # lost nothing
    # and the chip batched on: a sample a period of its time, less one at each start of batching
    assert made == pytest.approx(took_us * 104 / 1e6, abs=2.5)
