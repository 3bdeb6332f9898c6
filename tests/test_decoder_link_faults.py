"""What a real link does to packets: repeats them, replays old ones, swaps them, flips bits.
The decoder hands every sample on once, never goes back in time, and counts what it saw."""

from __future__ import annotations

import numpy as np
import pytest
from test_decoder import make_packet, stream_packets  # the firmware's own Packer

from movecoach.firmware import framing, protocol
from movecoach.link.decoder import Decoder
from movecoach.samples import SampleBlock


def feed(dec: Decoder, packets: list[bytes], *, dt_s: float = 8 / 104) -> SampleBlock:
    """One BLE notification per packet, arriving at the wearable's pace; then the end."""
    blocks = []
    for i, p in enumerate(packets):
        blocks += dec.feed_packet(p, t_host_s=1000.0 + i * dt_s)
    return SampleBlock.concat(blocks + dec.flush())


def flip(packet: bytes, byte: int, bit: int) -> bytes:
    b = bytearray(packet)
    b[byte] ^= 1 << bit
    return bytes(b)


def test_the_same_packet_twice_is_dropped_and_counted():
    pk, counts, _ = stream_packets(6)
    dec = Decoder()
    assert dec.feed_packet(pk[0]) and dec.feed_packet(pk[0]) == []  # no IndexError
    got = feed(dec, pk[1:])
    assert len(got) == 48 - 8 and dec.stats.duplicates == 1
    assert dec.stats.lost_packets == dec.stats.resyncs == 0


def test_a_repeated_frame_on_a_byte_stream_is_dropped():
    pk, counts, _ = stream_packets(5)
    frames = [framing.encode_frame(p) for p in pk]
    dec = Decoder()
    blocks = dec.feed_stream(b"".join(frames[:3] + frames[2:3] + frames[3:]), t_host_s=5.0)
    got = SampleBlock.concat(blocks + dec.flush())
    np.testing.assert_array_equal(got.acc_m_s2, counts[:, :3] * protocol.acc_scale_m_s2(4))
    assert dec.stats.duplicates == 1 and dec.stats.lost_packets == 0


def test_a_replayed_block_of_old_packets_gives_no_new_samples_and_no_false_loss():
    pk, counts, _ = stream_packets(30)
    sent = pk[:20] + pk[5:15] + pk[20:]  # ten old packets sent again in the middle
    dec = Decoder()
    got = feed(dec, sent)
    assert len(got) == 30 * 8  # 240 before: the replay came out as new samples
    np.testing.assert_array_equal(got.gyr_rad_s, counts[:, 3:] * protocol.gyr_scale_rad_s(500))
    assert dec.stats.stale == 10
    assert dec.stats.lost_packets == dec.stats.resyncs == 0
    assert np.all(np.diff(got.t_s) > 0)


@pytest.mark.parametrize("order", [[0, 1, 3, 2, 4, 5, 6, 7], [0, 3, 1, 2, 5, 4, 7, 6]])
def test_packets_swapped_within_a_few_are_put_back_in_order(order):
    pk, counts, _ = stream_packets(8)
    dec = Decoder()
    got = feed(dec, [pk[i] for i in order])
    np.testing.assert_array_equal(got.acc_m_s2, counts[:, :3] * protocol.acc_scale_m_s2(4))
    np.testing.assert_allclose(np.diff(got.t_s), 1 / 104, atol=1e-5)  # no stretched timeline
    assert dec.stats.lost_packets == 0 and dec.stats.reordered >= 1


def test_a_real_hole_is_given_up_after_the_reorder_window_and_counted_as_lost():
    pk, _, _ = stream_packets(30)
    dec = Decoder()
    got = feed(dec, pk[:10] + pk[12:])
    assert dec.stats.lost_packets == 2 and len(got) == 28 * 8
    assert np.count_nonzero(np.diff(got.t_s) > 1.5 / 104) == 1


def test_a_packet_too_late_for_the_window_is_dropped_not_sent_back_in_time():
    pk, _, _ = stream_packets(30)
    dec = Decoder()
    got = feed(dec, pk[:10] + pk[11:25] + pk[10:11] + pk[25:])
    assert np.all(np.diff(got.t_s) > 0)
    assert dec.stats.stale == 1 and dec.stats.lost_packets == 1


def test_one_flipped_sequence_bit_is_corruption_not_65536_lost_packets():
    pk, counts, _ = stream_packets(20)
    sent = list(pk)
    sent[9] = flip(pk[9], 5, 7)  # seq high byte, bit 15: the sequence jumps by 32768
    sent[14] = flip(pk[14], 4, 3)  # seq bit 3
    dec = Decoder()
    got = feed(dec, sent)
    assert dec.stats.lost_packets == 0 and dec.stats.corrupt == 2
    np.testing.assert_array_equal(got.acc_m_s2, counts[:, :3] * protocol.acc_scale_m_s2(4))


@pytest.mark.parametrize("bit", [31, 30, 24, 16])
def test_one_flipped_timestamp_bit_never_sends_time_backwards_or_far_ahead(bit):
    pk, counts, _ = stream_packets(20)
    sent = list(pk)
    sent[9] = flip(pk[9], 6 + bit // 8, bit % 8)
    dec = Decoder()
    got = feed(dec, sent)
    assert np.all(np.diff(got.t_s) > 0)
    assert got.t_s[-1] == pytest.approx(159 / 104, abs=1e-5)  # was up to 1074 s ahead
    assert dec.stats.corrupt == 1 and dec.stats.lost_packets == 0
    np.testing.assert_array_equal(got.acc_m_s2, counts[:, :3] * protocol.acc_scale_m_s2(4))


def test_a_wearable_that_restarted_unflagged_gets_a_new_timeline_without_losing_samples():
    before, _, _ = stream_packets(10, t0_us=50_000_000)
    after, counts, _ = stream_packets(10, seq0=0, t0_us=2_000_000, seed=1)  # restart packet lost
    dec = Decoder()
    got = feed(dec, before + after[1:])
    assert len(got) == (10 + 9) * 8
    np.testing.assert_array_equal(got.acc_m_s2[80:], counts[8:, :3] * protocol.acc_scale_m_s2(4))
    assert np.all(np.diff(got.t_s) > 0)
    assert dec.stats.resyncs == 1 and dec.stats.lost_packets == 0


def test_in_order_packets_are_never_held_back():
    pk, _, _ = stream_packets(5)
    dec = Decoder()
    assert [len(dec.feed_packet(p, t_host_s=1.0 + i)) for i, p in enumerate(pk)] == [1] * 5
    assert dec.flush() == []


def test_an_overrun_after_a_single_repeat_still_counts_the_sensor_loss():
    pk, _, t0s = stream_packets(3)
    late = make_packet(3, t0s[-1] + (13 * 1_000_000) // 104 + 1, np.zeros((8, 6), np.int16),
                       flags=protocol.FLAG_OVERRUN)  # 5 samples lost on the sensor
    dec = Decoder()
    feed(dec, pk + pk[-1:] + [late])
    assert dec.stats.lost_samples == 5 and dec.stats.duplicates == 1 and dec.stats.corrupt == 0


def test_a_restarted_wearable_repeats_its_first_seq_and_times_but_is_no_replay():
    first, _, _ = stream_packets(10)
    again, counts, _ = stream_packets(10, seed=5)  # seq and t0 from 0 again, other samples
    again[0] = make_packet(0, 0, counts[:8], flags=protocol.FLAG_RESTART)
    dec = Decoder()
    feed(dec, first)
    got = feed(dec, again)
    assert len(got) == 80 and dec.stats.stale == 0 and dec.stats.resyncs == 1
    np.testing.assert_array_equal(got.acc_m_s2, counts[:, :3] * protocol.acc_scale_m_s2(4))
