"""firmware/main.py as a board runs it, on the unix port with the emulated boards of
tests/mpboard/machine.py, over USB serial: frames out on the console, commands in.

On ESP32 and nRF boards the console is one USB-CDC stream: the firmware's log (sys.stderr)
and its frames (sys.stdout.buffer) arrive mixed, so these tests read them mixed, as the host does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
from emulated_board import MPBOARD, REPO, hardware_md_configs

from movecoach.firmware import framing, protocol
from movecoach.link.decoder import Decoder, parse_packet
from movecoach.samples import SampleBlock

BUILD_A, BUILD_B = hardware_md_configs()


def boot(micropython: str, workdir: Path, config: dict, board: str) -> subprocess.Popen:
    """Power the board on: main.py starts, its console (stdout + stderr) on one pipe."""
    (workdir / "movecoach_config.py").write_text(f"CONFIG = {config!r}\n")
    env = dict(os.environ, MICROPYPATH=f"{workdir}:{MPBOARD}:{REPO}:.frozen",
               MOVECOACH_BOARD=board)
    env.pop("MOVECOACH_BOARD_WIRE", None)
    return subprocess.Popen([micropython, "-c", "import firmware.main"], cwd=workdir, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def send(proc: subprocess.Popen, command: bytes, then_s: float) -> None:
    proc.stdin.write(framing.encode_frame(command))
    proc.stdin.flush()
    time.sleep(then_s)


def console(proc: subprocess.Popen, ctrl_c: bool = False) -> bytes:
    """What the console showed, after Ctrl-C (SIGINT) or pulling the plug."""
    if ctrl_c:
        proc.send_signal(signal.SIGINT)
        try:
            return proc.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    return proc.communicate(timeout=10)[0]


def test_serial_frames_survive_the_log_on_the_same_console_and_ctrl_c_prints_it(micropython,
                                                                                tmp_path):
    proc = boot(micropython, tmp_path, {**BUILD_A, "link": "serial", "repl_window_s": 0},
                "feather-esp32s3")
    try:
        time.sleep(1.5)
        send(proc, protocol.encode_set_rate(208), 0.3)
        send(proc, bytes((protocol.OP_SET_RATE, 100, 0)), 0.2)  # refused: logged as a warning
        send(proc, bytes((0x7E,)), 0.5)  # unknown opcode: logged too
        send(proc, protocol.encode_stop(), 0.3)
    finally:
        out = console(proc, ctrl_c=True)  # after STOP, Ctrl-C works again
    assert b"IMU LSM6DSOX at 104 Hz; link serial" in out  # the boot log, before the frames
    # the warnings were kept off the frames and printed at Ctrl-C, after the last frame
    tail = out[out.rindex(b"\x00") + 1:]
    assert b"W: bad command, opcode 3 result 3" in tail and b"opcode 126" in tail, tail
    dec = Decoder()
    b = SampleBlock.concat(dec.feed_stream(out))
    # the log lines never spoiled a frame: every status record and data packet arrived
    assert dec.stats.crc_errors == 0 and dec.stats.bad_packets == 0
    payloads = framing.Deframer().feed(out)
    status = [protocol.parse_status(p) for p in payloads if p[:1] == b"S"]
    assert [s["result_text"] for s in status if s] == [
        "ok", "ok", "bad value", "unknown opcode", "ok"]
    assert status[1]["rate_hz"] == 208 and not status[-1]["streaming"]
    data = [parse_packet(p) for p in payloads if p[:1] == b"M"]
    assert {p.rate_hz for p in data} == {104.0, 208.0}
    k = np.rint(b.acc_m_s2[:, 0] / protocol.acc_scale_m_s2(4)).astype(int)
    # every sample the emulated chip made arrived once and in order, across the rate change
    np.testing.assert_array_equal(k, np.arange(k[0], k[0] + k.size))
    assert 1.5 * 104 * 0.7 < np.count_nonzero(b.t_s < b.t_s[0] + 1.4) < 1.5 * 104 * 1.2
    assert dec.stats.lost_samples == 0
    assert abs(b.acc_m_s2[0, 2] - 9.81) < 0.01


def test_the_xiao_build_boots_from_the_settings_hardware_md_gives(micropython, tmp_path):
    """Build B: the Seeed XIAO nRF52840 Sense with its internal LSM6DS3TR-C, pin names as
    MicroPython's nRF port spells them, over serial (its nRF port has no `bluetooth`)."""
    proc = boot(micropython, tmp_path, {**BUILD_B, "repl_window_s": 0}, "xiao-nrf52840")
    try:
        time.sleep(1.5)
    finally:
        out = console(proc)
    assert b"IMU LSM6DS3TR-C at 104 Hz; link serial" in out, out[-2000:]
    assert b"no hardware watchdog on this port" in out  # the nRF port has no machine.WDT
    dec = Decoder()
    b = SampleBlock.concat(dec.feed_stream(out))
    k = np.rint(b.acc_m_s2[:, 0] / protocol.acc_scale_m_s2(4)).astype(int)
    g = np.rint(b.gyr_rad_s[:, 0] / protocol.gyr_scale_rad_s(500)).astype(int)
    assert len(k) > 80 and dec.stats.crc_errors == 0
    np.testing.assert_array_equal(k, np.arange(k[0], k[0] + k.size))
    np.testing.assert_array_equal(g, k)  # the untagged FIFO pattern is put back in order


FRAMER_HEAP = """
import gc
from firmware.serial_link import SerialLink
gc.collect()
free = gc.mem_free()
link = SerialLink()
gc.collect()
print(free - gc.mem_free(), link.framer.max_payload)
"""


def test_the_serial_link_needs_a_few_kilobytes_of_heap_not_a_third_of_it(micropython, tmp_path):
    env = dict(os.environ, MICROPYPATH=f"{MPBOARD}:{REPO}:.frozen")
    r = subprocess.run([micropython, "-c", FRAMER_HEAP], capture_output=True, env=env,
                       timeout=30, check=True)
    used, max_payload = map(int, r.stdout.split())
    # frames are at most an 8-sample packet (112 bytes): the link takes a few KB (5.5 KB on the
    # 64-bit unix port); sized for 255-sample packets its framer took ~127 KB
    assert max_payload == protocol.packet_size(protocol.SERIAL_SAMPLES_PER_PACKET)
    assert used < 8_000, used
