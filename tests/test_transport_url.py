"""Source URLs: every scheme, both spellings, and one-line errors for bad ones."""

from __future__ import annotations

import pytest

from movecoach.errors import UserError
from movecoach.link.transport import open_transport, parse_url
from movecoach.link.transport.ble import BleTransport, is_address
from movecoach.link.transport.loop import LoopTransport
from movecoach.link.transport.replay import ReplayTransport
from movecoach.link.transport.serial import SerialTransport
from movecoach.link.transport.tcp import TcpTransport


@pytest.mark.parametrize(
    ("url", "scheme", "target", "params"),
    [
        ("ble://movecoach-1a2b", "ble", "movecoach-1a2b", {}),
        ("ble://C3:5A:11:0F:1A:2B", "ble", "C3:5A:11:0F:1A:2B", {}),
        ("ble://", "ble", "", {}),
        ("serial:///dev/ttyACM0", "serial", "/dev/ttyACM0", {}),
        ("serial:/dev/ttyACM0?baud=921600", "serial", "/dev/ttyACM0", {"baud": "921600"}),
        ("serial:COM3", "serial", "COM3", {}),
        ("tcp://127.0.0.1:9000", "tcp", "127.0.0.1:9000", {}),
        ("tcp:localhost:9000", "tcp", "localhost:9000", {}),
        ("replay://session.csv?speed=10", "replay", "session.csv", {"speed": "10"}),
        ("replay:///home/me/rec.sqlite?session=3&speed=0", "replay", "/home/me/rec.sqlite",
         {"session": "3", "speed": "0"}),
        ("loop://", "loop", "", {}),
        ("LOOP://?framing=packet", "loop", "", {"framing": "packet"}),
    ],
)
def test_parse_url_accepts_every_documented_form(url, scheme, target, params):
    parsed = parse_url(url)
    assert (parsed.scheme, parsed.target, parsed.params) == (scheme, target, params)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("usb://x", "unknown source 'usb://x'"),
        ("movecoach-1a2b", "unknown source"),
        ("tcp://", "names no HOST:PORT"),
        ("serial://", "names no serial port"),
        ("replay://", "names no recording file"),
    ],
)
def test_bad_urls_are_one_line_user_errors(url, message):
    with pytest.raises(UserError, match=message) as info:
        parse_url(url)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "cls", "framing"),
    [
        ("ble://movecoach-1a2b", BleTransport, "packet"),
        ("serial:///dev/ttyACM0", SerialTransport, "stream"),
        ("tcp://127.0.0.1:9000", TcpTransport, "stream"),
        ("replay://x.csv?speed=0", ReplayTransport, "samples"),
        ("loop://", LoopTransport, "stream"),
    ],
)
def test_open_transport_picks_the_backend_by_scheme(url, cls, framing):
    link = open_transport(url, timeout_s=3.0)
    assert isinstance(link, cls)
    assert link.framing == framing
    assert link.timeout_s == 3.0
    assert not link.is_open


def test_transport_urls_round_trip():
    for url in ("tcp://127.0.0.1:9000", "serial:///dev/ttyACM0", "serial:COM3?baud=9600",
                "ble://movecoach-1a2b", "loop://?framing=packet"):
        assert open_transport(url).url == url
    assert open_transport("tcp:[::1]:9000").url == "tcp://[::1]:9000"
    assert open_transport("replay://a.csv?speed=10").url == "replay://a.csv?speed=10"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("tcp://localhost", "must be HOST:PORT"),
        ("tcp://localhost:http", "port 'http' is not a number"),
        ("tcp://localhost:70000", "outside 1-65535"),
        ("serial:/dev/ttyACM0?baud=fast", "baud 'fast' is not a number"),
        ("replay://a.csv?speed=-1", "replay speed must be 0"),
        ("replay://a.sqlite?session=last", "session 'last' is not a whole number"),
        ("loop://?framing=frames", "framing must be"),
    ],
)
def test_bad_settings_in_urls_are_user_errors(url, message):
    with pytest.raises(UserError, match=message):
        open_transport(url)


def test_negative_timeouts_are_rejected():
    with pytest.raises(ValueError, match="timeout_s"):
        open_transport("loop://", timeout_s=-1)


def test_ble_addresses_are_told_from_names():
    assert is_address("C3:5A:11:0F:1A:2B")
    assert is_address("c3-5a-11-0f-1a-2b")
    assert is_address("6D6F7665-636F-6163-6800-00000000AAAA")  # macOS device UUID
    assert not is_address("movecoach-1a2b")
    assert not is_address("C3:5A:11:0F:1A")


def test_a_source_option_is_read_as_a_link_url_in_either_spelling(tmp_path):
    from movecoach.coach.step_sources import source_device_id, source_url

    rec = tmp_path / "monday.sqlite"
    rec.write_bytes(b"")
    assert source_url("tcp:localhost:9000") == "tcp://localhost:9000"
    assert source_url("ble://C3:5A:11:0F:1A:2B") == "ble://C3:5A:11:0F:1A:2B"
    assert source_url(f"replay:{rec}?session=3", speed=4) == f"replay://{rec}?session=3&speed=4"
    assert source_device_id("serial:/dev/ttyACM0?baud=921600") == "movecoach-serial-ttyACM0"
    for spec, message in (("loop://", "unknown source"), ("usb:x", "unknown source"),
                          ("tcp:", "names no HOST:PORT"), (f"replay:{rec}.old", "no such file")):
        with pytest.raises(UserError, match=message) as info:
            source_url(spec)
        assert str(info.value).startswith("--source") and "\n" not in str(info.value)
