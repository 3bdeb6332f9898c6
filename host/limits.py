"""What a user may ask for on the command line: one limit per quantity, checked the same way by
every command (`demo`, `coach`, `simulate`, `wearable`), each a one-line UserError naming the
option, its range and the value given."""

from __future__ import annotations

import math

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
