"""A person's health data is readable by that person only: the data directory is 0700, every
file movecoach writes (database, -wal/-shm, reports, exports) 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from movecoach.cli import main
from movecoach.samples import SampleBlock
from movecoach.sim import simulate
from movecoach.store import open_store
from movecoach.store.csvio import write_csv


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the usual default: new files 0644, directories 0755
    yield
    os.umask(old)


def test_the_database_and_its_wal_and_shm_files_are_private(tmp_path, umask_022):
    data = tmp_path / "data"
    with open_store(data, record=True, min_free_mb=1.0) as recorder:
        session = recorder.start_session(device_id="d", routine="r", source="sim", fs=104.0)
        t = np.arange(520) / 104.0
        session.add_samples(SampleBlock(t, np.zeros((520, 3)) + [0, 0, 9.81], np.zeros((520, 3)),
                                        fs=104.0), step=0)
        session.flush()
        files = {p.name: mode(p) for p in data.iterdir()}
        assert mode(data) == 0o700  # before: 0755
        assert files == {"movecoach.sqlite": 0o600, "movecoach.sqlite-wal": 0o600,
                         "movecoach.sqlite-shm": 0o600}  # before: 0644 each
        session.close()


def test_a_data_directory_left_readable_by_an_older_version_is_made_private(tmp_path, umask_022):
    data = tmp_path / "data"
    open_store(data, record=True, min_free_mb=1.0).close()
    os.chmod(data, 0o755)
    os.chmod(data / "movecoach.sqlite", 0o644)
    with open_store(data) as store:  # `movecoach history`
        store.sessions()
    assert mode(data / "movecoach.sqlite") == 0o600
    open_store(data, record=True, min_free_mb=1.0).close()  # the next session
    assert mode(data) == 0o700


def test_coach_report_and_every_export_write_private_files(tmp_path, umask_022):
    rec = simulate("march", reps=2, fs=104.0, seed=3)
    csv = tmp_path / "march.csv"
    write_csv(csv, rec.t_s, rec.acc_m_s2, rec.gyr_rad_s)
    data, out = tmp_path / "data", tmp_path / "out"
    out.mkdir()

    def movecoach(*args):
        assert main([*args, "--data-dir", str(data)]) == 0

    movecoach("coach", "--source", f"replay:{csv}", "--exercise", "march", "--reps", "2",
              "--speed", "50", "--no-speech", "--no-prompt")
    movecoach("report")
    movecoach("export", "--format", "csv", "--out", str(out / "tables"))
    movecoach("export", "--format", "json", "--out", str(out / "all.json"))
    movecoach("export", "--session", "1", "--raw", "--out", str(out / "raw.csv"))
    assert mode(data) == 0o700 and mode(data / "reports") == 0o700
    written = [p for p in [*data.rglob("*"), *out.rglob("*")] if p.is_file()]
    assert len(written) >= 8
    assert {str(p.relative_to(tmp_path)): oct(mode(p)) for p in written if mode(p) != 0o600} == {}
    assert mode(out / "tables") == 0o700
