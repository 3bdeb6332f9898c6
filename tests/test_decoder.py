"""The host decoder: packets in, SampleBlocks out, with losses, wraps and clocks accounted for."""

from __future__ import annotations

import numpy as np
import pytest

from movecoach.firmware import framing, packets, protocol
from movecoach.link.decoder import Decoder, parse_packet
from movecoach.samples import SampleBlock
from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2

G = STANDARD_GRAVITY_M_S2


def make_packet(seq: int, t0_us: int, counts: np.ndarray, *, rate_hz: int = 104, flags: int = 0,
                acc_fs_g: int = 4, gyr_fs_dps: int = 500) -> bytes:
    """One v1 data packet built by the firmware's own Packer."""
    p = packets.Packer(len(counts))
    for row in counts.tolist():
        p.add(*row)
    t0 = t0_us & 0xFFFFFFFF
    return bytes(p.finish(seq & 0xFFFF, t0 & 0xFFFF, t0 >> 16, flags, rate_hz, acc_fs_g,
                          gyr_fs_dps))


def stream_packets(n_packets: int, *, spp: int = 8, rate_hz: int = 104, seq0: int = 0,
                   t0_us: int = 0, seed: int = 0) -> tuple[list[bytes], np.ndarray, list[int]]:
    """Contiguous packets as the firmware sends them: (packets, counts (n, 6), t0 of each)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(-32768, 32768, size=(n_packets * spp, 6), dtype=np.int16)
    out, t0s = [], []
    for k in range(n_packets):
        t0 = t0_us + (k * spp * 1_000_000) // rate_hz
        t0s.append(t0)
        out.append(make_packet(seq0 + k, t0, counts[k * spp:(k + 1) * spp], rate_hz=rate_hz))
    return out, counts, t0s


def test_one_packet_decodes_to_si_units_on_the_sensor_clock():
    counts = np.array([[0, 0, 8197, 0, 0, 0], [100, -100, 8197, 1000, -1000, 57]], np.int16)
    [block] = Decoder().feed_packet(make_packet(7, 123456, counts, acc_fs_g=4, gyr_fs_dps=500))
    assert isinstance(block, SampleBlock)
    # +1 g on z at rest: 8197 counts * 0.122 mg/LSB
    assert block.acc_m_s2[0, 2] == pytest.approx(G, rel=1e-3)
    assert block.gyr_rad_s[1, 0] == pytest.approx(1000 * 17.5e-3 * np.pi / 180)
    np.testing.assert_array_equal(block.t_s, [0.0, 1 / 104])
    assert block.fs == 104.0 and block.t_host_s is None


def test_stream_in_any_chunking_is_bit_exact():
    pk, counts, _ = stream_packets(60)
    data = b"".join(framing.encode_frame(p) for p in pk)
    for chunk in (1, 7, 113, len(data)):
        dec = Decoder()
        blocks = []
        for i in range(0, len(data), chunk):
            blocks += dec.feed_stream(data[i:i + chunk], t_host_s=100.0)
        b = SampleBlock.concat(blocks)
        np.testing.assert_array_equal(b.acc_m_s2, counts[:, :3] * protocol.acc_scale_m_s2(4))
        np.testing.assert_array_equal(b.gyr_rad_s, counts[:, 3:] * protocol.gyr_scale_rad_s(500))
        assert dec.stats.packets == 60 and dec.stats.samples == 480
        assert dec.stats.lost_packets == dec.stats.crc_errors == dec.stats.bad_packets == 0


def test_sample_times_are_rebuilt_exactly_from_t0_and_rate():
    pk, _, t0s = stream_packets(20, rate_hz=52, t0_us=5_000_000)
    b = SampleBlock.concat(Decoder().decode_packets(pk))
    expect = np.concatenate([(t - t0s[0]) * 1e-6 + np.arange(8) / 52.0 for t in t0s])
    np.testing.assert_array_equal(b.t_s, expect)
    assert np.all(np.diff(b.t_s) > 0)
    assert np.allclose(np.diff(b.t_s), 1 / 52, atol=1e-6)


def test_sequence_number_wraps_without_counting_loss():
    pk, _, _ = stream_packets(40, seq0=65530)
    dec = Decoder()
    blocks = dec.decode_packets(pk)
    assert len(blocks) == 1 and len(blocks[0]) == 320
    assert dec.stats.lost_packets == 0


def test_timestamp_wraps_after_71_minutes_and_time_keeps_increasing():
    start = (1 << 32) - 300_000  # 0.3 s before the u32 microsecond wrap
    pk, _, _ = stream_packets(30, t0_us=start)
    dec = Decoder()
    for p in pk:  # one notification at a time, as over BLE
        dec.feed_packet(p)
    b = SampleBlock.concat(Decoder().decode_packets(pk))
    assert np.all(np.diff(b.t_s) > 0)
    assert b.t_s[-1] == pytest.approx(239 / 104, abs=1e-6)
    assert dec.stats.lost_packets == 0 and dec.stats.resyncs == 0


def test_lost_packets_are_counted_and_blocks_split_at_the_hole():
    pk, counts, _ = stream_packets(30)
    kept = pk[:10] + pk[13:]  # three packets (24 samples) lost on the link
    dec = Decoder()
    blocks = [b for i, p in enumerate(kept) for b in dec.feed_packet(p, t_host_s=1000 + i * 0.077)]
    blocks += dec.flush()
    assert dec.stats.lost_packets == 3 and dec.stats.lost_samples == 24
    all_t = np.concatenate([b.t_s for b in blocks])
    gaps = np.diff(all_t)
    assert gaps.max() == pytest.approx(25 / 104, abs=1e-6)  # the hole shows as missing time
    assert np.count_nonzero(gaps > 1.5 / 104) == 1
    assert dec.stats.packets == 27


def test_loss_across_a_sequence_wrap_uses_the_timestamps():
    pk, _, _ = stream_packets(3)
    dec = Decoder()
    dec.decode_packets(pk[:1], t_host_s=0.0)
    # 65536 + 4 packets later: seq only moved on by 5, the sensor clock by 65541 packets
    k = 65536 + 5
    t0 = (k * 8 * 1_000_000) // 104
    late = make_packet(k, t0, np.zeros((8, 6), np.int16))
    dec.feed_packet(late, t_host_s=t0 * 1e-6 + 0.05)
    assert dec.stats.lost_packets == 65536 + 4
    assert dec.stats.lost_samples == (65536 + 4) * 8
    assert dec.stats.gaps == 1


def test_restart_flag_reanchors_without_counting_loss():
    pk, _, _ = stream_packets(10)
    dec = Decoder()
    dec.decode_packets(pk[:5])
    # stopped for a while, started again: the wearable flags the first packet
    t0 = 60_000_000
    again = make_packet(5, t0, np.zeros((8, 6), np.int16), flags=protocol.FLAG_RESTART)
    [block] = dec.feed_packet(again)
    assert dec.stats.lost_packets == 0 and dec.stats.lost_samples == 0
    assert block.t_s[0] == pytest.approx(60.0)


def test_rate_change_starts_a_new_block_with_the_new_fs():
    a, _, t0s = stream_packets(3, rate_hz=104)
    t_next = t0s[-1] + (8 * 1_000_000) // 104
    b = make_packet(3, t_next, np.zeros((8, 6), np.int16), rate_hz=208)
    dec = Decoder()
    blocks = dec.decode_packets(a + [b])
    assert [blk.fs for blk in blocks] == [104.0, 208.0]
    assert dec.fs == 208.0 and dec.stats.lost_samples == 0


def test_duplicate_packets_are_dropped():
    pk, _, _ = stream_packets(5)
    dec = Decoder()
    blocks = dec.decode_packets([pk[0], pk[1], pk[1], pk[2]])
    assert sum(len(b) for b in blocks) == 24
    assert dec.stats.duplicates == 1 and dec.stats.lost_packets == 0


def test_overrun_flag_counts_samples_lost_on_the_sensor():
    pk, _, t0s = stream_packets(3)
    t_late = t0s[-1] + (8 * 1_000_000) // 104 + (5 * 1_000_000) // 104  # 5 samples missing
    late = make_packet(3, t_late + 1, np.zeros((8, 6), np.int16), flags=protocol.FLAG_OVERRUN)
    dec = Decoder()
    dec.decode_packets(pk + [late])
    assert dec.stats.lost_samples == 5 and dec.stats.lost_packets == 0
    assert dec.stats.overruns == 1


def test_host_clock_mapping_follows_drift_and_ignores_jitter():
    """A wearable crystal 150 ppm fast, 20-90 ms of random BLE latency, ten minutes."""
    rng = np.random.default_rng(3)
    spp, fs = 19, 104
    n = int(600 * fs / spp)
    dec = Decoder()
    errors = []
    host0 = 1.7e9
    for k in range(n):
        t0_us = (k * spp * 1_000_000) // fs
        pkt = make_packet(k, t0_us, np.zeros((spp, 6), np.int16))
        t_last_sensor = (t0_us * 1e-6) + (spp - 1) / fs
        true_host = host0 + t_last_sensor * (1 - 150e-6)  # sensor seconds are 150 ppm short
        arrival = true_host + 0.020 + rng.exponential(0.025)
        [block] = dec.feed_packet(pkt, t_host_s=arrival)
        if k * spp / fs > 30:  # after a warm-up
            truth = host0 + block.t_s * (1 - 150e-6)
            errors.append(np.max(np.abs(block.t_host_s - truth)))
    # the 20 ms floor of the latency cannot be seen from the host; everything else is tracked
    err = np.array(errors) - 0.020
    assert np.max(np.abs(err)) < 0.005
    assert np.median(np.abs(err)) < 0.001
    assert -dec.clock._fit[2] == pytest.approx(150e-6, rel=0.1)  # the drift itself is measured


def test_gap_in_the_link_is_counted():
    pk, _, _ = stream_packets(200)
    dec = Decoder(max_gap_s=5.0)
    dec.decode_packets(pk[:10], t_host_s=10.0)
    dec.decode_packets(pk[150:], t_host_s=10.0 + 140 * 8 / 104)
    assert dec.stats.gaps == 1 and dec.stats.lost_packets == 140


def test_status_records_are_kept_and_not_decoded_as_samples():
    buf = bytearray(protocol.STATUS_SIZE)
    protocol.pack_status_into(buf, protocol.STATE_STREAMING, protocol.RESULT_BAD_VALUE,
                              protocol.OP_SET_RATE, 87, 104, 4, 8, 500, 42, 0)
    dec = Decoder()
    assert dec.feed_stream(framing.encode_frame(bytes(buf))) == []
    assert dec.status["result_text"] == "bad value" and dec.status["battery_pct"] == 87
    assert dec.stats.status_records == 1 and dec.stats.bad_packets == 0


def test_parse_packet_gives_the_raw_counts():
    counts = np.arange(24, dtype=np.int16).reshape(4, 6) - 12
    pkt = parse_packet(make_packet(9, 77, counts, rate_hz=208, acc_fs_g=16, gyr_fs_dps=2000))
    assert (pkt.seq, pkt.t0_us, pkt.rate_hz, pkt.acc_fs_g, pkt.gyr_fs_dps) == (9, 77, 208.0, 16,
                                                                               2000)
    np.testing.assert_array_equal(pkt.counts, counts)
    assert parse_packet(make_packet(9, 77, counts)[:-1]) is None


def test_wearable_reboot_continues_the_timeline_without_inventing_loss():
    pk, _, _ = stream_packets(10, t0_us=50_000_000)
    dec = Decoder()
    before = SampleBlock.concat(dec.decode_packets(pk, t_host_s=100.0))
    # rebooted: sequence and clock start again from zero, 3 s later on the host
    again, _, _ = stream_packets(5, seed=1)
    again[0] = make_packet(0, 0, np.zeros((8, 6), np.int16), flags=protocol.FLAG_RESTART)
    after = SampleBlock.concat(dec.decode_packets(again, t_host_s=103.0))
    assert dec.stats.resyncs == 1 and dec.stats.lost_packets == 0
    assert after.t_s[0] >= before.t_s[-1] + 3.0 - 0.1
    assert np.all(np.diff(np.concatenate([before.t_s, after.t_s])) > 0)
