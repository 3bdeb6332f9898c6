"""firmware/main.py as a board runs it, on the unix port with an emulated `machine` module.

The fake `machine.I2C` holds an LSM6DSOX whose FIFO fills in real time at the configured rate
with a sample counter, so the host can check that every sample arrives once, in order, at the
right rate, and that control commands sent over the serial link take effect.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from pathlib import Path

import numpy as np

from movecoach.decoder import Decoder, parse_packet
from movecoach.firmware import framing, protocol
from movecoach.samples import SampleBlock

REPO = Path(__file__).resolve().parents[1]

FAKE_MACHINE = textwrap.dedent("""
    import struct, time

    class Pin:
        OUT = 1
        IN = 0
        def __init__(self, *args, **kwargs):
            pass
        def value(self, v=None):
            return 0

    _ODR = {3: 52, 4: 104, 5: 208}

    class I2C:
        '''An LSM6DSOX at 0x6A whose FIFO fills in real time (sample k: ax = k & 0x7FFF).'''
        def __init__(self, id, **kwargs):
            self.regs = bytearray(128)
            self.regs[0x0F] = 0x6C
            self.fifo = []
            self.k = 0
            self.t_us = time.ticks_us()
            self.carry = 0

        def _fill(self):
            now = time.ticks_us()
            rate = _ODR.get(self.regs[0x10] >> 4, 0)
            if self.regs[0x0A] & 7 != 6 or not rate:
                self.t_us = now
                return
            self.carry += time.ticks_diff(now, self.t_us) * rate
            self.t_us = now
            while self.carry >= 1000000:
                self.carry -= 1000000
                k = self.k
                self.k += 1
                g = bytes((0x01 << 3,)) + struct.pack("<hhh", k & 0x7FFF, 1, 2)
                a = bytes((0x02 << 3,)) + struct.pack("<hhh", k & 0x7FFF, 0, 8197)
                self.fifo.append(g)
                self.fifo.append(a)

        def readfrom_mem_into(self, addr, reg, buf):
            if addr != 0x6A:
                raise OSError(19)
            if reg == 0x3A:  # FIFO_STATUS1 and FIFO_STATUS2
                self._fill()
                buf[0] = len(self.fifo) & 0xFF
                buf[1] = len(self.fifo) >> 8
            elif reg == 0x78:
                w = self.fifo.pop(0)
                for i in range(7):
                    buf[i] = w[i]
            else:
                for i in range(len(buf)):
                    buf[i] = self.regs[reg + i]

        def writeto_mem(self, addr, reg, buf):
            self.regs[reg] = buf[0]
            if reg == 0x0A and buf[0] & 7 == 0:
                self.fifo = []
""")

CONFIG = 'CONFIG = {"link": "serial", "serial_repl_window_s": 0}\n'


def test_board_main_streams_every_sample_over_serial_and_obeys_commands(micropython, tmp_path):
    (tmp_path / "machine.py").write_text(FAKE_MACHINE)
    (tmp_path / "movecoach_config.py").write_text(CONFIG)
    env = dict(os.environ, MICROPYPATH=f"{tmp_path}:{REPO}:.frozen")
    proc = subprocess.Popen([micropython, "-c", "import firmware.main"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        time.sleep(1.5)
        proc.stdin.write(framing.encode_frame(protocol.encode_set_rate(208)))
        proc.stdin.flush()
        time.sleep(1.0)
        proc.stdin.write(framing.encode_frame(protocol.encode_stop()))
        proc.stdin.flush()
        time.sleep(0.5)
    finally:
        proc.kill()
        out, err = proc.communicate(timeout=10)
    assert b"IMU LSM6DSOX at 104 Hz; link serial" in err, err
    payloads = framing.Deframer().feed(out)
    status = [protocol.parse_status(p) for p in payloads if p[0] == protocol.STATUS_MAGIC]
    data = [parse_packet(p) for p in payloads if p[0] == protocol.DATA_MAGIC]
    assert [s["result_text"] for s in status] == ["ok", "ok", "ok"]
    assert status[1]["rate_hz"] == 208 and not status[2]["streaming"]
    assert {p.rate_hz for p in data} == {104.0, 208.0}
    dec = Decoder()
    b = SampleBlock.concat(dec.feed_stream(out))
    k = np.rint(b.acc_m_s2[:, 0] / protocol.acc_scale_m_s2(4)).astype(int)
    # every sample the emulated chip made arrived once and in order, across the rate change
    np.testing.assert_array_equal(k, np.arange(k.size))
    assert 1.5 * 104 * 0.8 < np.count_nonzero(b.t_s < b.t_s[0] + 1.4) < 1.5 * 104 * 1.2
    assert dec.stats.lost_samples == 0 and dec.stats.crc_errors == 0
    assert abs(b.acc_m_s2[0, 2] - 9.81) < 0.01
