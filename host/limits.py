"""What a user may ask for on the command line: one limit per quantity, checked the same way by
every command (`demo`, `coach`, `simulate`, `wearable`), each a one-line UserError naming the
option, its range and the value given; `number_in` is the argparse type for an option checked
while it is parsed (`--rate`, `--volume`, `feel SCORE`, `scan --timeout`)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from movecoach.errors import UserError

# A balance trial: sway metrics need at least 5 s (movecoach.signal.sway); clinical protocols
# run 30-60 s, so 10 minutes is far beyond any use and keeps a simulated trial quick to make.
SWAY_DURATION_S = (5.0, 600.0)
# A walk: the clinic's walking tests take 25 feet (a few seconds) to 6 minutes; the home
# programme asks for 5-30 minutes. Under 10 s there is no stride-time variation to measure (a
# stride takes ~1 s), and an hour is beyond any session.
WALK_DURATION_S = (10.0, 3600.0)
# A hold on the toes is ~2 s, a wall-slide hold 10-15 s; two minutes is far beyond either.
HOLD_S = (0.0, 120.0)
REST_S = (0.0, 600.0)
# A Bluetooth scan (`movecoach scan --timeout`): more than 0 s; the wearable advertises several
# times a second, so five minutes is far beyond what finding it takes.
SCAN_S = (0.0, 300.0)
# TCP ports: 1-65535 to connect to; 0 to listen on means "any free port".
PORTS = (1, 65535)


def check_seconds(option: str, value: float | None, limits: tuple[float, float]) -> float | None:
    """value (None: not given) within limits (s), or a UserError naming option."""
    if value is None:
        return None
    lo, hi = limits
    if not (math.isfinite(value) and lo <= value <= hi):
        raise UserError(f"{option} must be within {lo:g}-{hi:g} s, got {value:g}")
    return float(value)


def check_port(option: str, value: int, *, listen: bool = False) -> int:
    """A TCP port (listen: 0 picks a free one) or a UserError naming option."""
    lo = 0 if listen else PORTS[0]
    if not lo <= value <= PORTS[1]:
        extra = " (0: any free port)" if listen else ""
        raise UserError(f"{option} must be within {lo}-{PORTS[1]}{extra}, got {value}")
    return int(value)


def number_in(low: float, high: float, what: str, *, whole: bool = False, above_low: bool = False,
              unit: str = "", range_text: str | None = None) -> Callable[[str], float]:
    """An argparse type: a number (whole: an int) from low to high (above_low: more than low),
    else a one-line usage error: "TEXT is not a [whole] number [of UNIT]" or "WHAT must be
    RANGE, got VALUE" (RANGE: range_text, else "low-high"; the command line puts the option first).

    parser.add_argument("--volume", type=number_in(0, 200, "the volume", whole=True))
    """

    def parse(text: str) -> float:
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise argparse.ArgumentTypeError(f"{text} is not {kind}{f' of {unit}' if unit else ''}") from None
        inside = (low < value if above_low else low <= value) and value <= high
        if not (inside and math.isfinite(value)):
            raise argparse.ArgumentTypeError(
                f"{what} must be {range_text or f'{low:g}-{high:g}'}, got {value:g}")
        return value

    return parse
