"""The analyze CSV: one IMU recording as text, shared by `movecoach simulate` and `movecoach analyze`.

Format: header exactly ``t,ax,ay,az,gx,gy,gz``; one sample per line; t in seconds on the sensor's
clock (need not start at 0, may be irregular and have gaps, must increase; a row repeating the
previous time is dropped with a warning); ax..az specific force
in m/s^2 (+9.81 on the axis pointing up at rest); gx..gz angular rate in rad/s; sensor frame.
Values beyond any IMU's full scale (movecoach.units: 50 g, 100 rad/s) are refused.

:func:`iter_blocks` reads a file once, in blocks (bounded memory, pipes and FIFOs work);
:func:`read_csv` reads a whole recording.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from movecoach import units
from movecoach.errors import UserError

log = logging.getLogger(__name__)

HEADER = ("t", "ax", "ay", "az", "gx", "gy", "gz")
MIN_DURATION_S = 2.0
MIN_RATE_HZ = 25.0
MAX_RATE_HZ = 400.0
_RATE_TOLERANCE = 1e-9
# Text read per block: ~30k rows of ~70 bytes (4.6 min at 104 Hz). Measured on a 60 min file
# (benchmarks/analyze_memory.py): the analysis of one block holds ~15x its text in memory
# (parsed rows, their SI copy, the analysis grid, the detector's lists): 2 MiB blocks peak at
# ~30 MB above the imports (135 MB resident in all), 8 MiB ones at ~130 MB, for 10 % less CPU.
BLOCK_BYTES = 2 << 20


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


@dataclass(frozen=True)
class CsvBlock:
    """Consecutive rows of an analyze CSV, validated and in SI units.

    t_s (n,) s; acc_m_s2 (n, 3) m/s^2; gyr_rad_s (n, 3) rad/s; first_line: the file line of
    row 0 (the header is line 1).
    """

    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    first_line: int

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def iter_blocks(path: str | Path, *, acc_unit: str = "m/s^2", gyro_unit: str = "rad/s",
                block_bytes: int | None = None) -> Iterator[CsvBlock]:
    """Read an analyze CSV once, front to back, in blocks of about block_bytes of text.

    Works on anything that can be read only once (a pipe, a FIFO) and holds one block in memory
    at a time, whatever the file's length. acc_unit/gyro_unit: what the file
    holds ("g", "deg/s"; see movecoach.units); values are converted to m/s^2 and rad/s.
    block_bytes: default BLOCK_BYTES.
    Raises UserError (one line naming the file, the line and the problem) for a missing file, a
    wrong header, a short or non-numeric row, NaN/inf, a value beyond any IMU's full scale, or
    time going backwards. A row that repeats the previous row's time (a logger quirk seen in
    real recordings) is dropped, with one warning for the file. The checks on the whole recording (length, sample rate, units) are
    :func:`read_csv`'s and the analyze command's.
    """
    path = Path(path)
    acc_scale = _unit(acc_unit, units.ACC_UNITS, "--acc-unit")
    gyr_scale = _unit(gyro_unit, units.GYRO_UNITS, "--gyro-unit")
    try:
        f = path.open("rb")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a CSV file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    with f:
        reader = _BlockReader(path, f, BLOCK_BYTES if block_bytes is None else block_bytes)
        t_last = None
        repeats, first_repeat = 0, 0
        for data, first_line in reader:
            bad = ~np.isfinite(data)
            if bad.any():
                row, col = np.argwhere(bad)[0]
                raise UserError(f"{path}:{first_line + row}: {HEADER[col]} is {data[row, col]} "
                                "(need a finite number)")
            acc = data[:, 1:4] if acc_scale == 1.0 else data[:, 1:4] * acc_scale
            gyr = data[:, 4:7] if gyr_scale == 1.0 else data[:, 4:7] * gyr_scale
            over = units.beyond_full_scale(acc, gyr)
            if over is not None:
                row, col = over
                unit, limit = ((acc_unit, units.ACC_LIMIT_M_S2 / acc_scale) if col < 3 else
                               (gyro_unit, units.GYRO_LIMIT_RAD_S / gyr_scale))
                raise UserError(f"{path}:{first_line + row}: {HEADER[col + 1]} is "
                                f"{data[row, col + 1]:.6g} {unit}, beyond any IMU's full scale "
                                f"(+-{limit:.4g} {unit}; is the unit right?)")
            t = data[:, 0]
            same = np.diff(t, prepend=t[0] - 1.0 if t_last is None else t_last) == 0
            if same.any():  # a logger that wrote one timestamp twice: keep the first sample
                if not repeats:
                    first_repeat = first_line + int(np.flatnonzero(same)[0])
                repeats += int(same.sum())
                keep = ~same
                t, acc, gyr = t[keep], acc[keep], gyr[keep]
                if t.shape[0] == 0:
                    continue
            _check_increasing(path, t, t_last, first_line)
            t_last = float(t[-1])
            yield CsvBlock(np.ascontiguousarray(t), np.ascontiguousarray(acc),
                           np.ascontiguousarray(gyr), first_line)
        if reader.rows == 0:
            raise UserError(f"{path}: no samples after the header (expected lines of t,ax,ay,az,gx,gy,gz)")
        if repeats:
            log.warning("%s: %d %s the time of the one before (first at line %d): the first of "
                        "each was kept", path, repeats, "sample repeats" if repeats == 1 else
                        "samples repeat", first_repeat)


def read_csv(path: str | Path, *, acc_unit: str = "m/s^2", gyro_unit: str = "rad/s",
             check_units: bool = False) -> Recording:
    """Read and validate a whole analyze CSV (see :func:`iter_blocks`).

    Also raises UserError for less than 2 s of data or a sample rate outside 25-400 Hz, and with
    check_units for a likely unit mistake (movecoach.units.UnitCheck: gyro in deg/s, acc in g,
    a flat sensor).
    """
    path = Path(path)
    blocks = list(iter_blocks(path, acc_unit=acc_unit, gyro_unit=gyro_unit))
    t = np.concatenate([b.t_s for b in blocks]) if len(blocks) > 1 else blocks[0].t_s
    fs = check_rate(path, t)
    check_duration(path, t[-1] - t[0], len(t))
    acc = np.concatenate([b.acc_m_s2 for b in blocks]) if len(blocks) > 1 else blocks[0].acc_m_s2
    gyr = np.concatenate([b.gyr_rad_s for b in blocks]) if len(blocks) > 1 else blocks[0].gyr_rad_s
    if check_units:
        check = units.UnitCheck()
        check.add(t, acc, gyr)
        problem = check.problem()
        if problem:
            raise UserError(f"{path}: {problem}")
    return Recording(path, t, acc, gyr, fs)


def check_rate(path: Path, t_s: np.ndarray) -> float:
    """The sample rate (Hz, 1 / median interval) of t_s (n,) s; UserError outside 25-400 Hz."""
    if len(t_s) < 2:
        raise UserError(f"{path}: only {len(t_s)} sample (need at least {MIN_DURATION_S:g} s of data)")
    fs = 1.0 / float(np.median(np.diff(t_s)))
    # inclusive, and a rate estimated from decimal timestamps is exact only to ~1e-12
    if not MIN_RATE_HZ * (1 - _RATE_TOLERANCE) <= fs <= MAX_RATE_HZ * (1 + _RATE_TOLERANCE):
        raise UserError(f"{path}: sample rate {fs:.4g} Hz from the timestamps is outside {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz"
                        " (is t in seconds?)")
    return fs


def check_duration(path: Path, duration_s: float, n: int) -> None:
    if duration_s < MIN_DURATION_S:
        raise UserError(f"{path}: only {duration_s:.2f} s of data in {n} samples (need at least {MIN_DURATION_S:g} s)")


def _unit(name: str, table: dict[str, float], option: str) -> float:
    try:
        return table[name]
    except KeyError:
        raise UserError(f"{option} {name!r}: choose {' or '.join(table)}") from None


def _check_increasing(path: Path, t: np.ndarray, t_last: float | None, first_line: int) -> None:
    dt = np.diff(t) if t_last is None else np.diff(t, prepend=t_last)
    back = np.flatnonzero(dt <= 0)
    if back.size:
        i = int(back[0]) + (1 if t_last is None else 0)
        prev = t[i - 1] if i > 0 else t_last
        what = "repeats" if t[i] == prev else "goes backwards"
        raise UserError(f"{path}:{first_line + i}: time {what} (t={t[i]:.6g} s after t={prev:.6g} s)")


class _BlockReader:
    """The rows of an open CSV file as (n, 7) float arrays of whole lines, read once."""

    def __init__(self, path: Path, f, block_bytes: int):
        self.path = path
        self.f = f
        self.block_bytes = max(int(block_bytes), 1 << 12)
        self.rows = 0

    def __iter__(self) -> Iterator[tuple[np.ndarray, int]]:
        path = self.path
        buf = self.f.read(self.block_bytes)
        bom = b"\xef\xbb\xbf"
        skip = len(bom) if buf.startswith(bom) else 0
        while True:  # the header line, however long the first read was
            ends = [i for i in (buf.find(b"\n", skip), buf.find(b"\r", skip)) if i >= 0]
            more = b"" if ends else self.f.read(self.block_bytes)
            if not more:
                break
            buf += more
        cut = min(ends) + 1 if ends else len(buf)
        newline = b"\r" if buf[cut - 1:cut] == b"\r" and buf[cut:cut + 1] != b"\n" else b"\n"
        if buf[cut - 1:cut + 1] == b"\r\n":
            cut += 1
        _check_header(path, _decode(path, buf[skip:cut], skip))
        offset, line = cut, 2  # of buf[cut] in the file
        buf = buf[cut:]
        while True:
            more = self.f.read(self.block_bytes)
            if more:
                buf += more
                last = buf.rfind(newline)
                if last < 0:
                    continue
                body, buf = buf[:last + 1], buf[last + 1:]
            else:
                body, buf = buf, b""
            data = self._parse(body, offset, line)
            if data is not None and len(data):
                self.rows += len(data)
                yield data, line
            offset += len(body)
            line += body.count(newline)
            if not more:
                return

    def _parse(self, body: bytes, offset: int, line: int) -> np.ndarray | None:
        """(n, 7) rows of whole lines; a UserError naming the line for anything malformed.

        Parsed by numpy's C reader (as fast as anything in the standard library or numpy, since
        every one of them spends its time in the same correctly rounded string-to-double
        conversion); the text is decoded and walked row by row only to report an error.
        """
        end = len(body)
        while end and body[end - 1] in b" \t\n\r\x0b\x0c":  # like rstrip(), without a copy
            end -= 1
        if end == 0:
            return None
        try:
            data = np.loadtxt(io.BytesIO(body), delimiter=",", dtype=np.float64, ndmin=2,
                              comments=None)
        except (ValueError, UnicodeDecodeError):
            data = None
        # loadtxt skips blank lines: one row per line (the usual case) rules them out without
        # searching the text; anything else is walked row by row (lone \r line ends pass).
        if data is not None and data.shape == (body.count(b"\n", 0, end) + 1, 7):
            return data
        text = _decode(self.path, body[:end], offset)
        _report_bad_row(self.path, text, line)
        if data is not None and data.shape[1] == 7:
            return data  # e.g. lone \r line ends
        # Every row is fine, but loadtxt read past them (e.g. a line of spaces after the data).
        return np.loadtxt(text.splitlines(), delimiter=",", dtype=np.float64, ndmin=2, comments=None)


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


def _decode(path: Path, part: bytes, offset: int) -> str:
    """`part` (which starts at byte `offset` of the file) as text, or a UserError."""
    try:
        return part.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not a text CSV file ({exc.reason} at byte {offset + exc.start})") from None


def _report_bad_row(path: Path, body: str, first_line: int = 2) -> None:
    for k, row in enumerate(csv.reader(body.splitlines())):
        line = k + first_line
        if not row or all(not c.strip() for c in row):
            raise UserError(f"{path}:{line}: empty line (expected {len(HEADER)} values)")
        if len(row) != len(HEADER):
            raise UserError(f"{path}:{line}: {len(row)} values, expected {len(HEADER)} ({','.join(HEADER)})")
        for name, cell in zip(HEADER, row, strict=True):
            try:
                math.isfinite(float(cell))
            except ValueError:
                raise UserError(f"{path}:{line}: {name} is {cell.strip()!r}, not a number") from None

