"""The firmware core on a pipe: simulated IMU samples in on stdin, framed packets out on stdout.

Used by ``movecoach wearable --sim`` (under the MicroPython unix port, or CPython) and by the
tests. The same Sampler, Packer, Framer and Controller run here as on a board; only the sensor
is replaced by records from the host::

    b"S" + 12 bytes   one sample: ax ay az gx gy gz, int16 little-endian counts
    b"C" + u8 n + n bytes   one control command (as written to the control characteristic)
    b"Q"              flush and exit

Output: COBS frames (framing.py) of data packets and status records, exactly as on USB serial.
"""

import sys

from . import framing, packets, protocol
from .control import Controller
from .sampler import Sampler


def _read_exact(inp, view):
    """Fill view from inp; False at end of input."""
    n = inp.readinto(view)
    if n is None:
        n = 0
    if n == len(view):
        return True
    got = n
    while got < len(view):  # short read (rare): finish it, allocation is fine here
        chunk = inp.read(len(view) - got)
        if not chunk:
            return False
        for i in range(len(chunk)):
            view[got + i] = chunk[i]
        got += len(chunk)
    return True


def run(inp, out, rate_hz=protocol.DEFAULT_RATE_HZ, acc_fs_g=protocol.DEFAULT_ACC_FS_G,
        gyr_fs_dps=protocol.DEFAULT_GYR_FS_DPS, spp=protocol.SERIAL_SAMPLES_PER_PACKET,
        autostart=True, simulated=True):
    """Serve until "Q" or end of input; returns the number of packets sent."""
    packer = packets.Packer(spp)
    framer = framing.Framer(max(protocol.packet_size(spp), protocol.STATUS_SIZE))
    write = out.write

    def send(payload):
        write(framer.frame(payload))

    sampler = Sampler(packer, send, rate_hz, acc_fs_g, gyr_fs_dps, simulated=simulated)
    ctl = Controller(sampler, send, simulated=simulated)
    if autostart:
        sampler.start()
    ctl.send_status()
    kind = bytearray(1)
    nbuf = bytearray(1)
    flush = getattr(out, "flush", None)
    while True:
        if not _read_exact(inp, kind):
            break
        k = kind[0]
        if k == 0x53:  # 'S'
            p = sampler.packer
            if not _read_exact(inp, p.sample_views[p.count]):
                break
            sampler.committed(1)
        elif k == 0x43:  # 'C'
            if not _read_exact(inp, nbuf):
                break
            cmd = bytearray(nbuf[0])
            if nbuf[0] and not _read_exact(inp, memoryview(cmd)):
                break
            ctl.handle(cmd)
            if flush is not None:
                flush()
        elif k == 0x51:  # 'Q'
            break
        else:
            print("[movecoach] E: bad record type", k, file=sys.stderr)
            break
    sampler.stop()
    if flush is not None:
        flush()
    return sampler.packets_sent


def main(**config):
    """Entry point: ``micropython -c "from firmware import simlink; simlink.main()"``."""
    inp = sys.stdin.buffer
    out = sys.stdout.buffer
    # CPython: use the unbuffered raw files so that every frame leaves at once
    run(getattr(inp, "raw", inp), getattr(out, "raw", out), **config)
