"""Control commands (start, stop, rate, range, status), applied to a Sampler; no hardware.

Every command is answered with a status record (protocol.pack_status_into) whose ``result``
tells the host whether it was applied. Bad commands change nothing.
"""

from . import protocol
from .log import Log


class Controller:
    """Applies control commands to a sampler and reports status.

    on_status(view) receives each status record (a memoryview of STATUS_SIZE bytes).
    on_settings(rate_hz, acc_fs_g, gyr_fs_dps), if given, reconfigures the sensor before the
    sampler switches (raising ValueError rejects the change). battery() returns 0..100 or None.
    log: a firmware.log.Log (warnings about refused commands); stderr by default.
    """

    def __init__(self, sampler, on_status, on_settings=None, battery=None, simulated=False,
                 att_mtu=0, log=None):
        self.log = log if log is not None else Log()
        self.sampler = sampler
        self.on_status = on_status
        self.on_settings = on_settings
        self.battery = battery
        self.simulated = simulated
        self.att_mtu = att_mtu
        self.last_result = protocol.RESULT_OK
        self.last_opcode = 0
        self._status = bytearray(protocol.STATUS_SIZE)

    def handle(self, cmd):
        """Apply one command (bytes); returns its RESULT_* code and sends a status record."""
        op, a, b, result = protocol.parse_command(cmd)
        s = self.sampler
        if result == protocol.RESULT_OK:
            try:
                if op == protocol.OP_START:
                    s.start()
                elif op == protocol.OP_STOP:
                    s.stop()
                elif op == protocol.OP_SET_RATE:
                    if self.on_settings is not None:
                        self.on_settings(a, s.acc_fs_g, s.gyr_fs_dps)
                    s.set_rate(a)
                elif op == protocol.OP_SET_RANGE:
                    if self.on_settings is not None:
                        self.on_settings(s.rate_hz, a, b)
                    s.set_range(a, b)
            except ValueError as exc:
                self.log("W: command", op, "rejected:", exc)
                result = protocol.RESULT_BAD_VALUE
        else:
            self.log("W: bad command, opcode", op, "result", result)
        self.last_result = result
        self.last_opcode = op
        self.send_status()
        return result

    def status(self):
        """The current status record (a bytearray reused by every call)."""
        s = self.sampler
        state = protocol.STATE_STREAMING if s.streaming else 0
        if self.simulated:
            state |= protocol.STATE_SIMULATED
        level = self.battery() if self.battery is not None else None
        if level is None:
            level = protocol.BATTERY_UNKNOWN
        elif level < 15:
            state |= protocol.STATE_LOW_BATTERY
        protocol.pack_status_into(self._status, state, self.last_result, self.last_opcode, level,
                                  s.rate_hz, s.acc_fs_g, s.packer.capacity, s.gyr_fs_dps, s.seq,
                                  self.att_mtu)
        return self._status

    def send_status(self):
        self.on_status(self.status())
