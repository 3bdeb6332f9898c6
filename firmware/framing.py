"""COBS framing with a CRC-16/CCITT-FALSE per frame, 0x00 delimited, for serial and TCP.

A frame on the wire is ``COBS(payload + crc16_le(payload)) + b"\\x00"``. COBS removes every zero
byte, so a receiver that connects mid-stream resynchronises at the next 0x00. The BLE link does
not use this: one packet per notification (the link layer has its own CRC).

:class:`Framer` encodes into a preallocated buffer (no allocation per frame, for the board);
:func:`encode_frame` / :class:`Deframer` are the simple allocating forms for the host and for
reading the few control frames a wearable receives.
"""

import array

from . import protocol


def _make_table():
    t = array.array("H", bytes(512))
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        t[i] = crc & 0xFFFF
    return t


_CRC_TABLE = _make_table()


def crc16(data, n=-1, crc=protocol.CRC16_INIT):
    """CRC-16/CCITT-FALSE of the first n bytes of data (all if n < 0)."""
    if n < 0:
        n = len(data)
    t = _CRC_TABLE
    for i in range(n):
        crc = ((crc << 8) & 0xFF00) ^ t[((crc >> 8) ^ data[i]) & 0xFF]
    return crc


def max_frame_size(payload_size):
    """Worst-case frame bytes for a payload: CRC, one COBS code per 254 bytes, delimiter."""
    n = payload_size + protocol.CRC_SIZE
    return n + n // 254 + 2


class Framer:
    """Encodes payloads of up to max_payload bytes into frames, reusing one buffer."""

    def __init__(self, max_payload):
        self.max_payload = max_payload
        size = max_frame_size(max_payload)
        self.buf = bytearray(size)
        self._crc = bytearray(2)
        mv = memoryview(self.buf)
        self._views = tuple(mv[:k] for k in range(size + 1))

    def frame(self, payload, n=-1):
        """Frame the first n bytes of payload (all if n < 0); returns a view of the frame."""
        if n < 0:
            n = len(payload)
        if n > self.max_payload:
            raise ValueError("payload larger than the framer's buffer")
        crc = crc16(payload, n)
        c = self._crc
        c[0] = crc & 0xFF
        c[1] = crc >> 8
        dst = self.buf
        code_i = 0
        code = 1
        o = 1
        total = n + 2
        for i in range(total):
            b = payload[i] if i < n else c[i - n]
            if b == 0:
                dst[code_i] = code
                code_i = o
                o += 1
                code = 1
            else:
                dst[o] = b
                o += 1
                code += 1
                if code == 0xFF:
                    dst[code_i] = code
                    code_i = o
                    o += 1
                    code = 1
        dst[code_i] = code
        dst[o] = 0
        return self._views[o + 1]


def encode_frame(payload):
    """One payload -> one complete frame (bytes, delimiter included)."""
    return bytes(Framer(len(payload)).frame(payload))


def cobs_decode(frame):
    """COBS-decode one frame body (no delimiter) -> bytes, or None if malformed."""
    out = bytearray()
    i = 0
    n = len(frame)
    while i < n:
        code = frame[i]
        if code == 0 or i + code > n:
            return None
        out.extend(frame[i + 1:i + code])
        i += code
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def decode_frame(frame):
    """Frame body (no delimiter) -> payload, or None if the COBS or the CRC is wrong."""
    raw = cobs_decode(frame)
    if raw is None or len(raw) < protocol.CRC_SIZE:
        return None
    n = len(raw) - protocol.CRC_SIZE
    crc = crc16(raw, n)
    if raw[n] != crc & 0xFF or raw[n + 1] != crc >> 8:
        return None
    return raw[:n]


class Deframer:
    """Collects stream bytes and yields payloads of good frames (bad ones are counted).

    For the low-rate direction (control frames); the host's bulk decoder is vectorised.
    """

    def __init__(self, max_frame=512):
        self.max_frame = max_frame
        self._buf = bytearray()
        self._skip = False
        self.bad_frames = 0

    def feed(self, data):
        """Add bytes; returns a list of good payloads completed by them."""
        out = []
        for b in data:
            if b == 0:
                if self._buf and not self._skip:
                    p = decode_frame(self._buf)
                    if p is None:
                        self.bad_frames += 1
                    else:
                        out.append(p)
                self._buf = bytearray()
                self._skip = False
            elif self._skip:
                continue
            elif len(self._buf) < self.max_frame:
                self._buf.append(b)
            else:  # oversized: drop it up to the next delimiter
                self.bad_frames += 1
                self._buf = bytearray()
                self._skip = True
        return out
