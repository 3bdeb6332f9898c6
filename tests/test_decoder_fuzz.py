"""Garbage never stops the decoder: bad input is counted and skipped, good packets still decode."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from movecoach.firmware import framing, packets, protocol
from movecoach.link.decoder import Decoder
from movecoach.samples import SampleBlock


def stream_packets(n_packets: int, *, spp: int, seed: int) -> tuple[list[bytes], np.ndarray, None]:
    """Contiguous 104 Hz packets built by the firmware's Packer, and their int16 counts."""
    counts = np.random.default_rng(seed).integers(-32768, 32768, (n_packets * spp, 6), np.int16)
    out = []
    for k in range(n_packets):
        p = packets.Packer(spp)
        for row in counts[k * spp:(k + 1) * spp].tolist():
            p.add(*row)
        t0 = (k * spp * 1_000_000) // 104
        out.append(bytes(p.finish(k, t0 & 0xFFFF, t0 >> 16, 0, 104, 4, 500)))
    return out, counts, None


N_PACKETS = 12
GOOD, COUNTS, _ = stream_packets(N_PACKETS, spp=6, seed=11)
FRAMES = [framing.encode_frame(p) for p in GOOD]
SPP = 6

garbage = st.binary(min_size=1, max_size=80)
# what can go wrong on a byte stream, inserted before good frame k
stream_damage = st.one_of(
    st.tuples(st.just("noise"), garbage),  # line noise, ended by a delimiter
    st.tuples(st.just("truncated"), st.integers(1, 60)),  # a frame cut short
    st.tuples(st.just("bitflip"), st.integers(0, 10_000)),  # a frame with one bit flipped
    st.tuples(st.just("version"), st.integers(2, 255)),  # a frame from a newer protocol
)


def damaged_frame(kind: str, arg, k: int) -> bytes:
    if kind == "noise":
        return arg + b"\x00"
    if kind == "truncated":
        f = FRAMES[k]
        return f[:max(1, min(arg, len(f) - 2))] + b"\x00"
    if kind == "bitflip":
        f = bytearray(FRAMES[k][:-1])
        bit = arg % (len(f) * 8)
        f[bit // 8] ^= 1 << (bit % 8)
        return bytes(f) + b"\x00"
    p = bytearray(GOOD[k])
    p[1] = arg
    return framing.encode_frame(bytes(p))


def decode_all(dec: Decoder, data: bytes, chunk: int) -> SampleBlock:
    blocks = []
    for i in range(0, len(data), chunk):
        blocks += dec.feed_stream(data[i:i + chunk], t_host_s=float(i))
    return SampleBlock.concat(blocks)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(damage=st.lists(st.tuples(st.integers(0, N_PACKETS - 1), stream_damage), max_size=6),
       lead=st.binary(max_size=40), chunk=st.integers(1, 400))
def test_feed_stream_counts_and_skips_damage_and_keeps_decoding(damage, lead, chunk):
    before = {}
    for k, d in damage:
        before.setdefault(k, []).append(d)
    # joining mid-stream: the tail of some frame, up to its delimiter
    parts = [lead + b"\x00"] if lead else []
    for k in range(N_PACKETS):
        for kind, arg in before.get(k, []):
            parts.append(damaged_frame(kind, arg, k))
        parts.append(FRAMES[k])
    dec = Decoder()
    b = decode_all(dec, b"".join(parts), chunk)
    s = dec.stats
    # a damaged frame can only take the good frame after it with it if it ends without a
    # delimiter, and every one of ours ends with one: all good packets come through, exactly
    assert s.packets == N_PACKETS and s.samples == N_PACKETS * SPP
    np.testing.assert_array_equal(b.acc_m_s2, COUNTS[:, :3] * protocol.acc_scale_m_s2(4))
    assert s.lost_packets == 0
    real_damage = sum(1 for _, (kind, arg) in damage if not (kind == "noise" and not any(arg)))
    assert s.crc_errors + s.bad_packets + s.resyncs >= real_damage


packet_damage = st.one_of(
    st.tuples(st.just("random"), st.binary(max_size=300)),
    st.tuples(st.just("truncated"), st.integers(0, 200)),
    st.tuples(st.just("version"), st.integers(0, 255).filter(lambda v: v != 1)),
    st.tuples(st.just("header"), st.tuples(st.sampled_from([0, 1, 3, 13]), st.integers(0, 7))),
)


def damaged_packet(kind: str, arg, k: int) -> bytes:
    p = bytearray(GOOD[k])
    if kind == "random":
        return arg
    if kind == "truncated":
        return bytes(p[:min(arg, len(p) - 1)])
    if kind == "version":
        p[1] = arg
        return bytes(p)
    byte, bit = arg
    p[byte] ^= 1 << bit
    return bytes(p)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(damage=st.lists(st.tuples(st.integers(0, N_PACKETS - 1), packet_damage), max_size=6))
def test_feed_packet_counts_and_skips_bad_notifications(damage):
    before = {}
    for k, d in damage:
        before.setdefault(k, []).append(d)
    dec = Decoder()
    blocks = []
    bad = 0
    for k in range(N_PACKETS):
        for kind, arg in before.get(k, []):
            raw = damaged_packet(kind, arg, k)
            if raw[:1] == bytes((protocol.STATUS_MAGIC,)) and len(raw) == protocol.STATUS_SIZE:
                continue  # (a random status record is not damage)
            bad += 1
            assert dec.feed_packet(raw, t_host_s=float(k)) == []
        blocks.append(dec.feed_packet(GOOD[k], t_host_s=float(k)))
    assert all(len(b) == 1 for b in blocks)
    b = SampleBlock.concat([b for got in blocks for b in got])
    np.testing.assert_array_equal(b.gyr_rad_s, COUNTS[:, 3:] * protocol.gyr_scale_rad_s(500))
    assert dec.stats.packets == N_PACKETS and dec.stats.lost_packets == 0
    assert dec.stats.bad_packets == bad
