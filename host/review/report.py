"""`movecoach report`: one self-contained HTML page with plots, data tables and what they mean.

Everything is inside the file: figures are PNGs drawn with matplotlib's Agg backend and embedded
as base64 data URIs, the CSS is inline, there is no script and nothing is fetched when the page
is viewed, so it can be mailed to a therapist or opened offline. Each plot has alt text and a
data table (``<table>`` with ``<caption>`` and ``<th scope>``) for screen readers.

It reads the same from the first session to years of them:

- with less than four weeks of data every session is its own point (dates and times on a time
  axis fitted to the sessions); from four weeks on, weekly averages with a ±2 standard-error
  band over the faint session points; axes span the data, not a fixed range;
- tables list sessions (under four weeks), weeks (up to half a year) or months (beyond), newest
  first, and fit the page (no scrolling boxes);
- every figure is also said in words: the change against the person's own first two weeks, and
  whether it is larger than the session-to-session variation. No population reference values are
  printed: published accelerometer sway values use other stances, filters and trial lengths than
  movecoach (which also removes sensor noise), so they would not compare like with like.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from movecoach import __version__
from movecoach.coach.timed_walk import FEET_25_M, WALK_TESTS
from movecoach.errors import UserError
from movecoach.review.history import markers
from movecoach.review.swaypath import Ellipse, confidence_ellipse, sway_path
from movecoach.review.trends import NOISE_FACTOR, WeekValue, pooled_sd
from movecoach.review.walkpath import WalkPath, walk_path
from movecoach.store.base import Store
from movecoach.store.models import RepRow, Session, SwayTrial, Walk
from movecoach.store.paths import DEMO_SUBDIR, make_private_dir, write_private_text

log = logging.getLogger(__name__)

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, GREY = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#777777")
COMPARE_AFTER_DAYS = 28  # the earlier sway trial is the latest one at least this much older
SESSION_POINTS_BELOW_DAYS = 28  # under four weeks of data, each session is its own point
MONTHLY_ROWS_ABOVE_WEEKS = 26  # over half a year, the tables list months instead of weeks
FIRST_WEEKS_DAYS = 14  # "your first two weeks": the baseline every change is told against
MIN_TO_COMPARE = 3  # values needed in each of the first and the latest two weeks to compare
SESSION_ROWS = 20  # the sessions table lists this many, newest first
BESIDE_MAX_COLUMNS = 4  # a table with more columns goes below its figure (beside, it would not fit)
FIG_WIDTH_IN, DPI = 7.5, 96  # 720 px wide: sharp at its natural size beside a table
WIDE_FIG_WIDTH_IN = 10.8  # three panels in a row: 1037 px, the page's width, its table below

CSS = """
body{font:18px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#fff;
margin:0 auto;max-width:1180px;padding:1em 1.5em}
h1{font-size:1.7em;margin:.3em 0}h2{font-size:1.3em;margin-top:1.8em;border-bottom:2px solid #ddd}
.pair{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start;margin:.6em 0}
.pair figure{flex:0 1 auto;max-width:100%;margin:0}.pair figure img{max-width:100%;height:auto;display:block}
.pair .data{flex:1 1 360px;min-width:0}.pair.below{display:block}.pair.below .data{margin-top:.8em}
figcaption{font-size:.9em;color:#333}
table{border-collapse:collapse;font-size:.82em;width:100%}.solo table,.below table{width:auto;min-width:50%}
caption{font-weight:600;text-align:left;padding:.3em .4em}
th,td{padding:.2em .5em;border-bottom:1px solid #e4e4e4;text-align:right;vertical-align:top}
td{white-space:nowrap}
th[scope=row],td.text,thead th:first-child{text-align:left}thead th{background:#f3f3f3}
.warn{color:#8a3b00}.note{color:#444;font-size:.9em}.words{max-width:60em}
.summary li{margin:.25em 0}
@media (max-width:700px){.pair .data{overflow-x:auto}}
"""


# -- what is measured -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    """One per-session value the report shows: its words, unit, direction and format."""

    key: str
    label: str  # "wall-slide depth"
    unit: str  # "°", "s", "%", "m/s²", "" for counts
    value: Callable[[Session], float | None]
    higher_is_better: bool | None  # None: neither (a count of reps)
    fmt: str = "{:.1f}"
    meaning: str = ""  # what it is, for a person

    def text(self, v: float | None, *, unit: bool = True) -> str:
        if v is None or not math.isfinite(v):
            return "-"
        s = self.fmt.format(v)
        if not unit or not self.unit:
            return s
        return s + ("" if self.unit in ("°", "%") else " ") + self.unit

    @property
    def heading(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _exercise(name: str, attr: str) -> Callable[[Session], float | None]:
    def get(s: Session) -> float | None:
        e = s.exercise(name)
        return None if e is None else _finite(getattr(e, attr))
    return get


def _reps_of(name: str) -> Callable[[Session], float | None]:
    def get(s: Session) -> float | None:
        e = s.exercise(name)
        return None if e is None or s.status != "complete" else float(e.reps)
    return get


def _holds_pct(name: str) -> Callable[[Session], float | None]:
    def get(s: Session) -> float | None:
        e = s.exercise(name)
        return 100.0 * e.holds_met / e.holds_total if e is not None and e.holds_total else None
    return get


def _sway(attr: str) -> Callable[[Session], float | None]:
    return lambda s: None if s.sway is None else _finite(getattr(s.sway, attr))


# Balance: every sway figure with what it means. All come from the lower-back sensor's
# tilt-corrected, 3.5 Hz low-passed acceleration (definitions: movecoach.signal.sway).
SWAY = {
    "rms": Measure("sway_rms", "sway", "m/s²", _sway("rms"), False, "{:.3f}",
                   "how much your lower back moved while you stood still, on average"),
    "ellipse_area_95": Measure("sway_ellipse", "sway area", "(m/s²)²", _sway("ellipse_area_95"), False,
                               "{:.3f}", "the size of the patch that holds 95 % of your sway"),
    "mean_velocity": Measure("sway_velocity", "sway speed", "m/s³", _sway("mean_velocity"), False,
                             "{:.3f}", "how quickly the sway changed, on average"),
    "jerk": Measure("sway_jerk", "jerkiness", "m²/s⁵", _sway("jerk"), False, "{:.2f}",
                    "how abrupt the corrections were: small, smooth ones give a low value"),
    "path_length": Measure("sway_path", "sway path", "m/s²", _sway("path_length"), False, "{:.2f}",
                           "all the sway in the trial added up"),
    "range_ap": Measure("sway_range_ap", "forward-back range", "m/s²", _sway("range_ap"), False,
                        "{:.3f}", "the widest sway forward and back"),
    "range_ml": Measure("sway_range_ml", "sideways range", "m/s²", _sway("range_ml"), False,
                        "{:.3f}", "the widest sway from side to side"),
}
FEEL = Measure("feel", "how you feel", "", lambda s: None, True, "{:.1f}", "1 = worst, 10 = best")


def _walk(attr: str, scale: float = 1.0) -> Callable[[Session], float | None]:
    """A measure of the session's walk (Session.walk: at its own pace, not a timed test)."""
    def get(s: Session) -> float | None:
        v = None if s.walk is None else _finite(getattr(s.walk, attr))
        return None if v is None else v * scale
    return get


# Walking: from the foot sensor's strides (definitions: movecoach.signal.gait).
WALK = {
    "speed": Measure("walk_speed", "walking speed", "m/s", _walk("speed_m_s"), True, "{:.2f}",
                     "how fast you walked, pauses left out"),
    "cadence": Measure("walk_cadence", "cadence", "steps/min", _walk("cadence_spm"), True, "{:.0f}",
                       "steps a minute, both feet together"),
    "cv": Measure("walk_cv", "stride-time variation", "CV %", _walk("stride_time_cv", 100.0), False,
                  "{:.1f}", "how much one stride's time differs from the next: steadier walking "
                  "gives a lower value (higher values go with a higher risk of falling)"),
    "stride": Measure("walk_stride", "stride length", "m", _walk("stride_length_m"), True, "{:.2f}",
                      "how far your sensor foot moved each stride"),
    "distance": Measure("walk_distance", "distance", "m", _walk("distance_m"), None, "{:.0f}",
                        "how far you walked"),
}


@dataclass(frozen=True)
class Section:
    """An exercise's part of the report: the measures it plots and tabulates."""

    exercise: str
    title: str
    measures: tuple[Measure, ...]
    caption: str


def _sections(heel_toe: dict[int, dict[str, float]]) -> tuple[Section, ...]:
    """The exercise sections; heel_toe: per-session heel/toe amplitude (from the reps table)."""
    def kind(key: str) -> Callable[[Session], float | None]:
        return lambda s: heel_toe.get(s.id, {}).get(key)

    return (
        Section("wall-slide", "Wall slides: depth and holds", (
            Measure("slide_depth", "depth", "°", _exercise("wall-slide", "mean_depth_deg"), True, "{:.1f}",
                    "how far the thigh tilted from upright at the bottom: 90° is level, as if sitting"),
            Measure("slide_hold", "hold", "s", _exercise("wall-slide", "mean_hold_s"), True, "{:.1f}",
                    "how long you stayed near the bottom"),
            Measure("slide_holds_met", "holds met", "%", _holds_pct("wall-slide"), True, "{:.0f}",
                    "slides held as long as asked"),
            Measure("slide_reps", "slides", "", _reps_of("wall-slide"), None, "{:.0f}",
                    "slides in a complete session"),
        ), "Depth is the thigh's tilt from upright at the deepest point of each slide (90° = level); "
           "the hold is how long it stayed near that depth."),
        Section("heel-toe", "Heel-toe raises: height and holds", (
            Measure("heel_deg", "heel raise", "°", kind("heel_raise"), True, "{:.1f}",
                    "how far your foot tilted up on your toes"),
            Measure("toe_deg", "toe raise", "°", kind("toe_raise"), True, "{:.1f}",
                    "how far your foot tilted with the toes lifted"),
            Measure("heel_holds_met", "holds met", "%", _holds_pct("heel-toe"), True, "{:.0f}",
                    "heel raises held on the toes as long as asked"),
            Measure("heel_toe_reps", "raises", "", _reps_of("heel-toe"), None, "{:.0f}",
                    "heel and toe raises in a complete session"),
        ), "Angles are the foot's tilt at the top of each raise; holds count the heel raises held "
           "up on the toes for the time asked."),
        Section("march", "Seated marches: lifts", (
            Measure("march_deg", "lift height", "°", _exercise("march", "mean_amplitude_deg"), True,
                    "{:.1f}", "how far your thigh rose"),
            Measure("march_reps", "lifts", "", _reps_of("march"), None, "{:.0f}",
                    "lifts in a complete session"),
        ), "Lift height is how far the thigh rose from resting on the chair, on average."),
    )


def _heel_toe_amplitudes(reps: list[RepRow]) -> dict[int, dict[str, float]]:
    """Per session, the mean amplitude (deg) of its heel raises and of its toe raises."""
    sums: dict[int, dict[str, list[float]]] = {}
    for r in reps:
        if r.kind in ("heel_raise", "toe_raise") and r.amplitude_deg is not None:
            sums.setdefault(r.session_id, {}).setdefault(r.kind, []).append(r.amplitude_deg)
    return {sid: {k: float(np.mean(v)) for k, v in kinds.items()} for sid, kinds in sums.items()}


# -- points, weeks, first two weeks ----------------------------------------------------------

@dataclass(frozen=True)
class Points:
    """One measure's values: times (datetime, local) and values, oldest first."""

    t: list[dt.datetime]
    v: np.ndarray

    @staticmethod
    def of(sessions: Sequence[Session], measure: Measure) -> Points:
        pairs = [(s.started, measure.value(s)) for s in sessions]
        pairs = [(t, v) for t, v in pairs if v is not None and math.isfinite(v)]
        return Points([t for t, _ in pairs], np.array([v for _, v in pairs], dtype=float))

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class Comparison:
    """The latest two weeks against the first two weeks of one measure."""

    first: float
    latest: float
    n_first: int
    n_latest: int
    significant: bool

    @property
    def pct(self) -> float:
        return 100.0 * (self.latest - self.first) / self.first if self.first else math.nan


def compare_first_weeks(points: Points, *, last_day: dt.date | None = None) -> Comparison | None:
    """Mean of the last FIRST_WEEKS_DAYS against the first FIRST_WEEKS_DAYS (None while the two
    windows overlap, or either has fewer than MIN_TO_COMPARE values). The change counts as real
    when it is more than NOISE_FACTOR standard errors (from the spread within each window)."""
    if len(points) < 2 * MIN_TO_COMPARE:
        return None
    start = points.t[0].date()
    end = last_day or points.t[-1].date()
    if (end - start).days + 1 < 2 * FIRST_WEEKS_DAYS:
        return None
    days = np.array([(t.date() - start).days for t in points.t])
    first = points.v[days < FIRST_WEEKS_DAYS]
    latest = points.v[days > (end - start).days - FIRST_WEEKS_DAYS]
    if len(first) < MIN_TO_COMPARE or len(latest) < MIN_TO_COMPARE:
        return None
    se = math.sqrt(first.var(ddof=1) / len(first) + latest.var(ddof=1) / len(latest))
    delta = float(latest.mean() - first.mean())
    return Comparison(float(first.mean()), float(latest.mean()), len(first), len(latest),
                      abs(delta) > NOISE_FACTOR * se)


def change_words(measure: Measure, c: Comparison) -> str:
    """``42 % less: steadier``, ``71 points more: better`` or ``about the same (within the
    day-to-day variation)``: the latest two weeks against the first two."""
    if not c.significant or not math.isfinite(c.pct):
        return "about the same (within the day-to-day variation)"
    more = c.latest > c.first
    if measure.unit == "%":
        amount = f"{abs(c.latest - c.first):.0f} points {'more' if more else 'fewer'}"
    else:
        amount = f"{abs(c.pct):.0f} % {'more' if more else 'less'}"
    if measure.higher_is_better is None:
        return amount
    better = more == measure.higher_is_better
    if measure.key.startswith("sway"):
        return amount + (": steadier" if better else ": less steady")
    return amount + (": better" if better else ": worse")


def measure_words(measure: Measure, points: Points, name: str | None = None) -> str:
    """One line in words: against the first two weeks when there are enough weeks, else the
    average so far (with what the measure means)."""
    name = name or measure.label.capitalize()
    c = compare_first_weeks(points)
    if measure.higher_is_better is None:  # a count: how many, no verdict
        return f"{name}: {measure.fmt.format(float(np.median(points.v)))} in a complete session."
    if c is not None:
        return (f"{name}: {measure.text(c.latest)} in your last two weeks, {measure.text(c.first)} "
                f"in your first two: {change_words(measure, c)}.")
    so_far = "so far" if measure.unit == "%" else "on average so far"
    return f"{name}: {measure.text(float(np.mean(points.v)))} {so_far} ({measure.meaning})."


def _words_list(lines: Sequence[str]) -> str:
    return '<ul class="words">' + "".join(f"<li>{html.escape(ln)}</li>" for ln in lines) + "</ul>"


@dataclass(frozen=True)
class Period:
    """A row of a table, a point of a plot: one session, week or month."""

    label: str
    start: dt.datetime
    end: dt.datetime
    sessions: tuple[Session, ...]


def grouping_for(first: dt.datetime, last: dt.datetime) -> str:
    """How much data this is: "session" (under four weeks: each session counts on its own),
    "week" (up to half a year) or "month" (more)."""
    span = (last - first).days
    if span < SESSION_POINTS_BELOW_DAYS:
        return "session"
    return "month" if span > MONTHLY_ROWS_ABOVE_WEEKS * 7 else "week"


def period_of(t: dt.datetime, grouping: str) -> tuple[dt.datetime, dt.datetime]:
    """The start and end of the week or month ``t`` falls in."""
    if grouping == "month":
        start = dt.datetime(t.year, t.month, 1)
        nxt = dt.datetime(t.year + (t.month == 12), t.month % 12 + 1, 1)
        return start, nxt
    start = dt.datetime.combine(t.date() - dt.timedelta(days=t.weekday()), dt.time())
    return start, start + dt.timedelta(days=7)


def periods(sessions: Sequence[Session]) -> tuple[str, list[Period]]:
    """The grouping for this much data and the sessions grouped so, newest first."""
    if not sessions:
        return "session", []
    grouping = grouping_for(sessions[0].started, sessions[-1].started)
    one_year = sessions[0].started.year == sessions[-1].started.year
    if grouping == "session":
        return grouping, [Period(_when(s.started, year=not one_year), s.started, s.started, (s,))
                          for s in reversed(sessions)]
    groups: dict[dt.datetime, list[Session]] = {}
    for s in sessions:
        groups.setdefault(period_of(s.started, grouping)[0], []).append(s)
    out = []
    for start, ss in groups.items():
        label = f"{start:%b %Y}" if grouping == "month" else f"week of {start:%d %b %Y}"
        out.append(Period(label, start, period_of(start, grouping)[1], tuple(ss)))
    return grouping, sorted(out, key=lambda p: p.start, reverse=True)


def _when(t: dt.datetime, *, year: bool = True) -> str:
    """``Tue 24 Nov 2026 08:12``: a date with its time (two sessions a day stay apart)."""
    return f"{t:%a %d %b %Y %H:%M}" if year else f"{t:%a %d %b %H:%M}"


@dataclass(frozen=True)
class PeriodMeans:
    """Means of one measure per week or month (x in mid-period), with ±1 standard error from
    the pooled within-period spread (so a week of one session gets the widest band)."""

    x: list[dt.datetime]
    mean: np.ndarray
    se: np.ndarray

    @staticmethod
    def of(points: Points, grouping: str) -> PeriodMeans:
        groups: dict[tuple[dt.datetime, dt.datetime], list[float]] = {}
        for t, v in zip(points.t, points.v, strict=True):
            groups.setdefault(period_of(t, grouping), []).append(float(v))
        keys = sorted(groups)
        values = [WeekValue.of(groups[k]) for k in keys]
        sd = pooled_sd(values)
        x = [a + (b - a) / 2 for a, b in keys]
        se = [sd / math.sqrt(v.n) if math.isfinite(sd) else 0.0 for v in values]
        return PeriodMeans(x, np.array([v.mean for v in values]), np.array(se))


# -- figures and tables ------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    """A data table: caption, column headers, rows (first cell is the row header)."""

    caption: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=DPI)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _table_html(t: Table) -> str:
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in t.headers)
    body = []
    for row in t.rows:
        cells = [f'<th scope="row">{html.escape(str(row[0]))}</th>']
        cells += [f"<td>{html.escape(str(c))}</td>" if _numeric(str(c))
                  else f'<td class="text">{html.escape(str(c))}</td>' for c in row[1:]]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="data"><table><caption>{html.escape(t.caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def _numeric(text: str) -> bool:
    """A cell that reads as a number (right-aligned): ``0.118 (-40 %)``, ``7/10``, ``-8 %``."""
    return text[:1].isdigit() or text[:2].lstrip("+-")[:1].isdigit() or text in ("", "-")


def _pair(fig: Figure | None, alt: str, caption: str, table: Table | None) -> str:
    """A figure with its table beside it (below it when the table is wide), or a table alone."""
    tab = _table_html(table) if table is not None else ""
    if fig is None:
        return f'<div class="pair solo">{tab}</div>'
    img = f'<img src="data:image/png;base64,{_png(fig)}" alt="{html.escape(alt)}">'
    wide = table is not None and (len(table.headers) > BESIDE_MAX_COLUMNS
                                  or fig.get_figwidth() > FIG_WIDTH_IN)
    width_px = round(fig.get_figwidth() * DPI)  # the caption wraps to the image's width
    return (f'<div class="pair{" below" if wide else ""}"><figure style="width:{width_px}px">{img}'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>{tab}</div>")


def _time_axis(ax, t_first: dt.datetime, t_last: dt.datetime, grouping: str) -> None:
    """The x axis spans the data: whole weeks or months, or the sessions with a little room
    either side (dates, and times for a short span)."""
    if grouping == "session":
        pad = max((t_last - t_first) * 0.06, dt.timedelta(hours=3))
        lo, hi = t_first - pad, t_last + pad
    else:
        lo, hi = period_of(t_first, grouping)[0], period_of(t_last, grouping)[1]
    ax.set_xlim(mdates.date2num(lo), mdates.date2num(hi))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=True))


def _y_fit(ax, values: np.ndarray, measure: Measure) -> None:
    """The y axis spans the values with some room; counts and percentages start at 0."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if measure.unit == "%":
        ax.set_ylim(0, 105)
        return
    if measure.higher_is_better is None:  # a count
        ax.set_ylim(0, max(hi * 1.15, 1.0))
        return
    room = max((hi - lo) * 0.12, abs(hi) * 0.05, 1e-3)
    ax.set_ylim(lo - room, hi + room)


def trend_figure(panels: Sequence[tuple[Measure, Points, str]], title: str, *, grouping: str,
                 t_first: dt.datetime, t_last: dt.datetime) -> Figure:
    """One panel per (measure, points, colour): each session a point (grouping "session"), or
    weekly / monthly means with a ±2 SE band over the faint session points; axes fitted to the
    data."""
    ncols = 2 if len(panels) == 4 else len(panels)  # 1-3 panels side by side, 4 as 2 x 2
    nrows = math.ceil(len(panels) / ncols)
    height = 2.5 * nrows + 0.8
    width = FIG_WIDTH_IN if ncols < 3 else WIDE_FIG_WIDTH_IN
    fig = Figure(figsize=(width, height))  # fixed margins: constrained layout doubles the draw time
    top_in = 0.62 if len(panels) > 1 else 0.42  # room for the title (and the panels' own)
    fig.subplots_adjust(left=0.75 / width, right=0.98, bottom=0.55 / height, top=1 - top_in / height,
                        hspace=0.55, wspace=0.28)
    fig.suptitle(title, fontsize=11)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, (measure, pts, color) in zip(axes.flat, panels, strict=False):
        if len(panels) > 1:
            ax.set_title(measure.heading, fontsize=10)
        else:
            ax.set_ylabel(measure.heading, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        _time_axis(ax, t_first, t_last, grouping)
        if not len(pts):
            ax.text(0.5, 0.5, "no values yet", ha="center", va="center", transform=ax.transAxes,
                    color=GREY, fontsize=9)
            ax.set_yticks([])
            continue
        x = mdates.date2num(pts.t)
        if grouping == "session":
            ax.plot(x, pts.v, "o-", color=color, ms=5, lw=1.2)
            _y_fit(ax, pts.v, measure)
            continue
        means = PeriodMeans.of(pts, grouping)
        mx = mdates.date2num(means.x)
        ax.plot(x, pts.v, ".", color=color, ms=2.5, alpha=0.25, zorder=1)
        ax.fill_between(mx, means.mean - 2 * means.se, means.mean + 2 * means.se, color=color,
                        alpha=0.18, lw=0)
        ax.plot(mx, means.mean, color=color, lw=1.8, marker="o", ms=3)
        _y_fit(ax, np.concatenate([means.mean - 2 * means.se, means.mean + 2 * means.se]), measure)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    return fig


def _trend_alt(measure: Measure, pts: Points, c: Comparison | None) -> str:
    if not len(pts):
        return f"{measure.label}: no values yet."
    text = (f"{measure.label}: {measure.text(pts.v[0])} on {pts.t[0]:%d %b %Y}, "
            f"{measure.text(pts.v[-1])} on {pts.t[-1]:%d %b %Y}")
    return text + (f"; {change_words(measure, c)}." if c is not None else ".")


def _cell(measure: Measure, sessions: Sequence[Session], base: Comparison | None) -> str:
    vals = [v for v in (measure.value(s) for s in sessions) if v is not None and math.isfinite(v)]
    if not vals:
        return ""
    mean = float(np.mean(vals))
    text = measure.text(mean, unit=False)
    if base is not None and base.first and measure.key.startswith("sway"):
        text += f" ({100 * (mean - base.first) / base.first:+.0f} %)"
    return text


def period_table(caption: str, grouping: str, rows: list[Period], measures: Sequence[Measure],
                 bases: dict[str, Comparison | None]) -> Table:
    """Sessions, weeks or months (newest first) against the measures' averages."""
    first = {"session": "Session", "week": "Week", "month": "Month"}[grouping]
    headers = [first] + ([] if grouping == "session" else ["Sessions"]) + [m.heading for m in measures]
    out = []
    for p in rows:
        row = [p.label] + ([] if grouping == "session" else [str(len(p.sessions))])
        out.append(row + [_cell(m, p.sessions, bases.get(m.key)) for m in measures])
    note = {"session": "each session", "week": "weekly averages", "month": "monthly averages"}[grouping]
    return Table(f"{caption}: {note}, newest first", headers, out)


# -- the page's parts ---------------------------------------------------------------------------

@dataclass
class ReportData:
    sessions: list[Session]
    store: Store
    heel_toe: dict[int, dict[str, float]]
    grouping: str
    rows: list[Period]

    @property
    def span(self) -> tuple[dt.datetime, dt.datetime]:
        return self.sessions[0].started, self.sessions[-1].started


@dataclass(frozen=True)
class TrialPath:
    trial: SwayTrial
    ap: np.ndarray
    ml: np.ndarray
    ellipse: Ellipse

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.trial.t_s)

    @property
    def when(self) -> str:
        return _when(self.started)


def _trial_path(store: Store, trial: SwayTrial) -> TrialPath | None:
    block = store.read_samples(trial.session_id, trial.step)
    if len(block) < 10:
        return None
    try:
        ap, ml = sway_path(block.t_s, block.acc_m_s2, fs=block.fs or None)
    except ValueError as exc:
        log.warning("session %d: cannot draw the sway path: %s", trial.session_id, exc)
        return None
    return TrialPath(trial, ap, ml, confidence_ellipse(ap, ml))


def pick_sway_trials(store: Store) -> tuple[TrialPath | None, TrialPath | None]:
    """The latest balance trial with raw samples, and one from >= 4 weeks before (else the oldest)."""
    with_samples = store.sample_steps()
    trials = [t for t in store.sway_trials() if (t.session_id, t.step) in with_samples]
    latest = None
    while trials and latest is None:
        latest = _trial_path(store, trials.pop())
    if latest is None:
        return None, None
    cutoff = latest.trial.t_s - COMPARE_AFTER_DAYS * 86400
    older = [t for t in trials if t.t_s <= cutoff] or trials
    earlier = None
    while older and earlier is None:
        earlier = _trial_path(store, older.pop())
    return latest, earlier


def _pct_change(new: float, old: float, measure: Measure) -> str:
    if not (math.isfinite(new) and math.isfinite(old)) or old == 0:
        return ""
    pct = 100 * (new - old) / old
    if abs(pct) < 0.5:
        return "same"
    return f"{pct:+.0f} %"


def _sway_path_part(data: ReportData) -> str:
    latest, earlier = pick_sway_trials(data.store)
    if latest is None:
        return ('<p class="note">No balance trial with raw samples yet: the sway path appears '
                "after the first recorded balance trial.</p>")
    fig = Figure(figsize=(FIG_WIDTH_IN, 6.0))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.09, top=0.93)
    ax = fig.add_subplot()
    paths = [p for p in (earlier, latest) if p is not None]
    for p in paths:
        c = BLUE if p is latest else ORANGE
        name = p.when + (" (latest)" if p is latest else "")
        ax.plot(p.ml, p.ap, color=c, lw=0.8, alpha=0.75, label=f"{name}: path")
        e_ap, e_ml = p.ellipse.outline()
        ax.plot(e_ml, e_ap, color=c, lw=2.4, ls="--" if p is earlier else "-",
                label=f"{name}: 95 % of it, {p.ellipse.area:.3f} (m/s²)²")
    lim = max(max(np.abs(p.ap).max(), np.abs(p.ml).max()) for p in paths) * 1.15
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.axhline(0, color=GREY, lw=0.5)
    ax.axvline(0, color=GREY, lw=0.5)
    ax.set_xlabel("sideways, to the left + (m/s²)")
    ax.set_ylabel("forward + and back (m/s²)")
    ax.set_title("How your lower back swayed while you stood still", fontsize=11)
    ax.legend(loc="upper right", fontsize=8)
    keys = ("rms", "ellipse_area_95", "jerk", "mean_velocity", "range_ap", "range_ml")
    one_year = paths[0].started.year == paths[-1].started.year == dt.date.today().year
    headers = ["Measure"] + [_when(p.started, year=not one_year) for p in paths]
    if earlier is not None:
        headers.append("Change")
    rows = []
    for key in keys:
        m = SWAY[key]
        row = [m.heading] + [m.text(getattr(p.trial.metrics, key), unit=False) for p in paths]
        if earlier is not None:
            row.append(_pct_change(getattr(latest.trial.metrics, key), getattr(earlier.trial.metrics, key), m))
        rows.append(row)
    rows.append(["length (s)"] + [f"{p.trial.metrics.duration_s:.0f}" for p in paths]
                + ([""] if earlier is not None else []))
    table = Table("The balance trials in the plot (what each measure means: below). Single trials "
                  "vary from day to day: the averages further down tell real change from that.",
                  headers, rows)
    if earlier is not None:
        ratio = latest.ellipse.area / earlier.ellipse.area if earlier.ellipse.area > 0 else math.nan
        alt = (f"Sway path plot: forward-back against sideways acceleration of the lower back for the "
               f"balance trials of {earlier.when} and {latest.when}, each with the ellipse holding 95 % "
               f"of it. Its area went from {earlier.ellipse.area:.3f} to {latest.ellipse.area:.3f} (m/s²)², "
               f"{'smaller' if ratio < 1 else 'larger'} by a factor of {max(ratio, 1 / ratio):.2g}.")
    else:
        alt = (f"Sway path plot of the balance trial of {latest.when} with the ellipse holding 95 % of "
               f"it, area {latest.ellipse.area:.3f} (m/s²)².")
    caption = ("Each line is your lower back's sway (its acceleration, tilt-corrected, 3.5 Hz low-pass) "
               "during one standing trial; the ellipse holds 95 % of it. Smaller is steadier.")
    return _pair(fig, alt, caption, table)


def pick_walk(store: Store) -> tuple[Walk, WalkPath] | None:
    """The latest walk with raw samples and a path (its stance positions), or None."""
    with_samples = store.sample_steps()
    for w in reversed(store.walks()):
        if (w.session_id, w.step) not in with_samples:
            continue
        block = store.read_samples(w.session_id, w.step)
        if len(block) < 10:
            continue
        try:
            path = walk_path(block.t_s, block.acc_m_s2, block.gyr_rad_s, fs=block.fs or None)
        except ValueError as exc:
            log.warning("session %d: cannot draw the walk's path: %s", w.session_id, exc)
            continue
        if len(path.x_m) >= 2:
            return w, path
    return None


def _walk_path_part(data: ReportData) -> str:
    picked = pick_walk(data.store)
    if picked is None:
        return ('<p class="note">No walk with raw samples yet: its path appears after the first '
                "recorded walk.</p>")
    walk, path = picked
    when = _when(dt.datetime.fromtimestamp(walk.t_s))
    fig = Figure(figsize=(FIG_WIDTH_IN, 6.0))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.09, top=0.93)
    ax = fig.add_subplot()
    ax.plot(path.x_m, path.y_m, "-", color=BLUE, lw=1.2, alpha=0.8, label="your path")
    ax.plot(path.x_m, path.y_m, ".", color=BLUE, ms=4, label="each step of the sensor's foot")
    ax.plot(path.x_m[0], path.y_m[0], "o", color=GREEN, ms=11, label="start")
    ax.plot(path.x_m[-1], path.y_m[-1], "s", color=VERMILION, ms=10, label="end")
    span = max(float(np.ptp(path.x_m)), float(np.ptp(path.y_m)), 2.0) / 2 * 1.15
    cx = (path.x_m.max() + path.x_m.min()) / 2
    cy = (path.y_m.max() + path.y_m.min()) / 2
    ax.set_xlim(cx - span, cx + span)
    ax.set_ylim(cy - span, cy + span)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.set_xlabel("to the right (m)")
    ax.set_ylabel("ahead, the way you set off (m)")
    ax.set_title(f"Your walk of {when}, seen from above", fontsize=11)
    ax.legend(loc="best", fontsize=8)
    speed, cadence, cv, stride = (WALK[k] for k in ("speed", "cadence", "cv", "stride"))
    rows = [["distance (m)", _fmt(walk.distance_m, "{:.1f}")],
            ["time walking (s)", _fmt(walk.walking_s, "{:.0f}")],
            [speed.heading, _fmt(walk.speed_m_s, speed.fmt)],
            [cadence.heading, _fmt(walk.cadence_spm, cadence.fmt)],
            [stride.heading, _fmt(walk.stride_length_m, stride.fmt)],
            [cv.heading, _fmt(None if walk.stride_time_cv is None else 100 * walk.stride_time_cv, cv.fmt)],
            ["strides (sensor foot)", _fmt(walk.strides, "{:.0f}")],
            ["turns", _fmt(walk.turns, "{:.0f}")],
            ["farthest from the start (m)", f"{path.farthest_m:.1f}"]]
    table = Table(f"The walk in the plot ({when})", ["Measure", "Value"], rows)
    alt = (f"Map of the walk of {when} seen from above: {path.farthest_m:.1f} m at its farthest "
           f"from the start, ending {path.end_from_start_m:.1f} m from it; {len(path.x_m)} steps "
           "of the sensor's foot.")
    caption = ("Where the foot with the sensor touched the floor, step by step, worked out from the "
               "sensor alone (each step adds a little error, so a long walk drifts a little).")
    return _pair(fig, alt, caption, table)


def _fmt(v: float | None, fmt: str) -> str:
    return "-" if v is None or not math.isfinite(v) else fmt.format(v)


def _walk_section(data: ReportData) -> str:
    head = "<h2>Walking: speed and cadence</h2>"
    walks = [s for s in data.sessions if s.walks]
    if not walks:
        return head + '<p class="note">No walks recorded yet.</p>'
    measures = [WALK[k] for k in ("speed", "cadence", "cv", "stride")]
    bases = {m.key: compare_first_weeks(Points.of(data.sessions, m)) for m in measures}
    words = [measure_words(m, pts) for m in measures if len(pts := Points.of(data.sessions, m))]
    own_pace = ('<p class="note">Speed, cadence and stride-time variation are followed on the walks '
                "at your own pace (the routine's walk); only timed walks are recorded so far.</p>")
    parts = [head, _words_list(words) if words else own_pace, _walk_path_part(data)]
    rows = [p for p in data.rows if any(s.walk for s in p.sessions)]
    followed = [s for s in data.sessions if s.walk is not None]
    if rows:
        table = period_table("Walking", data.grouping, rows, measures, bases)
        if len(followed) > 1:
            panels = [(m, Points.of(data.sessions, m), col)
                      for m, col in zip(measures[:3], (BLUE, ORANGE, GREEN), strict=True)]
            fig = trend_figure(panels, f"Walking: {_points_words(data.grouping)}",
                               grouping=data.grouping, t_first=data.span[0], t_last=data.span[1])
            alt = "Charts of walking speed, cadence and stride-time variation over time. " + " ".join(
                _trend_alt(m, p, bases.get(m.key)) for m, p, _ in panels)
            caption = ("Speed is the distance over the time spent walking; cadence counts both feet's "
                       "steps; stride-time variation is the spread of stride times as a percentage "
                       "of their mean (lower is steadier). " + _trend_caption(data.grouping))
            parts.append(_pair(fig, alt, caption, table))
        else:
            parts.append(_pair(None, "", "", table))
    parts.append(_tests_part(data))
    return "".join(parts)


def _tests_part(data: ReportData) -> str:
    """The timed walking tests (25 feet, 2 minutes), newest first."""
    rows = []
    for s in reversed(data.sessions):
        quick = [w for w in s.walks if w.test == "25ft"]
        if quick:  # its trials, and its score: their mean
            times = ", ".join(f"{w.test_time_s:.1f} s" if w.test_done and w.test_time_s is not None
                              else "not finished" for w in quick)
            score = s.test_score("25ft")
            result = times if len(quick) == 1 or score is None else f"{score:.1f} s ({times})"
            speed = f"{FEET_25_M / score:.2f}" if score else "-"
            rows.append([_when(s.started), WALK_TESTS["25ft"].title, result, speed])
        for w in reversed(s.walks):
            if w.test == "2min":
                rows.append([_when(s.started), WALK_TESTS["2min"].title,
                             _fmt(w.test_distance_m, "{:.0f} m"), _fmt(w.speed_m_s, "{:.2f}")])
    if not rows:
        return ""
    table = Table("Timed walking tests, newest first", ["When", "Test", "Result", "Speed (m/s)"],
                  rows[:SESSION_ROWS])
    return _pair(None, "", "", table)


def _balance_section(data: ReportData) -> str:
    sway_sessions = [s for s in data.sessions if s.sway is not None]
    parts = ["<h2>Balance: standing still</h2>"]
    if not sway_sessions:
        return parts[0] + '<p class="note">No balance trials recorded yet.</p>'
    rms = SWAY["rms"]
    pts = Points.of(data.sessions, rms)
    c = compare_first_weeks(pts)
    parts.append(f'<p class="words">{html.escape(_sway_words(pts, c))}</p>')
    parts.append(_sway_path_part(data))
    keys = ("rms", "ellipse_area_95", "jerk", "mean_velocity")
    measures = [SWAY[k] for k in keys]
    bases = {m.key: compare_first_weeks(Points.of(data.sessions, m)) for m in measures}
    table = period_table("Balance", data.grouping, data.rows, measures, bases)
    if any(b is not None for b in bases.values()):
        table = Table(table.caption + "; in brackets: the change against your first two weeks "
                      "(less is steadier)", table.headers, table.rows)
    if len(data.sessions) > 1:
        panels = [(m, Points.of(data.sessions, m), col) for m, col in zip(measures, (BLUE, VERMILION, GREEN, PURPLE), strict=True)]
        fig = trend_figure(panels, f"Balance: {_points_words(data.grouping)} (lower is steadier)",
                           grouping=data.grouping, t_first=data.span[0], t_last=data.span[1])
        alt = "Charts of the balance measures over time. " + " ".join(
            _trend_alt(m, p, bases.get(m.key)) for m, p, _ in panels)
        parts.append(_pair(fig, alt, _trend_caption(data.grouping), table))
    else:
        parts.append(_pair(None, "", "", table))
    explained = "".join(f"<li><b>{html.escape(m.heading)}</b>: {html.escape(m.meaning)}</li>"
                        for m in SWAY.values())
    parts.append(f'<p class="note">What the balance measures mean:</p><ul class="note">{explained}</ul>'
                 '<p class="note">No reference values for other people are shown: published '
                 "accelerometer sway figures (for example Mancini et al. 2012, ISway, J NeuroEng "
                 "Rehabil 9:59) come from other stances, trial lengths and filters, and movecoach also "
                 "removes the sensor's own noise, so they would not compare like with like. Your own "
                 "first two weeks are the reference.</p>")
    return "".join(parts)


def _sway_words(pts: Points, c: Comparison | None) -> str:
    rms = SWAY["rms"]
    if c is not None:
        return (f"In your last two weeks your sway was {rms.text(c.latest)} on average, against "
                f"{rms.text(c.first)} in your first two weeks: {change_words(rms, c)}. Sway is "
                f"{rms.meaning}; smaller is steadier.")
    n = len(pts)
    return (f"Your sway: {rms.text(float(np.mean(pts.v)))} on average over {n} balance "
            f"trial{'s' if n != 1 else ''} ({rms.meaning}; smaller is steadier). Once you have "
            f"{2 * FIRST_WEEKS_DAYS // 7} weeks of trials, this tells you how it changed since your "
            "first two weeks.")


def _points_words(grouping: str) -> str:
    return {"session": "each session", "week": "weekly averages, band ±2 SE",
            "month": "monthly averages, band ±2 SE"}[grouping]


def _trend_caption(grouping: str, what: str = "session") -> str:
    if grouping == "session":
        return f"Each dot is one {what}, at its date" + (" and time." if what == "session" else ".")
    return (f"Lines are {grouping}ly averages; the shaded band is ±2 standard errors (from how much "
            f"{what}s vary within a {grouping}); faint dots are single {what}s.")


def _exercise_section(data: ReportData, section: Section) -> str:
    sessions = [s for s in data.sessions if s.exercise(section.exercise) is not None]
    head = f"<h2>{html.escape(section.title)}</h2>"
    if not sessions:
        return head + f'<p class="note">No {html.escape(section.title.split(":")[0].lower())} recorded yet.</p>'
    measures = section.measures
    bases = {m.key: compare_first_weeks(Points.of(data.sessions, m)) for m in measures}
    words = [measure_words(m, pts) for m in measures if len(pts := Points.of(data.sessions, m))]
    parts = [head, _words_list(words)]
    table = period_table(section.title.split(":")[0], data.grouping,
                         [p for p in data.rows if any(s.exercise(section.exercise) for s in p.sessions)],
                         measures, bases)
    if len(sessions) > 1:
        colors = (BLUE, ORANGE, GREEN)
        plotted = [m for m in measures if m.higher_is_better is not None]  # counts: the table says them
        panels = [(m, Points.of(data.sessions, m), col) for m, col in zip(plotted, colors, strict=False)]
        fig = trend_figure(panels, f"{section.title.split(':')[0]}: {_points_words(data.grouping)}",
                           grouping=data.grouping, t_first=data.span[0], t_last=data.span[1])
        alt = f"Charts of {section.title.lower()} over time. " + " ".join(
            _trend_alt(m, p, bases.get(m.key)) for m, p, _ in panels)
        parts.append(_pair(fig, alt, section.caption + " " + _trend_caption(data.grouping), table))
    else:
        parts.append(_pair(None, "", "", table))
    return "".join(parts)


def _feel_section(data: ReportData) -> str:
    head = "<h2>How you feel</h2>"
    days = data.store.feel_by_day()
    if not days:
        return head + '<p class="note">No how-you-feel scores yet: add one with `movecoach feel 7`.</p>'
    t = [dt.datetime.combine(dt.date.fromisoformat(d), dt.time(12)) for d in days]
    pts = Points(t, np.array([e.score for e in days.values()], dtype=float))
    c = compare_first_weeks(pts)
    if c is not None:
        words = (f"On average {c.latest:.1f} of 10 in your last two weeks, {c.first:.1f} in your first "
                 f"two: {change_words(FEEL, c)}.")
    else:
        words = f"On average {float(pts.v.mean()):.1f} of 10 over {len(pts)} day{'s' if len(pts) != 1 else ''}."
    parts = [head, f'<p class="words">{html.escape(words)}</p>']
    grouping = grouping_for(t[0], t[-1])
    groups: dict[str, list[float]] = {}
    for day, entry in days.items():
        d = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12))
        key = f"{d:%a %d %b %Y}" if grouping == "session" else (
            f"{d:%b %Y}" if grouping == "month" else f"week of {period_of(d, 'week')[0]:%d %b %Y}")
        groups.setdefault(key, []).append(float(entry.score))
    rows = [[k, f"{np.mean(v):.1f}", str(len(v))] for k, v in reversed(groups.items())]
    first = {"session": "Day", "week": "Week", "month": "Month"}[grouping]
    table = Table("How you feel, newest first", [first, "Score (1-10)", "Days scored"], rows)
    if len(pts) > 1:
        fig = trend_figure([(FEEL, pts, VERMILION)], f"How you feel (1 = worst, 10 = best): "
                           f"{_points_words(grouping).replace('each session', 'each day')}",
                           grouping=grouping, t_first=t[0], t_last=t[-1])
        fig.axes[0].set_ylim(0.5, 10.5)
        parts.append(_pair(fig, "Chart of how-you-feel scores. " + _trend_alt(FEEL, pts, c),
                           "Scores you gave, 1 = worst, 10 = best. " + _trend_caption(grouping, "day"),
                           table))
    else:
        parts.append(_pair(None, "", "", table))
    return "".join(parts)


def _sessions_section(data: ReportData) -> str:
    shown = list(reversed(data.sessions))[:SESSION_ROWS]
    one_year = data.span[0].year == data.span[1].year
    rows = []
    for s in shown:
        what = [f"{e.exercise.replace('-', ' ')} {e.reps}" for e in s.exercises]
        if s.sway is not None:
            what.append("balance")
        score = s.test_score("25ft")
        if any(w.test == "25ft" for w in s.walks):
            what.append("25-ft walk" + (f" {score:.1f} s" if score is not None else " not finished"))
        for w in s.walks:
            if w.test != "25ft":
                distance = w.test_distance_m if w.test == "2min" else w.distance_m
                what.append(("2-min walk" if w.test == "2min" else "walk")
                            + (f" {distance:.0f} m" if distance is not None else ""))
        status = " ".join(m.split(" (")[0].lower() for m in markers(s)) or "complete"
        feel = "" if s.feel_score is None else f"{s.feel_score}/10"
        rows.append([_when(s.started, year=not one_year), str(s.id), ", ".join(what) or "-", feel, status])
    more = len(data.sessions) - len(shown)
    caption = "Sessions, newest first" + (f" (the {len(shown)} latest of {len(data.sessions)}: "
                                          "`movecoach history` lists them all)" if more else "")
    table = Table(caption, ["Started", "Session", "Reps", "Feel", "Status"], rows)
    return "<h2>Sessions</h2>" + _pair(None, "", "", table)


def _summary_html(data: ReportData, sections: Sequence[Section]) -> str:
    sessions = data.sessions
    incomplete = sum(1 for s in sessions if s.status == "incomplete")
    n = len(sessions)
    first_line = (f"{n} session{'s' if n != 1 else ''}"
                  + (f" from {_when(sessions[0].started)} to {_when(sessions[-1].started)}" if n > 1
                     else f" on {_when(sessions[0].started)}")
                  + (f", {incomplete} of them incomplete" if incomplete else "") + ".")
    items = [html.escape(first_line)]
    key_measures = [SWAY["rms"], WALK["speed"]] + [sec.measures[0] for sec in sections] + [
        m for sec in sections for m in sec.measures if m.key.endswith("holds_met")]
    names = {"sway_rms": "Balance (sway)", "walk_speed": "Walking speed",
             "slide_depth": "Wall-slide depth", "heel_deg": "Heel raises",
             "march_deg": "March lift height", "slide_holds_met": "Wall-slide holds met",
             "heel_holds_met": "Heel-raise holds met"}
    compared = False
    for m in key_measures:
        pts = Points.of(sessions, m)
        if len(pts):
            items.append(html.escape(measure_words(m, pts, names.get(m.key))))
            compared = compared or compare_first_weeks(pts) is not None
    if not compared and n > 1:
        items.append(html.escape("Changes are told against your first two weeks once you have "
                                 f"{2 * FIRST_WEEKS_DAYS // 7} weeks of sessions."))
    for s in sessions:
        if s.corrupt:
            items.append(f'<span class="warn">Session {s.id} ({html.escape(_when(s.started))}) has '
                         f"damaged data: {html.escape('; '.join(s.problems))}. The rest of it is shown.</span>")
    return '<ul class="summary">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def build_report(store: Store, *, since: str | None = None) -> str:
    """The report page as an HTML string (UserError if there are no sessions)."""
    sessions = store.sessions(since=since)
    if not sessions:
        raise UserError("no sessions recorded yet: nothing to report")
    heel_toe = _heel_toe_amplitudes(store.reps(session_ids=[s.id for s in sessions], exercise="heel-toe"))
    grouping, rows = periods(sessions)
    data = ReportData(sessions, store, heel_toe, grouping, rows)
    sections = _sections(heel_toe)
    now = dt.datetime.now()
    demo = store.directory is not None and store.directory.name == DEMO_SUBDIR
    title = "Your movecoach report" + (": demo sessions" if demo else "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)} {now:%Y-%m-%d}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{html.escape(title)}</h1><p class=\"note\">Made {now:%A %d %B %Y %H:%M} by movecoach "
        f"{__version__} from {html.escape(store.location)}."
        + (" These sessions were done by the simulated person of `movecoach demo`." if demo else "")
        + "</p>",
        _summary_html(data, sections),
        _balance_section(data),
        *(_exercise_section(data, sec) for sec in sections),
        _walk_section(data),
        _feel_section(data),
        _sessions_section(data),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def write_report(store: Store, out_dir: str | os.PathLike, *, since: str | None = None) -> Path:
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
