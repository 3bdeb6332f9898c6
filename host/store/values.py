"""Value rules every store shares: JSON-safe copies, numbers that may be missing or damaged,
the how-you-feel score, the local day of a unix time."""

from __future__ import annotations

import json
import math
import time

import numpy as np

from movecoach.errors import UserError


def local_day(t_s: float) -> str:
    """The local calendar day (YYYY-MM-DD) of a unix time, as stored with each session."""
    return time.strftime("%Y-%m-%d", time.localtime(t_s))


def clean(value):
    """A JSON-safe copy: numpy scalars/arrays to Python, NaN/inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value) -> str:
    return json.dumps(clean(value), default=str, allow_nan=False)


def num(value) -> float | None:
    """A finite float, or None for missing / non-numeric values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def whole(value) -> int | None:
    f = num(value)
    return None if f is None else int(round(f))


def flag(value) -> int | None:
    return None if value is None else int(bool(value))


def stored_num(value) -> float | None:
    """A number read back from a store: text where a number belongs (a damaged value) is None."""
    return None if isinstance(value, str) else num(value)


def check_score(score) -> int:
    try:
        value = int(score)
    except (TypeError, ValueError):
        raise UserError(f"how-you-feel score must be a whole number 1-10, got {score!r}") from None
    if isinstance(score, float) and not score.is_integer():
        raise UserError(f"how-you-feel score must be a whole number 1-10, got {score!r}")
    if not 1 <= value <= 10:
        raise UserError(f"how-you-feel score must be 1-10, got {value}")
    return value
