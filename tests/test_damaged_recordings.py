"""Damaged recordings: what can be read is read (with a warning), as docs/formats.md promises, and a
replay that cannot start leaves no empty session behind."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from movecoach.samples import SampleBlock
from movecoach.sim import simulate
from movecoach.store import open_store, read_samples

MOVECOACH = str(Path(sys.executable).with_name("movecoach"))
BLOCK = 104  # samples per stored block (one commit each)


@pytest.fixture
def damaged_db(tmp_path) -> tuple[Path, int, int]:
    """A recorded march session whose samples table has two unreadable pages.
    Returns (data dir, samples recorded, blocks recorded)."""
    rec = simulate("march", reps=4, fs=104.0, seed=8)
    data = tmp_path / "recorded"
    with open_store(data, record=True, min_free_mb=1.0) as recorder:
        s = recorder.start_session(device_id="d", routine="march", source="ble:x", fs=104.0)
        blocks = 0
        for i in range(0, len(rec), BLOCK):
            s.add_samples(SampleBlock(rec.t_s[i:i + BLOCK], rec.acc_m_s2[i:i + BLOCK],
                                      rec.gyr_rad_s[i:i + BLOCK], fs=104.0), step=0)
            s.flush()
            blocks += 1
        s.finish({"complete": True})
    db = data / "movecoach.sqlite"
    with sqlite3.connect(db) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        leaves = [p for (p,) in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'samples' AND pagetype = 'leaf' ORDER BY pageno")]
    assert len(leaves) > 10
    with db.open("r+b") as f:
        for page in (leaves[3], leaves[7]):
            f.seek((page - 1) * page_size)
            f.write(b"\xa5" * page_size)  # a disk sector gone bad
    return data, len(rec), blocks


def test_a_damaged_samples_table_still_gives_every_readable_block(damaged_db, caplog):
    data, n, _ = damaged_db
    with open_store(data) as store:
        assert [s.id for s in store.sessions()] == [1]  # history lists it
    block = read_samples(data, 1)  # before: UserError "database disk image is malformed"
    assert n * 0.6 < len(block) < n
    assert np.all(np.diff(block.t_s) > 0)
    assert "skipped" in caplog.text and "damaged sample block" in caplog.text


def test_raw_export_and_replay_of_a_damaged_recording_skip_the_damaged_blocks(damaged_db, tmp_path):
    data, n, _ = damaged_db
    out = subprocess.run([MOVECOACH, "export", "--session", "1", "--raw", "--out",
                          str(tmp_path / "raw.csv"), "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "damaged sample block" in out.stderr and "Traceback" not in out.stderr
    rows = (tmp_path / "raw.csv").read_text().splitlines()
    assert n * 0.6 < len(rows) - 1 < n
    replay = subprocess.run(
        [MOVECOACH, "coach", "--source", f"replay:{data / 'movecoach.sqlite'}", "--exercise", "march",
         "--speed", "50", "--no-speech", "--no-prompt", "--data-dir", str(tmp_path / "target")],
        capture_output=True, text=True, timeout=120)
    assert replay.returncode in (0, 1), replay.stderr  # 1: no rep target reached, not an error
    assert "damaged sample block" in replay.stderr and "Traceback" not in replay.stderr


def test_a_replay_of_a_damaged_database_leaves_no_empty_session_behind(tmp_path):
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x13" * 8000)
    target = tmp_path / "target"
    out = subprocess.run(
        [MOVECOACH, "coach", "--source", f"replay:{broken}", "--exercise", "march", "--no-speech",
         "--no-prompt", "--data-dir", str(target)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert [x for x in out.stderr.splitlines() if x.startswith("movecoach: error:")]
    with open_store(target) as store:
        assert store.sessions() == []  # before: an empty INCOMPLETE session
