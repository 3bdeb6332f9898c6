"""The live path (link -> Source -> decoder -> analyzer -> session) survives what links and bugs do:
repeated, replayed, swapped and bit-flipped packets, and an exception in the decoder or analyzer."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decoder import make_packet
from test_session_link import Collect

from movecoach.coach import session as session_module
from movecoach.coach.routine import single_exercise
from movecoach.coach.session import SessionOptions, SessionRunner
from movecoach.coach.step_sources import SharedSource
from movecoach.firmware import framing, protocol
from movecoach.link.decoder import REORDER_WINDOW, Decoder
from movecoach.link.source import Source
from movecoach.link.transport.loop import LoopTransport
from movecoach.samples import SampleBlock
from movecoach.signal.streaming import RepAnalyzer

SPP = 8
N_PACKETS = 48
SEGMENT = 12  # each segment of the stream gets at most one fault, far enough from the next
RNG = np.random.default_rng(7)
COUNTS = RNG.integers(-32768, 32768, (N_PACKETS * SPP, 6), np.int16)
PACKETS = [make_packet(k, (k * SPP * 1_000_000) // 104, COUNTS[k * SPP:(k + 1) * SPP])
           for k in range(N_PACKETS)]

fault = st.one_of(
    st.tuples(st.just("repeat"), st.integers(0, 4)),  # sent again, up to 4 packets later
    st.tuples(st.just("replay"), st.integers(1, 6)),  # an older run of packets sent again
    st.tuples(st.just("swap"), st.integers(1, 3)),  # swapped with one up to 3 later
    st.tuples(st.just("flip_seq"), st.integers(0, 15)),  # a flipped bit of the sequence number
    st.tuples(st.just("flip_t0"), st.integers(0, 31)),  # a flipped bit of the timestamp
)


def flip(packet: bytes, byte: int, bit: int) -> bytes:
    b = bytearray(packet)
    b[byte] ^= 1 << bit
    return bytes(b)


def damaged_stream(faults: list[tuple[int, tuple[str, int]]]) -> list[bytes]:
    """The packets as a bad link delivers them; fault (offset in segment, (kind, arg)) per segment."""
    sent: list[bytes] = []
    for seg in range(N_PACKETS // SEGMENT):
        part = list(PACKETS[seg * SEGMENT:(seg + 1) * SEGMENT])
        if seg < len(faults):
            at, (kind, arg) = faults[seg]
            at = min(at, SEGMENT - 5)
            if kind == "repeat":
                part.insert(at + 1 + arg, part[at])
            elif kind == "replay" and seg > 0:
                start = max(0, seg * SEGMENT - arg - at)
                part[at:at] = PACKETS[start:start + arg]
            elif kind == "swap":
                part[at], part[at + arg] = part[at + arg], part[at]
            elif kind == "flip_seq":
                part[at] = flip(part[at], 4 + arg // 8, arg % 8)
            elif kind == "flip_t0":
                part[at] = flip(part[at], 6 + arg // 8, arg % 8)
        sent += part
    return sent


async def run_source(transport: LoopTransport, chunks: list[bytes]) -> list[SampleBlock]:
    """Feed the chunks through a real Source into a real RepAnalyzer; return the blocks."""
    got: list[SampleBlock] = []
    analyzer = RepAnalyzer("heel-toe", fs=104.0)
    source = Source(transport, reconnect=False, stall_timeout_s=None, start_streaming=False)
    async with source:
        for c in chunks:
            transport.feed(c)
        transport.end()
        async for item in source:
            if isinstance(item, SampleBlock):
                got.append(item)
                analyzer.push(item.t_s, item.acc_m_s2, item.gyr_rad_s)
    analyzer.finish()
    return got


def assert_every_sample_once_in_time_order(blocks: list[SampleBlock]) -> None:
    got = SampleBlock.concat(blocks)
    assert np.all(np.diff(got.t_s) > 0), "time went backwards or stood still"
    want = COUNTS[:, :3] * protocol.acc_scale_m_s2(4)
    np.testing.assert_array_equal(got.acc_m_s2, want)  # each sample once, in order, none invented


@settings(max_examples=60, deadline=None, derandomize=True)
@given(faults=st.lists(st.tuples(st.integers(0, SEGMENT - 1), fault), max_size=N_PACKETS // SEGMENT))
def test_ble_packets_repeated_replayed_swapped_or_bit_flipped_give_every_sample_once(faults):
    blocks = asyncio.run(run_source(LoopTransport(framing="packet"), damaged_stream(faults)))
    assert_every_sample_once_in_time_order(blocks)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(faults=st.lists(st.tuples(st.integers(0, SEGMENT - 1), fault), max_size=N_PACKETS // SEGMENT),
       chunk=st.integers(1, 300))
def test_framed_stream_with_repeats_replays_and_swaps_gives_every_sample_once(faults, chunk):
    # bit flips on a framed stream are caught by the CRC: only reordering faults here
    faults = [(at, f) for at, f in faults if not f[0].startswith("flip")]
    data = b"".join(framing.encode_frame(p) for p in damaged_stream(faults))
    chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    blocks = asyncio.run(run_source(LoopTransport(framing="stream"), chunks))
    assert_every_sample_once_in_time_order(blocks)


def test_the_reorder_window_covers_the_swaps_tested_here():
    assert REORDER_WINDOW >= 4


class FailsOnce(Decoder):
    """A decoder with a bug that shows on one packet (the fault being contained)."""

    def feed_packet(self, packet, t_host_s=None):
        if packet == PACKETS[5]:
            raise IndexError("index 0 is out of bounds")
        return super().feed_packet(packet, t_host_s)


def test_a_decoder_exception_is_logged_counted_and_the_stream_goes_on(caplog):
    transport = LoopTransport(framing="packet")
    source = Source(transport, reconnect=False, stall_timeout_s=None, start_streaming=False,
                    decoder=FailsOnce())

    async def main():
        async with source:
            for p in PACKETS:
                transport.feed(p)
            transport.end()
            return [i async for i in source if isinstance(i, SampleBlock)]

    with caplog.at_level(logging.ERROR, logger="movecoach.link.source"):
        blocks = asyncio.run(main())
    assert source.stats.decoder_errors == 1
    assert sum(len(b) for b in blocks) == (N_PACKETS - 1) * SPP
    assert "decoder failed" in caplog.text


# --- whole sessions ------------------------------------------------------------------------
def sim_packets(exercise: str, reps: int) -> list[bytes]:
    """A simulated recording as the wearable's packets (104 Hz, +-4 g, +-500 dps)."""
    from movecoach.sim import simulate

    rec = simulate(exercise, reps=reps, fs=104.0, seed=2)
    counts = np.empty((len(rec), 6))
    counts[:, :3] = rec.acc_m_s2 / protocol.acc_scale_m_s2(4)
    counts[:, 3:] = rec.gyr_rad_s / protocol.gyr_scale_rad_s(500)
    counts = np.clip(np.rint(counts), -32768, 32767).astype(np.int16)
    n = len(counts) // SPP
    return [make_packet(k, (k * SPP * 1_000_000) // 104, counts[k * SPP:(k + 1) * SPP],
                        flags=protocol.FLAG_RESTART if k == 0 else 0) for k in range(n)]


def test_a_session_over_tcp_from_a_wearable_that_repeats_packets_counts_every_rep():
    packets = sim_packets("march", 4)
    sent = []
    for k, p in enumerate(packets):
        sent.append(p)
        if k % 50 == 7:  # a wearable (or bridge) that sends some packets twice
            sent.append(p)
    frames = [framing.encode_frame(p) for p in sent]
    summary, sink, stats = asyncio.run(serve_session(frames, single_exercise("march", reps=4)))
    assert summary["complete"] is True  # before: IndexError, session INCOMPLETE with 0 reps
    assert [e.data["count"] for e in sink.events if e.kind == "rep"] == [1, 2, 3, 4]
    assert stats.duplicates >= 1 and stats.lost_packets == 0
    assert not [e for e in sink.events if e.kind == "cue" and e.data["cue"] == "sensor"]


def test_a_dead_sensor_on_the_live_link_gets_a_cue_within_seconds():
    zeros = np.zeros((SPP, 6), np.int16)  # a chip that answers but measures nothing
    frames = [framing.encode_frame(make_packet(k, (k * SPP * 1_000_000) // 104, zeros))
              for k in range(104 * 6 // SPP)]
    summary, sink, _ = asyncio.run(serve_session(frames, single_exercise("march", reps=4),
                                                 until=lambda e: e.kind == "cue"))
    cues = [e.data for e in sink.events if e.kind == "cue"]
    assert cues[0]["cue"] == "sensor" and "switched on" in cues[0]["text"]  # before: 0 lifts, no word


async def serve_session(frames: list[bytes], routine, *, until=None):
    """A session reading `frames` from a TCP wearable at 20x real time, to its end or (until)
    to the first event for which until(event) is true."""

    async def serve(reader, writer):
        for i in range(0, len(frames), 13):  # ~1 s of data per write
            writer.write(b"".join(frames[i:i + 13]))
            await writer.drain()
            await asyncio.sleep(0.05)
        await asyncio.sleep(30)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    source = SharedSource(f"tcp://127.0.0.1:{port}")
    sink = Collect()
    runner = SessionRunner(routine, source, [sink], device_id="t", options=SessionOptions(ready_s=0))
    try:
        task = asyncio.ensure_future(runner.run())
        deadline = asyncio.get_running_loop().time() + 60
        while not task.done() and asyncio.get_running_loop().time() < deadline:
            if until is not None and any(until(e) for e in sink.events):
                task.cancel()
                break
            await asyncio.sleep(0.05)
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        summary = None if task.cancelled() else task.result()
        stats = source._samples.stats.decoder
    finally:
        await source.aclose()
        server.close()
    return summary, sink, stats


class FailingAnalyzer(RepAnalyzer):
    """The live analyzer with a bug on its 40th block (the fault being contained)."""

    pushes = 0

    def push(self, t_s, acc_m_s2, gyr_rad_s):
        FailingAnalyzer.pushes += 1
        if FailingAnalyzer.pushes == 40:
            raise FloatingPointError("overflow in the detector")
        return super().push(t_s, acc_m_s2, gyr_rad_s)


def test_an_analyzer_exception_in_a_session_is_logged_counted_and_survived(
        tmp_path, monkeypatch, caplog):
    from movecoach.sim import simulate
    from movecoach.store import csvio

    rec = simulate("march", reps=6, fs=104.0, seed=5)
    path = tmp_path / "march.csv"
    csvio.write_csv(path, rec.t_s, rec.acc_m_s2, rec.gyr_rad_s)
    monkeypatch.setattr(session_module, "RepAnalyzer", FailingAnalyzer)
    source = SharedSource(f"replay://{path}?speed=0")
    sink = Collect()
    runner = SessionRunner(single_exercise("march", reps=None), source, [sink], device_id="t",
                           options=SessionOptions(ready_s=0))

    async def main():
        try:
            return await runner.run()
        finally:
            await source.aclose()

    with caplog.at_level(logging.ERROR, logger="movecoach.coach.session"):
        summary = asyncio.run(main())
    assert summary["analysis_errors"] == 1 and "analysis failed" in caplog.text
    assert [e.kind for e in sink.events][-1] == "session_end"
    reps = [e for e in sink.events if e.kind == "rep"]
    assert 4 <= len(reps) <= 6  # the reps around the failed block may be missed, the rest count


def test_a_packet_with_both_sequence_and_time_wrong_is_dropped_as_corrupt():
    dec = Decoder()
    broken = flip(flip(PACKETS[6], 5, 2), 8, 1)  # seq and t0 both off
    blocks = []
    for i, p in enumerate(PACKETS[:6] + [broken] + PACKETS[7:12]):
        blocks += dec.feed_packet(p, t_host_s=100.0 + 0.077 * i)
    got = SampleBlock.concat(blocks + dec.flush())
    assert np.all(np.diff(got.t_s) > 0)
    assert dec.stats.corrupt == 1 and len(got) == 11 * SPP


def test_a_rate_no_wearable_sends_is_a_damaged_header():
    dec = Decoder()
    blocks = []
    for i, p in enumerate(PACKETS[:6] + [flip(PACKETS[6], 10, 0)] + PACKETS[7:12]):
        blocks += dec.feed_packet(p, t_host_s=100.0 + 0.077 * i)
    assert {b.fs for b in blocks} == {104.0} and dec.stats.bad_packets == 1
