"""Decode the wearable's packets into SampleBlocks: framing, loss, timestamps, clock mapping.

Pure (no I/O). The wire format is defined once, in :mod:`movecoach.firmware.protocol`
(docs/protocol.md). Two ways in:

- :meth:`Decoder.feed_packet` for links that deliver whole packets (a BLE notification each);
- :meth:`Decoder.feed_stream` for byte streams (USB serial, TCP) carrying COBS+CRC frames, in any
  chunking. Many packets per call are decoded in one vectorised pass (numpy), so feeding large
  chunks (e.g. a replay) runs at millions of samples per second.

What the decoder guarantees:

- SI units: acc_m_s2 is specific force in m/s^2 (+9.81 on the axis pointing up at rest),
  gyr_rad_s in rad/s, sensor frame, scaled with the full scales carried by every packet.
- ``t_s`` is the sensor clock, seconds since the first packet: each sample's time is its packet's
  t0 (u32 microseconds, unwrapped) + index / rate, exactly. Sequence numbers (u16) and
  timestamps (u32 us, ~71.6 min) wrap; gaps longer than a timestamp wrap are resolved with the
  host arrival times.
- Lost packets and samples are counted (``stats``); a block never spans a loss: blocks are split
  there, so missing samples show as missing times, never as invented samples.
- Every sample comes out at most once and time never goes backwards, whatever the link does
  (:meth:`Decoder._admit`): a repeated packet is dropped (``duplicates``); an old one sent again
  (a replay, or one that arrived after its place was given up) is dropped (``stale``); packets
  that arrive out of order within ``reorder_window`` packets / ``reorder_s`` seconds are put back
  in order (``reordered``), which holds the packets after a hole back until the hole is filled
  or given up as lost (:meth:`Decoder.flush` releases them at the end of a stream). A packet
  whose sequence number and timestamp disagree (a flipped bit on a link without a CRC) is
  corruption, not loss: one wrong field is repaired from the other, a packet with both wrong is
  dropped (``corrupt``). Only ``REANCHOR_RUN`` packets in a row that agree with each other but
  not with the timeline (a wearable that restarted without its restart flag getting through)
  start a new timeline.
- ``t_host_s`` maps the sensor clock onto the host wall clock: the lower envelope of
  (arrival time - sensor time) per second of sensor time, with a straight-line fit over the last
  ``clock_window_s`` to follow drift between the two crystals.
- Corrupt, truncated, foreign or wrong-version input is counted and skipped with a rate-limited
  warning, never an exception; decoding carries on with the next good packet.

Example::

    dec = Decoder()
    for chunk, t in chunks:                      # bytes from a serial port, arrival time
        for block in dec.feed_stream(chunk, t):
            analyzer.push(block)
    for block in dec.flush():                    # the end: packets held back for reordering
        analyzer.push(block)
    print(dec.stats.lost_packets, dec.fs)
"""

from __future__ import annotations

import binascii
import logging
import struct
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from movecoach.firmware import protocol
from movecoach.samples import SampleBlock

log = logging.getLogger(__name__)

_U32 = 1 << 32
_HALF_U32 = 1 << 31
_MAX_FRAME = protocol.packet_size(protocol.MAX_SAMPLES_PER_PACKET) + 64
_WARN_INTERVAL_S = 5.0
_ACC_SCALE = {fs: protocol.acc_scale_m_s2(fs) for fs in protocol.ACC_FS_G}
_GYR_SCALE = {fs: protocol.gyr_scale_rad_s(fs) for fs in protocol.GYR_FS_DPS}
_HEADER_DTYPE = np.dtype([("magic", "u1"), ("version", "u1"), ("flags", "u1"), ("n", "u1"),
                          ("seq", "<u2"), ("t0", "<u4"), ("rate_dhz", "<u2"),
                          ("acc_fs", "u1"), ("channels", "u1"), ("gyr_fs", "<u2")])
assert _HEADER_DTYPE.itemsize == protocol.HEADER_SIZE
_ACC_LUT = np.zeros(256)
_GYR_LUT = np.zeros(2049)
for _fs, _s in _ACC_SCALE.items():
    _ACC_LUT[_fs] = _s
for _fs, _s in _GYR_SCALE.items():
    _GYR_LUT[_fs] = _s
# The rates the firmware offers (protocol.RATES_HZ): any other is a damaged header.
_RATE_OK = np.zeros(10 * max(protocol.RATES_HZ) + 2, dtype=bool)
_RATE_OK[[10 * r for r in protocol.RATES_HZ]] = True
# Internal flag (beyond the wire's byte): this packet starts a new timeline found by _admit.
_FLAG_REANCHOR = 0x100

# Reordering: BLE and TCP deliver in order; what reorders packets is a buffering bridge or a
# radio stack retrying, over a few packets. A hole is waited for this many packets or seconds
# (host arrival time), whichever comes first; then it is a loss. Live, that delays the samples
# after a real loss by at most REORDER_S (~3 packets at 104 Hz over serial, under one over BLE).
REORDER_WINDOW = 8
REORDER_S = 0.3
# Packets in a row that agree with each other but not with the timeline before a new timeline
# is started: one or two are corruption (a single flipped bit makes one packet disagree).
REANCHOR_RUN = 3
# Recently admitted (seq, t0) pairs remembered to recognise a replayed packet exactly
# (~80 s at 104 Hz over serial): older replays are caught by being behind in seq and time.
_SEEN = 1024

# _admit's verdicts on one packet, relative to the last one admitted.
# _LEAP: a hole too long to wait for (more packets than the reorder window, or a silence).
_NEXT, _GAP, _LEAP, _DUP, _STALE, _BAD_SEQ, _BAD_TIME, _ODD = range(8)


@dataclass
class DecoderStats:
    """Running counts since the decoder was made.

    packets/samples: good data packets and samples decoded. lost_packets/lost_samples: missing
    from the sequence (link loss) or the sensor clock (FIFO overrun). crc_errors: stream frames
    whose COBS or CRC was wrong. bad_packets: foreign, truncated, wrong-version or malformed
    packets. duplicates: packets received twice (dropped). stale: packets older than the
    timeline, replayed or too late for the reorder window (dropped). reordered: packets that
    arrived early and were put back in order. corrupt: packets whose sequence number and
    timestamp disagree (repaired when one of them is right, else dropped). resyncs: times the
    stream or the timeline had to be re-anchored (joining mid-frame, an over-long frame, a
    wearable reboot). gaps: link silences longer than max_gap_s. overruns: packets flagged with
    a sensor FIFO overrun. status_records: status replies seen.
    """

    packets: int = 0
    samples: int = 0
    lost_packets: int = 0
    lost_samples: int = 0
    crc_errors: int = 0
    bad_packets: int = 0
    duplicates: int = 0
    stale: int = 0
    reordered: int = 0
    corrupt: int = 0
    resyncs: int = 0
    gaps: int = 0
    overruns: int = 0
    status_records: int = 0


@dataclass(frozen=True)
class Packet:
    """One data packet, as sent. counts: (n, 6) int16 ax ay az gx gy gz; t0_us: u32 sensor us."""

    seq: int
    t0_us: int
    flags: int
    rate_hz: float
    acc_fs_g: int
    gyr_fs_dps: int
    counts: np.ndarray


def parse_packet(data: bytes) -> Packet | None:
    """One data packet -> :class:`Packet`, or None if it is not a valid v1 data packet."""
    mv = memoryview(data)
    if len(mv) < protocol.HEADER_SIZE:
        return None
    f = struct.unpack_from(protocol.HEADER_FORMAT, mv, 0)
    magic, version, flags, n, seq, t0, rate_dhz, acc_fs, channels, gyr_fs = f
    if (magic != protocol.DATA_MAGIC or version != protocol.PROTOCOL_VERSION
            or channels != protocol.CHANNELS or n == 0 or rate_dhz // 10 not in protocol.RATES_HZ
            or rate_dhz % 10
            or len(mv) != protocol.packet_size(n)
            or acc_fs not in _ACC_SCALE or gyr_fs not in _GYR_SCALE):
        return None
    counts = np.frombuffer(mv, dtype="<i2", offset=protocol.HEADER_SIZE).reshape(n, 6)
    return Packet(seq, t0, flags, rate_dhz / 10.0, acc_fs, gyr_fs, counts.copy())


def cobs_decode_frames(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised COBS decoding of many frames laid out in one uint8 array.

    arr: uint8 bytes; frame k is arr[starts[k]:ends[k]] (no delimiters, no zero bytes).
    Returns (decoded uint8 bytes of all frames back to back, decoded lengths (k,),
    ok (k,) bool: False where a code byte points past its frame's end).
    """
    k = len(starts)
    arr_i = arr.astype(np.int64)
    ends64 = ends.astype(np.int64)
    final = np.zeros(k, dtype=np.int64)
    p = starts.astype(np.int64)  # current code position of each frame still being walked
    e = ends64
    fid = np.arange(k)
    pc = np.full(k, 0xFF, dtype=np.int64)  # previous code (0xFF: no implied zero before)
    code_pos, code_fid, zero_pos, zero_fid = [], [], [], []
    while p.size:
        code = arr_i[p]
        code_pos.append(p)
        code_fid.append(fid)
        z = pc != 0xFF
        zero_pos.append(p[z])
        zero_fid.append(fid[z])
        nxt = p + code
        go = nxt < e
        if go.all():  # no frame ended at this step (the common case)
            p, pc = nxt, code
            continue
        done = ~go
        final[fid[done]] = nxt[done]
        p, e, fid, pc = nxt[go], e[go], fid[go], code[go]
    n_codes = np.bincount(np.concatenate(code_fid), minlength=k)
    n_zeros = np.bincount(np.concatenate(zero_fid), minlength=k)
    keep = arr != 0  # frames hold no zeros: this drops the delimiters
    keep[np.concatenate(code_pos)] = False
    zpos = np.concatenate(zero_pos)
    keep[zpos] = True
    out = arr.copy()
    out[zpos] = 0
    lengths = (ends64 - starts) - n_codes + n_zeros
    return out[keep], lengths, final == ends64


def _digest(p: list) -> int:
    """A hash of a packet's samples (p[8], int16 counts)."""
    return hash(p[8].tobytes())


def _linfit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares (slope, intercept) of y on x."""
    xm, ym = x.mean(), y.mean()
    dx = x - xm
    den = float(np.dot(dx, dx))
    slope = float(np.dot(dx, y - ym)) / den if den > 0 else 0.0
    return slope, float(ym - slope * xm)


class ClockMap:
    """Sensor-time -> host-time mapping that tolerates transmission jitter and clock drift.

    Each observation is (sensor time of a packet's last sample, host arrival time); arrival is
    never earlier than the sample, so the smallest offset per ``bucket_s`` of sensor time is the
    best estimate for that second. A least-squares line through those minima over the last
    ``window_s`` follows the drift (ppm) between the wearable's and the host's clocks.
    """

    def __init__(self, *, window_s: float = 60.0, bucket_s: float = 1.0):
        self.window_s = window_s
        self.bucket_s = bucket_s
        self._buckets: dict[int, float] = {}
        self._fit: tuple[float, float, float] | None = None  # (t_ref_s, offset_s, slope)

    def reset(self) -> None:
        self._buckets.clear()
        self._fit = None

    def observe(self, t_sensor_s: np.ndarray, t_host_s: np.ndarray) -> None:
        """Add observations: sensor times (s) of samples and the host times (s) they arrived."""
        if t_sensor_s.size == 0:
            return
        off = t_host_s - t_sensor_s
        keys = np.floor(t_sensor_s / self.bucket_s).astype(np.int64)
        if keys.size <= 8:  # live links: a packet or two per call, skip the grouping
            pairs = zip(keys.tolist(), off.tolist(), strict=True)
            newest = int(keys.max())
        else:
            uniq, inv = np.unique(keys, return_inverse=True)
            mins = np.full(uniq.shape, np.inf)
            np.minimum.at(mins, inv, off)
            pairs = zip(uniq.tolist(), mins.tolist(), strict=True)
            newest = int(uniq[-1])
        b = self._buckets
        new_bucket = False
        for key, m in pairs:
            old = b.get(key)
            if old is None:
                new_bucket = True
            if old is None or m < old:
                b[key] = m
        oldest_kept = newest - int(np.ceil(self.window_s / self.bucket_s))
        for key in [k for k in b if k < oldest_kept]:
            del b[key]
        # the line is refitted once per new bucket (each second); the newest bucket's minimum
        # still pulls the estimate down at once when the fit has too little data
        if new_bucket or self._fit is None or len(b) < 5:
            self._refit()

    def _refit(self) -> None:
        keys = np.fromiter(self._buckets.keys(), dtype=np.float64)
        offs = np.fromiter(self._buckets.values(), dtype=np.float64)
        order = np.argsort(keys)
        keys, offs = keys[order], offs[order]
        t = (keys + 0.5) * self.bucket_s
        if keys.size >= 5 and (t[-1] - t[0]) >= 5 * self.bucket_s:
            # lower envelope: fit, drop buckets clearly above the line (late arrivals), refit
            slope, icpt = _linfit(t - t[-1], offs)
            resid = offs - (icpt + slope * (t - t[-1]))
            low = resid <= np.median(resid)
            if low.sum() >= 3:
                slope, icpt = _linfit(t[low] - t[-1], offs[low])
                # shift the line down to the lowest of the minima (an envelope, not a mean)
                icpt += min(0.0, float(np.min(offs - (icpt + slope * (t - t[-1])))))
            self._fit = (float(t[-1]), float(icpt), float(slope))
        else:
            self._fit = (float(t[-1]), float(np.min(offs)), 0.0)

    def to_host(self, t_sensor_s: np.ndarray) -> np.ndarray | None:
        """Host wall-clock estimates (s) for sensor times (s); None before any observation."""
        if self._fit is None:
            return None
        t_ref, icpt, slope = self._fit
        return t_sensor_s + icpt + slope * (t_sensor_s - t_ref)


class Decoder:
    """Stateful decoder for one wearable link. See the module docstring.

    max_gap_s: a silence (host arrival time) or a jump in sensor time longer than this counts
    as a gap in ``stats.gaps`` (the link dropped out). clock_window_s: drift-fit window.
    reorder_window, reorder_s: how long a hole in the sequence is waited for (packets, host
    seconds) before it counts as lost; reorder_window=0 never waits.
    """

    def __init__(self, *, max_gap_s: float = 5.0, clock_window_s: float = 60.0,
                 reorder_window: int = REORDER_WINDOW, reorder_s: float = REORDER_S):
        self.max_gap_s = max_gap_s
        self.reorder_window = int(reorder_window)
        self.reorder_s = float(reorder_s)
        self.stats = DecoderStats()
        self.fs: float | None = None
        self.status: dict | None = None  # the last status record from the wearable
        self.clock = ClockMap(window_s=clock_window_s)
        self._pending = b""
        self._skip_partial = True  # the first bytes of a stream may start mid-frame
        self._last: dict | None = None  # state of the last good packet
        self._origin_us: int | None = None
        self._held: dict[int, list] = {}  # seq -> packet that arrived before a hole was filled
        self._odd: list[list] = []  # packets in a row that disagree with the timeline
        self._seen: dict[int, tuple[int, int]] = {}  # seq -> (t0, hash of the samples)
        self._seen_order: deque[int] = deque()
        self._seen_tail: list[tuple] = []  # (seq, t0, n, counts) of fast-path batches
        self._seen_tail_n = 0
        self._hole_is_loss = False  # set by link_restored()
        self._warn_t = -1e9
        self._warn_suppressed = 0

    # --- public API -----------------------------------------------------------------------------
    def feed_packet(self, packet: bytes, t_host_s: float | None = None) -> list[SampleBlock]:
        """One raw packet (a BLE notification). Returns the blocks it completes: usually its own
        samples; none when it is skipped or held back (it came before a missing one); several
        when it fills a hole and releases the packets held behind it."""
        data = bytes(packet)
        if data[:1] == bytes((protocol.STATUS_MAGIC,)):
            self._status(data)
            return []
        return self.decode_packets([data], t_host_s)

    @property
    def held(self) -> int:
        """Packets held back, waiting for a missing one before them (see :meth:`flush`)."""
        return len(self._held)

    def link_restored(self) -> None:
        """The link was down and is up again: the packets sent meanwhile are gone, so a hole
        before the next packet is a loss at once, not waited for as a reordering."""
        self._hole_is_loss = True

    def resync(self) -> None:
        """Forget the partial frame and the packets held back (after an error in the caller's
        handling): decoding starts again at the next frame; the timeline is kept."""
        self._pending = b""
        self._skip_partial = True
        self._held.clear()
        self._odd = []

    def flush(self) -> list[SampleBlock]:
        """The end of the stream (or of the link): release the packets held back for a hole
        that will not be filled now, in order, the hole counted as lost."""
        if self._odd:
            self._drop_odd()
        if not self._held:
            return []
        out: list[list] = []
        ref = self._ref()
        while self._held:
            ref = self._release_oldest(ref, out)
        return self._timeline_of(out)

    def feed_stream(self, data: bytes, t_host_s: float | None = None) -> list[SampleBlock]:
        """Framed bytes from serial/TCP, any chunking. Returns the blocks completed by them."""
        buf = self._pending + bytes(data) if self._pending else bytes(data)
        last = buf.rfind(b"\x00")
        if last < 0:
            self._pending = self._trim(buf)
            return []
        self._pending = self._trim(buf[last + 1:])
        frames = self._deframe(buf[:last + 1])
        if frames is None:
            return []
        dec, starts, lengths = frames
        first = dec[starts]
        is_data = first == protocol.DATA_MAGIC
        is_status = first == protocol.STATUS_MAGIC
        if is_status.any():
            for a, n in zip(starts[is_status].tolist(), lengths[is_status].tolist(), strict=True):
                self._status(dec[a:a + n].tobytes())
        foreign = ~(is_data | is_status)
        if foreign.any():
            self._bad(int(foreign.sum()),
                      f"foreign frame (first byte 0x{int(first[np.argmax(foreign)]):02x})")
        if not is_data.any():
            return []
        return self._decode_joined(dec, starts[is_data], lengths[is_data], t_host_s)

    def decode_packets(self, packets: Sequence[bytes], t_host_s: float | np.ndarray | None = None
                       ) -> list[SampleBlock]:
        """Decode many raw data packets in order, in one vectorised pass.

        t_host_s: one arrival time for all (s), one per packet, or None.
        Returns one SampleBlock per run of contiguous samples (split at losses and changes).
        """
        if not packets:
            return []
        lengths = np.fromiter(map(len, packets), dtype=np.int64, count=len(packets))
        arr = np.frombuffer(b"".join(packets), dtype=np.uint8)
        offs = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        return self._decode_joined(arr, offs, lengths, t_host_s)

    # --- internals ------------------------------------------------------------------------------
    def _decode_joined(self, arr: np.ndarray, offs: np.ndarray, lengths: np.ndarray,
                       t_host_s: float | np.ndarray | None) -> list[SampleBlock]:
        """Packets k = arr[offs[k]:offs[k] + lengths[k]] (in order) -> blocks."""
        n_packets = lengths.shape[0]
        host = None
        if t_host_s is not None:
            host = np.broadcast_to(np.asarray(t_host_s, dtype=np.float64), lengths.shape)
        long_enough = lengths >= protocol.HEADER_SIZE
        h = np.where(long_enough, offs, 0)
        if arr.shape[0] < protocol.HEADER_SIZE:  # only short packets: read a padded copy
            arr = np.concatenate([arr, np.zeros(protocol.HEADER_SIZE, dtype=np.uint8)])

        hdr = arr[h[:, None] + np.arange(protocol.HEADER_SIZE)].view(_HEADER_DTYPE)[:, 0]
        magic, version = hdr["magic"].astype(np.int64), hdr["version"].astype(np.int64)
        flags, n = hdr["flags"].astype(np.int64), hdr["n"].astype(np.int64)
        seq, rate_dhz = hdr["seq"].astype(np.int64), hdr["rate_dhz"].astype(np.int64)
        t0 = hdr["t0"].astype(np.int64)
        acc_fs, channels = hdr["acc_fs"].astype(np.int64), hdr["channels"].astype(np.int64)
        gyr_fs = hdr["gyr_fs"].astype(np.int64)
        valid = (long_enough & (magic == protocol.DATA_MAGIC)
                 & (version == protocol.PROTOCOL_VERSION) & (channels == protocol.CHANNELS)
                 & (n > 0) & (lengths == protocol.HEADER_SIZE + protocol.SAMPLE_SIZE * n)
                 & _RATE_OK[np.minimum(rate_dhz, _RATE_OK.shape[0] - 1)]
                 & (_ACC_LUT[np.minimum(acc_fs, 255)] > 0)
                 & (_GYR_LUT[np.minimum(gyr_fs, 2048)] > 0))
        if not valid.all():
            bad = np.flatnonzero(~valid)
            b0 = bad[0]
            why = ("truncated" if lengths[b0] < protocol.HEADER_SIZE else
                   f"wrong version {version[b0]}" if magic[b0] == protocol.DATA_MAGIC
                   and version[b0] != protocol.PROTOCOL_VERSION else
                   "foreign" if magic[b0] != protocol.DATA_MAGIC else
                   f"unknown rate {rate_dhz[b0] / 10:g} Hz" if not _RATE_OK[
                       min(int(rate_dhz[b0]), _RATE_OK.shape[0] - 1)] else
                   "truncated or malformed")
            self._bad(bad.size, f"{why} packet ({lengths[b0]} bytes)")
        idx = np.flatnonzero(valid)
        if idx.size == 0:
            return []
        # --- samples: drop headers and bad packets -------------------------------------------
        contiguous = offs[-1] + lengths[-1] == arr.shape[0] and offs[0] == 0 and (
            n_packets == 1 or np.all(offs[1:] == offs[:-1] + lengths[:-1]))
        same = np.all(lengths[idx] == lengths[idx[0]])
        if idx.size == n_packets and contiguous and same:
            counts = arr.reshape(n_packets, int(lengths[0]))[:, protocol.HEADER_SIZE:]
            counts = np.ascontiguousarray(counts).view("<i2").reshape(-1, 6)
        elif same:  # one packet size, spread out (e.g. between CRCs): one gather
            cols = np.arange(protocol.HEADER_SIZE, int(lengths[idx[0]]))
            counts = arr[offs[idx][:, None] + cols].view("<i2").reshape(-1, 6)
        else:
            edge = np.zeros(arr.shape[0] + 1, dtype=np.int8)
            edge[offs[idx] + protocol.HEADER_SIZE] = 1  # offsets are distinct: plain assignment
            edge[offs[idx] + lengths[idx]] -= 1
            mask = np.cumsum(edge[:-1], dtype=np.int64) > 0
            counts = arr[mask].view("<i2").reshape(-1, 6)
        seq, t0, n, flags = seq[idx], t0[idx], n[idx], flags[idx]
        rate_dhz, acc_fs, gyr_fs = rate_dhz[idx], acc_fs[idx], gyr_fs[idx]
        host = host[idx] if host is not None else None
        if self._in_order(seq, t0, n, rate_dhz):
            tail = self._seen_tail  # _remember()ed when the slow path needs it
            k_n = n[-_SEEN:]
            tail.append((seq[-_SEEN:], t0[-_SEEN:], k_n, counts[counts.shape[0] - int(k_n.sum()):]))
            self._seen_tail_n += tail[-1][0].shape[0]
            while self._seen_tail_n - tail[0][0].shape[0] >= _SEEN:
                self._seen_tail_n -= tail.pop(0)[0].shape[0]
            return self._timeline(counts, seq, t0, n, flags, rate_dhz, acc_fs, gyr_fs, host)
        return self._admit(counts, seq, t0, n, flags, rate_dhz, acc_fs, gyr_fs, host)

    # --- admission: duplicates, replays, reordering, corruption -------------------------------
    def _in_order(self, seq, t0, n, rate_dhz) -> bool:
        """True if every packet simply follows the one before (the fast path: no Python loop)."""
        if self._held or self._odd:
            return False
        last = self._last
        if seq.shape[0] == 1:  # one notification (BLE): plain integers are faster than arrays
            if last is None:
                return True
            dseq = (int(seq[0]) - last["seq"]) & 0xFFFF
            dt_us = (int(t0[0]) - last["t0"]) & (_U32 - 1)
            return dseq == 1 and round(dt_us * last["rate"] / 1e7 - last["n"]) == 0
        if last is None:
            p_seq, p_t0, p_n, p_rate = seq[:-1], t0[:-1], n[:-1], rate_dhz[:-1]
            seq, t0 = seq[1:], t0[1:]
        else:
            p_seq = np.concatenate(([last["seq"]], seq[:-1]))
            p_t0 = np.concatenate(([last["t0"]], t0[:-1]))
            p_n = np.concatenate(([last["n"]], n[:-1]))
            p_rate = np.concatenate(([last["rate"]], rate_dhz[:-1]))
        dseq = (seq - p_seq) & 0xFFFF
        dt_us = (t0 - p_t0) & (_U32 - 1)
        missing = np.rint(dt_us * p_rate / 1e7 - p_n)
        return bool(np.all((dseq == 1) & (missing == 0)))

    def _ref(self) -> list | None:
        """The last packet admitted, as [seq, t0, n, flags, rate, acc, gyr, host, counts]."""
        last = self._last
        if last is None:
            return None
        return [last["seq"], last["t0"], last["n"], 0, last["rate"], last["acc"], last["gyr"],
                last["host"], None]

    def _admit(self, counts, seq, t0, n, flags, rate_dhz, acc_fs, gyr_fs, host
               ) -> list[SampleBlock]:
        """Packets in arrival order -> blocks of the ones admitted, in sequence order."""
        for q, t, k, c in self._seen_tail:
            edges = np.concatenate(([0], np.cumsum(k))).tolist()
            for j, (qj, tj) in enumerate(zip(q.tolist(), t.tolist(), strict=True)):
                self._remember([qj, tj, 0, 0, 0, 0, 0, None, c[edges[j]:edges[j + 1]]])
        self._seen_tail.clear()
        self._seen_tail_n = 0
        first = np.concatenate(([0], np.cumsum(n)[:-1])).tolist()
        hosts = host.tolist() if host is not None else [None] * seq.shape[0]
        out: list[list] = []
        ref = self._ref()
        for i, (q, t, k, f, r, a, g) in enumerate(zip(
                seq.tolist(), t0.tolist(), n.tolist(), flags.tolist(), rate_dhz.tolist(),
                acc_fs.tolist(), gyr_fs.tolist(), strict=True)):
            ref = self._offer([q, t, k, f, r, a, g, hosts[i], counts[first[i]:first[i] + k]],
                              ref, out)
        return self._timeline_of(out)

    def _timeline_of(self, out: list[list]) -> list[SampleBlock]:
        if not out:
            return []
        col = list(zip(*out, strict=True))
        ints = [np.array(c, dtype=np.int64) for c in col[:7]]
        host = None if any(h is None for h in col[7]) else np.array(col[7], dtype=np.float64)
        counts = np.concatenate(col[8]) if len(out) > 1 else col[8][0]
        return self._timeline(counts, *ints, host)

    def _offer(self, p: list, ref: list | None, out: list[list]) -> list | None:
        """One packet p ([seq, t0, n, flags, rate, acc, gyr, host, counts]): admit it to out,
        hold it, or drop it. Returns the new last admitted packet."""
        if ref is None:
            return self._accept(p, out)
        while self._held and p[7] is not None and p[7] - self._held_since() >= self.reorder_s:
            ref = self._release_oldest(ref, out)  # waited long enough for that hole
        verdict = self._verdict(p, ref)
        if self._hole_is_loss and verdict not in (_DUP, _STALE):
            self._hole_is_loss = False
            if verdict == _GAP:
                verdict = _LEAP
        held = self._held.get(p[0])
        if verdict == _DUP or (held is not None and held[1] == p[1] and _digest(held) == _digest(p)):
            self.stats.duplicates += 1
            self._warn(f"dropped a duplicate packet (seq {p[0]})")
            return ref
        if verdict == _STALE:
            self.stats.stale += 1
            self._warn(f"dropped an old packet (seq {p[0]}, behind seq {ref[0]}): replayed or too late")
            return ref
        if verdict == _ODD:
            return self._odd_one(p, ref, out)
        if self._odd:  # the timeline goes on: the ones that disagreed with it were corrupt
            self._drop_odd()
        if verdict == _BAD_SEQ:
            self._repair(f"sequence number {p[0]}", ref)
            p[0] = (ref[0] + 1) & 0xFFFF
        elif verdict == _BAD_TIME:
            self._repair(f"timestamp {p[1]} us", ref)
            p[1] = (ref[1] + round(ref[2] * 1e7 / ref[4])) & (_U32 - 1)
        elif verdict == _GAP:
            self._held[p[0]] = p  # the missing ones may still come
            while len(self._held) > self.reorder_window:
                ref = self._release_oldest(ref, out)
            return ref
        elif verdict == _LEAP:
            while self._held:  # all older than p
                ref = self._release_oldest(ref, out)
        return self._accept(p, out)

    def _accept(self, p: list, out: list[list]) -> list:
        """Admit p, then every held packet that now follows on."""
        out.append(p)
        self._remember(p)
        ref = p
        while self._held:
            nxt = self._held.pop((ref[0] + 1) & 0xFFFF, None)
            if nxt is None:
                break
            self.stats.reordered += 1
            verdict = self._verdict(nxt, ref)
            if verdict in (_DUP, _STALE, _ODD):  # cannot happen for a packet held after ref
                self.stats.corrupt += 1
                continue
            out.append(nxt)
            self._remember(nxt)
            ref = nxt
        return ref

    def _held_since(self) -> float:
        """Host arrival time (s) of the earliest held packet (inf if none has one)."""
        return min((h[7] for h in self._held.values() if h[7] is not None), default=np.inf)

    def _release_oldest(self, ref: list, out: list[list]) -> list:
        """Give up waiting for the hole before the first held packet: admit it (a loss)."""
        key = min(self._held, key=lambda q: (q - ref[0]) & 0xFFFF)
        return self._accept(self._held.pop(key), out)

    def _verdict(self, p: list, ref: list) -> int:
        seq, t0, _, flags, _, _, _, host = p[:8]
        if self._seen.get(seq) == (t0, _digest(p)):  # this very packet was admitted already
            return _DUP if seq == ref[0] else _STALE
        dseq = (seq - ref[0]) & 0xFFFF
        dt = (t0 - ref[1]) & (_U32 - 1)
        behind_seq = dseq == 0 or dseq >= 0x8000
        behind_t = dt == 0 or dt >= _HALF_U32
        if flags & protocol.FLAG_RESTART:
            return _NEXT  # the timeline re-anchors itself (_boundary)
        if behind_seq and behind_t:
            # an old packet sits on the timeline where its seq says; a wearable that restarted
            # (seq and clock from zero again) does not
            ds = dseq - 0x10000 if dseq else 0
            d_us = dt - _U32 if dt else 0
            per_us = ref[2] * 1e7 / ref[4]
            return _STALE if abs(d_us - ds * per_us) <= per_us else _ODD
        h_gap = host - ref[7] if host is not None and ref[7] is not None else None
        if h_gap is not None and not behind_t:  # whole timestamp wraps in a long silence
            wraps = int(np.floor((h_gap * 1e6 - dt + _HALF_U32) / _U32))
            if wraps > 0:
                dt += wraps * _U32
        period_us = 1e7 / ref[4]
        missing = round(dt / period_us - ref[2]) if not behind_t else None
        if dseq == 1:
            if missing == 0 or (missing is not None and missing > 0
                                and flags & protocol.FLAG_OVERRUN):
                return _NEXT
            return _BAD_TIME
        if missing == 0:
            return _BAD_SEQ
        if missing is not None and not behind_seq:
            per = max(ref[2], 1)
            wraps = round((missing / per - (dseq - 1)) / 65536)
            resid = missing - ((dseq - 1) + 65536 * wraps) * per
            if wraps >= 0 and (abs(resid) <= per or (resid > 0 and flags & protocol.FLAG_OVERRUN)):
                # a hole that missing packets could still fill is waited for
                return _GAP if wraps == 0 and dseq - 1 <= self.reorder_window else _LEAP
        return _ODD

    def _odd_one(self, p: list, ref: list, out: list[list]) -> list:
        """p disagrees with the timeline: corruption, or (REANCHOR_RUN in a row that agree with
        each other) a wearable that restarted without its restart flag reaching us."""
        if self._odd and self._verdict(p, self._odd[-1]) not in (_NEXT,):
            self._drop_odd()
        self._odd.append(p)
        if len(self._odd) < REANCHOR_RUN:
            return ref
        run, self._odd = self._odd, []
        while self._held:  # what the old timeline still owes comes first
            ref = self._release_oldest(ref, out)
        self._warn(f"{len(run)} packets in a row do not fit the timeline "
                   f"(seq {ref[0]} -> {run[0][0]}): the wearable restarted; new timeline")
        run[0][3] |= _FLAG_REANCHOR
        for q in run:
            out.append(q)
            self._remember(q)
        return run[-1]

    def _drop_odd(self) -> None:
        self.stats.corrupt += len(self._odd)
        self._warn(f"dropped {len(self._odd)} corrupt packet(s) (seq {self._odd[0][0]}): sequence "
                   "number and timestamp do not fit the stream")
        self._odd = []

    def _repair(self, what: str, ref: list) -> None:
        self.stats.corrupt += 1
        self._warn(f"corrupt packet after seq {ref[0]}: {what} does not fit the stream; repaired")

    def _remember(self, p: list) -> None:
        """Keep (seq, t0, samples) of an admitted packet: the same packet again is a replay or
        a duplicate. A restarted wearable repeats seq and t0 (both start at 0), not its samples."""
        seen, order = self._seen, self._seen_order
        if p[0] not in seen:
            order.append(p[0])
        seen[p[0]] = (p[1], _digest(p))
        while len(order) > _SEEN:
            seen.pop(order.popleft(), None)

    def _timeline(self, counts, seq, t0, n, flags, rate_dhz, acc_fs, gyr_fs, host):
        m = seq.shape[0]
        st = self.stats
        last = self._last
        if last is None:
            p_seq, p_t0, p_n, p_rate = seq[0] - 1, t0[0], 0, rate_dhz[0]
        else:
            p_seq, p_t0, p_n, p_rate = last["seq"], last["t0"], last["n"], last["rate"]
        prev_seq = np.concatenate(([p_seq], seq[:-1]))
        prev_t0 = np.concatenate(([p_t0], t0[:-1]))
        prev_n = np.concatenate(([p_n], n[:-1]))
        prev_rate = np.concatenate(([p_rate], rate_dhz[:-1]))
        dseq = (seq - prev_seq) & 0xFFFF
        dt_us = (t0 - prev_t0) & (_U32 - 1)
        missing = np.rint(dt_us * prev_rate / 1e7 - prev_n).astype(np.int64)
        restart = (flags & (protocol.FLAG_RESTART | _FLAG_REANCHOR)) != 0
        normal = (dseq == 1) & (missing == 0) & ~restart & (dt_us < _HALF_U32)
        if last is None:
            normal[0] = False
        changed = np.zeros(m, dtype=bool)
        if m > 1:
            changed[1:] = ((rate_dhz[1:] != rate_dhz[:-1]) | (acc_fs[1:] != acc_fs[:-1])
                           | (gyr_fs[1:] != gyr_fs[:-1]))
        if last is not None:
            changed[0] = (rate_dhz[0] != last["rate"] or acc_fs[0] != last["acc"]
                          or gyr_fs[0] != last["gyr"])
        # unwrapped packet times (us): contiguous runs add dt_us; boundaries handled one by one
        step = dt_us.copy()
        special = np.flatnonzero(~normal)
        for i in special.tolist():
            step[i] = self._boundary(i, last, seq, t0, n, flags, rate_dhz, host, dseq, dt_us,
                                     missing, restart, prev_n, prev_rate)
        base = last["t_unw"] if last is not None else 0
        if last is None:
            self._origin_us = int(t0[0])
            base = int(t0[0])
            step[0] = 0
        t_unw = base + np.cumsum(step)
        st.packets += m
        st.samples += int(n.sum())
        st.overruns += int(np.count_nonzero(flags & protocol.FLAG_OVERRUN))
        self._last = {"seq": int(seq[-1]), "t0": int(t0[-1]), "n": int(n[-1]),
                      "rate": int(rate_dhz[-1]), "acc": int(acc_fs[-1]), "gyr": int(gyr_fs[-1]),
                      "t_unw": int(t_unw[-1]),
                      "host": float(host[-1]) if host is not None else None}
        self.fs = rate_dhz[-1] / 10.0
        # --- per-sample times ------------------------------------------------------------------
        fs_pkt = rate_dhz / 10.0
        t_pkt_s = (t_unw - self._origin_us) * 1e-6
        first = np.concatenate(([0], np.cumsum(n)[:-1]))
        within = np.arange(counts.shape[0]) - np.repeat(first, n)
        t_s = np.repeat(t_pkt_s, n) + within / np.repeat(fs_pkt, n)
        t_host = None
        if host is not None:
            t_last = t_pkt_s + (n - 1) / fs_pkt
            self.clock.observe(t_last, host)
            t_host = self.clock.to_host(t_s)
        # --- scale -------------------------------------------------------------------------------
        acc_scale = np.repeat(_ACC_LUT[acc_fs], n)[:, None]
        gyr_scale = np.repeat(_GYR_LUT[gyr_fs], n)[:, None]
        acc = counts[:, :3] * acc_scale
        gyr = counts[:, 3:] * gyr_scale
        # --- blocks: split where the timeline is not contiguous or settings change ------------
        cut = np.flatnonzero(~normal | changed)
        cut = cut[cut > 0]
        bounds = np.concatenate(([0], first[cut], [counts.shape[0]]))
        pkt_bounds = np.concatenate(([0], cut, [m]))
        blocks = []
        for j in range(len(bounds) - 1):
            a, b = int(bounds[j]), int(bounds[j + 1])
            fs = float(fs_pkt[pkt_bounds[j]])
            blocks.append(SampleBlock(t_s=t_s[a:b], acc_m_s2=acc[a:b], gyr_rad_s=gyr[a:b], fs=fs,
                                      t_host_s=None if t_host is None else t_host[a:b]))
        return blocks

    def _boundary(self, i, last, seq, t0, n, flags, rate_dhz, host, dseq, dt_us, missing,
                  restart, prev_n, prev_rate) -> int:
        """Account for a non-contiguous packet i; returns its unwrapped time step in us."""
        st = self.stats
        if i == 0 and last is None:
            return 0
        h_prev = (host[i - 1] if i > 0 else last["host"]) if host is not None else None
        h_gap = (host[i] - h_prev) if host is not None and h_prev is not None else None
        d = int(dt_us[i])
        period_prev_us = 1e7 / int(prev_rate[i])
        if (d >= _HALF_U32 and not (h_gap is not None and h_gap * 1e6 > _HALF_U32)) \
                or flags[i] & _FLAG_REANCHOR:
            # time ran backwards: the wearable restarted; continue the timeline after the
            # previous packet (plus the host-measured silence, if known)
            st.resyncs += 1
            self.clock.reset()
            self._warn(f"wearable timeline restarted (seq {(seq[i] - dseq[i]) & 0xFFFF} -> {seq[i]})")
            cont = int(round(int(prev_n[i]) * period_prev_us))
            if h_gap is not None:
                cont = max(cont, int(h_gap * 1e6))
            return cont
        if h_gap is not None:
            # whole timestamp wraps hidden in a long silence (> 71.6 min)
            k = int(np.floor((h_gap * 1e6 - d + _HALF_U32) / _U32))
            if k > 0:
                d += k * _U32
        if h_gap is not None and h_gap > self.max_gap_s:
            st.gaps += 1
        elif d * 1e-6 - int(prev_n[i]) / (int(prev_rate[i]) / 10.0) > self.max_gap_s:
            st.gaps += 1
        if restart[i]:
            return d
        lost_samples = int(round(d / period_prev_us - int(prev_n[i])))
        base = int(dseq[i]) - 1
        if lost_samples > 0:
            per = max(int(prev_n[i]), 1)
            k = max(0, int(round((lost_samples / per - base) / 65536)))
            lost_packets = base + 65536 * k
            st.lost_samples += lost_samples
            st.lost_packets += lost_packets
            if lost_packets:
                self._warn(f"lost {lost_packets} packets ({lost_samples} samples) before seq {seq[i]}")
        elif base > 0:
            st.lost_packets += base
            self._warn(f"sequence jumped by {base + 1} at seq {seq[i]}")
        return d

    def _deframe(self, buf: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Complete frames (buf ends with a delimiter) -> (decoded bytes, starts, lengths) of
        the good payloads, or None if there are none; bad frames are counted."""
        arr = np.frombuffer(buf, dtype=np.uint8)
        zeros = np.flatnonzero(arr == 0)
        starts = np.concatenate(([0], zeros[:-1] + 1))
        ends = zeros
        nonempty = ends > starts
        starts, ends = starts[nonempty], ends[nonempty]
        if starts.size == 0:
            return None
        first_partial = self._skip_partial
        self._skip_partial = False
        too_long = (ends - starts) > _MAX_FRAME
        if too_long.any():
            self.stats.resyncs += int(too_long.sum())
            self._warn(f"discarded {too_long.sum()} over-long frame(s)")
            arr = arr.copy()
            for a, b in zip(starts[too_long].tolist(), ends[too_long].tolist(), strict=True):
                arr[a:b] = 0  # treated as delimiters from here on
            starts, ends = starts[~too_long], ends[~too_long]
            if starts.size == 0:
                return None
        dec, lengths, ok = cobs_decode_frames(arr, starts, ends)
        dstart = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        body = lengths - protocol.CRC_SIZE
        good = ok & (body > 0)
        gi = np.flatnonzero(good)
        crc_end = dstart[gi] + body[gi]
        rx = dec[crc_end].astype(np.int64) | (dec[crc_end + 1].astype(np.int64) << 8)
        mv = memoryview(dec)
        crc_hqx = binascii.crc_hqx
        calc = np.fromiter((crc_hqx(mv[a:b], 0xFFFF) for a, b in
                            zip(dstart[gi].tolist(), crc_end.tolist(), strict=True)),
                           dtype=np.int64, count=gi.size)
        good[gi] = calc == rx
        if not good.all():
            bad = int(np.count_nonzero(~good))
            if first_partial and not good[0]:
                self.stats.resyncs += 1  # joined the stream mid-frame
                bad -= 1
            if bad:
                self.stats.crc_errors += bad
                self._warn(f"{bad} frame(s) failed COBS/CRC")
        if not good.any():
            return None
        return dec, dstart[good], body[good]

    def _trim(self, rest: bytes) -> bytes:
        if len(rest) > _MAX_FRAME:
            self.stats.resyncs += 1
            self._warn(f"no frame delimiter in {len(rest)} bytes: discarded")
            self._skip_partial = True
            return b""
        return rest

    def _status(self, data: bytes) -> None:
        s = protocol.parse_status(data)
        if s is None:
            self._bad(1, f"malformed status record ({len(data)} bytes)")
            return
        self.stats.status_records += 1
        self.status = s
        if s["result"] != protocol.RESULT_OK:
            self._warn(f"wearable rejected command 0x{s['opcode']:02x}: {s['result_text']}")

    def _bad(self, count: int, why: str) -> None:
        self.stats.bad_packets += int(count)
        self._warn(f"skipped {count} {why}")

    def _warn(self, msg: str) -> None:
        now = time.monotonic()
        if now - self._warn_t >= _WARN_INTERVAL_S:
            extra = f" ({self._warn_suppressed} more suppressed)" if self._warn_suppressed else ""
            log.warning("%s%s", msg, extra)
            self._warn_t = now
            self._warn_suppressed = 0
        else:
            self._warn_suppressed += 1
