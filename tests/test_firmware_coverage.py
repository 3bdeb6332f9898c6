"""How much of the BLE firmware the emulated board really runs, measured under MicroPython.

The unix port has no sys.settrace, so tests/mpcoverage.py instruments a copy of firmware/ (a hit
before every statement) and the board runs that copy through a scenario of what a wearable
meets: a host streaming and sending commands, seconds of radio congestion with a STOP in the
middle, the link dropped, a central stuck at the default MTU, one that never answers the MTU
exchange, one that sends START before it does, an I2C error, no fuel gauge or an ADC one, a
hung boot reset by the watchdog, an IMU that does not answer, Ctrl-C, a bad pin in the
settings. Uninstrumented, the same firmware runs the tests of test_firmware_ble.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from emulated_board import EmulatedBoard, answer, hardware_md_configs, host_source, take
from mpcoverage import FileCoverage, instrument, report

from movecoach.firmware import protocol

BUILD_A = hardware_md_configs()[0]
# file -> top-level functions left out: main.py's BLE path is main.py without run_serial
MEASURE = {"ble_link.py": (), "main.py": ("run_serial",), "sensor.py": (), "guard.py": ()}


async def scenario(micropython: str, tmp: Path) -> list[FileCoverage]:
    root = instrument(tmp / "instrumented", tuple(MEASURE))
    hits = tmp / "hits.txt"
    env = {"MOVECOACH_COVERAGE": str(hits)}

    boards = iter(range(1, 100))

    def board(config: dict, **kw) -> EmulatedBoard:
        return EmulatedBoard(micropython, tmp / f"board{next(boards)}",
                             config={**BUILD_A, "repl_window_s": 0.05, **config},
                             firmware_root=root, env=env, **kw)

    async with board({"rate_hz": 208}, tx_buffers=2, faults=("no_gauge=1",)) as b:
        async with host_source(b, stall_timeout_s=20.0) as source:
            await take(source, 2 * 19)
            for cmd in (protocol.encode_set_range(8, 1000), protocol.encode_status_request(),
                        bytes((protocol.OP_SET_RATE, 7))):
                await answer(source, cmd)
            b.set_congested(True)  # longer than the wearable holds at 208 Hz: packets drop
            await asyncio.sleep(3.9)
            await source.send_control(protocol.encode_stop())  # its short packet waits too
            await asyncio.sleep(0.3)
            b.set_congested(False)
            await answer(source, protocol.encode_start())
            await take(source, 19)
            for conn in list(b._conns.values()):
                b.drop(conn)  # out of range
            await b.wait_for(lambda: b.advertising, what="advertising again")
        stuck = await b.connect(central_mtu=23)  # an old adapter
        await b.wait_for(lambda: not stuck.open and b.advertising, what="hanging up")
        silent = await b.connect(central_mtu=0, central_starts_mtu=False)  # never answers
        await b.wait_for(lambda: not silent.open and b.advertising, timeout_s=5, what="refusal")
        slow = await b.connect(central_starts_mtu=False, mtu_delay_s=0.3)  # START comes first
        data = b.handle_of(protocol.DATA_UUID)
        await b.write(slow, b.handle_of(protocol.CONTROL_UUID), protocol.encode_start())
        await b.wait_for(lambda: any(n.conn == slow.handle and n.handle == data
                                     for n in b.notifications), what="data to the slow central")
        await b.halt()

    async with board({"battery": "adc", "battery_adc_pin": 1},
                     faults=("status_error_at=3",)) as b:
        async with host_source(b) as source:
            await take(source, 4 * 19)
        await b.halt()

    async with board({"watchdog_ms": 400, "healthy_s": 0.5},
                     faults=("hang_whoami=1", "")) as b:  # a hung first boot
        await b.wait_log("reset by the watchdog (1 in a row)")
        await b.wait_log("advertising as")
        await asyncio.sleep(0.7)  # healthy long enough: the count is cleared
        await b.halt()

    async with board({"i2c_power_pin": None}) as b:  # STEMMA QT left unpowered: no IMU
        await b.wait_log("trying again in 5 s")
        b.interrupt()  # Ctrl-C
        await b.wait_for(lambda: b.exit_codes, what="the firmware stopping")

    async with board({"sda": "IMU_SDA"}) as b:  # an nRF pin name on the ESP32: refused
        await b.wait_log("bad setting in movecoach_config.py: invalid pin")
        b.interrupt()
        await b.wait_for(lambda: b.exit_codes, what="the firmware stopping")

    return report(hits, MEASURE)


def test_the_ble_firmware_runs_at_least_90_percent_of_its_statements(micropython, tmp_path):
    coverage = asyncio.run(asyncio.wait_for(scenario(micropython, tmp_path), 60))
    print("\n".join(map(str, coverage)))
    by_name = {c.name.split()[0]: c for c in coverage}
    assert by_name["ble_link.py"].percent >= 90, by_name["ble_link.py"]
    assert by_name["main.py"].percent >= 90, by_name["main.py"]
    assert by_name["sensor.py"].percent >= 90, by_name["sensor.py"]


def test_the_instrumentation_counts_exactly_the_statements_that_ran(micropython, tmp_path):
    source = '"""A module."""\n' + "\n".join([
        "def f(x):",           # 2
        "    if x:",            # 3
        "        y = 1",        # 4
        "    else:",
        "        y = 2",        # 6
        "    return y",         # 7
        "f(True)",              # 8
    ]) + "\n"
    src = tmp_path / "src"
    (src / "firmware").mkdir(parents=True)
    (src / "firmware" / "__init__.py").write_text("")
    (src / "firmware" / "m.py").write_text(source)
    root = instrument(tmp_path / "out", ("m.py",), src=src / "firmware")
    hits = tmp_path / "hits.txt"
    subprocess.run([micropython, "-c", "import firmware.m"], check=True, timeout=30, cwd=tmp_path,
                   env={**os.environ, "MICROPYPATH": f"{root}:.frozen",
                        "MOVECOACH_COVERAGE": str(hits)})
    (cov,) = report(hits, {"m.py": ()}, src=src / "firmware")
    assert cov.statements == {2, 3, 4, 6, 7, 8} and cov.missed == [6]
