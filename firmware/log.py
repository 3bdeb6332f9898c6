"""The firmware's log lines, for the person at the REPL, kept off a console that carries frames.

On ESP32 and nRF boards sys.stderr and sys.stdout.buffer are one USB-CDC stream. A line printed
while the serial link streams frames would run into the next frame (it has no 0x00 of its own)
and the host would count that frame as a CRC error. So the serial link `hold()`s the log while
it streams: lines are kept, the newest KEEP of them, and `release()` prints them (after
Ctrl-C, at the REPL). On the BLE link the console is free and lines are printed at once.

    log = Log()
    log("IMU", "LSM6DSOX", "at", 104, "Hz")     # [movecoach] IMU LSM6DSOX at 104 Hz
    log.exception(exc)                          # with its traceback
"""

import sys

KEEP = 20  # lines held while the console carries frames: the last few minutes of warnings


class Log:
    def __init__(self, stream=None, prefix="[movecoach]"):
        self.stream = stream if stream is not None else sys.stderr
        self.prefix = prefix
        self.held = None  # a list while holding
        self.dropped = 0  # held lines that KEEP pushed out

    def __call__(self, *args):
        if self.held is None:
            print(self.prefix, *args, file=self.stream)
            return
        self.held.append(" ".join([self.prefix] + [str(a) for a in args]))
        if len(self.held) > KEEP:
            self.held.pop(0)
            self.dropped += 1

    def exception(self, exc):
        """The exception with its traceback (held like any line while holding)."""
        if self.held is None:
            sys.print_exception(exc, self.stream)
            return
        import io

        text = io.StringIO()
        sys.print_exception(exc, text)
        for line in text.getvalue().splitlines():
            self(line)

    def hold(self):
        if self.held is None:
            self.held = []

    def release(self):
        """Stop holding and print what was held."""
        held, self.held = self.held, None
        if held:
            if self.dropped:
                self("(%d older lines dropped)" % self.dropped)
            for line in held:
                print(line, file=self.stream)
        self.dropped = 0
