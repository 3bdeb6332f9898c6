"""The firmware core under the real MicroPython unix port, decoded on the host, bit for bit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from movecoach.firmware import framing, protocol
from movecoach.link.decoder import Decoder, parse_packet
from movecoach.samples import SampleBlock
from movecoach.sim.wearable import sample_records

REPO = Path(__file__).resolve().parents[1]


def run_micropython(micropython: str, code: str, stdin: bytes = b"", timeout_s: float = 60.0
                    ) -> subprocess.CompletedProcess:
    """Run code under MicroPython with the repo root on MICROPYPATH (so `import firmware.x`)."""
    env = dict(os.environ, MICROPYPATH=f"{REPO}:.frozen")
    r = subprocess.run([micropython, "-c", code], input=stdin, capture_output=True, env=env,
                       timeout=timeout_s)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r


SIMLINK = "from firmware import simlink; simlink.main()"


def command_record(cmd: bytes) -> bytes:
    return b"C" + bytes((len(cmd),)) + cmd


def test_samples_packed_under_micropython_decode_bit_exact_on_the_host(micropython):
    rng = np.random.default_rng(42)
    counts = rng.integers(-32768, 32768, size=(2001, 6), dtype=np.int16)
    counts[:3] = [[-32768] * 6, [32767] * 6, [0] * 6]  # extremes and zero bytes (COBS)
    r = run_micropython(micropython, SIMLINK, sample_records(counts) + b"Q")
    dec = Decoder()
    b = SampleBlock.concat(dec.feed_stream(r.stdout, t_host_s=1.0))
    assert dec.stats.samples == 2001 and dec.stats.crc_errors == 0 and dec.stats.bad_packets == 0
    assert dec.stats.lost_packets == 0
    np.testing.assert_array_equal(b.acc_m_s2, counts[:, :3] * protocol.acc_scale_m_s2(4))
    np.testing.assert_array_equal(b.gyr_rad_s, counts[:, 3:] * protocol.gyr_scale_rad_s(500))
    np.testing.assert_allclose(b.t_s, np.arange(2001) / 104, atol=1e-6)  # floor(us) stamps
    assert dec.status["simulated"] and dec.status["rate_hz"] == 104


def test_firmware_frames_are_the_same_under_micropython_and_cpython(micropython):
    counts = np.random.default_rng(1).integers(-300, 300, size=(100, 6), dtype=np.int16)
    stdin = sample_records(counts) + b"Q"
    mp = run_micropython(micropython, SIMLINK, stdin).stdout
    env = dict(os.environ)
    cp = subprocess.run([sys.executable, "-c",
                         "from movecoach.firmware import simlink; simlink.main()"],
                        input=stdin, capture_output=True, env=env, timeout=60)
    assert cp.returncode == 0, cp.stderr
    assert mp == cp.stdout and len(mp) > 100 * 12


def test_control_commands_change_rate_and_range_and_bad_ones_are_refused(micropython):
    c = np.ones((40, 6), dtype=np.int16)
    stdin = b"".join([
        sample_records(c[:20]),
        command_record(protocol.encode_set_rate(208)),
        sample_records(c[:16]),
        command_record(protocol.encode_set_range(16, 2000)),
        sample_records(c[:16]),
        command_record(bytes((protocol.OP_SET_RATE, 100, 0))),  # 100 Hz: not offered
        command_record(bytes((0x7E,))),  # unknown opcode
        command_record(protocol.encode_stop()),
        sample_records(c[:30]),  # dropped while stopped (the sensor clock still runs)
        command_record(protocol.encode_start()),
        sample_records(c[:8]),
        command_record(protocol.encode_status_request()),
        b"Q",
    ])
    out = run_micropython(micropython, SIMLINK, stdin).stdout
    payloads = [p for p in framing.Deframer().feed(out)]
    statuses = [protocol.parse_status(p) for p in payloads if p[0] == protocol.STATUS_MAGIC]
    data = [parse_packet(p) for p in payloads if p[0] == protocol.DATA_MAGIC]
    assert [s["result_text"] for s in statuses] == [
        "ok", "ok", "ok", "bad value", "unknown opcode", "ok", "ok", "ok"]
    assert statuses[-1]["rate_hz"] == 208 and statuses[-1]["acc_fs_g"] == 16
    assert statuses[-1]["streaming"]
    # 20 @104 Hz -> 8, 8, 4 (flushed by the rate change); then 208 Hz ...
    assert [(p.rate_hz, p.acc_fs_g, len(p.counts)) for p in data] == [
        (104.0, 4, 8), (104.0, 4, 8), (104.0, 4, 4), (208.0, 4, 8), (208.0, 4, 8),
        (208.0, 16, 8), (208.0, 16, 8), (208.0, 16, 8)]
    assert data[2].flags & protocol.FLAG_FLUSH
    assert data[-1].flags & protocol.FLAG_RESTART
    assert [p.seq for p in data] == list(range(8))
    # the sensor clock ran on while stopped: 30 samples at 208 Hz between the last two packets
    assert data[-1].t0_us - data[-2].t0_us == pytest.approx((8 + 30) * 1e6 / 208, abs=1)
    dec = Decoder()
    dec.feed_stream(out)
    assert dec.stats.lost_packets == 0 and dec.stats.samples == 60


HOT_LOOP = textwrap.dedent("""
    import gc, micropython
    from firmware import framing, packets, protocol
    from firmware.sampler import Sampler

    class Sink:
        def __init__(self):
            self.frames = 0
            self.bytes = 0
            self.check = 0
        def write(self, view):
            self.frames += 1
            self.bytes += len(view)
            c = self.check
            for i in range(len(view)):
                c = (c * 31 + view[i]) & 0xFFFF
            self.check = c

    def run(n, sampler, sink, framer):
        for i in range(n):
            v = (i * 37) & 0x7FFF
            sampler.add(v, -v, i & 0xFF, 1000 - v, 0, -1)
        return sink.frames

    sink = Sink()
    framer = framing.Framer(protocol.packet_size(8))

    def send(pkt):
        sink.write(framer.frame(pkt))

    sampler = Sampler(packets.Packer(8), send, simulated=True)
    sampler.start()
    run(16, sampler, sink, framer)  # warm up (first calls may intern names)
    gc.collect()
    gc.disable()
    free0 = gc.mem_free()
    micropython.heap_lock()
    try:
        run(10000, sampler, sink, framer)
        locked_ok = 1
    except MemoryError:
        locked_ok = 0
    micropython.heap_unlock()
    free_locked = gc.mem_free()
    run(10000, sampler, sink, framer)
    free1 = gc.mem_free()
    print(locked_ok, free0 - free_locked, free0 - free1, sink.frames, sink.bytes, sink.check)
""")


def test_hot_loop_allocates_nothing_over_10000_samples(micropython):
    out = run_micropython(micropython, HOT_LOOP).stdout.split()
    locked_ok, grew_locked, grew_total, frames, nbytes, _ = map(int, out)
    assert locked_ok == 1  # 10,000 samples packed and framed with the heap locked
    assert grew_locked == 0
    assert grew_total <= 64  # and 10,000 more with the heap open: memory stays flat
    assert frames == (16 + 20000) // 8 and nbytes > frames * 112


def test_framing_matches_the_standard_crc_and_cobs():
    assert framing.crc16(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value
    assert framing.encode_frame(b"\x00") == b"\x01" + _cobs_tail(b"\x00")
    for payload in (b"", b"\x00\x00", bytes(range(1, 255)), bytes(range(256)) * 3):
        frame = framing.encode_frame(payload)
        assert frame[-1] == 0 and 0 not in frame[:-1]
        assert framing.decode_frame(frame[:-1]) == payload


def _cobs_tail(payload: bytes) -> bytes:
    import binascii

    crc = binascii.crc_hqx(payload, 0xFFFF)
    lo, hi = crc & 0xFF, crc >> 8
    # the two CRC bytes (no zeros in this case) as one COBS block, then the delimiter
    assert lo and hi
    return bytes((3, lo, hi, 0))


def test_deframer_skips_damage_and_oversized_frames():
    d = framing.Deframer(max_frame=64)
    good = framing.encode_frame(protocol.encode_start())
    got = d.feed(b"\x05junk\x00" + bytes(range(1, 200)) + b"\x00" + good)
    assert got == [protocol.encode_start()] and d.bad_frames == 2


def test_command_parsing_validates_length_and_values():
    assert protocol.parse_command(protocol.encode_set_rate(52)) == (protocol.OP_SET_RATE, 52, 0, 0)
    assert protocol.parse_command(b"\x03\x68")[3] == protocol.RESULT_BAD_LENGTH
    assert protocol.parse_command(b"\x04\x03\xf4\x01")[3] == protocol.RESULT_BAD_VALUE  # 3 g
    assert protocol.parse_command(b"")[3] == protocol.RESULT_BAD_LENGTH
    with pytest.raises(ValueError):
        protocol.encode_set_rate(100)


def test_samples_per_packet_fit_the_ble_mtu():
    assert protocol.samples_per_packet(247) == 19  # 244-byte notifications: 16 + 19 * 12 = 244
    assert protocol.packet_size(19) <= 247 - 3
    assert protocol.samples_per_packet(185) == 13
    assert protocol.samples_per_packet(23) == 0  # the default MTU cannot carry a sample
    assert protocol.samples_per_packet(517) == protocol.MAX_BLE_SAMPLES_PER_PACKET


SERIAL = textwrap.dedent("""
    import sys, time
    from firmware.serial_link import SerialLink
    link = SerialLink()
    got = []
    deadline = time.ticks_add(time.ticks_ms(), 5000)
    while len(got) < 2 and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        got.extend(link.commands())
        time.sleep_ms(5)
    for cmd in got:
        link.send(cmd)  # echo each command back as a frame
""")


def test_serial_link_reads_control_frames_without_blocking(micropython):
    cmds = [protocol.encode_set_rate(208), protocol.encode_stop()]
    noise = b"\x07\x03garbage\x00"  # a damaged frame first: skipped
    stdin = noise + b"".join(framing.encode_frame(c) for c in cmds)
    out = run_micropython(micropython, SERIAL, stdin).stdout
    assert framing.Deframer().feed(out) == cmds


WRAPS = textwrap.dedent("""
    import sys
    from firmware import framing, packets, protocol
    from firmware.sampler import Sampler
    framer = framing.Framer(protocol.packet_size(8))
    out = sys.stdout.buffer

    def send(pkt):
        out.write(framer.frame(pkt))

    s = Sampler(packets.Packer(8), send)
    start = (1 << 32) - 300000  # 0.3 s before the u32 microsecond clock wraps
    s.clock.hi = start >> 16
    s.clock.lo = start & 0xFFFF
    s.seq = 65530  # and 6 packets before the u16 sequence number wraps
    s.start()
    for i in range(400):
        s.add(i, 0, 8197, 0, 0, 0)
""")


def test_firmware_clock_and_sequence_wrap_cleanly(micropython):
    out = run_micropython(micropython, WRAPS).stdout
    packets_ = [parse_packet(p) for p in framing.Deframer().feed(out)]
    seqs = [p.seq for p in packets_]
    assert seqs[:8] == [65530, 65531, 65532, 65533, 65534, 65535, 0, 1]
    t0s = [p.t0_us for p in packets_]
    assert max(t0s) > (1 << 32) - 100_000 and min(t0s) < 100_000  # it did wrap
    dec = Decoder()
    b = SampleBlock.concat(dec.feed_stream(out))
    assert len(b) == 400 and dec.stats.lost_packets == 0 and dec.stats.resyncs == 0
    np.testing.assert_allclose(np.diff(b.t_s), 1 / 104, atol=1.1e-6)
    np.testing.assert_array_equal(np.rint(b.acc_m_s2[:, 0] / protocol.acc_scale_m_s2(4)),
                                  np.arange(400))


FIXED_RATE = textwrap.dedent("""
    import sys, time
    from firmware import framing, packets, protocol
    from firmware.sampler import Sampler, fixed_rate_loop
    framer = framing.Framer(protocol.packet_size(8))
    out = sys.stdout.buffer

    def send(pkt):
        out.write(framer.frame(pkt))

    class PolledIMU:
        '''Output registers only (no FIFO); one read stalls 100 ms, as a busy radio would.'''
        def __init__(self):
            self.k = 0
        def read_raw_into(self, acc, gyr):
            self.k += 1
            if self.k == 30:
                time.sleep_ms(100)
            acc[0] = self.k & 0xFF
            acc[1] = self.k >> 8

    s = Sampler(packets.Packer(8), send)
    s.start()
    imu = PolledIMU()
    t_end = time.ticks_add(time.ticks_ms(), 800)
    fixed_rate_loop(s, imu, lambda: time.ticks_diff(t_end, time.ticks_ms()) > 0, time.sleep_us)
    s.stop()
    print(imu.k, file=sys.stderr)
""")


def test_fixed_rate_loop_keeps_time_and_reports_a_stall_as_lost_samples(micropython):
    r = run_micropython(micropython, FIXED_RATE)
    reads = int(r.stderr)
    dec = Decoder()
    b = SampleBlock.concat(dec.feed_stream(r.stdout))
    # 0.8 s at 104 Hz: ~83 sample slots, ~10 of them lost to the 100 ms stall (more if this
    # machine is busy: every late slot is counted, never packed twice or invented)
    assert 40 <= reads <= 75 and len(b) == reads
    assert dec.stats.lost_samples >= 9 and dec.stats.overruns >= 1
    assert reads + dec.stats.lost_samples == pytest.approx(0.8 * 104, abs=3)
    counts = np.rint(b.acc_m_s2[:, 0] / protocol.acc_scale_m_s2(4)).astype(int)
    np.testing.assert_array_equal(counts, np.arange(1, reads + 1))
