"""Start a private mosquitto broker on 127.0.0.1 (the demo and the tests use one).

The broker keeps its persistence file in its own folder, so a stop and start on the same port
(a broker restart) keeps QoS 1 messages queued for persistent sessions, as a real broker does.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from movecoach import children
from movecoach.errors import UserError

log = logging.getLogger(__name__)

_SEARCH = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto")


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in _SEARCH if Path(p).exists()), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalBroker:
    """A mosquitto process on 127.0.0.1:port; `start()`, `stop()`, `restart()`; context manager."""

    def __init__(self, port: int | None = None, workdir: str | Path | None = None, *,
                 users: dict[str, str] | None = None, tls: tuple[str, str] | None = None,
                 tls_port: int | None = None):
        """users: {name: password} only these may connect (no anonymous access); tls:
        (certfile, keyfile) for a TLS listener on tls_port (default: a free port)."""
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.users = users
        self.tls = tls
        self.tls_port = (tls_port or free_port()) if tls else None
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="movecoach-broker-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 5.0) -> LocalBroker:
        exe = find_mosquitto()
        if exe is None:
            raise UserError("mosquitto is not installed (run ./scripts/setup or apt-get install mosquitto)")
        conf = self.workdir / "mosquitto.conf"
        access = "allow_anonymous true\n"
        if self.users is not None:
            passwords = self.workdir / "passwords"
            passwords.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))
            os.chmod(passwords, 0o600)
            tool = shutil.which("mosquitto_passwd") or str(Path(exe).with_name("mosquitto_passwd"))
            subprocess.run([tool, "-U", str(passwords)], check=True, capture_output=True)
            access = f"allow_anonymous false\npassword_file {passwords}\n"
        tls = ""
        if self.tls is not None:
            tls = (f"listener {self.tls_port} 127.0.0.1\ncertfile {self.tls[0]}\n"
                   f"keyfile {self.tls[1]}\n")
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            + tls + access +
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 100000\n"
            # As root, mosquitto would drop to user `mosquitto`, which cannot write the
            # persistence folder: the saved sessions (and queued messages) would be lost.
            + ("user root\n" if os.geteuid() == 0 else "")
        )
        self._proc = children.popen(
            [exe, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "mosquitto.log", "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise UserError(f"mosquitto exited at start (port {self.port}); see {self.workdir}/mosquitto.log")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    log.info("mosquitto listening on %s", self.address)
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise UserError(f"mosquitto did not listen on {self.address} within {timeout_s} s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
