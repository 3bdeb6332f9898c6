"""A simulated wearable: the real firmware core fed by the IMU simulator (`movecoach wearable --sim`).

The host computes the simulated sensor (``movecoach.sim``: a person doing the exercise, in SI
units), turns it into int16 counts at the wearable's current full scales, and pipes them at the
sample rate (times ``speed``) into the firmware's sampler, packer and framer running in a
subprocess: the MicroPython unix port when it is installed (``runtime="auto"``), else CPython
running the very same ``firmware/`` sources (firmware/simlink.py). The COBS+CRC frames it writes
are served over TCP exactly as a wearable sends them over USB serial; control frames from the
client (start, stop, rate, range, status; docs/protocol.md) go to the firmware, which answers
with status frames. Streaming starts when a client connects (like a BLE central subscribing);
each connection is a fresh session, the exercise starting from the beginning. When the
simulated exercise is over the wearable keeps streaming a person holding still.

Command line::

    movecoach wearable --sim --exercise heel-toe --reps 10 --tcp 9000 --speed 1
    movecoach coach --source tcp:127.0.0.1:9000 ...

In-process (e.g. the coach and the tests)::

    from movecoach.sim.wearable import serve_simulated
    wearable = serve_simulated("march", reps=8, port=0, speed=10.0, seed=1)
    ...  # connect to tcp://127.0.0.1:{wearable.port}
    wearable.stop()

``serve_simulated(...)`` returns a started :class:`SimulatedWearable` (``.port``, ``.url``,
``.runtime``, ``.stop()``, usable as a context manager); it never blocks the caller.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from movecoach import children
from movecoach.errors import UserError
from movecoach.firmware import framing, protocol
from movecoach.signal.exercises import EXERCISES

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "micropython", "cpython")
_TICK_S = 0.01  # the feeder wakes up this often (real time)
_REST_NOISE = (0.012, 0.0015)  # m/s^2, rad/s: a still sensor's noise


# --- runtime ------------------------------------------------------------------------------------
def find_micropython() -> str | None:
    """Path of the MicroPython unix port, or None."""
    exe = shutil.which("micropython")
    if exe:
        return exe
    beside = Path(sys.executable).with_name("micropython")
    return str(beside) if beside.exists() else None


def firmware_command(runtime: str = "auto", *, rate_hz: int = protocol.DEFAULT_RATE_HZ,
                     autostart: bool = True) -> tuple[list[str], dict[str, str], str]:
    """(argv, env, runtime used) that run firmware/simlink.py on stdin/stdout."""
    if runtime not in RUNTIMES:
        raise UserError(f"--runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    from movecoach import firmware

    fw_dir = Path(firmware.__file__).resolve().parent
    args = f"rate_hz={int(rate_hz)}, autostart={bool(autostart)}"
    mp = find_micropython() if runtime in ("auto", "micropython") else None
    if runtime == "micropython" and mp is None:
        raise UserError("--runtime micropython: no micropython binary found "
                        "(./scripts/setup --test installs the unix port)")
    env = dict(os.environ)
    if mp is not None:
        # the firmware package must be importable as `firmware` (its folder's name)
        env["MICROPYPATH"] = f"{fw_dir.parent}:.frozen"
        code = f"from {fw_dir.name} import simlink; simlink.main({args})"
        return [mp, "-c", code], env, "micropython"
    code = f"from movecoach.firmware import simlink; simlink.main({args})"
    return [sys.executable, "-c", code], env, "cpython"


# --- the emulated sensor ------------------------------------------------------------------------
class SensorEmulator:
    """The simulated IMU: a recording in SI units read out as int16 counts at any rate/range.

    t_s/acc_m_s2/gyr_rad_s: the recording (n,) s, (n, 3) m/s^2, (n, 3) rad/s. Exercise time
    only advances while the wearable streams; past the end (or while stopped) it reads a person
    holding still: the last posture plus sensor noise.
    """

    def __init__(self, t_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, *,
                 seed: int = 0):
        self.t_s = np.asarray(t_s, dtype=np.float64) - float(t_s[0])
        self.acc_m_s2 = np.asarray(acc_m_s2, dtype=np.float64)
        self.gyr_rad_s = np.asarray(gyr_rad_s, dtype=np.float64)
        self.duration_s = float(self.t_s[-1])
        tail = max(1, int(np.searchsorted(self.t_s, self.duration_s - 0.5)))
        self._rest_acc = self.acc_m_s2[tail:].mean(axis=0)
        self._rest_gyr = np.zeros(3)
        self._rng = np.random.default_rng(seed)
        self.position_s = 0.0  # exercise time reached
        self.finished_logged = False

    def read(self, n: int, rate_hz: float, acc_fs_g: int, gyr_fs_dps: int, *, moving: bool
             ) -> np.ndarray:
        """The next n samples at rate_hz as (n, 6) int16 counts (ax ay az gx gy gz)."""
        if moving:
            t = self.position_s + np.arange(n) / rate_hz
            self.position_s += n / rate_hz
        else:
            t = np.full(n, np.inf)
        # half a sample of slack: position_s accumulates float steps, the last sample must stay in
        inside = t <= self.duration_s + 0.5 / rate_hz
        acc = np.empty((n, 3))
        gyr = np.empty((n, 3))
        if inside.any():
            ti = t[inside]
            for k in range(3):
                acc[inside, k] = np.interp(ti, self.t_s, self.acc_m_s2[:, k])
                gyr[inside, k] = np.interp(ti, self.t_s, self.gyr_rad_s[:, k])
        rest = ~inside
        if rest.any():
            m = int(rest.sum())
            acc[rest] = self._rest_acc + self._rng.normal(0, _REST_NOISE[0], (m, 3))
            gyr[rest] = self._rest_gyr + self._rng.normal(0, _REST_NOISE[1], (m, 3))
            if moving and not self.finished_logged:
                self.finished_logged = True
                log.info("simulated exercise finished after %.1f s; holding still",
                         self.duration_s)
        counts = np.empty((n, 6))
        counts[:, :3] = acc / protocol.acc_scale_m_s2(acc_fs_g)
        counts[:, 3:] = gyr / protocol.gyr_scale_rad_s(gyr_fs_dps)
        return np.clip(np.rint(counts), -32768, 32767).astype("<i2")


def sample_records(counts: np.ndarray) -> bytes:
    """simlink stdin records (b'S' + 12 bytes) for (n, 6) int16 counts."""
    rows = np.ascontiguousarray(counts, dtype="<i2").view(np.uint8).reshape(-1, 12)
    out = np.empty((rows.shape[0], 13), dtype=np.uint8)
    out[:, 0] = ord("S")
    out[:, 1:] = rows
    return out.tobytes()


# --- one client connection --------------------------------------------------------------------
class _Session:
    """The firmware subprocess and the three threads that serve one TCP client."""

    def __init__(self, conn: socket.socket, sensor: SensorEmulator, *, rate_hz: int, speed: float,
                 runtime: str, autostart: bool, on_end):
        self.conn = conn
        self.sensor = sensor
        self.speed = speed
        self.rate_hz = rate_hz
        self.acc_fs_g = protocol.DEFAULT_ACC_FS_G
        self.gyr_fs_dps = protocol.DEFAULT_GYR_FS_DPS
        self.streaming = autostart
        self._on_end = on_end
        argv, env, self.runtime = firmware_command(runtime, rate_hz=rate_hz, autostart=autostart)
        self.proc = children.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self._controls: queue.Queue[bytes] = queue.Queue()
        self._stop = threading.Event()
        self._close_lock = threading.Lock()
        self._closed = False
        self._threads = [threading.Thread(target=f, name=f"wearable-{f.__name__}", daemon=True)
                         for f in (self._feed, self._forward, self._listen, self._stderr)]
        for t in self._threads:
            t.start()

    def _feed(self) -> None:
        """Paced samples (and queued control commands, in order) into the firmware's stdin."""
        stdin = self.proc.stdin
        t_start = time.monotonic()
        sensor_t = 0.0  # seconds of sensor time fed so far
        try:
            while not self._stop.is_set():
                while True:
                    try:
                        cmd = self._controls.get_nowait()
                    except queue.Empty:
                        break
                    self._mirror(cmd)
                    stdin.write(b"C" + bytes((len(cmd),)) + cmd)
                due_s = (time.monotonic() - t_start) * self.speed
                n = int((due_s - sensor_t) * self.rate_hz)
                if n > 0:
                    n = min(n, self.rate_hz * 5)  # after a stall, catch up in pieces
                    counts = self.sensor.read(n, self.rate_hz, self.acc_fs_g, self.gyr_fs_dps,
                                              moving=self.streaming)
                    stdin.write(sample_records(counts))
                    stdin.flush()
                    sensor_t += n / self.rate_hz
                self._stop.wait(_TICK_S)
        except (BrokenPipeError, OSError, ValueError):
            if not self._stop.is_set():
                log.warning("simulated wearable: the firmware process ended (exit %s)",
                            self.proc.poll())
        self.close()

    def _mirror(self, cmd: bytes) -> None:
        """The emulated sensor follows the settings the firmware applies (same validation)."""
        op, a, b, result = protocol.parse_command(cmd)
        if result != protocol.RESULT_OK:
            return
        if op == protocol.OP_START:
            self.streaming = True
        elif op == protocol.OP_STOP:
            self.streaming = False
        elif op == protocol.OP_SET_RATE:
            self.rate_hz = a
        elif op == protocol.OP_SET_RANGE:
            self.acc_fs_g, self.gyr_fs_dps = a, b

    def _forward(self) -> None:
        """Firmware stdout -> the TCP client, unchanged; status frames are checked on the way."""
        fd = self.proc.stdout.fileno()
        pending = b""
        try:
            while not self._stop.is_set():
                data = os.read(fd, 65536)
                if not data:
                    break
                self.conn.sendall(data)
                pending = self._check_status(pending + data)
        except OSError:
            pass  # the client went away
        self.close()

    def _check_status(self, data: bytes) -> bytes:
        *frames, rest = data.split(b"\x00")
        for f in frames:
            if 0 < len(f) <= protocol.STATUS_SIZE + 4:  # data frames are longer
                payload = framing.decode_frame(f)
                status = protocol.parse_status(payload) if payload else None
                if status is None:
                    continue
                mine = (self.rate_hz, self.acc_fs_g, self.gyr_fs_dps, self.streaming)
                theirs = (status["rate_hz"], status["acc_fs_g"], status["gyr_fs_dps"],
                          status["streaming"])
                if mine != theirs:
                    log.warning("simulated wearable: firmware reports %s, emulator had %s",
                                theirs, mine)
                    self.rate_hz, self.acc_fs_g, self.gyr_fs_dps, self.streaming = theirs
        return rest[-256:]

    def _listen(self) -> None:
        """Control frames from the client -> queued for the feeder (which keeps the order)."""
        deframer = framing.Deframer(max_frame=64)
        try:
            while not self._stop.is_set():
                data = self.conn.recv(4096)
                if not data:
                    break
                for cmd in deframer.feed(data):
                    self._controls.put(bytes(cmd))
        except OSError:
            pass
        self.close()

    def _stderr(self) -> None:
        for line in iter(self.proc.stderr.readline, b""):
            log.info("firmware: %s", line.decode(errors="replace").rstrip())

    def close(self) -> None:
        """End the session (any thread; idempotent): drop the client, end the firmware."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()
        # the client is gone: nothing the firmware still has to say can reach it
        self.proc.terminate()
        try:
            self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        self._on_end(self)


# --- the server ---------------------------------------------------------------------------------
class SimulatedWearable:
    """A TCP server playing one simulated wearable; one client at a time.

    Make it with :func:`serve_simulated`. ``port`` is the bound port (useful with port=0),
    ``url`` the source URL to give the coach, ``runtime`` "micropython" or "cpython".
    """

    def __init__(self, make_sensor, *, host: str = "127.0.0.1", port: int = 0,
                 rate_hz: int = protocol.DEFAULT_RATE_HZ, speed: float = 1.0,
                 runtime: str = "auto", autostart: bool = True):
        if rate_hz not in protocol.RATES_HZ:
            raise UserError(f"--rate must be one of {protocol.RATES_HZ} Hz, not {rate_hz}")
        if not speed > 0:
            raise UserError(f"--speed must be > 0, not {speed}")
        self._make_sensor = make_sensor
        self.rate_hz = rate_hz
        self.speed = float(speed)
        self.autostart = autostart
        self.runtime = firmware_command(runtime)[2]
        self._runtime_arg = runtime
        try:
            self._sock = socket.create_server((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self._sock.settimeout(0.2)
        self.host = host
        self.port = int(self._sock.getsockname()[1])
        self.sessions_served = 0
        self.recording: _Recording | None = None
        self._session: _Session | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="wearable-accept", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def ready(self, timeout_s: float | None = None) -> None:
        """Wait until the simulated recording exists; UserError if simulating it failed."""
        rec = getattr(self, "recording", None)
        if rec is None:
            return
        try:
            rec.get(timeout_s)
        except (ValueError, TypeError) as exc:
            raise UserError(f"cannot simulate: {exc}") from None

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                busy = self._session is not None
            if busy:
                log.warning("simulated wearable: %s refused, a client is already connected", addr)
                conn.close()
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            log.info("simulated wearable: client %s connected", addr)
            try:
                sensor = self._make_sensor()  # waits for the simulation on first use
                if self._stopped.is_set():
                    conn.close()
                    break
                session = _Session(conn, sensor, rate_hz=self.rate_hz, speed=self.speed,
                                   runtime=self._runtime_arg, autostart=self.autostart,
                                   on_end=self._ended)
            except Exception:
                log.exception("simulated wearable: could not start the firmware")
                conn.close()
                continue
            with self._lock:
                self._session = session
                self.sessions_served += 1
                late = self._stopped.is_set()
            if late:  # stop() ran while the firmware was starting
                session.close()
                break

    def _ended(self, session: _Session) -> None:
        with self._lock:
            if self._session is session:
                self._session = None
        log.info("simulated wearable: client disconnected")

    def stop(self) -> None:
        """Close the client connection, end the firmware process, stop listening."""
        self._stopped.set()
        self._sock.close()
        with self._lock:
            session = self._session
        if session is not None:
            session.close()
        self._thread.join(timeout=2.0)

    def __enter__(self) -> SimulatedWearable:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class _Recording:
    """The simulated recording, computed in a background thread so that starting a wearable
    never blocks the caller (an asyncio coach, say); sessions wait for it."""

    def __init__(self, compute):
        self._compute = compute
        self._value: Any = None
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="wearable-sim", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._compute()
        except Exception as exc:  # reported by get()
            self._error = exc

    def get(self, timeout_s: float | None = None) -> Any:
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise TimeoutError("the simulation is still running")
        if self._error is not None:
            raise self._error
        return self._value


def serve_simulated(exercise: str, reps: int = 10, port: int = 0, speed: float = 1.0,
                    seed: int | None = 0, runtime: str = "auto", *, host: str = "127.0.0.1",
                    rate_hz: int = protocol.DEFAULT_RATE_HZ, hold_s: float | None = None,
                    duration_s: float | None = None, conditions: Any = None,
                    recording: Any = None, autostart: bool = True) -> SimulatedWearable:
    """Start a simulated wearable doing `exercise` on host:port (0: a free port); returns it.

    The recording is simulated once, in the background (movecoach.sim.simulate with reps,
    seed, hold_s, duration_s, conditions at rate_hz), unless `recording` (anything with t_s,
    acc_m_s2, gyr_rad_s) is given; every connection replays it from the start. Returns at
    once: a client that connects early gets its first samples when the simulation is ready
    (``wearable.ready()`` waits for it and raises UserError if it failed).
    """
    if recording is None:
        if exercise not in EXERCISES:
            raise UserError(f"--exercise must be one of {', '.join(EXERCISES)}, not {exercise!r}")
        from movecoach.sim import simulate

        sim_seed = 0 if seed is None else int(seed)

        def compute() -> Any:
            return simulate(exercise, reps=reps, fs=float(rate_hz), seed=sim_seed,
                            conditions=conditions, duration_s=duration_s, hold_s=hold_s)

        rec = _Recording(compute)
    else:
        rec = _Recording(lambda: recording)
    noise_seed = 0 if seed is None else int(seed)

    def make_sensor() -> SensorEmulator:
        r = rec.get()
        return SensorEmulator(r.t_s, r.acc_m_s2, r.gyr_rad_s, seed=noise_seed)

    wearable = SimulatedWearable(make_sensor, host=host, port=port, rate_hz=rate_hz,
                                 speed=speed, runtime=runtime, autostart=autostart)
    wearable.recording = rec
    return wearable
