"""MicroPython's ``machine`` module as the two movecoach boards have it, for the unix port (tests).

``$MOVECOACH_BOARD`` picks the board (the two builds of hardware.md):

- ``feather-esp32s3`` (default): Adafruit ESP32-S3 Feather 5477 on MicroPython's ESP32_GENERIC_S3
  image. Pins are GPIO numbers (ints; strings are ValueError("invalid pin"), as the generic image
  names no pins). I2C(0) defaults to SCL 9 / SDA 8 (ESP32_GENERIC_S3/mpconfigboard.h). The STEMMA
  QT port (SDA 3, SCL 4) is powered only while GPIO 7 is high; an LSM6DSOX breakout sits there at
  0x6A, the MAX17048 fuel gauge at 0x36 on the same pins. WDT(id=0, timeout) exists; reset causes
  are ESP32's (PWRON 1, HARD 2, WDT 3, DEEPSLEEP 4, SOFT 5).
- ``xiao-nrf52840``: Seeed XIAO nRF52840 Sense on MicroPython's nRF port. Pins are ints 0..47, "Pn",
  or the board names of ports/nrf/boards/SEEED_XIAO_NRF52/pins.csv (IMU_SDA = P7, IMU_SCL = P27,
  IMU_PWR = P40, ...); anything else is ValueError("not a valid pin identifier"). I2C needs scl
  and sda. The LSM6DS3TR-C answers at 0x6A on P7/P27 while P40 is high, which the board's early
  init sets at boot (board.c). The nRF port has no machine.WDT; its reset causes are HARD 0, WDT 1,
  SOFT 2, LOCKUP 3, POWER_ON 16.

The IMU is tests/mpboard/lsm6.py in real time on the process's ticks_us. ``reset_cause()`` comes
from ``$MOVECOACH_RESET_CAUSE`` ("PWRON", "WDT", "SOFT"), set by the harness when it "reboots"
the board; the watchdog itself is played by the harness, which sees WDT() and feed() over the
wire and restarts the process when the board stops feeding. ``$MOVECOACH_FAULTS`` injects the
faults lsm6.py knows (e.g. "status_error_at=40", "hang_at=12", "hang_whoami=1") and
"no_gauge=1".
"""

import struct
import sys

import lsm6
import wire as _wire_mod


def _faults():
    out = {}
    text = _wire_mod.setting("FAULTS", "")
    for item in text.split(","):
        if "=" in item:
            key, value = item.split("=")
            out[key.strip()] = int(value)
    return out


_XIAO_NAMES = {
    "D0_A0": 2, "D1_A1": 3, "D4_A4": 4, "D5_A5": 5, "IMU_SDA": 7, "NFC1": 9, "NFC2": 10,
    "IMU_INT1": 11, "READ_BAT": 14, "PDM_DATA": 16, "QSPI_D0": 20, "QSPI_SCK": 21,
    "QSPI_D2": 22, "QSPI_D3": 23, "QSPI_D1": 24, "QSPI_CS": 25, "IMU_SCL": 27, "D2_A2": 28,
    "D3_A3": 29, "ADC0_BAT": 31, "PDM_CLK": 32, "IMU_PWR": 40, "UART1_TX": 43, "UART1_RX": 44,
    "SPI0_SCK": 45, "SPI0_MISO": 46, "SPI0_MOSI": 47,
}

BOARDS = {
    "feather-esp32s3": {
        "pins": set(range(0, 22)) | set(range(26, 49)), "names": {},
        "bad_pin": "invalid pin", "i2c_ids": (0, 1), "i2c_default": {0: (9, 8), 1: (None, None)},
        "imu": ("dsox", 4, 3, 7),  # chip, SCL, SDA, power pin (None: always powered)
        "gauge": True, "wdt": True,
        "causes": {"PWRON_RESET": 1, "HARD_RESET": 2, "WDT_RESET": 3, "DEEPSLEEP_RESET": 4,
                   "SOFT_RESET": 5},
        "boot_high": (),
    },
    "xiao-nrf52840": {
        "pins": set(range(0, 48)), "names": _XIAO_NAMES,
        "bad_pin": "not a valid pin identifier", "i2c_ids": (0, 1), "i2c_default": None,
        "imu": ("ds3", 27, 7, 40), "gauge": False, "wdt": False,
        "causes": {"HARD_RESET": 0, "WDT_RESET": 1, "SOFT_RESET": 2, "LOCKUP_RESET": 3,
                   "PWRON_RESET": 16},
        "boot_high": (40,),  # XIAO_board_early_init: IMU power on
    },
}
_BOARD = BOARDS[_wire_mod.setting("BOARD", "feather-esp32s3")]
_FAULTS = _faults()
_levels = {p: 1 for p in _BOARD["boot_high"]}  # GPIO output levels
_devices = {}  # (scl, sda) -> {address: device}
for _name, _value in _BOARD["causes"].items():
    globals()[_name] = _value


def _pin_number(pin_id):
    if isinstance(pin_id, Pin):
        return pin_id.id
    if isinstance(pin_id, int) and pin_id in _BOARD["pins"]:
        return pin_id
    if isinstance(pin_id, str):
        if pin_id in _BOARD["names"]:
            return _BOARD["names"][pin_id]
        if _BOARD["names"] and pin_id[:1] == "P" and pin_id[1:].isdigit():
            n = int(pin_id[1:])
            if n in _BOARD["pins"]:
                return n
    raise ValueError(_BOARD["bad_pin"])


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, pin_id, mode=-1, pull=-1, *, value=None):
        self.id = _pin_number(pin_id)
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return _levels.get(self.id, 0)
        _levels[self.id] = 1 if v else 0
        return None

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def __repr__(self):
        return "Pin(%d)" % self.id


def _on_power(acc_code, gyr_code):
    w = _wire_mod.wire()
    if w is not None:
        struct.pack_into("BB", w.tx, _wire_mod.HEADER_SIZE, acc_code, gyr_code)
        w.send(_wire_mod.IMU_POWER, 2)


def _bus(scl, sda):
    """The devices wired to this pin pair (made once: the chip keeps its state across I2C())."""
    key = (scl, sda)
    if key not in _devices:
        devices = {}
        chip, imu_scl, imu_sda, _power = _BOARD["imu"]
        if (scl, sda) == (imu_scl, imu_sda):
            imu = lsm6.LSM6(chip, 0x6A, realtime=True, faults=_FAULTS, on_power=_on_power)
            devices[0x6A] = imu
            if _BOARD["gauge"] and not _FAULTS.get("no_gauge"):
                devices[0x36] = lsm6.MAX17048()
            w = _wire_mod.wire()
            if w is not None:
                w.on(_wire_mod.QUERY, lambda _p, imu=imu: _send_counters(imu))
        _devices[key] = devices
    return _devices[key]


def _send_counters(imu):
    w = _wire_mod.wire()
    struct.pack_into("<III", w.tx, _wire_mod.HEADER_SIZE, imu.status_reads, imu.k,
                     imu.overwritten)
    w.send(_wire_mod.COUNTERS, 12)


class I2C:
    def __init__(self, id=0, scl=None, sda=None, *, freq=400_000, timeout=50_000):
        if id not in _BOARD["i2c_ids"]:
            raise ValueError("I2C(%d) doesn't exist" % id)
        if scl is None or sda is None:
            if _BOARD["i2c_default"] is None:
                raise TypeError("'scl' argument required")
            scl_n, sda_n = _BOARD["i2c_default"][id]
        else:
            scl_n, sda_n = _pin_number(scl), _pin_number(sda)
        self.scl, self.sda = scl_n, sda_n
        self.devices = _bus(scl_n, sda_n)

    def _device(self, addr):
        dev = self.devices.get(addr)
        power = _BOARD["imu"][3]
        if dev is None or (addr == 0x6A and power is not None and not _levels.get(power, 0)):
            raise OSError(19)  # ENODEV: nothing acknowledged the address
        return dev

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        self._device(addr).readfrom_mem_into(addr, memaddr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        self._device(addr).writeto_mem(addr, memaddr, buf)

    def scan(self):
        return sorted(a for a in self.devices if self._present(a))

    def _present(self, addr):
        try:
            self._device(addr)
        except OSError:
            return False
        return True


if _BOARD["wdt"]:

    class WDT:
        """The hardware watchdog, played by the harness: it resets the board (restarts the
        process with reset_cause() WDT_RESET) when feed() has not come for `timeout` ms."""

        def __init__(self, id=0, timeout=5000):
            if id != 0:
                raise ValueError()
            if timeout <= 0:
                raise ValueError("WDT timeout too short")
            self._wire = _wire_mod.wire()  # None: no harness, no one to reset the board
            if self._wire is not None:
                struct.pack_into("<I", self._wire.tx, _wire_mod.HEADER_SIZE, timeout)
                self._wire.send(_wire_mod.WDT_START, 4)

        def feed(self):
            if self._wire is not None:
                self._wire.send(_wire_mod.WDT_FEED, 0)


class ADC:
    """A LiPo at 3.9 V behind a 1:2 divider (for firmware that reads its battery this way)."""

    def __init__(self, pin):
        self.pin = Pin(pin)

    def read_u16(self):
        return 65535 * 1950 // 3300


def reset_cause():
    return _BOARD["causes"][_wire_mod.setting("RESET_CAUSE", "PWRON") + "_RESET"]


def reset():
    w = _wire_mod.wire()
    if w is not None:
        w.send(_wire_mod.RESET, 0)
    sys.exit(0)


_freq = [160_000_000]


def freq(hz=None):
    if hz is None:
        return _freq[0]
    _freq[0] = hz
    return None


def idle():
    pass
