"""replay://: recordings cut into blocks, paced, and the errors a user can meet."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from movecoach.errors import UserError
from movecoach.link.transport import open_transport
from movecoach.link.transport.replay import block_edges
from movecoach.samples import SampleBlock
from movecoach.store import csvio, open_store


def run(coro, timeout_s: float = 10.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def test_blocks_are_cut_every_block_s_and_at_gaps():
    fs = 100.0
    t = np.concatenate([np.arange(0, 25) / fs, np.arange(40, 60) / fs])  # 0.15 s hole at 0.25 s
    edges = block_edges(t, fs, 0.1)
    assert edges.tolist() == [0, 10, 20, 25, 35, 45]
    assert block_edges(np.zeros(0), fs, 0.1).tolist() == [0]


def test_replay_transport_yields_sample_blocks_and_reports_its_duration(tmp_path):
    t = np.arange(0, 3.0, 0.01)
    rng = np.random.default_rng(0)  # a sensor lying still: gravity and noise
    acc = rng.normal(0, 0.01, (len(t), 3)) + [0.0, 0.0, 9.81]
    gyr = rng.normal(0, 0.002, (len(t), 3))
    path = tmp_path / "sway.csv"
    csvio.write_csv(path, t, acc, gyr)

    async def main():
        link = open_transport(f"replay://{path}?speed=0&block_s=0.5")
        async with link:
            assert link.framing == "samples"
            blocks = [b async for b in link.chunks()]
            return blocks, link.duration_s

    blocks, duration_s = run(main())
    assert all(isinstance(b, SampleBlock) for b in blocks)
    assert [len(b) for b in blocks] == [50] * 6
    assert duration_s == pytest.approx(2.99)


def test_a_file_that_is_no_recording_is_a_user_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(UserError, match="notes.txt"):
        run(open_transport(f"replay://{path}").open())


def test_a_database_without_sessions_is_a_user_error(tmp_path):
    open_store(tmp_path / "data", record=True, min_free_mb=1.0).close()
    with pytest.raises(UserError, match="holds no recorded sessions"):
        run(open_transport(f"replay://{tmp_path / 'data'}").open())


def test_one_step_of_a_session_can_be_replayed(tmp_path):
    t = np.arange(0, 4.0, 0.01)
    with open_store(tmp_path / "data", record=True, min_free_mb=1.0) as recorder:
        sess = recorder.start_session(device_id="d", routine="r", source="s", fs=100.0)
        for step, sl in enumerate((slice(0, 200), slice(200, 400))):
            sess.add_samples(SampleBlock(t[sl], np.zeros((200, 3)), np.zeros((200, 3)), fs=100.0),
                             step=step)
        sess.finish()

    async def main():
        async with open_transport(f"replay://{tmp_path / 'data'}?speed=0&step=1") as link:
            return SampleBlock.concat([b async for b in link.chunks()])

    got = run(main())
    np.testing.assert_array_equal(got.t_s, t[200:])
