"""`movecoach analyze FILE... --exercise E [--json]`: reps or sway of recorded CSV files.

Input: CSV with header ``t,ax,ay,az,gx,gy,gz`` (t in seconds on the sensor clock, may be
irregular or gappy; acc m/s^2; gyro rad/s; 25-400 Hz). Output per file: a readable table, or
with ``--json`` one JSON object per line::

    {"file": ..., "exercise": ..., "counts": {...}, "reps": [{"kind", "t_start", "t_peak",
     "t_end", "amplitude_deg" | "depth_deg", "hold_s"}, ...]}          (rep exercises)
    {"file": ..., "exercise": "sway", "metrics": {...}}                 (sway)

A file that cannot be read or analysed gives ``movecoach: error: FILE:LINE: problem`` on stderr;
the other files are still analysed, and the exit status is 2 at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass

import numpy as np

from movecoach.errors import UserError

log = logging.getLogger(__name__)

EXERCISE_CHOICES = ("heel-toe", "march", "wall-slide", "sway")
HEADER = ("t", "ax", "ay", "az", "gx", "gy", "gz")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="count reps or measure sway in recorded CSV files",
        description=(
            "Analyse recorded IMU CSV files (header t,ax,ay,az,gx,gy,gz; seconds, m/s^2, rad/s): "
            "count and measure reps, or measure postural sway."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="CSV recording(s)")
    p.add_argument("--exercise", required=True, choices=EXERCISE_CHOICES,
                   help="what the recording shows")
    p.add_argument("--json", action="store_true", help="one JSON object per file per line")
    p.set_defaults(func=cmd_analyze)


@dataclass(frozen=True)
class _Rec:
    path: str
    t_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    fs: float


def _read_minimal(path: str) -> _Rec:
    """Fallback reader (used only if movecoach.csvio is unavailable)."""
    try:
        with open(path, encoding="utf-8") as f:
            header = f.readline().strip().replace(" ", "").split(",")
            if tuple(header) != HEADER:
                raise UserError(f"{path}:1: expected header {','.join(HEADER)}, got {','.join(header)}")
            try:
                data = np.loadtxt(f, delimiter=",", ndmin=2)
            except ValueError as exc:
                raise UserError(f"{path}: {exc}") from None
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    if data.shape[0] < 2 or data.shape[1] != 7:
        raise UserError(f"{path}: too short or wrong number of columns")
    if not np.all(np.isfinite(data)):
        line = int(np.flatnonzero(~np.all(np.isfinite(data), axis=1))[0]) + 2
        raise UserError(f"{path}:{line}: NaN or infinite value")
    from movecoach.signal.resample import estimate_fs

    return _Rec(path, data[:, 0], data[:, 1:4], data[:, 4:7], estimate_fs(data[:, 0]))


def read_recording(path: str):
    """The recording at ``path`` (movecoach.csvio.read_csv when available)."""
    try:
        from movecoach.csvio import read_csv
    except ImportError:
        return _read_minimal(path)
    return read_csv(path)


class _DocstringAsIs:
    """Stands in for scipy's numpydoc parser while scipy.signal is imported (see _import_scipy_signal):
    the docstring is kept as it is and the "Array API Standard Support" note is dropped."""

    def __init__(self, f):
        self._doc = f.__doc__ or ""
        self._sections: dict[str, list] = {}

    def __getitem__(self, section: str) -> list:
        return self._sections.setdefault(section, [])

    def __str__(self) -> str:
        return "\n" + self._doc  # the caller drops the first line (the signature)


def _import_scipy_signal() -> None:
    """Import scipy.signal (which movecoach.signal needs) ~0.3 s faster.

    At import, scipy 1.17 decorates ~650 functions with ``xp_capabilities``, which parses each
    docstring with numpydoc to append an array-API table: about a third of the ~1 s scipy.signal
    costs a fresh `movecoach analyze` process. No docstring is read here, so the parser is swapped
    for one that leaves them as they are, for the duration of the import only. The capabilities
    registry scipy keeps is filled as usual. If scipy's internals differ from what this expects,
    the plain import runs instead.
    """
    if "scipy.signal" in sys.modules:
        return
    try:
        from scipy._lib import _array_api as xa
    except ImportError:
        return
    parser = getattr(xa, "FunctionDoc", None)
    if parser is None:
        return
    xa.FunctionDoc = _DocstringAsIs
    try:
        import scipy.signal  # noqa: F401
    except Exception:  # anything unexpected: the plain import below decides
        log.debug("fast scipy.signal import failed; importing it as usual", exc_info=True)
    finally:
        xa.FunctionDoc = parser
    import scipy.signal  # noqa: F401, F811


def analyze_recording(rec, exercise: str, path: str | None = None) -> dict:
    """The JSON-able result for one recording (see module docstring); path: the name to report
    (default: rec.path)."""
    name = str(rec.path) if path is None else path
    _import_scipy_signal()
    if exercise == "sway":
        from movecoach.signal.sway import sway_metrics

        m = sway_metrics(rec.t_s, rec.acc_m_s2, fs=rec.fs)
        return {"file": name, "exercise": exercise,
                "metrics": {k: _round(v, 6) for k, v in m.to_json().items()}}
    from movecoach.signal.reps import count_reps, counts_of

    reps = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise=exercise, fs=rec.fs)
    out_reps = []
    for r in reps:
        d = r.to_json()
        for k in ("t_start", "t_peak", "t_end"):
            d[k] = _round(d[k], 3)
        key = "depth_deg" if "depth_deg" in d else "amplitude_deg"
        d[key] = _round(d[key], 2)
        d["hold_s"] = _round(d["hold_s"], 2)
        out_reps.append(d)
    return {"file": name, "exercise": exercise, "counts": counts_of(reps, exercise),
            "reps": out_reps}


def _round(x: float, nd: int) -> float:
    return float(round(float(x), nd))


SWAY_UNITS = {
    "rms_ap": "m/s^2", "rms_ml": "m/s^2", "rms": "m/s^2", "range_ap": "m/s^2",
    "range_ml": "m/s^2", "path_length": "m/s^2", "mean_velocity": "m/s^3",
    "jerk": "m^2/s^5", "ellipse_area_95": "(m/s^2)^2", "centroid_freq_ap": "Hz",
    "centroid_freq_ml": "Hz", "duration_s": "s",
}


def format_table(result: dict) -> str:
    """A readable report of one analyze result."""
    lines = [f"{result['file']}  ({result['exercise']})"]
    if result["exercise"] == "sway":
        for k, v in result["metrics"].items():
            lines.append(f"  {k:<18} {v:>12.5g} {SWAY_UNITS.get(k, '')}")
        return "\n".join(lines)
    counts = ", ".join(f"{n} {k.replace('_', ' ')}{'' if n == 1 else 's'}"
                       for k, n in result["counts"].items())
    lines.append(f"  {counts}")
    if result["reps"]:
        depth = result["exercise"] == "wall-slide"
        lines.append(f"  {'#':>3}  {'kind':<10} {'start s':>10} {'peak s':>10} {'end s':>10} "
                     f"{'depth' if depth else 'amplitude':>9} {'hold':>7}")
        for i, r in enumerate(result["reps"], 1):
            amp = r["depth_deg"] if depth else r["amplitude_deg"]
            lines.append(f"  {i:>3}  {r['kind']:<10} {r['t_start']:>10.2f} {r['t_peak']:>10.2f} "
                         f"{r['t_end']:>10.2f} {amp:>5.1f} deg {r['hold_s']:>5.1f} s")
    return "\n".join(lines)


def cmd_analyze(args: argparse.Namespace) -> int:
    status = 0
    for i, path in enumerate(args.files):
        try:
            rec = read_recording(path)
            try:
                result = analyze_recording(rec, args.exercise, path)
            except ValueError as exc:  # e.g. too short for sway
                raise UserError(f"{path}: {exc}") from None
        except UserError as exc:
            print(f"movecoach: error: {exc}", file=sys.stderr, flush=True)
            status = max(status, exc.exit_code)
            continue
        except Exception as exc:  # a bug must not hide the other files' results
            log.debug("analysis of %s failed", path, exc_info=True)
            print(f"movecoach: error: {path}: analysis failed: {exc!r} (run with -vv for details)",
                  file=sys.stderr, flush=True)
            status = 2
            continue
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            if i:
                print()
            print(format_table(result), flush=True)
    return status
