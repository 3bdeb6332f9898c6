"""The simulated wearable: the firmware core (under MicroPython) fed by a simulator, over TCP."""

from __future__ import annotations

import os
import signal as os_signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from movecoach.firmware import framing, protocol
from movecoach.link.decoder import Decoder, parse_packet
from movecoach.samples import SampleBlock
from movecoach.sim.wearable import firmware_command, serve_simulated

FS = 104


@dataclass
class Recording:
    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray


def slow_rotation(seconds: float = 20.0) -> Recording:
    """A sensor lying flat (gravity on +z) turning slowly about z: known values every sample."""
    t = np.arange(int(seconds * FS)) / FS
    acc = np.zeros((t.size, 3))
    acc[:, 2] = 9.80665
    acc[:, 0] = 0.5 * np.sin(2 * np.pi * 0.5 * t)
    gyr = np.zeros((t.size, 3))
    gyr[:, 2] = 1.0 * np.sin(2 * np.pi * 0.25 * t)
    return Recording(t, acc, gyr)


class Client:
    """A TCP client that decodes what the wearable sends (as the coach's transport does)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.dec = Decoder()
        self.blocks: list[SampleBlock] = []
        self.raw = b""

    def read_until(self, n_samples: int, timeout_s: float = 20.0) -> SampleBlock:
        deadline = time.monotonic() + timeout_s
        while self.dec.stats.samples < n_samples and time.monotonic() < deadline:
            data = self.sock.recv(65536)
            if not data:
                break
            self.raw += data
            self.blocks += self.dec.feed_stream(data, t_host_s=time.time())
        return SampleBlock.concat(self.blocks)

    def read_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        self.sock.settimeout(0.1)
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            self.raw += data
            self.blocks += self.dec.feed_stream(data, t_host_s=time.time())
        self.sock.settimeout(10)

    def send(self, cmd: bytes) -> None:
        self.sock.sendall(framing.encode_frame(cmd))

    def close(self) -> None:
        self.sock.close()


def expected_counts(rec: Recording, n: int, acc_fs_g: int = 4, gyr_fs_dps: int = 500):
    acc = np.rint(rec.acc_m_s2[:n] / protocol.acc_scale_m_s2(acc_fs_g))
    gyr = np.rint(rec.gyr_rad_s[:n] / protocol.gyr_scale_rad_s(gyr_fs_dps))
    return acc, gyr


@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_streams_the_simulated_sensor_bit_exact(micropython, runtime):
    rec = slow_rotation()
    with serve_simulated("march", recording=rec, speed=40.0, runtime=runtime) as wearable:
        assert wearable.runtime == runtime
        client = Client(wearable.port)
        b = client.read_until(1000)
        client.close()
    n = len(b)
    assert n >= 1000
    acc, gyr = expected_counts(rec, n)
    np.testing.assert_array_equal(b.acc_m_s2, acc * protocol.acc_scale_m_s2(4))
    np.testing.assert_array_equal(b.gyr_rad_s, gyr * protocol.gyr_scale_rad_s(500))
    np.testing.assert_allclose(b.t_s, np.arange(n) / FS, atol=1e-6)
    assert client.dec.stats.lost_packets == 0 and client.dec.stats.crc_errors == 0
    assert client.dec.status["simulated"] and client.dec.status["streaming"]


def test_auto_runtime_prefers_micropython(micropython):
    argv, env, runtime = firmware_command("auto")
    assert runtime == "micropython" and Path(argv[0]).name == "micropython"
    assert env["MICROPYPATH"].split(":")[0] == str(Path(__file__).resolve().parents[1])


def test_client_controls_stop_start_rate_and_range(micropython):
    rec = slow_rotation(60.0)
    with serve_simulated("march", recording=rec, speed=20.0) as wearable:
        c = Client(wearable.port)
        c.read_until(200)
        c.send(protocol.encode_stop())
        c.read_for(0.5)
        stopped_at = c.dec.stats.samples
        c.read_for(0.5)
        assert c.dec.stats.samples == stopped_at  # nothing while stopped
        assert not c.dec.status["streaming"]
        c.send(protocol.encode_set_range(16, 2000))
        c.send(protocol.encode_set_rate(52))
        c.send(protocol.encode_start())
        c.read_until(stopped_at + 200)
        c.send(bytes((protocol.OP_SET_RATE, 99, 0)))  # not a rate the wearable offers
        c.read_for(0.3)
        c.close()
    payloads = framing.Deframer().feed(c.raw)
    data = [parse_packet(p) for p in payloads if p[0] == protocol.DATA_MAGIC]
    status = [protocol.parse_status(p) for p in payloads if p[0] == protocol.STATUS_MAGIC]
    assert status[-1]["result_text"] == "bad value" and status[-1]["rate_hz"] == 52
    restarted = [p for p in data if p.flags & protocol.FLAG_RESTART]
    assert len(restarted) == 2  # the first packet, and the first after START
    after = data[data.index(restarted[1]):]
    assert {(p.rate_hz, p.acc_fs_g, p.gyr_fs_dps) for p in after} == {(52.0, 16, 2000)}
    # the emulated sensor follows the new ranges: gravity still reads ~9.8 m/s^2 on z
    last = SampleBlock.concat(c.blocks[-3:])
    assert last.fs == 52.0
    assert abs(np.mean(last.acc_m_s2[:, 2]) - 9.80665) < 0.05
    assert c.dec.stats.lost_packets == 0 and c.dec.stats.crc_errors == 0


def test_one_client_at_a_time_and_each_connection_starts_fresh(micropython):
    with serve_simulated("march", recording=slow_rotation(), speed=20.0) as wearable:
        first = Client(wearable.port)
        first.read_until(50)
        second = socket.create_connection(("127.0.0.1", wearable.port), timeout=5)
        assert second.recv(100) == b""  # refused while the first is served
        second.close()
        first.close()
        time.sleep(0.5)
        third = Client(wearable.port)
        b = third.read_until(50)
        third.close()
    seqs = [parse_packet(p).seq for p in framing.Deframer().feed(third.raw)
            if p[0] == protocol.DATA_MAGIC]
    assert seqs[:3] == [0, 1, 2] and b.t_s[0] == 0.0
    assert wearable.sessions_served == 2


def test_movecoach_wearable_command_serves_the_real_simulator(micropython, tmp_path):
    exe = Path(sys.executable).with_name("movecoach")
    proc = subprocess.Popen([str(exe), "wearable", "--sim", "--exercise", "march", "--reps", "2",
                             "--tcp", "0", "--speed", "20", "--seed", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert "firmware under micropython" in lines[0], lines
        port = int(lines[1].split("tcp://127.0.0.1:")[1].split()[0])
        c = Client(port)
        b = c.read_until(5 * FS)
        c.close()
        # a thigh sensor on a seated person: gravity is there, and the thigh moves
        assert len(b) >= 5 * FS
        assert 8.0 < np.linalg.norm(b.acc_m_s2.mean(axis=0)) < 11.0
        assert np.ptp(b.gyr_rad_s, axis=0).max() > 0.5
    finally:
        proc.send_signal(os_signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "simulated wearable stopped" in out


def test_bad_arguments_are_one_line_errors():
    exe = Path(sys.executable).with_name("movecoach")
    r = subprocess.run([str(exe), "wearable", "--sim", "--reps", "0"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and r.stderr.strip() == "movecoach: error: --reps must be at least 1, not 0"
