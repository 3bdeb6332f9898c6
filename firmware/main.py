"""Board entry point: I2C + IMU + sampler + link, from the small CONFIG below.

Copy the firmware/ folder to the board as /firmware and a one-line /main.py::

    import firmware.main

(hardware.md: wiring, flashing with mpremote, pairing). Settings: CONFIG below, overridden by
an optional /movecoach_config.py on the board holding ``CONFIG = {...}`` with the keys to change.
"""

import sys
import time

from machine import I2C, Pin

from . import packets, protocol
from .control import Controller
from .imu import LSM6DS3TRC, LSM6DSOX
from .sampler import Sampler, drain_fifo

CONFIG = {
    # "xiao-sense": Seeed XIAO nRF52840 Sense (internal LSM6DS3TR-C, power on P1.08)
    # "dsox": any board + Adafruit LSM6DSOX breakout on STEMMA QT / Qwiic
    "board": "dsox",
    "i2c_id": 0,
    "scl": None,  # pin names/numbers; None: the port's default I2C pins
    "sda": None,
    "imu_power_pin": None,  # XIAO Sense: "P1_08" ("IMU_PWR"); set high before talking to it
    "address": 0x6A,  # 0x6B if the breakout's DO/SA0 jumper is closed
    "link": "ble",  # "ble" or "serial"
    "rate_hz": protocol.DEFAULT_RATE_HZ,
    "acc_fs_g": protocol.DEFAULT_ACC_FS_G,
    "gyr_fs_dps": protocol.DEFAULT_GYR_FS_DPS,
    "battery": None,  # None, "max17048" (fuel gauge on the same I2C bus, e.g. Adafruit
    #                    ESP32-S3 Feather) or "adc" (LiPo on a 1:2 divider at battery_adc_pin)
    "battery_adc_pin": None,
    "i2c_power_pin": None,  # e.g. 7 on the Adafruit ESP32-S3 Feather (STEMMA QT power)
    "serial_repl_window_s": 3,  # serial link: seconds after boot in which Ctrl-C still works
}


def _log(*args):
    print("[movecoach]", *args, file=sys.stderr)


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
    imu.configure(cfg["rate_hz"], cfg["acc_fs_g"], cfg["gyr_fs_dps"])
    return imu


def battery_reader(cfg, i2c):
    """A function returning the charge in percent (0..100), or None if there is no gauge."""
    if cfg["battery"] == "max17048":
        soc = bytearray(2)

        def gauge():
            i2c.readfrom_mem_into(0x36, 0x04, soc)  # SOC register: high byte = percent
            return soc[0] if soc[0] < 100 else 100

        return gauge
    if cfg["battery"] != "adc" or cfg["battery_adc_pin"] is None:
        return None
    from machine import ADC

    adc = ADC(Pin(cfg["battery_adc_pin"]))

    def level():
        volts = adc.read_u16() * 3.3 * 2 / 65535
        pct = int((volts - 3.3) * 100 / 0.9)
        return 0 if pct < 0 else 100 if pct > 100 else pct

    return level


def _reconfigure(sampler, imu):
    """on_settings for the Controller: pack what the FIFO holds, then switch the chip."""

    def apply(rate_hz, acc_fs_g, gyr_fs_dps):
        drain_fifo(sampler, imu)
        imu.configure(rate_hz, acc_fs_g, gyr_fs_dps)

    return apply


def run_ble(cfg, imu, battery):
    try:
        import asyncio
    except ImportError:
        import uasyncio as asyncio
    from .ble_link import BleLink

    link = BleLink()
    sampler = Sampler(packets.Packer(protocol.samples_per_packet(protocol.PREFERRED_ATT_MTU)),
                      link.send, cfg["rate_hz"], cfg["acc_fs_g"], cfg["gyr_fs_dps"])
    ctl = Controller(sampler, link.send_status, on_settings=_reconfigure(sampler, imu),
                     battery=battery)

    async def sensor_task():
        last = time.ticks_us()
        while True:
            now = time.ticks_us()
            elapsed = time.ticks_diff(now, last)
            last = now
            if link.pump():  # hold the FIFO while the radio is congested
                drain_fifo(sampler, imu, elapsed)
            await asyncio.sleep_ms(20)

    async def battery_task():
        while True:
            if battery is not None:
                link.set_battery(battery())
            await asyncio.sleep_ms(60_000)

    async def main():
        await asyncio.gather(sensor_task(), link.peripheral_task(sampler, ctl),
                             link.control_task(ctl), battery_task())

    asyncio.run(main())


def run_serial(cfg, imu, battery):
    from .serial_link import SerialLink

    wait_s = cfg["serial_repl_window_s"]
    if wait_s:
        _log("serial streaming in", wait_s, "s (Ctrl-C now for the REPL)")
        time.sleep(wait_s)
    link = SerialLink()
    sampler = Sampler(packets.Packer(protocol.SERIAL_SAMPLES_PER_PACKET), link.send,
                      cfg["rate_hz"], cfg["acc_fs_g"], cfg["gyr_fs_dps"])
    ctl = Controller(sampler, link.send, on_settings=_reconfigure(sampler, imu),
                     battery=battery)
    sampler.start()
    link.streaming(True)
    ctl.send_status()
    last = time.ticks_us()
    while True:
        for cmd in link.commands():
            ctl.handle(cmd)
            link.streaming(sampler.streaming)
        now = time.ticks_us()
        drain_fifo(sampler, imu, time.ticks_diff(now, last))
        last = now
        time.sleep_ms(10)


def main(cfg=CONFIG):
    try:
        from movecoach_config import CONFIG as user
    except ImportError:
        user = {}
    cfg = dict(cfg)
    cfg.update(user)
    i2c = make_i2c(cfg)
    imu = make_imu(cfg, i2c)
    battery = battery_reader(cfg, i2c)
    _log("IMU", imu.NAME, "at", cfg["rate_hz"], "Hz; link", cfg["link"])
    if cfg["link"] == "serial":
        run_serial(cfg, imu, battery)
    else:
        run_ble(cfg, imu, battery)


main()
