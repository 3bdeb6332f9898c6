"""USB serial link (board): framed packets out on stdout, framed control commands in on stdin.

Same COBS+CRC frames as the simulated wearable's TCP stream (framing.py). While streaming,
Ctrl-C (0x03) handling is turned off, since 0x03 is an ordinary byte inside frames (SET_RATE's
opcode, CRC bytes); STOP turns it back on, so the REPL is reachable again with mpremote.
"""

import select
import sys

import micropython

from . import framing, protocol


class SerialLink:
    """Frames out, commands in, over the REPL's USB CDC port (or any stream pair)."""

    def __init__(self, out=None, inp=None):
        self.out = out if out is not None else sys.stdout.buffer
        self.inp = inp if inp is not None else sys.stdin.buffer
        # sized to what this link sends (8-sample packets, status records): a framer for
        # 255-sample packets built 3093 memoryviews, ~65 KB of a 32-bit board's heap
        self.framer = framing.Framer(max(protocol.packet_size(protocol.SERIAL_SAMPLES_PER_PACKET),
                                         protocol.STATUS_SIZE))
        self.deframer = framing.Deframer(max_frame=64)
        self._poll = select.poll()
        # boards poll the console through sys.stdin (its .buffer is the same stream)
        self._poll.register(inp if inp is not None else sys.stdin, select.POLLIN)
        self._byte = bytearray(1)

    def send(self, payload):
        """Sampler/controller callback: one packet or status record as one frame."""
        self.out.write(self.framer.frame(payload))

    def delimit(self):
        """A lone frame delimiter: text printed on the console before it (the boot log) ends
        there as a frame of its own, which the host skips, instead of spoiling the next one."""
        self.out.write(b"\x00")

    def commands(self):
        """Control commands that arrived since the last call (never blocks)."""
        got = []
        while self._poll.poll(0):
            if self.inp.readinto(self._byte) != 1:
                break
            got.extend(self.deframer.feed(self._byte))
        return got

    @staticmethod
    def streaming(on):
        micropython.kbd_intr(-1 if on else 3)
