"""An event's typed rows: what of a step_start, rep, sway, walk or session_end a store keeps in
its tables (every event is also kept whole, in `events`)."""

from __future__ import annotations

import json

from movecoach.events import Event, from_dict
from movecoach.store.base import Op, Row, Summary
from movecoach.store.models import BOUT_FIELDS, STRIDE_FIELDS, SWAY_FIELDS, WALK_FIELDS
from movecoach.store.values import dumps, flag, num, whole


def event_row(kind: str, t_s: float, payload: str) -> Row:
    """The events row (payload: the event's data as JSON text)."""
    return Row("events", {"kind": kind, "t_s": t_s, "data": payload})


def stored_event(kind: str, t_s, data) -> Event:
    """An event read back from its events row (data unreadable: {'damaged': True})."""
    try:
        payload = json.loads(data)
    except (TypeError, ValueError):
        payload = {"damaged": True}
    return from_dict(kind, float(t_s), payload)


def typed_rows(kind: str, d: dict, step: int | None, t_s: float) -> list[Op]:
    """The typed rows for an event (none for kinds that only go to `events`)."""
    if kind == "walk":
        return _walk_rows(d, step, t_s)
    if kind == "step_start":
        return [Row("steps", {
            "step": step, "exercise": str(d.get("exercise", "")), "set_no": whole(d.get("set")),
            "sets": whole(d.get("sets")), "target_reps": whole(d.get("target_reps")),
            "hold_target_s": num(d.get("hold_target_s")), "placement": d.get("placement"),
            "t_s": t_s})]
    if kind == "rep":
        depth = num(d.get("depth_deg"))
        if depth is None and d.get("kind") == "slide":
            depth = num(d.get("amplitude_deg"))
        return [Row("reps", {
            "step": step, "exercise": str(d.get("exercise", "")), "kind": d.get("kind"),
            "count": whole(d.get("count")), "set_no": whole(d.get("set")),
            "amplitude_deg": num(d.get("amplitude_deg")), "depth_deg": depth,
            "hold_s": num(d.get("hold_s")), "hold_target_s": num(d.get("hold_target_s")),
            "hold_met": flag(d.get("hold_met")), "t_start": num(d.get("t_start")),
            "t_peak": num(d.get("t_peak")), "t_end": num(d.get("t_end")), "t_s": t_s})]
    if kind == "sway":
        m = d.get("metrics") or {}
        return [Row("sway", {"step": step, "exercise": d.get("exercise", "sway"), "t_s": t_s,
                             **{k: num(m.get(k)) for k in SWAY_FIELDS}})]
    if kind == "session_end":
        summary = d.get("summary")
        return [Summary(None if summary is None else dumps(summary))]
    return []


def _walk_rows(d: dict, step: int | None, t_s: float) -> list[Op]:
    """A walk step: its totals, each bout (numbered from 1) and each stride."""
    ints = ("strides", "turns")

    def values(src: dict, names: tuple[str, ...]) -> dict:
        return {k: whole(src.get(k)) if k in ints else num(src.get(k)) for k in names}

    rows: list[Op] = [Row("walks", {
        "step": step, "exercise": str(d.get("exercise", "walk")), "test": d.get("test"),
        "trial": whole(d.get("trial")), "t_s": t_s, **values(d, WALK_FIELDS),
        "test_done": flag(d.get("test_done"))})]
    for n, bout in enumerate(b for b in d.get("bouts") or [] if isinstance(b, dict)):
        rows.append(Row("walk_bouts", {"step": step, "bout": n + 1, **values(bout, BOUT_FIELDS)}))
    for stride in d.get("stride_list") or []:
        if isinstance(stride, dict):
            rows.append(Row("strides", {"step": step, **values(stride, STRIDE_FIELDS)}))
    return rows
