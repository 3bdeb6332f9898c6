"""Decoder throughput on one core: samples per second and x real time at 104 Hz.

Run: .venv/bin/python benchmarks/decode.py [--seconds-of-data 20000]

Builds protocol v1 packets (realistic int16 counts: gravity + noise + motion) in numpy, frames
a copy for the serial/TCP path with a fast host-side COBS encoder, then times
Decoder.decode_packets (BLE: one notification per packet, 19 samples at MTU 247) and
Decoder.feed_stream (serial/TCP frames, 8 samples per packet, fed in 64 KiB chunks).
"""

from __future__ import annotations

import argparse
import binascii
import struct
import time

import numpy as np

from movecoach.firmware import protocol
from movecoach.link.decoder import Decoder


def make_packets(n_samples: int, spp: int, rate_hz: int = 104, seed: int = 0) -> list[bytes]:
    """Data packets of spp samples each: (n_samples // spp) packets, contiguous seq and time."""
    rng = np.random.default_rng(seed)
    n_pk = n_samples // spp
    t = np.arange(n_pk * spp) / rate_hz
    counts = np.empty((n_pk * spp, 6), dtype="<i2")
    counts[:, 0:3] = rng.normal(0, 80, (len(t), 3)) + np.array([0, 0, 8192])
    counts[:, 3:6] = rng.normal(0, 30, (len(t), 3)) + (2000 * np.sin(2 * np.pi * 0.5 * t))[:, None]
    payload = counts.reshape(n_pk, spp * 6).view(np.uint8)
    header = np.zeros((n_pk, protocol.HEADER_SIZE), dtype=np.uint8)
    k = np.arange(n_pk, dtype=np.int64)
    t0 = (k * spp * 1_000_000 // rate_hz) & 0xFFFFFFFF
    for i in range(n_pk):  # struct is plenty fast for building the fixture
        header[i] = np.frombuffer(struct.pack(protocol.HEADER_FORMAT, protocol.DATA_MAGIC,
                                              protocol.PROTOCOL_VERSION, 0, spp, i & 0xFFFF,
                                              int(t0[i]), rate_hz * 10, 4, 6, 500), np.uint8)
    raw = np.concatenate([header, payload], axis=1)
    return [r.tobytes() for r in raw]


def cobs_frame(payload: bytes) -> bytes:
    """COBS(payload + CRC-16/CCITT-FALSE LE) + 0x00, the same bytes as firmware/framing.py."""
    crc = binascii.crc_hqx(payload, 0xFFFF)
    data = payload + bytes((crc & 0xFF, crc >> 8))
    out = bytearray()
    for part in data.split(b"\x00"):
        while len(part) >= 254:
            out.append(255)
            out += part[:254]
            part = part[254:]
        out.append(len(part) + 1)
        out += part
    # the split adds one implied zero per block; the last block must not end in one
    return bytes(out) + b"\x00"


def time_packets(packets: list[bytes], batch: int) -> tuple[float, Decoder]:
    dec = Decoder()
    t = time.perf_counter()
    for i in range(0, len(packets), batch):
        dec.decode_packets(packets[i:i + batch], t_host_s=1000.0 + i)
    return time.perf_counter() - t, dec


def time_stream(stream: bytes, chunk: int) -> tuple[float, Decoder]:
    dec = Decoder()
    t = time.perf_counter()
    for i in range(0, len(stream), chunk):
        dec.feed_stream(stream[i:i + chunk], t_host_s=1000.0 + i / 1e6)
    return time.perf_counter() - t, dec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds-of-data", type=float, default=20000.0)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs (shared machines)")
    args = ap.parse_args()
    n = int(args.seconds_of_data * 104)

    ble = make_packets(n, protocol.samples_per_packet(247))
    for batch in (1, 5000):
        m = ble if batch > 1 else ble[:5000]
        dt, dec = min((time_packets(m, batch) for _ in range(args.repeat)), key=lambda r: r[0])
        assert dec.stats.samples == len(m) * 19 and dec.stats.lost_packets == 0, dec.stats
        rate = dec.stats.samples / dt
        print(f"decode_packets, BLE 19 samples/packet, {batch} packet(s) per call: "
              f"{rate / 1e6:.2f} M samples/s = {rate / 104:.0f}x real time at 104 Hz")

    ser = make_packets(n, protocol.SERIAL_SAMPLES_PER_PACKET)
    stream = b"".join(cobs_frame(p) for p in ser)
    for chunk in (65536, 1 << 20):
        dt, dec = min((time_stream(stream, chunk) for _ in range(args.repeat)), key=lambda r: r[0])
        assert dec.stats.samples == len(ser) * 8, dec.stats
        assert dec.stats.crc_errors == 0 and dec.stats.lost_packets == 0, dec.stats
        rate = dec.stats.samples / dt
        print(f"feed_stream, serial/TCP frames, 8 samples/packet, {chunk // 1024} KiB chunks: "
              f"{rate / 1e6:.2f} M samples/s = {rate / 104:.0f}x real time at 104 Hz "
              f"({len(stream) / dt / 1e6:.1f} MB/s)")


if __name__ == "__main__":
    main()
