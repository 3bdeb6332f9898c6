"""`movecoach scan`: the table, --json, exit 1 when nothing is found, one line without an adapter."""

from __future__ import annotations

import argparse
import json
import os

import fake_bleak as fake  # tests/fake_bleak.py, on sys.path via conftest.py
import pytest

from movecoach.commands import scan as scan_cmd
from movecoach.errors import UserError


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="movecoach")
    scan_cmd.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["scan", *argv])


def two_wearables():
    return fake.FakeRadio(
        fake.FakeWearable("movecoach-0c1d", "D4:00:00:00:0C:1D", rssi=-81),
        fake.FakeWearable("movecoach-1a2b", "C3:5A:11:0F:1A:2B", rssi=-52),
        fake.FakeWearable("kitchen-scale", "E5:00:00:00:00:01", rssi=-40, service_uuids=[]),
    )


def test_scan_prints_a_table_nearest_first_with_how_to_connect(capsys):
    radio = two_wearables()
    assert scan_cmd.run(parse(["--timeout", "2"]), scanner=radio.scanner) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "ADDRESS", "RSSI", "SIGNAL", "CONNECT", "WITH"]
    assert lines[1].split() == ["movecoach-1a2b", "C3:5A:11:0F:1A:2B", "-52", "good",
                                "--source", "ble:movecoach-1a2b"]
    assert lines[2].split() == ["movecoach-0c1d", "D4:00:00:00:0C:1D", "-81", "weak",
                                "--source", "ble:movecoach-0c1d"]
    assert len(lines) == 3
    assert radio.scans[0]["timeout"] == 2.0


def test_scan_json_lists_name_address_rssi(capsys):
    assert scan_cmd.run(parse(["--json"]), scanner=two_wearables().scanner) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["address"], d["rssi"]) for d in found] == [
        ("movecoach-1a2b", "C3:5A:11:0F:1A:2B", -52), ("movecoach-0c1d", "D4:00:00:00:0C:1D", -81)]
    assert found[0]["url"] == "ble://movecoach-1a2b"


def test_nothing_found_exits_1_with_advice(capsys):
    radio = fake.FakeRadio(fake.FakeWearable("kitchen-scale", "E5:00:00:00:00:01", service_uuids=[]))
    assert scan_cmd.run(parse(["--timeout", "0.5"]), scanner=radio.scanner) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert "No movecoach wearable found in 0.5 s" in out.err


@pytest.mark.parametrize(("cause", "advice"), [
    (FileNotFoundError(2, "No such file or directory"), "check that bluetoothd runs (`systemctl status bluetooth`"),
    (PermissionError(13, "Permission denied"), "add yourself to the bluetooth group"),
    (Exception("[org.freedesktop.DBus.Error.ServiceUnknown] The name org.bluez was not provided"),
     "bluetoothd is not running: start it with `sudo systemctl start bluetooth`"),
    (Exception("[org.bluez.Error.NotReady] Resource Not Ready"), "the Bluetooth radio is off"),
])
def test_no_adapter_says_what_to_check_in_one_line(cause, advice):
    radio = fake.FakeRadio(adapter_error=cause)
    with pytest.raises(UserError, match="^no Bluetooth adapter: ") as info:
        scan_cmd.run(parse([]), scanner=radio.scanner)
    message = str(info.value)
    assert advice in message and "\n" not in message
    assert message.endswith('see hardware.md, "Bluetooth troubleshooting"')


@pytest.mark.parametrize("bad", ["0", "-3", "soon", "1000"])
def test_timeout_must_be_a_sensible_number_of_seconds(bad, capsys):
    with pytest.raises(SystemExit):
        parse(["--timeout", bad])
    assert "--timeout" in capsys.readouterr().err


@pytest.mark.skipif(os.path.exists("/run/dbus/system_bus_socket")
                    or os.path.exists("/var/run/dbus/system_bus_socket")
                    or not os.uname().sysname == "Linux",
                    reason="this machine may have a Bluetooth stack")
def test_with_real_bleak_and_no_bluetooth_stack_scan_says_so_in_one_line():
    with pytest.raises(UserError, match="^no Bluetooth adapter: ") as info:
        scan_cmd.run(parse(["--timeout", "0.5"]))
    assert "\n" not in str(info.value)
