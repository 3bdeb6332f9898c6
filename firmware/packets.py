"""Packs int16 IMU samples into protocol v1 data packets, with no allocation per sample.

One :class:`Packer` owns one preallocated packet buffer. Samples are written straight into it,
either with :meth:`Packer.add` (struct.pack_into) or by a driver reading the sensor into the
per-sample memoryviews ``sample_views`` / ``acc_views`` / ``gyr_views`` (then :meth:`commit`).
:meth:`Packer.finish` stamps the header and returns a memoryview of exactly the packet bytes.
"""

import struct

from . import protocol

_SAMPLE_FORMAT = "<hhhhhh"


class Packer:
    """A data-packet builder for up to ``capacity`` samples (1..255)."""

    def __init__(self, capacity):
        if not 1 <= capacity <= protocol.MAX_SAMPLES_PER_PACKET:
            raise ValueError("samples per packet must be 1..255")
        self.capacity = capacity
        self.count = 0
        self.buf = bytearray(protocol.packet_size(capacity))
        mv = memoryview(self.buf)
        hs = protocol.HEADER_SIZE
        ss = protocol.SAMPLE_SIZE
        # every view is made once, here, so that the hot path only indexes tuples
        self.sample_views = tuple(mv[hs + i * ss:hs + (i + 1) * ss] for i in range(capacity))
        self.acc_views = tuple(mv[hs + i * ss:hs + i * ss + 6] for i in range(capacity))
        self.gyr_views = tuple(mv[hs + i * ss + 6:hs + (i + 1) * ss] for i in range(capacity))
        self._packets = tuple(mv[:protocol.packet_size(n)] for n in range(capacity + 1))

    def full(self):
        return self.count >= self.capacity

    def add(self, ax, ay, az, gx, gy, gz):
        """Append one sample of int16 counts; returns True when the packet is full."""
        struct.pack_into(_SAMPLE_FORMAT, self.buf,
                         protocol.HEADER_SIZE + self.count * protocol.SAMPLE_SIZE,
                         ax, ay, az, gx, gy, gz)
        self.count += 1
        return self.count >= self.capacity

    def commit(self, n):
        """Count n samples that a driver wrote into the views; True when the packet is full."""
        self.count += n
        return self.count >= self.capacity

    def finish(self, seq, t0_lo, t0_hi, flags, rate_hz, acc_fs_g, gyr_fs_dps):
        """Stamp the header and return the packet (a memoryview valid until the next reset).

        The u32 timestamp comes as two u16 halves so that a 32-bit board never needs a big int.
        """
        buf = self.buf
        buf[0] = protocol.DATA_MAGIC
        buf[1] = protocol.PROTOCOL_VERSION
        buf[2] = flags
        buf[3] = self.count
        struct.pack_into("<HHHHBBH", buf, protocol.OFF_SEQ, seq, t0_lo, t0_hi, rate_hz * 10,
                         acc_fs_g, protocol.CHANNELS, gyr_fs_dps)
        return self._packets[self.count]

    def reset(self):
        self.count = 0
