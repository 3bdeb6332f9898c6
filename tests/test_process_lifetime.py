"""`python -m movecoach demo` from a checkout works, and leaves no process behind, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def descendants(pid: int) -> dict[int, str]:
    """{pid: command line} of every process below pid (from /proc)."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent_of[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = {}, [pid]
    while todo:
        p = todo.pop()
        for child, parent in parent_of.items():
            if parent == p and child not in found:
                try:
                    found[child] = (Path("/proc") / str(child) / "cmdline").read_bytes() \
                        .replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    found[child] = "?"
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_demo_from_the_repo_root(tmp_path) -> tuple[subprocess.Popen, dict[int, str]]:
    """The demo as a developer runs it in a checkout (cwd = repo root on sys.path, no -I), up to
    the moment its private broker and the simulated wearable's firmware both run."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "movecoach", "demo", "--exercise", "march", "--reps", "30",
         "--speed", "5", "--no-speech", "--data-dir", str(tmp_path / "data")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    kids: dict[int, str] = {}
    while time.monotonic() < deadline and proc.poll() is None:
        kids = descendants(proc.pid)
        if any("mosquitto" in c for c in kids.values()) and any("simlink" in c for c in kids.values()):
            return proc, kids
        time.sleep(0.1)
    proc.kill()
    out, err = proc.communicate()
    pytest.fail(f"the demo did not start its broker and wearable: {err[-2000:]}")


def assert_all_gone(kids: dict[int, str]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in kids):
        time.sleep(0.1)
    left = {p: c for p, c in kids.items() if alive(p)}
    for p in left:  # do not leave them to the next test
        os.kill(p, signal.SIGKILL)
    assert not left, f"still running after the coach ended: {left}"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_demo_from_the_repo_root_leaves_no_child_running_when_killed(tmp_path, how):
    proc, kids = start_demo_from_the_repo_root(tmp_path)
    proc.send_signal(how)
    out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err[-2000:]
    if how == signal.SIGTERM:  # stopped like Ctrl-C: the recording is closed, not cut off
        assert proc.returncode == 130 and "Stopped" in out
    assert_all_gone(kids)
