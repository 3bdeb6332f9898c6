"""`movecoach export`: sessions, reps, sway, walks and how-you-feel for a therapist's spreadsheet.

- CSV: one table per file in a directory (sessions.csv, reps.csv, sway.csv, walks.csv,
  strides.csv, feel.csv), joined by ``session_id``; layouts in docs/formats.md.
- JSON: one nested document, each session with its steps, reps, sway trials, walks (with their
  strides) and feel score.
- Raw: one session's samples in the analyze CSV format (``t,ax,ay,az,gx,gy,gz``; s, m/s^2,
  rad/s), which ``movecoach analyze`` reads back.

Every file written is 0600 and a directory created for it 0700 (health data).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from movecoach import __version__
from movecoach.errors import UserError
from movecoach.signal.exercises import REP_EXERCISES
from movecoach.store.base import Store
from movecoach.store.models import (
    STRIDE_FIELDS,
    SWAY_FIELDS,
    WALK_FIELDS,
    RepRow,
    Session,
    Walk,
)
from movecoach.store.paths import make_private_dir, private_file, write_private_text

log = logging.getLogger(__name__)

EXPORT_VERSION = 1
SESSION_COLUMNS = (
    "session_id", "date", "started_at", "ended_at", "duration_min", "status", "damaged", "device_id",
    "routine", "source", "exercises", "sets", "reps", "holds_met", "holds_total",
)
EXERCISE_COLUMNS = ("sets", "reps", "mean_amplitude_deg", "mean_depth_deg", "mean_hold_s", "holds_met")
REP_COLUMNS = (
    "session_id", "date", "time", "exercise", "kind", "set", "count", "amplitude_deg", "depth_deg",
    "hold_s", "hold_target_s", "hold_met", "t_start_s", "t_peak_s", "t_end_s",
)
SWAY_COLUMNS = ("session_id", "date", "time", "step", *SWAY_FIELDS)
WALK_COLUMNS = ("session_id", "date", "time", "step", "test", "trial", *WALK_FIELDS, "test_done")
STRIDE_COLUMNS = ("session_id", "step", *STRIDE_FIELDS)
FEEL_COLUMNS = ("date", "score", "note", "session_id")


def _iso(t_s: float | None) -> str:
    return "" if t_s is None else dt.datetime.fromtimestamp(t_s).isoformat(timespec="seconds")


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.6g}"
    return str(v)


def _finite(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 6)


def _col(ex: str, name: str) -> str:
    return f"{ex.replace('-', '_')}_{name}"


def session_record(s: Session) -> dict:
    """A session as a flat dict (the sessions.csv row; values are plain Python types)."""
    rec = {
        "session_id": s.id, "date": s.day, "started_at": _iso(s.started_at), "ended_at": _iso(s.ended_at),
        "duration_min": None if s.ended_at is None else round((s.ended_at - s.started_at) / 60, 1),
        "status": s.status, "damaged": "; ".join(s.problems), "device_id": s.device_id,
        "routine": s.routine, "source": s.source,
        "exercises": " ".join([*(e.exercise for e in s.exercises), *(["sway"] if s.sway else []),
                               *(w.test or "walk" for w in s.walks)]),
        "sets": s.sets, "reps": s.reps, "holds_met": s.holds_met, "holds_total": s.holds_total,
    }
    for e in s.exercises:
        for name in EXERCISE_COLUMNS:
            v = getattr(e, name)
            rec[_col(e.exercise, name)] = _finite(v) if isinstance(v, float) else v
    for name in SWAY_FIELDS:
        rec[f"sway_{name}"] = None if s.sway is None else _finite(getattr(s.sway, name))
    rec["feel_score"] = s.feel_score
    rec["feel_note"] = s.feel_note
    return rec


def _session_columns(sessions: list[Session]) -> list[str]:
    exercises = list(REP_EXERCISES)
    for s in sessions:
        exercises += [e.exercise for e in s.exercises if e.exercise not in exercises]
    return [*SESSION_COLUMNS, *(_col(ex, n) for ex in exercises for n in EXERCISE_COLUMNS),
            *(f"sway_{n}" for n in SWAY_FIELDS), "feel_score", "feel_note"]


def _rep_record(r: RepRow, day: str) -> dict:
    return {"session_id": r.session_id, "date": day, "time": _iso(r.t_s), "exercise": r.exercise,
            "kind": r.kind, "set": r.set_no, "count": r.count, "amplitude_deg": r.amplitude_deg,
            "depth_deg": r.depth_deg, "hold_s": r.hold_s, "hold_target_s": r.hold_target_s,
            "hold_met": r.hold_met, "t_start_s": r.t_start, "t_peak_s": r.t_peak, "t_end_s": r.t_end}


def _walk_record(w: Walk) -> dict:
    """A walk as a flat dict (the walks.csv row)."""
    return {"session_id": w.session_id, "date": w.day, "time": _iso(w.t_s), "step": w.step,
            "test": w.test, "trial": w.trial, **{k: getattr(w, k) for k in WALK_FIELDS},
            "test_done": w.test_done}


def _write_table(path: Path, columns: Iterable[str], rows: Iterable[dict]) -> None:
    columns = list(columns)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_cell(row.get(c)) for c in columns])
    write_private_text(path, buf.getvalue())


def _select(store: Store, since: str | None, until: str | None,
            session_ids: Iterable[int] | None) -> list[Session]:
    sessions = store.sessions(since=since, until=until, ids=session_ids)
    if session_ids is not None:
        missing = set(session_ids) - {s.id for s in sessions}
        if missing:
            raise UserError(f"no session {min(missing)} in {store.location}")
    return sessions


def export_csv(store: Store, out_dir: str | os.PathLike, *, since: str | None = None,
               until: str | None = None, session_ids: Iterable[int] | None = None) -> list[Path]:
    """Write sessions.csv, reps.csv, sway.csv, walks.csv, strides.csv and feel.csv into out_dir;
    return their paths."""
    session_ids = None if session_ids is None else list(session_ids)
    sessions = _select(store, since, until, session_ids)
    ids = [s.id for s in sessions]
    day = {s.id: s.day for s in sessions}
    out = Path(out_dir)
    paths = [out / "sessions.csv", out / "reps.csv", out / "sway.csv", out / "walks.csv",
             out / "strides.csv", out / "feel.csv"]
    feel = [e for e in store.feel_entries()
            if (e.session_id in day) or (e.session_id is None and session_ids is None
                                         and (not since or e.day >= since) and (not until or e.day <= until))]
    try:
        make_private_dir(out)
        _write_table(paths[0], _session_columns(sessions), (session_record(s) for s in sessions))
        _write_table(paths[1], REP_COLUMNS, (_rep_record(r, day[r.session_id])
                                             for r in store.reps(session_ids=ids)))
        _write_table(paths[2], SWAY_COLUMNS, (
            {"session_id": t.session_id, "date": t.day, "time": _iso(t.t_s), "step": t.step,
             **t.metrics.to_json()} for t in store.sway_trials(session_ids=ids)))
        _write_table(paths[3], WALK_COLUMNS, (_walk_record(w) for w in store.walks(session_ids=ids)))
        _write_table(paths[4], STRIDE_COLUMNS, (
            vars(r) for sid in ids for r in store.strides(sid)))
        _write_table(paths[5], FEEL_COLUMNS, ({"date": e.day, "score": e.score, "note": e.note,
                                               "session_id": e.session_id} for e in feel))
    except OSError as exc:
        raise UserError(f"cannot write the export to {out}: {exc.strerror or exc}") from exc
    return paths


def export_document(store: Store, *, since: str | None = None, until: str | None = None,
                    session_ids: Iterable[int] | None = None) -> dict:
    """The nested JSON export as a dict (see docs/formats.md)."""
    session_ids = None if session_ids is None else list(session_ids)
    sessions = _select(store, since, until, session_ids)
    ids = [s.id for s in sessions]
    reps: dict[int, list[dict]] = {}
    for r in store.reps(session_ids=ids):
        rec = _rep_record(r, "")
        rec.pop("date")
        rec.pop("session_id")
        reps.setdefault(r.session_id, []).append(rec)
    sway: dict[int, list[dict]] = {}
    for t in store.sway_trials(session_ids=ids):
        sway.setdefault(t.session_id, []).append(
            {"time": _iso(t.t_s), "step": t.step,
             "metrics": {k: _finite(v) for k, v in t.metrics.to_json().items()}})
    walks: dict[int, list[dict]] = {}
    for w in store.walks(session_ids=ids):
        rec = _walk_record(w)
        for key in ("session_id", "date"):
            rec.pop(key)
        rec["stride_list"] = [{k: getattr(r, k) for k in STRIDE_FIELDS}
                               for r in store.strides(w.session_id, w.step)]
        walks.setdefault(w.session_id, []).append(rec)
    docs = []
    for s in sessions:
        rec = session_record(s)
        docs.append({
            "id": s.id, "date": s.day, "started_at": rec["started_at"], "ended_at": rec["ended_at"] or None,
            "duration_min": rec["duration_min"], "status": s.status, "damaged": list(s.problems),
            "device_id": s.device_id, "routine": s.routine, "source": s.source,
            "exercises": [{"exercise": e.exercise, "sets": e.sets, "reps": e.reps,
                           "mean_amplitude_deg": _finite(e.mean_amplitude_deg),
                           "mean_depth_deg": _finite(e.mean_depth_deg),
                           "mean_hold_s": _finite(e.mean_hold_s),
                           "holds_met": e.holds_met, "holds_total": e.holds_total} for e in s.exercises],
            "reps": reps.get(s.id, []),
            "sway": sway.get(s.id, []),
            "walks": walks.get(s.id, []),
            "feel": None if s.feel_score is None else {"score": s.feel_score, "note": s.feel_note},
        })
    standalone = [{"date": e.day, "score": e.score, "note": e.note} for e in store.feel_entries()
                  if e.session_id is None and session_ids is None
                  and (not since or e.day >= since) and (not until or e.day <= until)]
    return {"format": "movecoach-export", "version": EXPORT_VERSION, "movecoach": __version__,
            "exported_at": dt.datetime.now().isoformat(timespec="seconds"),
            "units": {"angles": "deg", "holds": "s", "sway": "see docs/formats.md (m/s^2 based)",
                      "walks": "m, s, m/s, steps/min; stride_time_cv a fraction"},
            "sessions": docs, "feel_without_session": standalone}


def export_json(store: Store, out: str | os.PathLike | io.TextIOBase, **kwargs) -> None:
    """Write the nested export to a file path or an open text stream."""
    text = json.dumps(export_document(store, **kwargs), indent=1, ensure_ascii=False, allow_nan=False)
    if isinstance(out, io.TextIOBase):
        out.write(text + "\n")
        return
    path = Path(out)
    try:
        write_private_text(path, text + "\n")
    except OSError as exc:
        raise UserError(f"cannot write the export to {path}: {exc.strerror or exc}") from exc


def export_raw(store: Store, session_id: int, out: str | os.PathLike, *,
               step: int | None = None) -> int:
    """Write one session's raw samples (or one step's) as an analyze CSV; return the sample count."""
    store.session(session_id)  # UserError for an unknown session
    block = store.read_samples(session_id, step)
    if len(block) == 0:
        what = f"step {step} of session {session_id}" if step is not None else f"session {session_id}"
        raise UserError(f"{what} has no raw samples recorded")
    if np.any(np.diff(block.t_s) <= 0):
        log.warning("session %d: sample times go backwards between steps (sensor restarted?); "
                    "export one step with --step N for a file `analyze` accepts", session_id)
    path = Path(out)
    try:
        try:
            from movecoach.store.csvio import write_csv
        except ImportError:  # pragma: no cover - csvio ships with movecoach
            write_csv = _write_analyze_csv
        private_file(path)  # health data: 0600 before a byte is written
        write_csv(path, block.t_s, block.acc_m_s2, block.gyr_rad_s)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return len(block)


def _write_analyze_csv(path: Path, t_s: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray) -> None:
    """t_s (n,) s, acc_m_s2 (n, 3) m/s^2, gyr_rad_s (n, 3) rad/s -> ``t,ax,ay,az,gx,gy,gz`` CSV."""
    data = np.column_stack([t_s, acc_m_s2, gyr_rad_s])
    np.savetxt(path, data, delimiter=",", header="t,ax,ay,az,gx,gy,gz", comments="",
               fmt=["%.6f"] + ["%.6g"] * 6)
