"""`movecoach scan`: list the movecoach wearables in Bluetooth range.

    $ movecoach scan
    NAME             ADDRESS            RSSI  SIGNAL  CONNECT WITH
    movecoach-1a2b   C3:5A:11:0F:1A:2B  -58   good    --source ble:movecoach-1a2b

Exit status 0 when at least one wearable was found, 1 when none, 2 for errors (e.g. no
Bluetooth adapter).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from movecoach.limits import SCAN_S, number_in
from movecoach.link.transport.ble import DEFAULT_SCAN_S, FoundDevice, scan


def signal_word(rssi_dbm: int) -> str:
    """A plain-language signal strength for an RSSI in dBm."""
    if rssi_dbm >= -60:
        return "good"
    if rssi_dbm >= -75:
        return "fair"
    return "weak"


def format_table(devices: list[FoundDevice]) -> str:
    """Aligned text table of found wearables (nearest first)."""
    rows = [("NAME", "ADDRESS", "RSSI", "SIGNAL", "CONNECT WITH")]
    for d in devices:
        rows.append((d.name or "(no name)", d.address, str(d.rssi), signal_word(d.rssi),
                     f"--source {d.url.replace('ble://', 'ble:', 1)}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in rows
    )


def run(args: argparse.Namespace, *, scanner: Any = None) -> int:
    """Scan and print. scanner: a BleakScanner-like class (tests pass a fake)."""
    devices = asyncio.run(scan(args.timeout, scanner=scanner))
    if args.json:
        print(json.dumps([d.to_json() for d in devices], indent=2))
    elif devices:
        print(format_table(devices))
    if not devices:
        print(f"No movecoach wearable found in {args.timeout:g} s. Is it switched on and charged, "
              "and not connected to another phone or computer?", file=sys.stderr)
        return 1
    return 0


_scan_seconds = number_in(*SCAN_S, "the scan time", above_low=True, unit="seconds",
                          range_text=f"more than {SCAN_S[0]:g} and at most {SCAN_S[1]:g} seconds")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "scan",
        help="list movecoach wearables in Bluetooth range",
        description="Listen for movecoach wearables (by their service UUID) and list name, "
                    "address and signal strength, nearest first. Exit status 1 if none is found.",
    )
    p.add_argument("--timeout", type=_scan_seconds, default=DEFAULT_SCAN_S, metavar="S",
                   help=f"seconds to listen (default {DEFAULT_SCAN_S:g})")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=run)
    return p
