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
    print(dec.stats.lost_packets, dec.fs)
"""

from __future__ import annotations

import binascii
import logging
import struct
import time
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


@dataclass
class DecoderStats:
    """Running counts since the decoder was made.

    packets/samples: good data packets and samples decoded. lost_packets/lost_samples: missing
    from the sequence (link loss) or the sensor clock (FIFO overrun). crc_errors: stream frames
    whose COBS or CRC was wrong. bad_packets: foreign, truncated, wrong-version or duplicate
    packets. resyncs: times the stream or the timeline had to be re-anchored (joining mid-frame,
    an over-long frame, a wearable reboot). gaps: link silences longer than max_gap_s.
    overruns: packets flagged with a sensor FIFO overrun. status_records: status replies seen.
    """

    packets: int = 0
    samples: int = 0
    lost_packets: int = 0
    lost_samples: int = 0
    crc_errors: int = 0
    bad_packets: int = 0
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
            or channels != protocol.CHANNELS or n == 0 or rate_dhz == 0
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
    """

    def __init__(self, *, max_gap_s: float = 5.0, clock_window_s: float = 60.0):
        self.max_gap_s = max_gap_s
        self.stats = DecoderStats()
        self.fs: float | None = None
        self.status: dict | None = None  # the last status record from the wearable
        self.clock = ClockMap(window_s=clock_window_s)
        self._pending = b""
        self._skip_partial = True  # the first bytes of a stream may start mid-frame
        self._last: dict | None = None  # state of the last good packet
        self._origin_us: int | None = None
        self._warn_t = -1e9
        self._warn_suppressed = 0

    # --- public API -----------------------------------------------------------------------------
    def feed_packet(self, packet: bytes, t_host_s: float | None = None) -> SampleBlock | None:
        """One raw packet (a BLE notification). Returns its samples, or None if it was skipped."""
        data = bytes(packet)
        if data[:1] == bytes((protocol.STATUS_MAGIC,)):
            self._status(data)
            return None
        blocks = self.decode_packets([data], t_host_s)
        return blocks[0] if blocks else None

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
                 & (rate_dhz > 0) & (_ACC_LUT[np.minimum(acc_fs, 255)] > 0)
                 & (_GYR_LUT[np.minimum(gyr_fs, 2048)] > 0))
        if not valid.all():
            bad = np.flatnonzero(~valid)
            b0 = bad[0]
            why = ("truncated" if lengths[b0] < protocol.HEADER_SIZE else
                   f"wrong version {version[b0]}" if magic[b0] == protocol.DATA_MAGIC
                   and version[b0] != protocol.PROTOCOL_VERSION else
                   "foreign" if magic[b0] != protocol.DATA_MAGIC else "truncated or malformed")
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
        return self._timeline(counts, seq, t0, n, flags, rate_dhz, acc_fs, gyr_fs, host)

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
        # duplicates (same seq, same time): drop and decode the rest again
        dup = (dseq == 0) & (dt_us == 0)
        if last is None:
            dup[0] = False
        if dup.any():
            self._bad(int(dup.sum()), f"duplicate packet (seq {seq[np.argmax(dup)]})")
            keep = ~dup
            sample_keep = np.repeat(keep, n)
            return self._timeline(counts[sample_keep], seq[keep], t0[keep], n[keep], flags[keep],
                                  rate_dhz[keep], acc_fs[keep], gyr_fs[keep],
                                  host[keep] if host is not None else None)
        restart = (flags & protocol.FLAG_RESTART) != 0
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
        if d >= _HALF_U32 and not (h_gap is not None and h_gap * 1e6 > _HALF_U32):
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
