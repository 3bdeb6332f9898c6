"""ble:// through the real BleTransport with a fake radio at the bleak boundary (tests/fake_bleak.py)."""

from __future__ import annotations

import asyncio
import os

import fake_bleak as fake  # tests/fake_bleak.py, on sys.path via conftest.py
import pytest
from bleak.exc import BleakDBusError, BleakError

from movecoach.errors import UserError
from movecoach.firmware import protocol
from movecoach.link.transport import LinkLost, TransportError, open_transport
from movecoach.link.transport.ble import BleTransport, FoundDevice, scan


def run(coro, timeout_s: float = 10.0):
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def ble(radio, target: str = "", **kwargs) -> BleTransport:
    return open_transport(f"ble://{target}", timeout_s=2.0, client_factory=radio.client_factory,
                          scanner=radio.scanner, **kwargs)


def test_scan_lists_movecoach_wearables_nearest_first_and_ignores_other_devices():
    radio = fake.FakeRadio(
        fake.FakeWearable("movecoach-far", "AA:00:00:00:00:01", rssi=-88),
        fake.FakeWearable("movecoach-near", "AA:00:00:00:00:02", rssi=-45),
        fake.FakeWearable("heart-strap", "AA:00:00:00:00:03", rssi=-40,
                          service_uuids=["0000180d-0000-1000-8000-00805f9b34fb"]),
    )
    found = run(scan(1.5, scanner=radio.scanner))
    assert found == [FoundDevice("movecoach-near", "AA:00:00:00:00:02", -45),
                     FoundDevice("movecoach-far", "AA:00:00:00:00:01", -88)]
    assert radio.scans == [{"timeout": 1.5, "service_uuids": [protocol.SERVICE_UUID]}]
    assert found[0].url == "ble://movecoach-near"


@pytest.mark.parametrize(
    "error",
    [FileNotFoundError(2, "No such file or directory"),
     BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]),
     BleakError("No Bluetooth adapters found.")],
)
def test_no_adapter_is_a_one_line_user_error(error):
    radio = fake.FakeRadio(adapter_error=error)
    with pytest.raises(UserError, match="^no Bluetooth adapter: ") as info:
        run(scan(1.0, scanner=radio.scanner))
    assert "\n" not in str(info.value)
    with pytest.raises(UserError, match="^no Bluetooth adapter: "):
        run(ble(radio, "movecoach-1a2b").open())


def _packet(seq: int) -> bytes:
    return b"pkt" + seq.to_bytes(2, "little")


@pytest.mark.parametrize("target", ["movecoach-1a2b", "C3:5A:11:0F:1A:2B", "c3:5a:11:0f:1a:2b", ""])
def test_connects_by_name_address_or_nearest_and_streams_one_packet_per_notification(target):
    wearable = fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B", make_packet=_packet,
                                 n_packets=20, mtu_size=185)
    radio = fake.FakeRadio(fake.FakeWearable("movecoach-9999", "C3:00:00:00:99:99", rssi=-95),
                           wearable)

    async def main():
        async with ble(radio, target) as link:
            assert link.framing == "packet"
            assert link.address == "C3:5A:11:0F:1A:2B"
            assert link.mtu_size == 185
            await link.send_control(protocol.encode_start())
            got, status = [], []
            async for chunk in link.chunks():
                (status if chunk[0] == protocol.STATUS_MAGIC else got).append(chunk)
                if len(got) == 20:
                    return got, status

    got, status = run(main())
    assert got == [_packet(i) for i in range(20)]
    assert wearable.controls == [protocol.encode_start()]
    # the wearable's answer to "start" comes through the control characteristic's notifications
    assert len(status) == 1
    answer = protocol.parse_status(status[0])
    assert (answer["opcode"], answer["result"], answer["battery_pct"]) == (
        protocol.OP_START, protocol.RESULT_OK, 87)
    assert wearable.client is None  # leaving `async with` disconnected


def test_a_wearable_that_is_not_there_is_a_transport_error_naming_it():
    radio = fake.FakeRadio(fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B"))
    with pytest.raises(TransportError, match="no movecoach wearable named 'movecoach-zzzz'"):
        run(ble(radio, "movecoach-zzzz").open())
    with pytest.raises(TransportError, match="advertising the movecoach service"):
        run(ble(fake.FakeRadio(), "").open())


def test_a_failed_connect_is_a_transport_error_and_leaves_nothing_connected():
    wearable = fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B", connectable=False)
    radio = fake.FakeRadio(wearable)
    with pytest.raises(TransportError, match="was not found"):
        run(ble(radio, "movecoach-1a2b").open())
    assert not any(c.is_connected for c in radio.clients)


def test_a_dropped_connection_ends_chunks_with_link_lost_and_the_link_reopens():
    wearable = fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B", make_packet=_packet)
    radio = fake.FakeRadio(wearable)

    async def main():
        link = ble(radio, "movecoach-1a2b")
        seqs = []
        for _ in range(2):
            await link.open()
            await link.send_control(protocol.encode_start())
            with pytest.raises(LinkLost, match="disconnected"):
                async for chunk in link.chunks():
                    if chunk[0] == protocol.STATUS_MAGIC:
                        continue
                    seqs.append(int.from_bytes(chunk[3:], "little"))
                    if len(seqs) in (5, 12):
                        wearable.drop(missed_packets=3)
            await link.close()
        return seqs

    seqs = run(main())
    # everything notified before the drop is delivered; the 3 packets sent out of range are not
    assert seqs[:5] == [0, 1, 2, 3, 4]
    assert seqs[5:12] == list(range(8, 15))
    assert wearable.connections == 2


def test_mtu_is_requested_from_bluez_when_the_backend_offers_it():
    wearable = fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B", mtu_size=23)
    radio = fake.FakeRadio(wearable)
    calls = []

    class BlueZBackend:
        async def _acquire_mtu(self):
            calls.append("acquire")
            wearable.mtu_size = 247

    def factory(device, **kwargs):
        client = radio.client_factory(device, **kwargs)
        client._backend = BlueZBackend()
        return client

    async def main():
        link = open_transport("ble://movecoach-1a2b", client_factory=factory,
                              scanner=radio.scanner)
        async with link:
            return link.mtu_size

    assert run(main()) == 247
    assert calls == ["acquire"]


@pytest.mark.skipif(os.path.exists("/run/dbus/system_bus_socket")
                    or os.path.exists("/var/run/dbus/system_bus_socket")
                    or os.uname().sysname != "Linux",
                    reason="this machine may have a Bluetooth stack")
def test_with_real_bleak_and_no_bluetooth_stack_connecting_says_so_in_one_line():
    from movecoach.link.source import open_source

    async def main():
        async with open_source("ble://movecoach-1a2b", timeout_s=1.0):
            pass

    with pytest.raises(UserError, match="^no Bluetooth adapter: ") as info:
        run(main())
    assert "\n" not in str(info.value)
