"""`movecoach coach` as a person runs it: faults, Ctrl-C, recordings that replay and re-analyse."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from movecoach.store import open_store, read_samples

MOVECOACH = str(Path(sys.executable).with_name("movecoach"))


def movecoach(*args, **kw):
    return subprocess.run([MOVECOACH, *args], capture_output=True, text=True, timeout=240, **kw)


def test_an_unwritable_data_dir_is_a_clear_error_before_the_session_starts(tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    out = movecoach("coach", "--exercise", "march", "--no-speech", "--data-dir", str(blocker / "data"))
    assert out.returncode == 2
    assert out.stderr.startswith("movecoach: error: cannot write to")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert "rep" not in out.stdout  # nothing started


def test_bad_source_and_feel_values_are_one_line_errors(tmp_path):
    data = ["--data-dir", str(tmp_path)]
    out = movecoach("coach", "--exercise", "march", "--source", "usb:3", *data)
    assert out.returncode == 2 and "--source" in out.stderr and "Traceback" not in out.stderr
    out = movecoach("coach", "--exercise", "march", "--source", "replay:/no/such.csv", *data)
    assert out.returncode == 2 and "no such file" in out.stderr
    out = movecoach("coach", "--exercise", "march", "--feel", "11", "--no-speech", *data)
    assert out.returncode == 2 and "--feel" in out.stderr


def test_ctrl_c_stops_cleanly_and_keeps_the_recording_marked_incomplete(tmp_path):
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [MOVECOACH, "coach", "--exercise", "march", "--reps", "30", "--no-speech", "--speed", "3",
         "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    seen = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        seen.append(line)
        if "2 of 30: lift" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "recording so far is kept" in stdout
    with open_store(data) as store:
        (session,) = store.sessions()
    assert session.status == "incomplete"
    assert session.reps >= 2
    assert len(read_samples(data, session.id)) > 100


def test_a_recorded_session_exports_to_csv_that_analyze_and_replay_count_the_same(tmp_path):
    data = tmp_path / "data"
    out = movecoach("coach", "--exercise", "march", "--reps", "5", "--no-speech", "--speed", "10",
                    "--data-dir", str(data), "--feel", "7", "--note", "steady")
    assert out.returncode == 0, out.stderr
    with open_store(data) as store:
        (session,) = store.sessions()
    assert session.status == "complete" and session.reps == 5 and session.feel_score == 7

    csv = tmp_path / "march.csv"
    out = movecoach("export", "--data-dir", str(data), "--session", str(session.id), "--raw", "--out", str(csv))
    assert out.returncode == 0, out.stderr
    out = movecoach("analyze", str(csv), "--exercise", "march", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["counts"] == {"lift": 5}

    replay_data = tmp_path / "replayed"
    out = movecoach("coach", "--exercise", "march", "--source", f"replay:{csv}", "--speed", "50",
                    "--no-speech", "--data-dir", str(replay_data))
    assert out.returncode == 0, out.stderr
    with open_store(replay_data) as store:
        (replayed,) = store.sessions()
    assert replayed.reps == 5



def test_a_wearable_that_is_not_there_is_one_line_naming_it_once_and_nothing_is_recorded(tmp_path):
    import socket

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = movecoach("coach", "--exercise", "march", "--no-speech", "--source", f"tcp:127.0.0.1:{port}",
                    "--data-dir", str(tmp_path))
    assert out.returncode == 2
    assert out.stdout == f"Connecting to the sensor at 127.0.0.1:{port} (network) ...\n"
    assert out.stderr == (f"movecoach: error: cannot connect to tcp://127.0.0.1:{port}: Connection "
                          "refused (nothing is listening on that port: is the wearable running?)\n")
    with open_store(tmp_path) as store:
        assert store.sessions() == []  # no empty INCOMPLETE session in the history
