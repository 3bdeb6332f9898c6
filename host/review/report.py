"""`movecoach report`: one self-contained HTML page with plots and their data tables.

Everything is inside the file: figures are PNGs drawn with matplotlib's Agg backend and embedded
as base64 data URIs, the CSS is inline, there is no script and nothing is fetched when the page
is viewed, so it can be mailed to a therapist or opened offline. Each plot has alt text and a
data table beside it (``<table>`` with ``<caption>`` and ``<th scope>``) for screen readers.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from movecoach import __version__
from movecoach.errors import UserError
from movecoach.paths import make_private_dir, write_private_text
from movecoach.recorder import Session, SessionStore, SwayTrial, read_samples
from movecoach.review.history import markers
from movecoach.review.swaypath import Ellipse, confidence_ellipse, sway_path
from movecoach.review.trends import METRIC_BY_KEY, Trends, Week, compute_trends

log = logging.getLogger(__name__)

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#777777"
COMPARE_AFTER_DAYS = 28  # the earlier sway trial is the latest one at least this much older

CSS = """
body{font:18px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#fff;
margin:0 auto;max-width:1150px;padding:1em 1.5em}
h1{font-size:1.7em;margin:.3em 0}h2{font-size:1.3em;margin-top:1.8em;border-bottom:2px solid #ddd}
.pair{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}
.pair figure{flex:2 1 560px;margin:0}.pair figure img{width:100%;height:auto}
.pair .data{flex:1 1 300px;max-height:480px;overflow:auto;border:1px solid #ddd}
figcaption{font-size:.9em;color:#333}
table{border-collapse:collapse;font-size:.85em;width:100%}
caption{font-weight:600;text-align:left;padding:.3em .4em}
th,td{padding:.2em .5em;border-bottom:1px solid #e4e4e4;text-align:right}
th[scope=row],td.text{text-align:left}thead th{position:sticky;top:0;background:#f3f3f3}
.flag{font-weight:700}.warn{color:#8a3b00}.note{color:#444;font-size:.9em}
.summary li{margin:.2em 0}
"""


@dataclass(frozen=True)
class Table:
    """A data table: caption, column headers, rows (first cell is the row header)."""

    caption: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


def _fmt(v: float | None, spec: str = "{:.3g}") -> str:
    return "" if v is None or not math.isfinite(v) else spec.format(v)


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=96)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _table_html(t: Table) -> str:
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in t.headers)
    body = []
    for row in t.rows:
        cells = [f'<th scope="row">{html.escape(str(row[0]))}</th>']
        for c in row[1:]:
            text = html.escape(str(c))
            cls = ' class="flag"' if text.endswith("*") else ""
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="data" tabindex="0" role="region" aria-label="{html.escape(t.caption)}">'
            f"<table><caption>{html.escape(t.caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _pair(fig: Figure | None, alt: str, caption: str, table: Table) -> str:
    if fig is None:
        return f'<div class="pair"><p class="note">{html.escape(caption)}</p>{_table_html(table)}</div>'
    img = f'<img src="data:image/png;base64,{_png(fig)}" alt="{html.escape(alt)}">'
    return (f'<div class="pair"><figure>{img}<figcaption>{html.escape(caption)}</figcaption></figure>'
            f"{_table_html(table)}</div>")


# -- sway path -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrialPath:
    trial: SwayTrial
    ap: np.ndarray
    ml: np.ndarray
    ellipse: Ellipse


def _trial_path(db: Path, trial: SwayTrial) -> TrialPath | None:
    block = read_samples(db, trial.session_id, trial.step)
    if len(block) < 10:
        return None
    try:
        ap, ml = sway_path(block.t_s, block.acc_m_s2, fs=block.fs or None)
    except ValueError as exc:
        log.warning("session %d: cannot draw the sway path: %s", trial.session_id, exc)
        return None
    return TrialPath(trial, ap, ml, confidence_ellipse(ap, ml))


def pick_sway_trials(store: SessionStore) -> tuple[TrialPath | None, TrialPath | None]:
    """The latest balance trial with raw samples, and one from >= 4 weeks before (else the oldest)."""
    with_samples = store.sample_steps()
    trials = [t for t in store.sway_trials() if (t.session_id, t.step) in with_samples]
    latest = None
    while trials and latest is None:
        latest = _trial_path(store.db_path, trials.pop())
    if latest is None:
        return None, None
    cutoff = latest.trial.t_s - COMPARE_AFTER_DAYS * 86400
    older = [t for t in trials if t.t_s <= cutoff] or trials
    earlier = None
    while older and earlier is None:
        earlier = _trial_path(store.db_path, older.pop())
    return latest, earlier


def _sway_path_section(store: SessionStore) -> str:
    latest, earlier = pick_sway_trials(store)
    if latest is None:
        table = Table("Balance trials", ["Trial", "Note"], [["-", "no raw balance samples recorded yet"]])
        return _pair(None, "", "No balance trial with raw samples yet: the path plot appears after "
                     "the first recorded balance trial.", table)
    fig = Figure(figsize=(7.5, 6.2))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.09, top=0.94)
    ax = fig.add_subplot()
    paths = [p for p in (earlier, latest) if p is not None]
    colors = {id(earlier): ORANGE, id(latest): BLUE}
    for p in paths:
        label = f"{p.trial.day}" + (" (latest)" if p is latest else "")
        c = colors[id(p)]
        ax.plot(p.ml, p.ap, color=c, lw=0.8, alpha=0.75, label=f"{label} path")
        e_ap, e_ml = p.ellipse.outline()
        ax.plot(e_ml, e_ap, color=c, lw=2.4, ls="--" if p is earlier else "-",
                label=f"{label} 95% ellipse, {p.ellipse.area:.3g} (m/s²)²")
    lim = max(max(np.abs(p.ap).max(), np.abs(p.ml).max()) for p in paths) * 1.1
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.axhline(0, color=GREY, lw=0.5)
    ax.axvline(0, color=GREY, lw=0.5)
    ax.set_xlabel("ML: sideways acceleration, left + (m/s²)")
    ax.set_ylabel("AP: forward acceleration, forward + (m/s²)")
    ax.set_title("Sway path while standing still")
    ax.legend(loc="upper right", fontsize=9)
    rows = []
    names = [("rms", "RMS (m/s²)"), ("mean_velocity", "mean velocity (m/s³)"),
             ("path_length", "path length (m/s²)"), ("ellipse_area_95", "95% ellipse area ((m/s²)²)"),
             ("jerk", "jerk (m²/s⁵)"), ("range_ap", "AP range (m/s²)"), ("range_ml", "ML range (m/s²)"),
             ("duration_s", "duration (s)")]
    for key, label in names:
        rows.append([label] + [_fmt(getattr(p.trial.metrics, key)) for p in paths])
    table = Table("Balance trial metrics", ["Metric"] + [p.trial.day for p in paths], rows)
    if earlier is not None:
        change = latest.ellipse.area / earlier.ellipse.area if earlier.ellipse.area > 0 else math.nan
        alt = (f"Sway path plot: forward-back against sideways acceleration for the balance trials of "
               f"{earlier.trial.day} and {latest.trial.day}, each with its 95% ellipse. The ellipse "
               f"area went from {earlier.ellipse.area:.3g} to {latest.ellipse.area:.3g} (m/s²)², "
               f"{'smaller' if change < 1 else 'larger'} by a factor of {max(change, 1 / change):.2g}.")
    else:
        alt = (f"Sway path plot of the balance trial of {latest.trial.day} with its 95% ellipse, "
               f"area {latest.ellipse.area:.3g} (m/s²)².")
    caption = ("Each line is the trunk's sway acceleration during one standing trial (lower-back "
               "sensor, tilt-corrected, 3.5 Hz low-pass); the ellipse holds 95% of it. Smaller is steadier.")
    return _pair(fig, alt, caption, table)


# -- weekly plots --------------------------------------------------------------------------------

def _weekly(trends: Trends, key: str) -> tuple[list[dt.date], np.ndarray, np.ndarray]:
    xs, ys, es = [], [], []
    for w in trends.weeks:
        v = w.values.get(key)
        if v is None:
            continue
        xs.append(w.monday + dt.timedelta(days=3))
        ys.append(v.mean)
        es.append(v.se if math.isfinite(v.se) else 0.0)
    return xs, np.asarray(ys), np.asarray(es)


def _cell(w: Week, key: str) -> str:
    v = w.values.get(key)
    if v is None:
        return ""
    text = METRIC_BY_KEY[key].format(v.mean)
    c = w.vs_prev.get(key)
    return text + (" *" if c is not None and c.significant else "")


def _weekly_table(trends: Trends, keys: Sequence[str], caption: str) -> Table:
    headers = ["Week", "Sessions"] + [METRIC_BY_KEY[k].label for k in keys]
    rows = [[w.label, str(w.sessions)] + [_cell(w, k) for k in keys] for w in reversed(trends.weeks)]
    return Table(caption + " (newest first; * = changed more than the noise since the week before)",
                 headers, rows)


def _trend_alt(trends: Trends, key: str) -> str:
    spec = METRIC_BY_KEY[key]
    xs, ys, _ = _weekly(trends, key)
    if not len(ys):
        return f"{spec.label}: no data."
    text = (f"{spec.label}: weekly average from {spec.format(ys[0])} in the week of {xs[0]:%d %b %Y} "
            f"to {spec.format(ys[-1])} in the week of {xs[-1]:%d %b %Y}")
    c = trends.latest.vs_first.get(key)
    if c is not None and c.significant:
        text += f", {'better' if c.better else 'worse'} beyond the week-to-week noise"
    return text + "."


def _weekly_figure(trends: Trends, keys: Sequence[str], colors: Sequence[str], title: str,
                   ncols: int = 2) -> Figure:
    nrows = math.ceil(len(keys) / ncols)
    height = 2.6 * nrows + 0.9
    fig = Figure(figsize=(7.5, height))  # fixed margins: constrained layout doubles the draw time
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.75 / height, top=1 - 0.75 / height,
                        hspace=0.35 * 2.6 / 2.2, wspace=0.25)
    fig.suptitle(title)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for ax, key, color in zip(axes.flat, keys, colors, strict=False):
        xs, ys, es = _weekly(trends, key)
        spec = METRIC_BY_KEY[key]
        if len(ys):
            ax.fill_between(xs, ys - 2 * es, ys + 2 * es, color=color, alpha=0.15, lw=0)
            ax.plot(xs, ys, color=color, marker="o", ms=3, lw=1.8)
        ax.set_title(spec.label, fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.autofmt_xdate(bottom=0.75 / height)
    return fig


def _sway_trend_section(trends: Trends) -> str:
    keys = ("sway_rms", "sway_velocity", "sway_ellipse", "sway_jerk")
    fig = _weekly_figure(trends, keys, (BLUE, VERMILION, GREEN, PURPLE),
                         "Balance: weekly averages (lower is steadier); band = ±2 SE")
    alt = "Four line charts of weekly sway metrics. " + " ".join(_trend_alt(trends, k) for k in keys)
    return _pair(fig, alt, "Weekly mean of each balance metric; the shaded band is ±2 standard "
                 "errors, from how much sessions vary within a week.",
                 _weekly_table(trends, keys, "Weekly balance metrics"))


def _slide_section(trends: Trends) -> str:
    keys = ("slide_depth_deg", "slide_hold_s", "holds_pct")
    fig = _weekly_figure(trends, keys, (BLUE, ORANGE, GREEN), "Wall slides: weekly averages", ncols=1)
    alt = "Three line charts of weekly wall-slide results. " + " ".join(_trend_alt(trends, k) for k in keys)
    return _pair(fig, alt, "Depth is the thigh's inclination from vertical at the deepest point; "
                 "hold time is how long it stayed near that depth.",
                 _weekly_table(trends, keys, "Weekly wall-slide results"))


def _reps_section(sessions: list[Session]) -> str:
    fig = Figure(figsize=(7.5, 3.6))
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.9)
    ax = fig.add_subplot()
    exercises = []
    for s in sessions:
        for e in s.exercises:
            if e.exercise not in exercises:
                exercises.append(e.exercise)
    # One PolyCollection per exercise (ax.bar makes one patch per bar: far slower for years).
    x = mdates.date2num([s.started for s in sessions])
    half = 0.35 if len(sessions) < 2 else min(0.35, 0.4 * float(np.min(np.diff(x), initial=1.0)) or 0.35)
    bottom = np.zeros(len(sessions))
    palette = (BLUE, ORANGE, GREEN, PURPLE, VERMILION)
    for i, ex in enumerate(exercises):
        counts = np.array([(s.exercise(ex).reps if s.exercise(ex) else 0) for s in sessions], float)
        boxes = [[(xi - half, b), (xi + half, b), (xi + half, b + c), (xi - half, b + c)]
                 for xi, b, c in zip(x, bottom, counts, strict=True) if c > 0]
        ax.add_collection(PolyCollection(boxes, facecolors=palette[i % len(palette)], linewidths=0,
                                         label=ex))
        bottom += counts
    ax.set_xlim(x.min() - 1, x.max() + 1)
    ax.set_ylim(0, max(float(bottom.max()), 1.0) * 1.15)
    ax.xaxis_date()
    bad = [i for i, s in enumerate(sessions) if s.status != "complete" or s.corrupt]
    if bad:
        ax.plot(x[bad], bottom[bad] + 2, "v", color="black", ms=4, label="incomplete / damaged")
    ax.set_ylabel("reps")
    ax.set_title("Reps per session")
    ax.legend(fontsize=8, ncols=min(len(exercises) + 1, 4), loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    fig.autofmt_xdate(bottom=0.2)
    rows = []
    for s in reversed(sessions):
        rows.append([f"{s.started:%Y-%m-%d %H:%M}", str(s.id)]
                    + [str(s.exercise(ex).reps) if s.exercise(ex) else "" for ex in exercises]
                    + [" ".join(m.split(" (")[0] for m in markers(s)) or "complete"])
    table = Table("Reps per session (newest first)", ["Started", "Session"] + exercises + ["Status"], rows)
    total = [s.reps for s in sessions if s.status == "complete"]
    alt = (f"Stacked bar chart of reps per session for {len(sessions)} sessions from "
           f"{sessions[0].day} to {sessions[-1].day}"
           + (f"; complete sessions had {min(total)} to {max(total)} reps" if total else "")
           + (f"; {len(bad)} sessions were incomplete or damaged." if bad else "."))
    return _pair(fig, alt, "Each bar is one session, split by exercise; a triangle marks a session "
                 "that stopped early or has damaged data.", table)


def _feel_section(store: SessionStore, trends: Trends) -> str:
    days = store.feel_by_day()
    if not days:
        table = Table("How you feel", ["Week", "Average"], [["-", "no scores yet"]])
        return _pair(None, "", "No how-you-feel scores yet: add one with `movecoach feel 7`.", table)
    fig = Figure(figsize=(7.5, 3.2))
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.22, top=0.89)
    ax = fig.add_subplot()
    dx = [dt.date.fromisoformat(d) for d in days]
    ax.plot(dx, [e.score for e in days.values()], "o", color=GREY, ms=3, alpha=0.5, label="daily score")
    xs, ys, _ = _weekly(trends, "feel")
    ax.plot(xs, ys, color=VERMILION, lw=2.2, label="weekly average")
    ax.set_ylim(0.5, 10.5)
    ax.set_ylabel("score (1-10)")
    ax.set_title("How you feel")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.autofmt_xdate()
    alt = f"Line chart of how-you-feel scores, {len(days)} days. " + _trend_alt(trends, "feel")
    rows = [[w.label, _cell(w, "feel"), str(w.values["feel"].n)] for w in reversed(trends.weeks)
            if w.values.get("feel") is not None]
    table = Table("How you feel, weekly average (newest first; * = changed beyond noise)",
                  ["Week", "Average (1-10)", "Days scored"], rows)
    return _pair(fig, alt, "Dots are daily scores (1 = worst, 10 = best), the line the weekly average.", table)


def _summary_html(sessions: list[Session], trends: Trends) -> str:
    incomplete = sum(1 for s in sessions if s.status == "incomplete")
    corrupt = [s for s in sessions if s.corrupt]
    latest, first = trends.latest, trends.first
    items = [f"{len(sessions)} session{'s' if len(sessions) != 1 else ''} from {sessions[0].day} "
             f"to {sessions[-1].day}"
             + (f", {incomplete} incomplete" if incomplete else "") + "."]
    for key in ("slide_depth_deg", "holds_pct", "sway_rms", "sway_ellipse", "feel"):
        c = latest.vs_first.get(key)
        v, v0 = latest.values.get(key), first.values.get(key)
        if c is None or v is None or v0 is None:
            continue
        spec = METRIC_BY_KEY[key]
        verdict = ("better" if c.better else "worse") if c.significant else "about the same (within noise)"
        items.append(f"{spec.label[0].upper() + spec.label[1:]}: {spec.format(v.mean)} in {latest.label}, "
                     f"{spec.format(v0.mean)} in the first week ({first.label}): {verdict}.")
    for s in corrupt:
        items.append(f'<span class="warn">Session {s.id} ({s.day}) has damaged data: '
                     f"{html.escape('; '.join(s.problems))}. The rest of it is shown.</span>")
    lis = "".join(f"<li>{i if i.startswith('<span') else html.escape(i)}</li>" for i in items)
    return f'<ul class="summary">{lis}</ul>'


def build_report(store: SessionStore, *, since: str | None = None) -> str:
    """The report page as an HTML string (UserError if there are no sessions)."""
    sessions = store.sessions(since=since)
    if not sessions:
        raise UserError("no sessions recorded yet: nothing to report")
    trends = compute_trends(store, since=since)
    now = dt.datetime.now()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>movecoach report {now:%Y-%m-%d}</title><style>{CSS}</style></head><body><main>",
        f"<h1>Your movecoach report</h1><p class=\"note\">Made {now:%A %d %B %Y %H:%M} by movecoach "
        f"{__version__} from {html.escape(str(store.db_path))}.</p>",
        _summary_html(sessions, trends),
        "<h2>Balance: sway path</h2>", _sway_path_section(store),
        "<h2>Balance: week by week</h2>", _sway_trend_section(trends),
        "<h2>Wall slides: depth and holds</h2>", _slide_section(trends),
        "<h2>Reps per session</h2>", _reps_section(sessions),
        "<h2>How you feel</h2>", _feel_section(store, trends),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def write_report(store: SessionStore, out_dir: str | os.PathLike, *, since: str | None = None) -> Path:
    """Write ``movecoach-report-YYYY-MM-DD.html`` into out_dir (created) and return its path."""
    out = Path(out_dir)
    path = out / f"movecoach-report-{dt.date.today():%Y-%m-%d}.html"
    try:
        make_private_dir(out)  # fail before the plots are drawn; health data: 0700
    except OSError as exc:
        raise UserError(f"cannot write the report to {out}: {exc.strerror or exc}") from exc
    text = build_report(store, since=since)
    try:
        tmp = path.with_suffix(".html.tmp")
        write_private_text(tmp, text)  # 0600
        tmp.replace(path)
    except OSError as exc:
        raise UserError(f"cannot write the report to {out}: {exc.strerror or exc}") from exc
    return path
