"""The analyze CSV: one IMU recording as text, shared by `movecoach simulate` and `movecoach analyze`.

Format: header exactly ``t,ax,ay,az,gx,gy,gz``; one sample per line; t in seconds on the sensor's
clock (need not start at 0, may be irregular and have gaps, must increase); ax..az specific force
in m/s^2 (+9.81 on the axis pointing up at rest); gx..gz angular rate in rad/s; sensor frame.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from movecoach.errors import UserError

log = logging.getLogger(__name__)

HEADER = ("t", "ax", "ay", "az", "gx", "gy", "gz")
MIN_DURATION_S = 2.0
MIN_RATE_HZ = 25.0
MAX_RATE_HZ = 400.0


@dataclass(frozen=True)
class Recording:
    """A recording read from an analyze CSV.

    t_s: (n,) s sensor clock; acc_m_s2: (n, 3) m/s^2; gyr_rad_s: (n, 3) rad/s (sensor frame);
    fs: sample rate in Hz estimated as 1 / median(diff(t_s)).
    """

    path: Path
    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    fs: float

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0])


def write_csv(path: str | Path, t_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, *,
              significant_digits: int = 6, time_decimals: int = 6) -> None:
    """Write an analyze CSV. t_s: (n,) s; acc_m_s2: (n, 3) m/s^2; gyr_rad_s: (n, 3) rad/s.

    Values are written with significant_digits significant digits, times with time_decimals
    decimals. Raises ValueError on mismatched shapes.
    """
    t = np.asarray(t_s, dtype=float).reshape(-1)
    acc = np.asarray(acc_m_s2, dtype=float)
    gyr = np.asarray(gyr_rad_s, dtype=float)
    if acc.shape != (len(t), 3) or gyr.shape != (len(t), 3):
        raise ValueError(f"expected t (n,), acc (n, 3), gyr (n, 3); got {t.shape}, {acc.shape}, {gyr.shape}")
    g = f"%.{int(significant_digits)}g"
    fmt = f"%.{int(time_decimals)}f," + ",".join([g] * 6) + "\n"
    data = np.column_stack([t, acc, gyr])
    path = Path(path)
    chunk = 50_000  # one %-format call per chunk of rows is ~2x faster than one per row
    with path.open("w", newline="") as fh:
        fh.write(",".join(HEADER) + "\n")
        for i in range(0, len(t), chunk):
            part = data[i:i + chunk]
            fh.write((fmt * len(part)) % tuple(part.ravel().tolist()))
    log.debug("wrote %d samples to %s", len(t), path)


def read_csv(path: str | Path) -> Recording:
    """Read and validate an analyze CSV.

    Raises UserError (one line naming the file, the line and the problem) for a missing file, a
    wrong header, a short or non-numeric row, NaN/inf, time not increasing, less than 2 s of data,
    or a sample rate outside 25-400 Hz.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()  # ~15 ms for 1 h at 100 Hz; numpy parses the file itself below
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a CSV file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    data = _parse(path, raw)
    del raw
    if data.shape[0] == 0:
        raise UserError(f"{path}: no samples after the header (expected lines of t,ax,ay,az,gx,gy,gz)")
    bad = ~np.isfinite(data)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise UserError(f"{path}:{_line_of(row)}: {HEADER[col]} is {data[row, col]} (need a finite number)")
    t = data[:, 0]
    dt = np.diff(t)
    back = np.flatnonzero(dt <= 0)
    if back.size:
        i = int(back[0]) + 1
        what = "repeats" if dt[i - 1] == 0 else "goes backwards"
        raise UserError(f"{path}:{_line_of(i)}: time {what} (t={t[i]:.6g} s after t={t[i - 1]:.6g} s)")
    duration = float(t[-1] - t[0]) if len(t) > 1 else 0.0
    if duration < MIN_DURATION_S:
        raise UserError(f"{path}: only {duration:.2f} s of data in {len(t)} samples (need at least {MIN_DURATION_S:g} s)")
    fs = 1.0 / float(np.median(dt))
    if not MIN_RATE_HZ <= fs <= MAX_RATE_HZ:
        raise UserError(f"{path}: sample rate {fs:.4g} Hz from the timestamps is outside {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz"
                        " (is t in seconds?)")
    return Recording(path, t, np.ascontiguousarray(data[:, 1:4]), np.ascontiguousarray(data[:, 4:7]), fs)


def _check_header(path: Path, line: str) -> None:
    if not line.strip():
        raise UserError(f"{path}:1: empty file or missing header (expected {','.join(HEADER)})")
    cols = tuple(c.strip() for c in line.strip().split(","))
    if cols == HEADER:
        return
    missing = [c for c in HEADER if c not in cols]
    extra = [c for c in cols if c not in HEADER]
    detail = []
    if missing:
        detail.append("missing " + ", ".join(missing))
    if extra:
        detail.append("unexpected " + ", ".join(repr(c) for c in extra))
    if not detail:
        detail.append("columns in the wrong order")
    raise UserError(f"{path}:1: header {line.strip()!r}: {'; '.join(detail)} (expected {','.join(HEADER)})")


def _parse(path: Path, raw: bytes) -> np.ndarray:
    """(n, 7) float64 rows of the file's bytes; a UserError naming the line for anything malformed.

    The body is parsed by numpy's C reader straight from the file (np.loadtxt, ~0.5 s for 1 h at
    100 Hz: as fast as anything in the standard library or numpy, since every one of them spends
    its time in the same correctly rounded string-to-double conversion). The bytes are only
    counted for newlines; they are decoded and walked row by row only to report an error.
    """
    bom = b"\xef\xbb\xbf"
    skip = len(bom) if raw.startswith(bom) else 0
    ends = [i for i in (raw.find(b"\n", skip), raw.find(b"\r", skip)) if i >= 0]
    cut = min(ends) + 1 if ends else len(raw)
    if raw[cut - 1:cut + 1] == b"\r\n":
        cut += 1
    _check_header(path, _decode(path, raw[skip:cut], skip))
    end = len(raw)
    while end > cut and raw[end - 1] in b" \t\n\r\x0b\x0c":  # like rstrip(), without a 26 MB copy
        end -= 1
    if end == cut:
        return np.zeros((0, 7))
    try:
        data = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2, comments=None, skiprows=1,
                          encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError):
        data = None
    # loadtxt skips blank lines: one row per line of the body (the usual case) rules them out
    # without searching the text; anything else is walked row by row (lone \r line ends pass).
    if data is not None and data.shape == (raw.count(b"\n", cut, end) + 1, 7):
        return data
    body = _decode(path, raw[cut:end], cut)
    _report_bad_row(path, body)
    if data is not None and data.shape[1] == 7:
        return data  # e.g. lone \r line ends
    # Every row is fine, but loadtxt read the whole file (e.g. a line of spaces after the data).
    return np.loadtxt(body.splitlines(), delimiter=",", dtype=np.float64, ndmin=2, comments=None)


def _decode(path: Path, part: bytes, offset: int) -> str:
    """`part` (which starts at byte `offset` of the file) as text, or a UserError."""
    try:
        return part.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not a text CSV file ({exc.reason} at byte {offset + exc.start})") from None


def _report_bad_row(path: Path, body: str) -> None:
    for k, row in enumerate(csv.reader(body.splitlines())):
        line = k + 2
        if not row or all(not c.strip() for c in row):
            raise UserError(f"{path}:{line}: empty line (expected {len(HEADER)} values)")
        if len(row) != len(HEADER):
            raise UserError(f"{path}:{line}: {len(row)} values, expected {len(HEADER)} ({','.join(HEADER)})")
        for name, cell in zip(HEADER, row, strict=True):
            try:
                math.isfinite(float(cell))
            except ValueError:
                raise UserError(f"{path}:{line}: {name} is {cell.strip()!r}, not a number") from None


def _line_of(row: int) -> int:
    """1-based file line number of data row `row` (the header is line 1)."""
    return row + 2
