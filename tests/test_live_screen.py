"""The live screen as a person sees it: `movecoach` in a real terminal (tmux: a real pseudo-
terminal and a real terminal emulator), read back with capture-pane while it runs."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

MOVECOACH = str(Path(sys.executable).with_name("movecoach"))
WIDTH, HEIGHT = 100, 60
# espeak-ng finds no sound device with these (as on a server): the coach shows its words instead.
NO_SOUND = {"ALSA_CONFIG_PATH": "/nonexistent", "PULSE_SERVER": "unix:/nonexistent"}


class Terminal:
    """One command in a detached tmux window of WIDTH x HEIGHT on a private tmux server."""

    def __init__(self, command: list[str], env: dict[str, str]):
        if shutil.which("tmux") is None:
            pytest.fail("tmux not found: run ./scripts/setup --test")
        self.socket = f"movecoach-test-{uuid.uuid4().hex[:8]}"
        env_words = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        script = f"env {env_words} {shlex.join(command)}; echo EXIT=$?; sleep 60"
        self._tmux("new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), script)
        self.snapshots: list[str] = []

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=True, timeout=10).stdout

    def screen(self) -> str:
        """What the window shows now, with the lines scrolled off the top."""
        text = self._tmux("capture-pane", "-p", "-S", "-500")
        self.snapshots.append(text)
        return text

    def type(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def wait_for(self, text: str, timeout_s: float = 90.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


def status_lines(snapshots: list[str]) -> list[str]:
    """The live status line of each snapshot (the last line with text, while it is one)."""
    lines = []
    for snap in snapshots:
        shown = [ln for ln in snap.splitlines() if ln.strip()]
        if shown and " · " in shown[-1]:
            lines.append(shown[-1])
    return lines


@pytest.fixture
def env():
    # a short data dir: the path is printed, and a path is one word no wrapping can break
    with tempfile.TemporaryDirectory(prefix="mc-", dir="/tmp") as data:
        yield {**NO_SOUND, "MOVECOACH_DATA_DIR": data, "TERM": "xterm-256color",
               "PATH": os.environ.get("PATH", "")}


def test_the_demo_screen_reads_as_plain_lines_with_one_live_status_line(env):
    term = Terminal([MOVECOACH, "demo", "--exercise", "heel-toe", "--reps", "2", "--speed", "6"], env)
    try:
        final = term.wait_for("EXIT=")
    finally:
        term.close()
    lines = [ln.rstrip() for ln in final.splitlines()]
    assert "EXIT=0" in lines
    # the warning about the missing sound device sits on its own line, not glued to the status
    (warning,) = [ln for ln in lines if "no sound device" in ln]
    assert warning.startswith("movecoach: warning: no sound device found")
    # every line fits the terminal: long lines are broken between words by the coach
    assert all(len(ln) < WIDTH for ln in lines)
    text = "\n".join(lines)
    assert "['" not in text and "{'" not in text  # no Python reprs
    assert text.count("Session complete") == 1
    assert "  Starting in 3, 2, 1, go!" in lines
    assert "  1 of 4: heel raise, " in text and "  4 of 4: toe raise, " in text
    assert "What next:" in lines
    # while it ran, the live line showed the count, and what the silent voice would have said
    live = status_lines(term.snapshots)
    assert any(ln.startswith("Heel-toe raises · ") and " of 4 · angle " in ln for ln in live), live
    assert any('says "' in ln for ln in live), live
    assert any("starting in 3" in ln for ln in live), live


def test_the_how_do_you_feel_question_starts_on_a_clean_line(env):
    term = Terminal([MOVECOACH, "coach", "--exercise", "march", "--reps", "2", "--speed", "10",
                     "--no-speech"], env)
    try:
        screen = term.wait_for("How do you feel today")
        question = next(ln for ln in screen.splitlines() if "How do you feel today" in ln)
        assert question.startswith("How do you feel today, 1 (bad) to 10 (great)?")
        term.type("7", "Enter")
        term.wait_for("Anything to note?")
        term.type("tired legs", "Enter")
        final = term.wait_for("EXIT=")
    finally:
        term.close()
    words = " ".join(final.split())
    assert "Session complete in " in words and "You feel 7 of 10 (tired legs)." in words
    assert "EXIT=0" in final
