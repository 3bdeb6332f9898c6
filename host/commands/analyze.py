"""`movecoach analyze FILE... --exercise E [--json]`: reps or sway of recorded CSV files.

Input: CSV with header ``t,ax,ay,az,gx,gy,gz`` (t in seconds on the sensor clock, may be
irregular or gappy; acc m/s^2; gyro rad/s, or what ``--acc-unit``/``--gyro-unit`` say; 25-400
Hz). Each file is read once, in blocks, and analysed as it is read: memory stays bounded
whatever its length, and pipes work. A gap longer than SEGMENT_GAP_S splits the recording into
parts analysed one after the other, so a long pause costs nothing. A likely unit mistake (see
movecoach.units) is an error naming it. Output per file: a readable table, or with ``--json``
one JSON object per line (never NaN or Infinity: a value that cannot be measured is null)::

    {"file": ..., "exercise": ..., "counts": {...}, "reps": [{"kind", "t_start", "t_peak",
     "t_end", "amplitude_deg" | "depth_deg", "hold_s"}, ...]}          (rep exercises)
    {"file": ..., "exercise": "sway", "metrics": {...}}                 (sway)
    {"file": ..., "exercise": "walk", "counts": {"stride": n}, "distance_m", "speed_m_s",
     "cadence_spm", "bouts": [{"t_start", "t_end", "strides", "cadence_spm", "stride_time_s",
     "stride_time_cv", "stance_frac", "stride_length_m", "speed_m_s", "distance_m", "turns"}],
     "strides": [{"t_start", "t_end", "length_m", "time_s", "stance_s", "swing_s",
     "turn_deg"}]}                                                      (walk)

A file that cannot be read or analysed gives ``movecoach: error: FILE:LINE: problem`` on stderr;
the other files are still analysed, and the exit status is 2 at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import types

import numpy as np

from movecoach import units
from movecoach.errors import UserError
from movecoach.signal.exercises import EXERCISES, get
from movecoach.store import csvio

log = logging.getLogger(__name__)

HEADER = csvio.HEADER
# A pause longer than this ends one part of a recording and starts the next, analysed afresh.
# Filling a gap on the analysis grid costs 50 samples per second (a one-day gap: 4.3 M samples,
# 54 s and 2.9 GB before parts existed); 60 s costs ~5 ms and keeps the analysis of ordinary
# recordings (losses of a few seconds at most) exactly as it was.
SEGMENT_GAP_S = 60.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="count reps, measure sway or walking in recorded CSV files",
        description=(
            "Analyse recorded IMU CSV files (header t,ax,ay,az,gx,gy,gz; seconds, m/s^2, rad/s): "
            "count and measure reps, measure postural sway, or strides, speed and distance of a "
            "walk (foot sensor)."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="CSV recording(s)")
    p.add_argument("--exercise", required=True, choices=EXERCISES,
                   help="what the recording shows")
    p.add_argument("--json", action="store_true", help="one JSON object per file per line")
    p.add_argument("--acc-unit", choices=tuple(units.ACC_UNITS), default="m/s^2",
                   help="the accelerometer columns' unit (default %(default)s)")
    p.add_argument("--gyro-unit", choices=tuple(units.GYRO_UNITS), default="rad/s",
                   help="the gyroscope columns' unit (default %(default)s)")
    p.set_defaults(func=cmd_analyze)


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


def _scoreatpercentile(*args, **kwargs):
    """scipy.stats.scoreatpercentile, imported when first called (see _import_scipy_signal)."""
    from scipy.stats import scoreatpercentile

    return scoreatpercentile(*args, **kwargs)


def _import_scipy_signal() -> None:
    """Import scipy.signal (which movecoach.signal needs) ~0.8 s of CPU faster.

    At import, scipy 1.17 decorates ~650 functions with ``xp_capabilities``, which parses each
    docstring with numpydoc to append an array-API table: about a third of the ~1 s scipy.signal
    costs a fresh `movecoach analyze` process. No docstring is read here, so the parser is swapped
    for one that leaves them as they are, for the duration of the import only. The capabilities
    registry scipy keeps is filled as usual.

    And scipy.signal imports scipy.stats (~0.5 s more: its ~100 distributions) for one function,
    ``scoreatpercentile``, which only find_peaks_cwt calls and movecoach does not. While
    scipy.signal is imported, scipy.stats is a stand-in holding just that function, which imports
    the real one when first called; the stand-in is gone afterwards, so anything importing
    scipy.stats gets the real module. If scipy's internals differ from what this expects, the
    plain import runs instead.
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
    stand_in = None
    if "scipy.stats" not in sys.modules:
        stand_in = types.ModuleType("scipy.stats", "stands in for scipy.stats while scipy.signal is imported")
        stand_in.scoreatpercentile = _scoreatpercentile
        sys.modules["scipy.stats"] = stand_in
    xa.FunctionDoc = _DocstringAsIs
    try:
        import scipy.signal  # noqa: F401
    except Exception:  # anything unexpected: the plain import below decides
        log.debug("fast scipy.signal import failed; importing it as usual", exc_info=True)
        for name in [m for m in sys.modules if m == "scipy.signal" or m.startswith("scipy.signal.")]:
            del sys.modules[name]
    finally:
        xa.FunctionDoc = parser
        if stand_in is not None and sys.modules.get("scipy.stats") is stand_in:
            del sys.modules["scipy.stats"]
        import scipy

        if getattr(scipy, "__dict__", {}).get("stats") is stand_in and stand_in is not None:
            del scipy.stats
    import scipy.signal  # noqa: F401, F811


def analyze_recording(rec, exercise: str, path: str | None = None) -> dict:
    """The JSON-able result for one recording in memory (anything with t_s, acc_m_s2,
    gyr_rad_s, fs and path; see module docstring); path: the name to report (default rec.path)."""
    name = str(rec.path) if path is None else path
    parts = _Parts(exercise, name)
    parts.push(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, float(rec.fs))
    return parts.result()


def analyze_file(path: str, exercise: str, *, acc_unit: str = "m/s^2",
                 gyro_unit: str = "rad/s") -> dict:
    """Read the CSV at path once, in blocks, analysing as it goes; the JSON-able result.

    UserError (one line naming the file) for bad input: a malformed or impossible row (its
    line), less than 2 s, a rate outside 25-400 Hz, a likely unit mistake.
    """
    check = units.UnitCheck()
    parts = _Parts(exercise, path)
    fs: float | None = None
    t_first = t_last = 0.0
    n = 0
    for block in csvio.iter_blocks(path, acc_unit=acc_unit, gyro_unit=gyro_unit):
        if n == 0:
            t_first = float(block.t_s[0])
        if fs is None and len(block) > 1:  # judged on the first block, before any analysis
            fs = csvio.check_rate(path, block.t_s)
        check.add(block.t_s, block.acc_m_s2, block.gyr_rad_s)
        parts.push(block.t_s, block.acc_m_s2, block.gyr_rad_s, fs)
        t_last = float(block.t_s[-1])
        n += len(block)
    if fs is None:
        csvio.check_rate(path, np.array([t_first]))  # one sample: the error says so
    csvio.check_duration(path, t_last - t_first, n)
    problem = check.problem(uses_gyro=get(exercise).analysis != "sway")
    if problem:
        raise UserError(f"{path}: {problem}")
    if get(exercise).analysis == "sway" and check.gyro_flat:
        log.warning("%s: the gyroscope columns never change (not needed for sway)", path)
    return parts.result()


class _Parts:
    """One recording analysed part by part (a gap over SEGMENT_GAP_S ends a part), from blocks
    of consecutive samples: t_s (n,) s, acc (n, 3) m/s^2, gyr (n, 3) rad/s, fs Hz."""

    def __init__(self, exercise: str, name: str):
        if get(exercise).analysis != "walk":  # the walk analysis is numpy only
            _import_scipy_signal()
        self.exercise = exercise
        self.name = name
        self.fs: float | None = None
        self._analyzer = None
        self._reps: list = []  # reps, or a walk's strides
        self._t_last: float | None = None
        self._n_parts = 0
        # sway: the longest part so far, and the part being read
        self._best: tuple[list, list] = ([], [])
        self._current: tuple[list, list] = ([], [])

    def push(self, t_s, acc_m_s2, gyr_rad_s, fs: float | None) -> None:
        if self.fs is None:
            self.fs = fs
        t = np.asarray(t_s, dtype=float)
        if t.shape[0] == 0:
            return
        gaps = np.flatnonzero(np.diff(t, prepend=t[0] if self._t_last is None else self._t_last)
                              > SEGMENT_GAP_S)
        edges = [0, *gaps.tolist(), t.shape[0]]
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if a == b:
                continue
            if a > 0 or (self._t_last is not None and t[0] - self._t_last > SEGMENT_GAP_S):
                self._end_part()
            self._add(t[a:b], acc_m_s2[a:b], gyr_rad_s[a:b])
        self._t_last = float(t[-1])

    def _add(self, t, acc, gyr) -> None:
        if get(self.exercise).analysis == "sway":
            self._current[0].append(t)
            self._current[1].append(acc)
            return
        if self._analyzer is None:
            if get(self.exercise).analysis == "walk":
                from movecoach.signal.gait import WalkAnalyzer

                self._analyzer = WalkAnalyzer(self.fs or 100.0)
            else:
                from movecoach.signal.streaming import RepAnalyzer

                self._analyzer = RepAnalyzer(self.exercise, fs=self.fs or 100.0)
            self._n_parts += 1
        self._analyzer.push(t, acc, gyr)

    def _end_part(self) -> None:
        if get(self.exercise).analysis == "sway":
            if self._current[0]:
                self._n_parts += 1
                if _span(self._current) > _span(self._best):
                    self._best = self._current
            self._current = ([], [])
            return
        if self._analyzer is not None:
            done = self._analyzer.finish()
            self._reps += done.strides if get(self.exercise).analysis == "walk" else self._analyzer.reps_
            self._analyzer = None

    def result(self) -> dict:
        self._end_part()
        if self._n_parts > 1:
            log.info("%s: %d parts separated by gaps over %g s, analysed one by one", self.name,
                     self._n_parts, SEGMENT_GAP_S)
        if get(self.exercise).analysis == "sway":
            from movecoach.signal.sway import sway_metrics

            t, acc = self._best
            if not t:
                raise UserError(f"{self.name}: no samples")
            if self._n_parts > 1:
                log.warning("%s: %d parts separated by gaps over %g s: sway measured on the "
                            "longest (%.1f s from t=%.6g s)", self.name, self._n_parts,
                            SEGMENT_GAP_S, _span(self._best), float(t[0][0]))
            try:
                m = sway_metrics(np.concatenate(t), np.concatenate(acc), fs=self.fs)
            except ValueError as exc:  # e.g. too short for sway
                raise UserError(f"{self.name}: {exc}") from None
            return {"file": self.name, "exercise": self.exercise,
                    "metrics": {k: _round(v, 6) for k, v in m.to_json().items()}}
        if get(self.exercise).analysis == "walk":
            return self._walk_result()
        from movecoach.signal.reps import counts_of

        out_reps = []
        for r in self._reps:
            d = r.to_json()
            for k in ("t_start", "t_peak", "t_end"):
                d[k] = _round(d[k], 3)
            key = "depth_deg" if "depth_deg" in d else "amplitude_deg"
            d[key] = _round(d[key], 2)
            d["hold_s"] = _round(d["hold_s"], 2)
            out_reps.append(d)
        return {"file": self.name, "exercise": self.exercise,
                "counts": counts_of(self._reps, self.exercise), "reps": out_reps}


    def _walk_result(self) -> dict:
        from movecoach.signal.gait import WalkResult, make_bouts

        strides = self._reps
        total = WalkResult(strides, make_bouts(strides), np.zeros((0, 3)), np.zeros(0))
        return {
            "file": self.name, "exercise": self.exercise,
            "counts": {"stride": len(strides)},
            "distance_m": _round(total.distance_m, 2), "speed_m_s": _round(total.speed_m_s, 3),
            "cadence_spm": _round(total.cadence_spm, 1),
            "bouts": [{k: (v if isinstance(v, int) else _round(v, WALK_DECIMALS[k]))
                       for k, v in b.to_json().items()} for b in total.bouts],
            "strides": [{k: _round(v, WALK_DECIMALS[k]) for k, v in st.to_json().items()}
                        for st in strides],
        }


# decimals of each walk field in the JSON (times to the ms, lengths to the mm)
WALK_DECIMALS = {
    "t_start": 3, "t_end": 3, "time_s": 3, "length_m": 3, "stance_s": 3, "swing_s": 3,
    "turn_deg": 1, "cadence_spm": 1, "stride_time_s": 3, "stride_time_cv": 4, "stance_frac": 3,
    "stride_length_m": 3, "speed_m_s": 3, "distance_m": 2,
}


def _span(part: tuple[list, list]) -> float:
    return float(part[0][-1][-1] - part[0][0][0]) if part[0] else -1.0


def _round(x: float, nd: int) -> float | None:
    """x rounded to nd decimals; None for NaN or infinity (JSON cannot carry them)."""
    x = float(x)
    return float(round(x, nd)) if math.isfinite(x) else None


def to_json(result: dict) -> str:
    """One JSON line; refuses NaN/Infinity (every float went through _round)."""
    return json.dumps(result, allow_nan=False)


SWAY_UNITS = {
    "rms_ap": "m/s^2", "rms_ml": "m/s^2", "rms": "m/s^2", "range_ap": "m/s^2",
    "range_ml": "m/s^2", "path_length": "m/s^2", "mean_velocity": "m/s^3",
    "jerk": "m^2/s^5", "ellipse_area_95": "(m/s^2)^2", "centroid_freq_ap": "Hz",
    "centroid_freq_ml": "Hz", "duration_s": "s",
}


def format_table(result: dict) -> str:
    """A readable report of one analyze result."""
    lines = [f"{result['file']}  ({result['exercise']})"]
    if get(result["exercise"]).analysis == "sway":
        for k, v in result["metrics"].items():
            value = "n/a" if v is None else f"{v:.5g}"
            lines.append(f"  {k:<18} {value:>12} {SWAY_UNITS.get(k, '')}")
        return "\n".join(lines)
    if get(result["exercise"]).analysis == "walk":
        return _walk_table(result, lines)
    counts = ", ".join(f"{n} {k.replace('_', ' ')}{'' if n == 1 else 's'}"
                       for k, n in result["counts"].items())
    lines.append(f"  {counts}")
    if result["reps"]:
        depth = get(result["exercise"]).size_field == "depth_deg"
        lines.append(f"  {'#':>3}  {'kind':<10} {'start s':>10} {'peak s':>10} {'end s':>10} "
                     f"{'depth' if depth else 'amplitude':>9} {'hold':>7}")
        for i, r in enumerate(result["reps"], 1):
            amp = r["depth_deg"] if depth else r["amplitude_deg"]
            lines.append(f"  {i:>3}  {r['kind']:<10} {_num(r['t_start'], 10, 2)} "
                         f"{_num(r['t_peak'], 10, 2)} {_num(r['t_end'], 10, 2)} "
                         f"{_num(amp, 5, 1)} deg {_num(r['hold_s'], 5, 1)} s")
    return "\n".join(lines)


def _walk_table(result: dict, lines: list[str]) -> str:
    """The walk in words and two tables: the walks (bouts) and their strides."""
    n, bouts = result["counts"]["stride"], result["bouts"]
    if not n:
        lines.append("  no walking found")
        return "\n".join(lines)
    walked = sum(b["t_end"] - b["t_start"] for b in bouts)
    speed = result["speed_m_s"]
    lines.append(f"  {n} stride{'' if n == 1 else 's'} in {len(bouts)} "
                 f"walk{'' if len(bouts) == 1 else 's'}: {result['distance_m']:.1f} m in "
                 f"{walked:.0f} s" + ("" if speed is None else f", {speed:.2f} m/s"))
    lines.append(f"  {'walk':>4} {'start s':>8} {'end s':>8} {'strides':>7} {'steps/min':>9} "
                 f"{'stride s':>8} {'varies':>6} {'stance':>6} {'stride m':>8} {'m/s':>5} "
                 f"{'metres':>6} {'turns':>5}")
    for i, b in enumerate(bouts, 1):
        cv = None if b["stride_time_cv"] is None else 100 * b["stride_time_cv"]
        st = None if b["stance_frac"] is None else 100 * b["stance_frac"]
        lines.append(f"  {i:>4} {_num(b['t_start'], 8, 2)} {_num(b['t_end'], 8, 2)} "
                     f"{b['strides']:>7} {_num(b['cadence_spm'], 9, 0)} "
                     f"{_num(b['stride_time_s'], 8, 2)} {_num(cv, 5, 1)}% {_num(st, 5, 0)}% "
                     f"{_num(b['stride_length_m'], 8, 2)} {_num(b['speed_m_s'], 5, 2)} "
                     f"{_num(b['distance_m'], 6, 1)} {b['turns']:>5}")
    lines.append("  (varies: how much the stride time changes from stride to stride; "
                 "stance: time the foot is on the floor)")
    lines.append(f"  {'#':>4} {'off s':>8} {'down s':>8} {'length m':>8} {'time s':>7} "
                 f"{'turn deg':>8}")
    for i, s in enumerate(result["strides"], 1):
        lines.append(f"  {i:>4} {_num(s['t_start'], 8, 2)} {_num(s['t_end'], 8, 2)} "
                     f"{_num(s['length_m'], 8, 2)} {_num(s['time_s'], 7, 2)} "
                     f"{_num(None if s['turn_deg'] is None else round(s['turn_deg']) + 0.0, 8, 0)}")
    return "\n".join(lines)


def _num(x: float | None, width: int, decimals: int) -> str:
    return f"{'n/a':>{width}}" if x is None else f"{x:>{width}.{decimals}f}"


def cmd_analyze(args: argparse.Namespace) -> int:
    status = 0
    for i, path in enumerate(args.files):
        try:
            result = analyze_file(path, args.exercise, acc_unit=args.acc_unit,
                                  gyro_unit=args.gyro_unit)
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
            print(to_json(result), flush=True)
        else:
            if i:
                print()
            print(format_table(result), flush=True)
    return status
