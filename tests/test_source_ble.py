"""open_source over BLE: real protocol packets through BleTransport -> Source -> Decoder, with a
fake radio only at the bleak boundary; a forced disconnect, the reconnect, and the gap counted."""

from __future__ import annotations

import asyncio

import fake_bleak as fake  # tests/fake_bleak.py, on sys.path via conftest.py
import numpy as np
import pytest

from movecoach.firmware import protocol
from movecoach.link.source import LinkEvent, SourceUnavailable, open_source
from movecoach.samples import SampleBlock


def run(coro, timeout_s: float = 15.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def test_ble_samples_reconnect_after_a_forced_disconnect_and_count_the_gap():
    wearable = fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B", make_packet=fake.imu_packet,
                                 n_packets=60, interval_s=0.002)
    radio = fake.FakeRadio(wearable)

    async def main():
        items: list = []
        async with open_source("ble://movecoach-1a2b", timeout_s=2.0,
                               client_factory=radio.client_factory,
                               scanner=radio.scanner) as source:
            n = 0
            async for item in source:
                items.append(item)
                if isinstance(item, SampleBlock):
                    n += len(item)
                    if n == 20 * 8:  # after 20 packets the wearable walks out of range
                        wearable.drop(missed_packets=7)
                    if n == (60 - 7) * 8:
                        break
            return items, source.stats, source.status, source.fs

    items, stats, source_status, source_fs = run(main())
    events = [i for i in items if isinstance(i, LinkEvent)]
    assert [e.state for e in events] == ["lost", "restored"]
    assert "disconnected" in events[0].reason
    assert events[1].lost_packets == 7
    assert events[1].gap_s >= 0.4
    assert events[1].attempts == 1

    got = SampleBlock.concat([i for i in items if isinstance(i, SampleBlock)])
    t_s, acc, gyr = fake.expected_samples(list(range(20)) + list(range(27, 60)))
    np.testing.assert_allclose(got.t_s, t_s, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(got.acc_m_s2, acc)
    np.testing.assert_array_equal(got.gyr_rad_s, gyr)
    # one notification is one packet: every block is one packet of 8 samples
    assert {len(i) for i in items if isinstance(i, SampleBlock)} == {8}

    assert wearable.connections == 2
    assert wearable.controls == [protocol.encode_start(), protocol.encode_start(),
                                 protocol.encode_stop()]
    assert stats.decoder.lost_packets == 7 and stats.decoder.bad_packets == 0
    assert stats.decoder.status_records == 2  # the answers to the two "start" commands
    assert source_status["battery_pct"] == 87 and source_status["streaming"]
    assert source_fs == 104.0
    assert not any(c.is_connected for c in radio.clients)


def test_a_wearable_that_stays_away_ends_the_source_after_the_reconnect_deadline():
    wearable = fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B", make_packet=fake.imu_packet)
    radio = fake.FakeRadio(wearable)

    async def main():
        states = []
        async with open_source("ble://movecoach-1a2b", timeout_s=0.2, reconnect_timeout_s=1.0,
                               backoff_initial_s=0.1, backoff_max_s=0.2,
                               client_factory=radio.client_factory,
                               scanner=radio.scanner) as source:
            with pytest.raises(SourceUnavailable, match="could not reconnect within 1 s") as info:
                async for item in source:
                    if isinstance(item, LinkEvent):
                        states.append(item.state)
                    elif wearable in radio.wearables:
                        radio.wearables.remove(wearable)  # switched off: no longer advertising
                        wearable.drop()
        return states, str(info.value)

    states, message = run(main())
    assert states == ["lost"]
    assert "ble://movecoach-1a2b" in message and "\n" not in message


def test_a_stalled_link_counts_as_lost_even_if_the_radio_says_nothing():
    # the wearable stops notifying without a disconnect (e.g. its firmware hung)
    wearable = fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B", make_packet=fake.imu_packet,
                                 n_packets=5)
    radio = fake.FakeRadio(wearable)

    async def main():
        async with open_source("ble://movecoach-1a2b", stall_timeout_s=0.3,
                               backoff_initial_s=0.05, client_factory=radio.client_factory,
                               scanner=radio.scanner) as source:
            async for item in source:
                if isinstance(item, LinkEvent):
                    return item, wearable.connections

    event, connections = run(main())
    assert event.state == "lost" and "no data for 0.3 s" in event.reason


def test_bluetooth_switched_off_and_on_again_mid_session_is_survived():
    wearable = fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B", make_packet=fake.imu_packet,
                                 interval_s=0.01)
    radio = fake.FakeRadio(wearable)

    async def main():
        states = []
        async with open_source("ble://movecoach-1a2b", backoff_initial_s=0.05, backoff_max_s=0.1,
                               client_factory=radio.client_factory,
                               scanner=radio.scanner) as source:
            async for item in source:
                if isinstance(item, LinkEvent):
                    states.append(item.state)
                    if item.state == "lost":  # switched on again 0.3 s later
                        asyncio.get_running_loop().call_later(
                            0.3, setattr, radio, "adapter_error", None)
                    else:
                        return states, len(radio.scans)
                elif not states:
                    radio.adapter_error = FileNotFoundError(2, "No such file or directory")
                    wearable.drop()

    states, scans = run(main())
    assert states == ["lost", "restored"]
    assert scans >= 3  # the first connect, failed attempts while Bluetooth was off, the last one
