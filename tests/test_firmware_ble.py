"""The wearable over BLE, end to end: firmware/main.py unmodified under the real `micropython`
binary, with micropython-lib's aioble over an emulated radio (tests/mpboard/), streaming into the
host's real BleTransport -> Source -> Decoder through the bleak-boundary fake (tests/fake_bleak.py).

The emulated LSM6DSOX makes sample k with ax = gx = k (tests/mpboard/lsm6.py), so every test can
say which samples the IMU made, which reached the host, and whether each accelerometer sample
is still paired with its own gyroscope sample.
"""

from __future__ import annotations

import asyncio
import time

import fake_bleak as fake  # tests/, on sys.path via conftest.py
import numpy as np
import pytest
from emulated_board import EmulatedBoard, answer, hardware_md_configs, host_source, take

from movecoach.firmware import protocol
from movecoach.link.decoder import parse_packet
from movecoach.link.source import LinkEvent
from movecoach.samples import SampleBlock

BUILD_A = hardware_md_configs()[0]  # Adafruit ESP32-S3 Feather + LSM6DSOX, as hardware.md says


def run(coro, timeout_s: float = 40.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def sample_numbers(block: SampleBlock, acc_fs_g: int = 4) -> np.ndarray:
    """The emulated IMU's sample counter k of each sample (ax counts)."""
    return np.rint(block.acc_m_s2[:, 0] / protocol.acc_scale_m_s2(acc_fs_g)).astype(int)


def gyro_numbers(block: SampleBlock, gyr_fs_dps: int = 500) -> np.ndarray:
    return np.rint(block.gyr_rad_s[:, 0] / protocol.gyr_scale_rad_s(gyr_fs_dps)).astype(int)


def blocks_of(items: list) -> list[SampleBlock]:
    return [i for i in items if isinstance(i, SampleBlock)]


def data_packets(board: EmulatedBoard):
    """Every data packet the firmware notified, in order (parsed)."""
    handle = board.handle_of(protocol.DATA_UUID)
    return [parse_packet(n.data) for n in board.notifications if n.handle == handle]


@pytest.mark.parametrize("central_mtu, spp", [(185, 13), (247, 19)])
def test_every_sample_reaches_the_host_in_packets_sized_to_the_mtu(micropython, tmp_path,
                                                                   central_mtu, spp):
    async def main():
        async with EmulatedBoard(micropython, tmp_path, config=BUILD_A) as board:
            await board.wait_for(lambda: board.advertising, what="advertising")
            adv = fake.BoardWearable(board)
            name, uuids = adv.name, adv.service_uuids
            async with host_source(board, mtu=central_mtu) as source:
                items = await take(source, 6 * spp)
                status = source.status
                stats = source.stats.decoder
            return board, items, status, stats, name, uuids

    board, items, status, stats, name, uuids = run(main())
    assert name == "movecoach-1a2b" and protocol.SERVICE_UUID in uuids
    got = SampleBlock.concat(blocks_of(items))
    k = sample_numbers(got)
    # every sample from the first one after START, once, in order, each with its own gyro sample
    np.testing.assert_array_equal(k, np.arange(k[0], k[0] + len(k)))
    np.testing.assert_array_equal(gyro_numbers(got), k)
    np.testing.assert_allclose(np.diff(got.t_s), 1 / 104, atol=2e-6)
    assert {len(b) for b in blocks_of(items)} == {spp}  # one notification, one full packet
    packets = data_packets(board)
    # nothing was sent before the host subscribed and asked: the status record answering START
    # came first, and the host's first sample is the firmware's first, in a (re)start packet
    first = board.notifications[0]
    assert first.handle == board.handle_of(protocol.CONTROL_UUID)
    assert packets[0].seq == 0 and packets[0].flags & protocol.FLAG_RESTART
    assert k[0] == packets[0].counts[0, 0]
    assert stats.packets == len(blocks_of(items)) and stats.lost_packets == 0
    assert status["att_mtu"] == central_mtu and status["samples_per_packet"] == spp
    assert status["streaming"] and status["battery_pct"] == 87
    assert all(len(n.data) <= central_mtu - 3 for n in board.notifications)


def test_a_central_stuck_at_the_default_mtu_is_refused_and_the_wearable_advertises_again(
        micropython, tmp_path):
    async def main():
        async with EmulatedBoard(micropython, tmp_path, config=BUILD_A) as board:
            await board.wait_for(lambda: board.advertising, what="advertising")
            conn = await board.connect(central_mtu=23)
            await board.wait_for(lambda: not conn.open, what="the wearable hanging up")
            await board.wait_for(lambda: board.advertising, what="advertising again")
            async with host_source(board, mtu=247) as source:  # a newer adapter still works
                items = await take(source, 19)
            return board, items, board.running

    board, items, running = run(main())
    assert b"MTU too small" in board.log
    assert sum(len(b) for b in blocks_of(items)) >= 19
    assert running and board.exit_codes == [] and board.resets == []


def test_a_link_lost_mid_packet_leaves_the_wearable_advertising_and_streaming_again(
        micropython, tmp_path):
    async def main():
        async with EmulatedBoard(micropython, tmp_path, config=BUILD_A) as board:
            async with host_source(board, backoff_initial_s=0.1) as source:
                def walk_away(block, n):
                    if n == 3 * 19:  # three packets in; the next one is partly filled
                        asyncio.get_running_loop().call_later(0.08, lost, board)

                items = await take(source, 8 * 19, walk_away)
            return board, items, board.running

    def lost(board):
        for conn in list(board._conns.values()):
            board.drop(conn)

    board, items, running = run(main())
    log = board.log.decode()
    assert "Traceback" not in log and running and board.exit_codes == [], log
    assert log.count("advertising as movecoach-1a2b") == 2
    events = [i for i in items if isinstance(i, LinkEvent)]
    assert [e.state for e in events] == ["lost", "restored"]
    assert sum(len(b) for b in blocks_of(items)) >= 8 * 19


def test_a_reconnect_is_booked_as_a_restart_not_as_lost_packets(micropython, tmp_path):
    async def main():
        async with EmulatedBoard(micropython, tmp_path, config=BUILD_A) as board:
            async with host_source(board, backoff_initial_s=0.1) as source:
                def out_of_range(block, n):
                    if n == 2 * 19:
                        for conn in list(board._conns.values()):
                            board.drop(conn)

                items = await take(source, 6 * 19, out_of_range)
                stats = source.stats.decoder
            return board, items, stats

    board, items, stats = run(main())
    restored = [i for i in items if isinstance(i, LinkEvent) and i.state == "restored"]
    assert len(restored) == 1 and restored[0].lost_packets == 0
    assert stats.lost_packets == 0 and stats.lost_samples == 0
    restarts = [p for p in data_packets(board) if p.flags & protocol.FLAG_RESTART]
    assert len(restarts) == 2  # the first packet of each connection
    after = blocks_of(items)[2:]
    # the second connection's first packet is the one the host got first after reconnecting
    assert sample_numbers(after[0])[0] == restarts[1].counts[0, 0]


def test_seconds_of_radio_congestion_lose_whole_packets_counted_exactly(micropython, tmp_path):
    """At 208 Hz the radio takes nothing for 5 s (no acknowledgements: ENOMEM): more than the
    wearable can hold. What it could not keep is lost as whole packets that the host counts to
    the sample, and every sample that arrives keeps its true time."""
    async def main():
        async with EmulatedBoard(micropython, tmp_path, config={**BUILD_A, "rate_hz": 208},
                                 tx_buffers=2) as board:
            async with host_source(board, stall_timeout_s=20.0) as source:
                items = await take(source, 208)
                board.set_congested(True)
                await asyncio.sleep(5.0)
                board.set_congested(False)
                items += await take(source, 2 * 208)
                stats = source.stats.decoder
                counters = await board.counters()
            return items, stats, counters

    items, stats, counters = run(main())
    blocks = blocks_of(items)
    got = SampleBlock.concat(blocks)
    k = sample_numbers(got)
    assert np.all(np.diff(k) > 0)  # in order, none twice
    truly_lost = int(k[-1] - k[0] + 1 - len(k))
    assert truly_lost > 100  # the congestion outlasted what the wearable can hold
    assert stats.lost_samples == truly_lost
    # no compressed timeline: each sample at its own time on the sensor clock
    np.testing.assert_allclose(got.t_s - got.t_s[0], (k - k[0]) / 208, atol=2e-6)
    np.testing.assert_array_equal(gyro_numbers(got), k)
    assert counters["words_overwritten"] == 0  # the FIFO never overflowed: whole packets went


def test_every_control_command_over_the_control_characteristic(micropython, tmp_path):
    commands = [
        protocol.encode_set_rate(208),
        protocol.encode_set_range(8, 1000),
        protocol.encode_status_request(),
        bytes((protocol.OP_SET_RATE, 100, 0)),  # 100 Hz is not offered
        bytes((0x7E,)),  # unknown opcode
        bytes((protocol.OP_SET_RANGE, 8)),  # too short
        protocol.encode_stop(),
        protocol.encode_start(),
        protocol.encode_set_rate(52),
    ]

    async def main():
        async with EmulatedBoard(micropython, tmp_path, config=BUILD_A) as board:
            async with host_source(board) as source:
                items = await take(source, 19)
                statuses = []
                for cmd in commands:
                    items += await answer(source, cmd)
                    statuses.append(dict(source.status))
                items += await take(source, 2 * 19)
            return items, statuses, board

    items, statuses, board = run(main())
    assert [s["result_text"] for s in statuses] == [
        "ok", "ok", "ok", "bad value", "unknown opcode", "bad length", "ok", "ok", "ok"]
    assert [s["opcode"] for s in statuses] == [c[0] for c in commands]
    assert statuses[0]["rate_hz"] == 208 and statuses[1]["acc_fs_g"] == 8
    assert statuses[1]["gyr_fs_dps"] == 1000 and not statuses[6]["streaming"]
    assert statuses[7]["streaming"] and statuses[-1]["rate_hz"] == 52
    # the settings reached the data and the IMU itself (CTRL1_XL ODR code 3 = 52 Hz)
    packets = data_packets(board)
    assert [p.rate_hz for p in packets][-1] == 52.0 and packets[-1].acc_fs_g == 8
    assert {p.rate_hz for p in packets} == {104.0, 208.0, 52.0}
    codes = [power[1:] for power in board.imu_power]
    assert (5, 5) in codes and (3, 3) in codes[codes.index((5, 5)):]
    last = [b for b in blocks_of(items) if b.fs == 52.0]
    k = sample_numbers(SampleBlock.concat(last), acc_fs_g=8)
    np.testing.assert_array_equal(k, np.arange(k[0], k[0] + len(k)))


def test_the_imu_sleeps_without_a_central_and_the_fifo_is_read_once_a_packet(micropython,
                                                                              tmp_path):
    async def main():
        async with EmulatedBoard(micropython, tmp_path, config=BUILD_A) as board:
            await board.wait_for(lambda: board.advertising, what="advertising")
            await asyncio.sleep(0.6)
            idle = await board.counters()
            t_connect = time.monotonic()
            async with host_source(board) as source:
                await take(source, 19)
                before, t0 = await board.counters(), time.monotonic()
                await take(source, 6 * 19)
                after, t1 = await board.counters(), time.monotonic()
            await board.wait_for(lambda: board.advertising, what="advertising again")
            await asyncio.sleep(0.3)
            gone = await board.counters()
            await asyncio.sleep(0.5)
            off = await board.counters()
            return board, idle, before, after, t1 - t0, gone, off, t_connect

    board, idle, before, after, seconds, gone, off, t_connect = run(main())
    assert idle["status_reads"] == 0  # no central: the FIFO is not polled at all
    reads_per_s = (after["status_reads"] - before["status_reads"]) / seconds
    assert reads_per_s < 2.5 * 104 / 19  # about one read per packet (5.5/s), not 50/s
    assert off["status_reads"] == gone["status_reads"]  # the host left: no polling again
    # the IMU was off until the host sent START, and off again once it left
    before_host = [codes for t, *codes in board.imu_power if t < t_connect]
    assert before_host[-1] == [0, 0]  # checked at boot, then off
    assert board.imu_power[-1][1:] == (0, 0)
    assert off["samples_made"] == gone["samples_made"]


def test_an_i2c_error_and_a_missing_fuel_gauge_do_not_stop_the_stream(micropython, tmp_path):
    async def main():
        async with EmulatedBoard(micropython, tmp_path, config=BUILD_A,
                                 faults=("status_error_at=4,no_gauge=1",)) as board:
            async with host_source(board) as source:
                items = await take(source, 8 * 19)
                status = source.status
            return board, items, status, board.running

    board, items, status, running = run(main())
    log = board.log.decode()
    assert "task sensor failed: OSError(110," in log and running, log  # ETIMEDOUT, contained
    assert "no MAX17048 fuel gauge answers at 0x36" in log
    assert status["battery_pct"] is None  # unknown, said once, not a crash
    got = SampleBlock.concat(blocks_of(items))
    k = sample_numbers(got)
    # the sensor task started again 0.5 s later; the FIFO held the samples meanwhile
    np.testing.assert_array_equal(k, np.arange(k[0], k[0] + len(k)))
    np.testing.assert_array_equal(gyro_numbers(got), k)


def test_the_watchdog_resets_a_hung_loop_and_the_host_streams_again(micropython, tmp_path):
    config = {**BUILD_A, "watchdog_ms": 600, "healthy_s": 1}
    async def main():
        async with EmulatedBoard(micropython, tmp_path, config=config,
                                 faults=("hang_at=5", "")) as board:  # hangs once, first boot
            async with host_source(board, backoff_initial_s=0.1) as source:
                items = await take(source, 6 * 19)
            await asyncio.sleep(1.2)  # healthy for healthy_s: the count of resets is cleared
            return board, items, (tmp_path / "movecoach_watchdog").exists()

    board, items, count_kept = run(main())
    assert board.resets == ["WDT"]
    assert "reset by the watchdog (1 in a row)" in board.log.decode()
    events = [i.state for i in items if isinstance(i, LinkEvent)]
    assert events == ["lost", "restored"]
    assert not count_kept


def test_a_board_that_hangs_at_every_boot_stops_resetting_after_three_tries(micropython,
                                                                             tmp_path):
    async def main():
        async with EmulatedBoard(micropython, tmp_path, config={**BUILD_A, "watchdog_ms": 400},
                                 faults=("hang_whoami=1",)) as board:
            await board.wait_log("safe mode", timeout_s=15)
            await asyncio.sleep(1.0)  # longer than the watchdog's timeout
            return board, board.running

    board, running = run(main())
    assert board.resets == ["WDT", "WDT", "WDT"]  # then no more: no boot loop
    log = board.log.decode()
    assert "reset by the watchdog (3 in a row)" in log and "safe mode" in log
    assert running  # hung, but reachable: Ctrl-C gives the REPL


HEAP_LOCKED_SENDING = """
import asyncio, gc, micropython
import lsm6
from firmware import packets, protocol
from firmware.ble_link import BleLink
from firmware.control import Controller
from firmware.imu import LSM6DSOX
from firmware.sampler import Sampler
from firmware.sensor import Sensor

link = BleLink()
bus = lsm6.LSM6("dsox")  # samples come when the script says: bus.make()
imu = LSM6DSOX(bus)
sampler = Sampler(packets.Packer(19), link.send)
sensor = Sensor(imu, sampler)
ctl = Controller(sampler, link.send_status, on_settings=sensor.reconfigure)


def passes(n):
    # n passes of the firmware's BLE sensor loop, 19 new samples before each
    for _ in range(n):
        for _ in range(19):
            bus.make()
        sensor.serve(link)


async def main():
    asyncio.create_task(link.peripheral_task(sampler, ctl))
    asyncio.create_task(link.control_task(ctl))
    while not (link.ready and sampler.streaming):  # the host connects and sends START
        await asyncio.sleep_ms(10)
    sensor.follow()  # the IMU on
    passes(3)
    grew = failed = 0
    for _ in range(6):
        gc.collect()
        free = gc.mem_free()
        micropython.heap_lock()
        try:
            passes(40)  # 760 samples: 40 packets, more than the radio's 8 buffers take
        except MemoryError:
            failed += 1
        micropython.heap_unlock()
        grew += free - gc.mem_free()
        await asyncio.sleep_ms(100)  # the radio catches up; freed buffers come back
    waiting = imu.fifo_words() // 2 + sampler.packer.count  # not packed yet
    print("RESULT", failed, grew, sampler.packets_sent, link.dropped, bus.k, waiting, link.held())


asyncio.run(main())
"""


def test_the_ble_send_path_allocates_nothing_per_sample(micropython, tmp_path):
    """Under micropython.heap_lock: driver, sampler, packer, BleLink.send (straight to the radio,
    or into the backlog when it says ENOMEM, dropping the oldest when that is full), pump,
    aioble's notify and the emulated gatts_notify."""
    async def main():
        async with EmulatedBoard(micropython, tmp_path, command=HEAP_LOCKED_SENDING) as board:
            async with host_source(board, stall_timeout_s=None) as source:
                await board.wait_log("RESULT", timeout_s=20)
                stats = source.stats.decoder
            return board, stats

    board, stats = run(main())
    line = board.log.decode().split("RESULT")[1].split()
    failed, grew, sent, dropped, made, waiting, held = map(int, line[:7])
    assert failed == 0 and grew == 0, board.log.decode()
    assert made == 19 * (3 + 6 * 40) and sent * 19 + waiting == made  # each sample packed once
    assert dropped > 0  # the backlog filled up and dropped its oldest, allocation-free too
    data = [n for n in board.notifications if n.handle == board.handle_of(protocol.DATA_UUID)]
    assert len(data) + held == sent - dropped  # every other packet went out, or waits to
