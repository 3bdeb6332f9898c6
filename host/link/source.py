"""A sample source: a transport plus the decoder, with reconnect. Yields SampleBlocks and LinkEvents.

    async with open_source("ble://movecoach-1a2b") as source:
        async for item in source:
            if isinstance(item, LinkEvent):
                ...   # "lost" (link dropped, reconnecting) / "restored" (data flows again)
            else:
                ...   # a SampleBlock in SI units

What it does, per the link's ``framing``:

- ``"stream"`` (serial, TCP): bytes go to ``Decoder.feed_stream`` (COBS frames, any chunking).
- ``"packet"`` (BLE): each notification goes to ``Decoder.feed_packet``.
- ``"samples"`` (replay): the transport already yields SampleBlocks; they pass through.

After every (re)connect it sends the wearable the "start streaming" command. When the link drops
(disconnect, cable pulled, or ``stall_timeout_s`` without a byte) it yields
``LinkEvent("lost")``, reconnects with exponential backoff (``backoff_initial_s`` doubling up to
``backoff_max_s``) until it succeeds or ``reconnect_timeout_s`` has passed, and then yields
``LinkEvent("restored", gap_s, lost_packets)`` just before the first new samples. The same
Decoder runs across the gap, so packets the wearable sent while the link was down show up as
``lost_packets`` (from the sequence numbers), never as invented samples.

The source can be iterated several times (e.g. one ``async for`` per exercise set, leaving each
with ``break``): iteration state lives in the object, so nothing is lost or repeated between loops.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from movecoach.errors import UserError
from movecoach.link.transport import (
    DEFAULT_TIMEOUT_S,
    LinkLost,
    Transport,
    TransportError,
    open_transport,
)
from movecoach.samples import SampleBlock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkEvent:
    """The link to the wearable went down or came back.

    state: "lost" (dropped; reconnecting unless reconnect=False) or "restored" (data again).
    t_s: host wall-clock time (unix seconds) of the event.
    gap_s: on "restored", seconds (host monotonic clock) between the last data before the drop
    and the first data after it; 0.0 on "lost".
    lost_packets: on "restored", packets the decoder found missing across the gap (sequence
    numbers); 0 on "lost".
    reason: why the link dropped (on "lost"), for logs.
    attempts: connect attempts it took (on "restored").
    """

    state: str
    t_s: float
    gap_s: float = 0.0
    lost_packets: int = 0
    reason: str = ""
    attempts: int = 0

    def to_json(self) -> dict:
        """The fields of a coach ``link`` event (`movecoach.events.Link`)."""
        return {"state": self.state, "gap_s": round(self.gap_s, 3),
                "lost_packets": self.lost_packets}


@dataclass
class SourceStats:
    """Counters for one source. gap_s_total: seconds without data across all restored drops."""

    connects: int = 0
    link_losses: int = 0
    restored: int = 0
    gap_s_total: float = 0.0
    blocks: int = 0
    samples: int = 0
    decoder_errors: int = 0  # chunks the decoder failed on (logged, skipped)
    decoder: Any = None  # movecoach.link.decoder.DecoderStats (None for replay)
    events: list[LinkEvent] = field(default_factory=list)


class SourceUnavailable(UserError):
    """Could not connect, or could not reconnect before ``reconnect_timeout_s`` ran out."""


class Source:
    """Iterate for ``SampleBlock | LinkEvent``; see the module docstring. Use :func:`open_source`.

    timeout_s: per connect attempt, seconds (None: wait forever; 0: one immediate try).
    reconnect: False ends the iteration after ``LinkEvent("lost")`` instead of reconnecting.
    reconnect_timeout_s: give up (SourceUnavailable) after this long without a link;
    None keeps trying forever, 0 allows a single reconnect attempt.
    backoff_initial_s, backoff_max_s: wait before the first retry, doubling up to the cap.
    stall_timeout_s: a link silent this long counts as lost (None: never; the wearable
    streams ~10 packets/s, so seconds of silence mean it is gone even if the radio has not
    noticed). Until the first data after a connect it is at least ``timeout_s``. Not applied
    to replays, nor after the caller sent "stop".
    start_streaming: send the "start" command after each connect.
    decoder: a ``movecoach.link.decoder.Decoder`` (a fresh one by default).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        reconnect: bool = True,
        reconnect_timeout_s: float | None = None,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 5.0,
        stall_timeout_s: float | None = 5.0,
        start_streaming: bool = True,
        decoder: Any = None,
    ):
        if backoff_initial_s <= 0 or backoff_max_s < backoff_initial_s:
            raise ValueError("need 0 < backoff_initial_s <= backoff_max_s")
        if stall_timeout_s is not None and stall_timeout_s <= 0:
            raise ValueError("stall_timeout_s must be None or > 0 seconds")
        if reconnect_timeout_s is not None and reconnect_timeout_s < 0:
            raise ValueError("reconnect_timeout_s must be None or >= 0 seconds")
        self.transport = transport
        self.timeout_s = timeout_s
        self.reconnect = reconnect
        self.reconnect_timeout_s = reconnect_timeout_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.stall_timeout_s = None if transport.framing == "samples" else stall_timeout_s
        self.start_streaming = start_streaming and transport.framing != "samples"
        if decoder is None and transport.framing != "samples":
            from movecoach.link.decoder import Decoder

            decoder = Decoder()
        self.decoder = decoder
        self.stats = SourceStats(decoder=getattr(decoder, "stats", None))
        self._pending: collections.deque[SampleBlock | LinkEvent] = collections.deque()
        self._chunks: Any = None
        self._finished = False
        self._down_since: float | None = None  # monotonic time of the drop while reconnecting
        self._attempts = 0
        self._restore: tuple[float, int, int] | None = None  # (last data mono, lost pkts, tries)
        self._last_data_mono: float | None = None
        self._skip_before_s: float | None = None
        self._streaming = True  # False after the caller sent "stop"
        self._data_since_connect = False

    # --- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.transport.url

    @property
    def framing(self) -> str:
        return self.transport.framing

    @property
    def fs(self) -> float | None:
        """Sample rate in Hz: from the wearable's packets (None before the first one), or the
        recording's rate for a replay."""
        if self.decoder is None:
            recording = getattr(self.transport, "recording", None)
            return None if recording is None else float(recording.fs)
        return getattr(self.decoder, "fs", None)

    @property
    def status(self) -> dict | None:
        """The wearable's last status record (``protocol.parse_status``: battery_pct, rate_hz,
        streaming, ...), updated as you iterate; None until one arrived. The wearable answers
        every command with one; ``send_control(protocol.encode_status_request())`` asks."""
        return getattr(self.decoder, "status", None)

    async def __aenter__(self) -> Source:
        try:
            await self._connect(self.timeout_s)
        except TransportError as exc:
            text = str(exc)  # a transport that already says "cannot ..." is not repeated
            raise SourceUnavailable(text if text.startswith("cannot ") else
                                    f"cannot connect to {self.url}: {text}") from exc
        return self

    async def __aexit__(self, *exc_info: object) -> None:  # closes whether or not it raised
        await self.aclose()

    async def aclose(self) -> None:
        """Disconnect. Asks the wearable to stop streaming first when the link is up."""
        self._finished = True
        chunks, self._chunks = self._chunks, None
        if chunks is not None:
            try:
                await chunks.aclose()
            except Exception:  # noqa: BLE001 - a broken link cannot be closed more cleanly
                pass
        if self.start_streaming and self.transport.is_open:
            try:
                from movecoach.firmware import protocol

                await asyncio.wait_for(self.transport.send_control(protocol.encode_stop()), 1.0)
            except (TransportError, TimeoutError, OSError) as exc:
                log.debug("could not send stop to %s: %s", self.url, exc)
        await self.transport.close()

    async def send_control(self, command: bytes) -> None:
        """Send a control command (``movecoach.firmware.protocol.encode_*``) to the wearable.

        After "stop" the source stops expecting data (no stall detection) and does not restart
        the stream on reconnect; "start" turns both back on.
        """
        from movecoach.firmware import protocol

        await self.transport.send_control(command)
        if bytes(command) == protocol.encode_stop():
            self._streaming = False
        elif bytes(command) == protocol.encode_start():
            self._streaming = True

    def discard_buffered(self) -> None:
        """Drop the samples taken before now that are still waiting to be read.

        For a live link whose reader paused (e.g. the coach's rest between two sets): the next
        samples returned are ones taken after this call, so movements made during the pause are
        not analysed late. Link events are kept. Replays have no backlog, so this does nothing.
        """
        if self.transport.framing == "samples":
            return
        self._skip_before_s = time.time()
        kept = [i for i in self._pending if isinstance(i, LinkEvent)]
        dropped = sum(len(i) for i in self._pending if not isinstance(i, LinkEvent))
        self._pending = collections.deque(kept)
        log.debug("%s: discarded %d buffered samples", self.url, dropped)

    def _skip_old(self, blocks: list[SampleBlock]) -> list[SampleBlock]:
        """Trim samples taken (t_host_s) before the discard mark; the mark ends at the first new one."""
        mark = self._skip_before_s
        out = []
        for b in blocks:
            if mark is None or b.t_host_s is None:
                out.append(b)
                continue
            keep = b.t_host_s >= mark
            if keep.any():
                i = int(np.argmax(keep))
                out.append(SampleBlock(b.t_s[i:], b.acc_m_s2[i:], b.gyr_rad_s[i:], b.fs,
                                       b.t_host_s[i:]))
                mark = None
        self._skip_before_s = mark
        return out

    async def _connect(self, timeout_s: float | None) -> None:
        await self.transport.open(timeout_s)
        self.stats.connects += 1
        self._chunks = None
        self._data_since_connect = False
        if self.start_streaming and self._streaming:
            from movecoach.firmware import protocol

            try:
                await self.transport.send_control(protocol.encode_start())
            except TransportError:
                await self.transport.close()
                raise

    # --- iteration -------------------------------------------------------------------------------
    def __aiter__(self) -> Source:
        return self

    async def __anext__(self) -> SampleBlock | LinkEvent:
        while True:
            if self._pending:
                return self._pending.popleft()
            if self._finished:
                raise StopAsyncIteration
            if self._down_since is not None:
                await self._reconnect()
                continue
            try:
                if getattr(self.decoder, "held", 0):
                    # packets wait for a missing one before them: not longer than reorder_s
                    try:
                        async with asyncio.timeout(self.decoder.reorder_s):
                            chunk = await self._next_chunk()
                    except TimeoutError:
                        self._flush_decoder()
                        continue
                else:
                    chunk = await self._next_chunk()
            except StopAsyncIteration:
                log.info("%s: end of data", self.url)
                self._flush_decoder()
                self._finished = True
                continue
            except LinkLost as exc:
                self._flush_decoder()
                self._lost(str(exc))
                continue
            self._take(chunk)

    async def _next_chunk(self) -> Any:
        if self._chunks is None:
            self._chunks = self.transport.chunks()
        limit_s = self.stall_timeout_s
        if limit_s is not None and not self._data_since_connect:
            # a wearable may take a moment to start (a simulated one computes its exercise first)
            limit_s = max(limit_s, self.timeout_s or 0.0)
        try:
            if limit_s is None or not self._streaming:
                chunk = await anext(self._chunks)
            else:
                async with asyncio.timeout(limit_s):
                    chunk = await anext(self._chunks)
        except TimeoutError:
            self._chunks = None
            raise LinkLost(f"no data for {limit_s:g} s") from None
        except BaseException:
            self._chunks = None  # the generator is finished (error or cancellation): start anew
            raise
        self._data_since_connect = True
        return chunk

    def _take(self, chunk: Any) -> None:
        now_wall = self.transport.last_arrival_s or time.time()
        if self.transport.framing == "samples":
            blocks = [chunk]
        else:
            try:
                if self.transport.framing == "packet":
                    blocks = self.decoder.feed_packet(chunk, t_host_s=now_wall)
                else:
                    blocks = self.decoder.feed_stream(chunk, t_host_s=now_wall)
            except Exception:  # a decoder bug must not end the session: skip this chunk
                self._decoder_failed(len(chunk))
                return
        self._take_blocks(blocks, now_wall)

    def _flush_decoder(self) -> None:
        if self.decoder is None or not hasattr(self.decoder, "flush"):
            return
        try:
            blocks = self.decoder.flush()
        except Exception:
            self._decoder_failed(0)
            return
        self._take_blocks(blocks, time.time())

    def _decoder_failed(self, n_bytes: int) -> None:
        self.stats.decoder_errors += 1
        if self.stats.decoder_errors == 1:
            log.exception("%s: the decoder failed on %d bytes; skipped them (please report this)",
                          self.url, n_bytes)
        else:
            log.warning("%s: the decoder failed again (%d times); skipped %d bytes", self.url,
                        self.stats.decoder_errors, n_bytes)
        resync = getattr(self.decoder, "resync", None)
        if resync is not None:
            resync()

    def _take_blocks(self, blocks: list[SampleBlock], now_wall: float) -> None:
        if self._skip_before_s is not None:
            blocks = self._skip_old(blocks)
        blocks = [b for b in blocks if len(b)]
        if not blocks:
            return
        now = time.monotonic()
        if self._restore is not None:
            last_data, lost_before, attempts = self._restore
            self._restore = None
            gap_s = now - last_data
            lost = self._lost_packets() - lost_before
            event = LinkEvent("restored", now_wall, gap_s=gap_s, lost_packets=lost,
                              attempts=attempts)
            self.stats.restored += 1
            self.stats.gap_s_total += gap_s
            self.stats.events.append(event)
            log.warning("%s: data again after %.1f s (%d packets lost)", self.url, gap_s, lost)
            self._pending.append(event)
        self._last_data_mono = now
        self.stats.blocks += len(blocks)
        self.stats.samples += sum(len(b) for b in blocks)
        self._pending.extend(blocks)

    def _lost_packets(self) -> int:
        stats = getattr(self.decoder, "stats", None)
        return int(getattr(stats, "lost_packets", 0) or 0)

    def _lost(self, reason: str) -> None:
        now = time.monotonic()
        event = LinkEvent("lost", time.time(), reason=reason)
        self.stats.link_losses += 1
        self.stats.events.append(event)
        self._pending.append(event)
        self._chunks = None
        if not self.reconnect:
            log.warning("%s: link lost (%s); not reconnecting", self.url, reason)
            self._finished = True
            return
        log.warning("%s: link lost (%s); reconnecting", self.url, reason)
        self._down_since = now
        self._attempts = 0
        if self._restore is None:  # a drop before data came back keeps the original gap start
            self._restore = (self._last_data_mono if self._last_data_mono is not None else now,
                             self._lost_packets(), 0)

    async def _reconnect(self) -> None:
        """One backoff wait plus one connect attempt; raises SourceUnavailable past the deadline."""
        assert self._down_since is not None
        await self.transport.close()
        deadline = (None if self.reconnect_timeout_s is None
                    else self._down_since + self.reconnect_timeout_s)
        delay = min(self.backoff_initial_s * 2 ** self._attempts, self.backoff_max_s)
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and self._attempts > 0:
                self._give_up()
            delay = max(0.0, min(delay, remaining))
        await asyncio.sleep(delay)
        self._attempts += 1
        timeout_s = self.timeout_s
        if deadline is not None:
            left = max(deadline - time.monotonic(), 0.0)
            timeout_s = left if timeout_s is None else min(timeout_s, left)
        try:
            await self._connect(timeout_s)
        except (TransportError, UserError) as exc:
            # UserError here is e.g. "no Bluetooth adapter": someone switched Bluetooth off
            # mid-session and may switch it on again, so it is retried like a missing wearable
            log.log(logging.WARNING if isinstance(exc, UserError) else logging.INFO,
                    "%s: reconnect attempt %d failed: %s", self.url, self._attempts, exc)
            if deadline is not None and time.monotonic() >= deadline:
                self._give_up()
            return
        if self.decoder is not None and self.transport.framing == "stream":
            # a frame cut off by the drop must not swallow the first frame of the new stream
            self.decoder.feed_stream(b"\x00")
        if hasattr(self.decoder, "link_restored"):
            self.decoder.link_restored()  # what was sent while the link was down is lost
        log.info("%s: reconnected after %d attempt(s)", self.url, self._attempts)
        if self._restore is not None:
            last, lost, _ = self._restore
            self._restore = (last, lost, self._attempts)
        self._down_since = None

    def _give_up(self) -> None:
        self._finished = True
        raise SourceUnavailable(
            f"lost the link to {self.url} and could not reconnect within "
            f"{self.reconnect_timeout_s:g} s ({self._attempts} attempts)")


def open_source(url: str | Transport, **options: Any) -> Source:
    """A :class:`Source` for a URL (``ble://``, ``serial://``, ``tcp://``, ``replay://``,
    ``loop://``) or a ready Transport; use it as ``async with open_source(url) as source``.

    options: :class:`Source`'s keywords (timeout_s, reconnect, ...: defined and explained there)
    and, for a URL, the backend's (e.g. ``speed=`` for replay, ``baudrate=`` for serial,
    ``client_factory=``/``scanner=`` for BLE). Connecting the first time fails with
    SourceUnavailable (a one-line UserError); later drops are retried as :class:`Source` says.
    """
    source_options = {k: v for k, v in options.items() if k in _SOURCE_OPTIONS}
    transport_options = {k: v for k, v in options.items() if k not in _SOURCE_OPTIONS}
    if isinstance(url, Transport):
        if transport_options:
            raise TypeError(f"options {sorted(transport_options)} are for a URL, not a ready Transport")
        return Source(url, **source_options)
    timeout_s = source_options.get("timeout_s", DEFAULT_TIMEOUT_S)
    return Source(open_transport(url, timeout_s=timeout_s, **transport_options), **source_options)


# Source's keyword arguments: what open_source keeps for the Source, not the transport
_SOURCE_OPTIONS = frozenset(inspect.signature(Source).parameters) - {"transport"}


__all__ = ["LinkEvent", "Source", "SourceStats", "SourceUnavailable", "open_source"]
