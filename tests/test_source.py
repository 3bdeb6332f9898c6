"""open_source behaviour that does not depend on the radio: replays, backoff, deadlines,
cancellation, iterating in several loops. Uses replay:// recordings and the in-memory loop://."""

from __future__ import annotations

import asyncio
import time

import fake_bleak as fake  # tests/fake_bleak.py, on sys.path via conftest.py
import numpy as np
import pytest

from movecoach.errors import UserError
from movecoach.events import Link, wire_fields
from movecoach.firmware import framing, protocol
from movecoach.link.source import LinkEvent, SourceUnavailable, open_source
from movecoach.link.transport import TransportError
from movecoach.link.transport.loop import LoopTransport
from movecoach.samples import SampleBlock
from movecoach.store import csvio, open_store


def run(coro, timeout_s: float = 15.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def recording(duration_s: float = 3.0, fs: float = 104.0, gap=(1.0, 1.2)):
    """A 104 Hz recording with a 0.2 s hole in it (packets lost when it was recorded)."""
    t = np.arange(round(duration_s * fs)) / fs + 12.5
    keep = ~((t - t[0] >= gap[0]) & (t - t[0] < gap[1]))
    t = t[keep]
    rng = np.random.default_rng(1)
    acc = rng.normal(0, 1, (len(t), 3)) + [0, 0, 9.81]
    gyr = rng.normal(0, 0.2, (len(t), 3))
    return t, acc, gyr


async def collect(source) -> list:
    return [item async for item in source]


# --- replay ------------------------------------------------------------------------------------
def test_replaying_a_csv_gives_back_every_sample_in_order(tmp_path):
    t, acc, gyr = recording()
    path = tmp_path / "heel-toe.csv"
    csvio.write_csv(path, t, acc, gyr)
    rec = csvio.read_csv(path)

    async def main():
        async with open_source(f"replay://{path}?speed=0") as source:
            assert source.framing == "samples"
            assert source.fs == pytest.approx(104.0, rel=1e-3)
            return await collect(source)

    items = run(main())
    assert all(isinstance(i, SampleBlock) for i in items)
    got = SampleBlock.concat(items)
    np.testing.assert_array_equal(got.t_s, rec.t_s)
    np.testing.assert_array_equal(got.acc_m_s2, rec.acc_m_s2)
    np.testing.assert_array_equal(got.gyr_rad_s, rec.gyr_rad_s)
    assert got.fs == pytest.approx(104.0, rel=1e-3)
    # blocks of ~0.1 s that never span the hole in the recording
    assert max(len(b) for b in items) <= 11
    for b in items:
        assert np.all(np.diff(b.t_s) < 1.5 / 104.0)


def test_replaying_a_recorded_session_from_the_coach_database(tmp_path):
    t, acc, gyr = recording(2.5)
    with open_store(tmp_path / "data", record=True, min_free_mb=1.0) as recorder:
        for seed in (1, 2):  # two sessions; the second is "the latest"
            sess = recorder.start_session(device_id="movecoach-1a2b", routine="test",
                                          source="ble://movecoach-1a2b", fs=104.0)
            for i in range(0, len(t), 26):
                sess.add_samples(SampleBlock(t[i:i + 26], acc[i:i + 26] * seed, gyr[i:i + 26],
                                             fs=104.0), step=0)
            sess.finish()
    db = tmp_path / "data"

    async def replay(url):
        async with open_source(url) as source:
            return SampleBlock.concat(await collect(source))

    latest = run(replay(f"replay://{db}?speed=0"))
    first = run(replay(f"replay://{db}?speed=0&session=1"))
    np.testing.assert_array_equal(latest.t_s, t)
    np.testing.assert_allclose(latest.acc_m_s2, acc * 2, rtol=1e-6)  # stored as float32
    np.testing.assert_allclose(first.acc_m_s2, acc, rtol=1e-6)
    np.testing.assert_allclose(first.gyr_rad_s, gyr, rtol=1e-6, atol=1e-7)
    with pytest.raises(UserError, match="no session 7"):
        run(replay(f"replay://{db}?speed=0&session=7"))


def test_replay_keeps_real_time_or_runs_faster(tmp_path):
    t, acc, gyr = recording(2.5, gap=(5, 5))
    path = tmp_path / "march.csv"
    csvio.write_csv(path, t, acc, gyr)

    async def main():
        async with open_source(f"replay://{path}", speed=10.0) as source:
            t0 = time.monotonic()
            items = await collect(source)
            return items, time.monotonic() - t0

    items, took_s = run(main())
    got = SampleBlock.concat(items)
    assert 0.2 < took_s < 1.2  # 2.5 s of samples at 10x
    # host times run at 10x the sensor clock, anchored at the start
    np.testing.assert_allclose(np.diff(got.t_host_s), np.diff(got.t_s) / 10.0, atol=1e-6)
    assert abs(got.t_host_s[0] - time.time()) < 5.0


def test_a_missing_recording_is_a_one_line_error(tmp_path):
    with pytest.raises(UserError, match="no such recording"):
        run(open_source(f"replay://{tmp_path / 'nope.csv'}").__aenter__())


def test_the_source_can_be_iterated_in_several_loops_without_losing_or_repeating(tmp_path):
    t, acc, gyr = recording(2.5)
    path = tmp_path / "sets.csv"
    csvio.write_csv(path, t, acc, gyr)

    async def main():
        parts = []
        async with open_source(f"replay://{path}?speed=0") as source:
            for _ in range(2):  # e.g. one loop per exercise set, each left with `break`
                part = []
                async for block in source:
                    part.append(block)
                    if len(part) == 5:
                        break
                parts.append(part)
            parts.append(await collect(source))
        return parts

    parts = run(main())
    assert [len(p) for p in parts[:2]] == [5, 5]
    got = SampleBlock.concat([b for p in parts for b in p])
    np.testing.assert_array_equal(got.t_s, csvio.read_csv(path).t_s)


# --- reconnect machinery (loop://) -------------------------------------------------------------
class RefusingLoop(LoopTransport):
    """loop:// that refuses the first `refusals` reconnects, recording when each attempt came."""

    def __init__(self, refusals: int, **kwargs):
        super().__init__(**kwargs)
        self.refusals = refusals
        self.attempts: list[float] = []

    async def _open(self, timeout_s):
        self.attempts.append(time.monotonic())
        if self.connects and len(self.attempts) <= self.refusals + 1:
            raise TransportError("wearable still out of range")
        await super()._open(timeout_s)


def test_reconnect_backs_off_exponentially_up_to_the_cap():
    link = RefusingLoop(refusals=4, framing="packet")

    async def main():
        async with open_source(link, backoff_initial_s=0.05, backoff_max_s=0.2,
                               stall_timeout_s=None) as source:
            link.feed(fake.imu_packet(0))
            assert isinstance(await anext(source), SampleBlock)
            link.drop("out of range")
            lost = await anext(source)
            reader = asyncio.ensure_future(anext(source))
            await link.wait_open(5.0)
            link.feed(fake.imu_packet(9))
            restored = await reader
            block = await anext(source)
            return lost, restored, block

    lost, restored, block = run(main())
    assert (lost.state, lost.reason) == ("lost", "loop://: out of range")
    assert (restored.state, restored.lost_packets, restored.attempts) == ("restored", 8, 5)
    assert isinstance(block, SampleBlock) and block.t_s[0] == fake.expected_samples([9])[0][0]
    waits = np.diff(link.attempts[1:])  # between reconnect attempts 1..5
    # 0.1, 0.2, 0.2 (capped), 0.2 after the first 0.05 s
    assert waits == pytest.approx([0.1, 0.2, 0.2, 0.2], abs=0.08)
    assert link.controls == [protocol.encode_start(), protocol.encode_start(),
                             protocol.encode_stop()]


def test_the_first_connect_failing_is_a_one_line_user_error():
    link = LoopTransport()
    link.refuse_connections = True
    with pytest.raises(SourceUnavailable, match="^cannot connect to loop://: ") as info:
        run(open_source(link).__aenter__())
    assert isinstance(info.value, UserError) and "\n" not in str(info.value)


def test_cancelling_a_wait_for_samples_loses_nothing():
    link = LoopTransport(framing="packet")

    async def main():
        async with open_source(link, stall_timeout_s=None) as source:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(source), 0.05)  # nothing yet: caller gives up
            link.feed(fake.imu_packet(0))
            link.feed(fake.imu_packet(1))
            return [await anext(source), await anext(source)], source.stats

    blocks, stats = run(main())
    np.testing.assert_array_equal(SampleBlock.concat(blocks).t_s, fake.expected_samples([0, 1])[0])
    assert stats.link_losses == 0


def test_a_frame_cut_by_a_drop_does_not_swallow_the_first_frame_after_reconnect():
    link = LoopTransport()  # stream framing, like serial

    async def main():
        async with open_source(link, backoff_initial_s=0.05, stall_timeout_s=None) as source:
            f0, f1, f2 = (framing.encode_frame(fake.imu_packet(s)) for s in (0, 1, 2))
            link.feed(f0 + f1[:40])  # the link drops in the middle of frame 1
            first = await anext(source)
            link.drop()
            lost = await anext(source)
            reader = asyncio.ensure_future(anext(source))
            await link.wait_open(5.0)
            link.feed(f2)
            return first, lost, await reader, await anext(source), source.stats.decoder

    first, lost, restored, block, dec = run(main())
    assert len(first) == 8 and lost.state == "lost"
    assert (restored.state, restored.lost_packets) == ("restored", 1)
    np.testing.assert_allclose(block.t_s, fake.expected_samples([2])[0], atol=1e-9)
    assert dec.crc_errors == 1  # the cut frame, and only it


def test_link_events_carry_the_fields_of_a_coach_link_event():
    event = LinkEvent("restored", time.time(), gap_s=2.34567, lost_packets=12)
    assert {*event.to_json(), "exercise"} == set(wire_fields(Link))  # the runner adds the step's exercise
    assert event.to_json() == {"state": "restored", "gap_s": 2.346, "lost_packets": 12}


def test_discard_buffered_skips_what_was_sent_while_the_reader_paused():
    link = LoopTransport(framing="packet")
    period_s = 8 / 104.0  # one packet of 8 samples at 104 Hz

    async def wearable(start: float, seqs: range):
        for seq in seqs:  # each packet leaves when its last sample has been taken
            await asyncio.sleep(max(0.0, start + (seq + 1) * period_s - time.monotonic()))
            link.feed(fake.imu_packet(seq))

    async def main():
        async with open_source(link, stall_timeout_s=None) as source:
            start = time.monotonic()
            sender = asyncio.ensure_future(wearable(start, range(0, 14)))
            first = [await anext(source) for _ in range(5)]  # set 1 reads packets 0..4
            # rest: nobody reads while packets 5..8 arrive
            await asyncio.sleep(max(0.0, start + 9 * period_s + 0.01 - time.monotonic()))
            source.discard_buffered()
            after = [await anext(source)]
            while after[-1].t_s[-1] < fake.expected_samples([13])[0][-1]:
                after.append(await anext(source))
            await sender
            return first, after

    first, after = run(main())
    t_s = fake.expected_samples(list(range(14)))[0]
    assert SampleBlock.concat(first).t_s.tolist() == t_s[:40].tolist()
    got = SampleBlock.concat(after).t_s
    assert got[0] > t_s[8 * 8 + 7]  # nothing taken before the discard (packets 5..8) came back
    assert got[0] <= t_s[10 * 8]
    assert got.tolist() == t_s[-len(got):].tolist()  # and from there on, every sample


def test_after_stop_a_quiet_link_is_not_a_lost_one_and_start_resumes():
    link = LoopTransport(framing="packet")

    async def main():
        async with open_source(link, stall_timeout_s=0.2) as source:
            link.feed(fake.imu_packet(0))
            await anext(source)
            await source.send_control(protocol.encode_stop())
            with pytest.raises(TimeoutError):  # silence, but no "lost" event
                await asyncio.wait_for(anext(source), 0.5)
            await source.send_control(protocol.encode_start())
            link.feed(fake.imu_packet(1))
            block = await anext(source)
            event = await anext(source)  # now silence is a stalled link again
            return block, event, source.stats.link_losses

    block, event, losses = run(main())
    assert isinstance(block, SampleBlock) and event.state == "lost" and losses == 1
    assert link.controls[:3] == [protocol.encode_start(), protocol.encode_stop(),
                                 protocol.encode_start()]


def test_a_wearable_slow_to_start_is_given_the_connect_timeout_before_it_counts_as_stalled():
    link = LoopTransport(framing="packet")

    async def main():
        async with open_source(link, timeout_s=2.0, stall_timeout_s=0.2) as source:
            asyncio.get_running_loop().call_later(0.6, link.feed, fake.imu_packet(0))
            first = await anext(source)  # 0.6 s of silence before the first packet: fine
            second = await anext(source)  # then 0.2 s of silence is a stalled link
            return first, second

    first, second = run(main())
    assert isinstance(first, SampleBlock)
    assert isinstance(second, LinkEvent) and second.reason == "no data for 0.2 s"
