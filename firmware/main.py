"""Board entry point: I2C + IMU + sampler + link, from the small CONFIG below.

Copy the firmware/ folder to the board as /firmware and a one-line /main.py::

    import firmware.main

(hardware.md: wiring, flashing with mpremote, pairing). Settings: CONFIG below, overridden by
an optional /movecoach_config.py on the board holding ``CONFIG = {...}`` with the keys to change.

What runs:

- the IMU is on only while a host streams (START, until STOP or the link goes): with no
  central it is powered down and its FIFO is not read at all; while streaming the FIFO is read
  about once a packet and the CPU idles in between (sensor.py);
- while the radio is congested, packets wait in the link's backlog and the samples in the FIFO,
  up to half of it; beyond that whole packets are dropped, which the host counts (ble_link.py);
- every task is supervised: a failure is logged and the task starts again; a hardware watchdog
  resets a hung loop; after three such resets in a row the board runs without it, so it never
  boot-loops (guard.py);
- for ``repl_window_s`` after reset Ctrl-C gives the REPL before anything starts;
- on the serial link the log is held while frames stream (log.py).
"""

import sys
import time

from machine import I2C, Pin

from . import packets, protocol
from .control import Controller
from .guard import Watchdog, supervise
from .imu import LSM6DS3TRC, LSM6DSOX
from .log import Log
from .sampler import Sampler
from .sensor import Sensor

CONFIG = {
    # "xiao-sense": Seeed XIAO nRF52840 Sense (internal LSM6DS3TR-C; its board init powers it)
    # "dsox": any board + Adafruit LSM6DSOX breakout on STEMMA QT / Qwiic
    "board": "dsox",
    "i2c_id": 0,
    "scl": None,  # pin ids as the port names them (ESP32: GPIO numbers; nRF: "IMU_SCL", "P27")
    "sda": None,  #   None: the port's default I2C pins (the nRF port has none: give both)
    "imu_power_pin": None,  # a pin to set high before talking to the IMU (None: powered already)
    "address": 0x6A,  # 0x6B if the breakout's DO/SA0 jumper is closed
    "link": "ble",  # "ble" or "serial"
    "rate_hz": protocol.DEFAULT_RATE_HZ,
    "acc_fs_g": protocol.DEFAULT_ACC_FS_G,
    "gyr_fs_dps": protocol.DEFAULT_GYR_FS_DPS,
    "battery": None,  # None, "max17048" (fuel gauge on the same I2C bus, e.g. Adafruit
    #                    ESP32-S3 Feather) or "adc" (LiPo on a 1:2 divider at battery_adc_pin)
    "battery_adc_pin": None,
    "i2c_power_pin": None,  # e.g. 7 on the Adafruit ESP32-S3 Feather (STEMMA QT power)
    "repl_window_s": 3,  # seconds after reset in which Ctrl-C reaches the REPL, watchdog-free
    "watchdog_ms": 8000,  # reset the board when its loop hangs this long; None: no watchdog
    "healthy_s": 60,  # running this long clears the count of watchdog resets in a row
    "watchdog_file": "movecoach_watchdog",  # where that count is kept (board flash)
}

_IMU_RETRY_MS = 5000  # IMU not answering at boot: try again this often


def make_i2c(cfg):
    for key in ("imu_power_pin", "i2c_power_pin"):
        if cfg[key] is not None:
            Pin(cfg[key], Pin.OUT, value=1)
            time.sleep_ms(50)
    kw = {"freq": 400_000}
    if cfg["scl"] is not None:
        kw["scl"] = Pin(cfg["scl"])
        kw["sda"] = Pin(cfg["sda"])
    return I2C(cfg["i2c_id"], **kw)


def make_imu(cfg, i2c):
    cls = LSM6DS3TRC if cfg["board"] == "xiao-sense" else LSM6DSOX
    imu = cls(i2c, cfg["address"])
    imu.configure(cfg["rate_hz"], cfg["acc_fs_g"], cfg["gyr_fs_dps"])  # checks the settings
    imu.power_down()  # on again when a host starts streaming
    return imu


def battery_reader(cfg, i2c, log):
    """A function returning the charge in percent (0..100), or None if it is not known."""
    if cfg["battery"] == "max17048":
        soc = bytearray(2)

        def gauge():
            i2c.readfrom_mem_into(0x36, 0x04, soc)  # SOC register: high byte = percent
            return soc[0] if soc[0] < 100 else 100

        return _unless_absent(gauge, "no MAX17048 fuel gauge answers at 0x36", log)
    if cfg["battery"] != "adc" or cfg["battery_adc_pin"] is None:
        return None
    from machine import ADC

    adc = ADC(Pin(cfg["battery_adc_pin"]))

    def level():
        volts = adc.read_u16() * 3.3 * 2 / 65535
        pct = int((volts - 3.3) * 100 / 0.9)
        return 0 if pct < 0 else 100 if pct > 100 else pct

    return level


def _unless_absent(read, what, log):
    """read(), or None (battery unknown) while it raises OSError; said once in the log."""
    said = [False]

    def level():
        try:
            return read()
        except OSError as exc:
            if not said[0]:
                log("W:", what, "(%r): battery level unknown" % exc)
                said[0] = True
            return None

    return level


def run_ble(cfg, imu, battery, log, watchdog):
    import asyncio

    from .ble_link import BleLink

    link = BleLink(log=log)
    sampler = Sampler(packets.Packer(protocol.samples_per_packet(protocol.PREFERRED_ATT_MTU)),
                      link.send, cfg["rate_hz"], cfg["acc_fs_g"], cfg["gyr_fs_dps"])
    sensor = Sensor(imu, sampler)
    ctl = Controller(sampler, link.send_status, on_settings=sensor.reconfigure,
                     battery=battery, log=log)

    async def sensor_task():
        while True:
            await asyncio.sleep_ms(sensor.serve(link))

    async def battery_task():
        while True:
            if battery is not None:
                level = battery()
                if level is not None:
                    link.set_battery(level)
            await asyncio.sleep_ms(60_000)

    async def main():
        await asyncio.gather(
            supervise("sensor", sensor_task, log),
            supervise("link", lambda: link.peripheral_task(sampler, ctl), log),
            supervise("control", lambda: link.control_task(ctl), log),
            supervise("battery", battery_task, log),
            watchdog.task())

    asyncio.run(main())


def run_serial(cfg, imu, battery, log, watchdog):
    from .serial_link import SerialLink

    link = SerialLink()
    sampler = Sampler(packets.Packer(protocol.SERIAL_SAMPLES_PER_PACKET), link.send,
                      cfg["rate_hz"], cfg["acc_fs_g"], cfg["gyr_fs_dps"])
    sensor = Sensor(imu, sampler)
    ctl = Controller(sampler, link.send, on_settings=sensor.reconfigure, battery=battery, log=log)
    log.hold()  # from here on the console carries frames; Ctrl-C (after STOP) prints the log
    link.delimit()
    sampler.start()
    link.streaming(True)
    ctl.send_status()
    pause = 0
    try:
        while True:
            watchdog.feed()
            try:
                for cmd in link.commands():
                    ctl.handle(cmd)
                    link.streaming(sampler.streaming)
                if sensor.follow() and sensor.due():
                    sensor.drain()
                pause = 0
            except Exception as exc:  # noqa: BLE001 - an I2C error must not end the stream
                log("E: serial loop failed:", repr(exc))
                log.exception(exc)
                pause = min(pause * 2 or 500, 8000)
            time.sleep_ms(pause or 10)
    except KeyboardInterrupt:
        link.streaming(False)
        log.release()
        raise


def start_hardware(cfg, log, watchdog):
    """I2C, IMU and battery gauge; an IMU that does not answer is tried again every 5 s."""
    while True:
        try:
            i2c = make_i2c(cfg)
            imu = make_imu(cfg, i2c)
            return imu, battery_reader(cfg, i2c, log)
        except OSError as exc:
            log("E:", exc, "- trying again in", _IMU_RETRY_MS // 1000, "s")
        for _ in range(_IMU_RETRY_MS // 500):
            watchdog.feed()
            time.sleep_ms(500)


def main(cfg=CONFIG):
    try:
        from movecoach_config import CONFIG as user
    except ImportError:
        user = {}
    cfg = dict(cfg)
    cfg.update(user)
    log = Log()
    if cfg["repl_window_s"]:
        log("starting in", cfg["repl_window_s"], "s (Ctrl-C now for the REPL)")
        time.sleep(cfg["repl_window_s"])
    watchdog = Watchdog(cfg["watchdog_ms"], cfg["watchdog_file"], log, cfg["healthy_s"])
    watchdog.start()
    try:
        imu, battery = start_hardware(cfg, log, watchdog)
    except ValueError as exc:  # a pin or setting the port does not have: fix the config
        log("E: bad setting in movecoach_config.py:", exc, "(fix it and reset; Ctrl-C for "
            "the REPL)")
        while True:  # waiting, not resetting: a reset would only meet the same setting
            watchdog.feed()
            time.sleep_ms(500)
    log("IMU", imu.NAME, "at", cfg["rate_hz"], "Hz; link", cfg["link"])
    if cfg["link"] == "serial":
        run_serial(cfg, imu, battery, log, watchdog)
    else:
        run_ble(cfg, imu, battery, log, watchdog)


try:
    main()
except KeyboardInterrupt:
    print("[movecoach] stopped (Ctrl-C)", file=sys.stderr)
