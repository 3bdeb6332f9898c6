"""Board entry point: I2C + IMU + sampler + link, from the small CONFIG below.

Copy the firmware/ folder to the board as /firmware and a one-line /main.py::

    import firmware.main

(hardware.md: wiring, flashing with mpremote, pairing). Edit CONFIG for your board.
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
    "battery_adc_pin": None,  # ADC pin on a 1:2 divider across the LiPo, or None
}


def _log(*args):
    print("[movecoach]", *args, file=sys.stderr)


def make_imu(cfg):
    if cfg["imu_power_pin"] is not None:
        Pin(cfg["imu_power_pin"], Pin.OUT, value=1)
        time.sleep_ms(50)
    kw = {"freq": 400_000}
    if cfg["scl"] is not None:
        kw["scl"] = Pin(cfg["scl"])
        kw["sda"] = Pin(cfg["sda"])
    i2c = I2C(cfg["i2c_id"], **kw)
    cls = LSM6DS3TRC if cfg["board"] == "xiao-sense" else LSM6DSOX
    imu = cls(i2c, cfg["address"])
    imu.configure(cfg["rate_hz"], cfg["acc_fs_g"], cfg["gyr_fs_dps"])
    return imu


def battery_reader(cfg):
    """A function returning 0..100 (LiPo voltage, linear 3.3-4.2 V), or None."""
    if cfg["battery_adc_pin"] is None:
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


def run_ble(cfg, imu):
    try:
        import asyncio
    except ImportError:
        import uasyncio as asyncio
    from .ble_link import BleLink

    link = BleLink()
    sampler = Sampler(packets.Packer(protocol.samples_per_packet(protocol.PREFERRED_ATT_MTU)),
                      link.send, cfg["rate_hz"], cfg["acc_fs_g"], cfg["gyr_fs_dps"])
    battery = battery_reader(cfg)
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


def run_serial(cfg, imu):
    from .serial_link import SerialLink

    _log("serial streaming in 3 s (Ctrl-C now for the REPL)")
    time.sleep(3)
    link = SerialLink()
    sampler = Sampler(packets.Packer(protocol.SERIAL_SAMPLES_PER_PACKET), link.send,
                      cfg["rate_hz"], cfg["acc_fs_g"], cfg["gyr_fs_dps"])
    ctl = Controller(sampler, link.send, on_settings=_reconfigure(sampler, imu),
                     battery=battery_reader(cfg))
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
    imu = make_imu(cfg)
    _log("IMU", imu.NAME, "at", cfg["rate_hz"], "Hz; link", cfg["link"])
    if cfg["link"] == "serial":
        run_serial(cfg, imu)
    else:
        run_ble(cfg, imu)


main()
