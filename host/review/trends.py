"""`movecoach trends`: week-by-week (ISO weeks) averages and which changes stand out from noise.

Each metric has one value per session (e.g. the session's mean wall-slide depth); a week's value
is the mean over its sessions, with standard error SE = SD / sqrt(n), where SD is the
session-to-session spread within weeks, pooled over all weeks (a steadier estimate than one
week's 5-7 sessions give). A change between two weeks is flagged when
``|delta| > 2 * sqrt(SE_a^2 + SE_b^2)`` (both weeks need at least 2 values), so the ordinary
day-to-day wiggle is rarely flagged but a real change is. How-you-feel uses one value per day.
"Your first week" (the baseline) is the first week with at least 3 sessions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from movecoach.store.base import Store
from movecoach.store.models import Session

NOISE_FACTOR = 2.0  # flag |delta| > NOISE_FACTOR x the standard error of the difference
BASELINE_MIN_SESSIONS = 3  # "your first week": the first week with at least this many sessions


@dataclass(frozen=True)
class MetricSpec:
    """A weekly metric: key, column header, long label with unit, direction of 'better'."""

    key: str
    header: str
    label: str
    higher_is_better: bool
    fmt: str = "{:.3g}"

    def format(self, value: float | None) -> str:
        return "-" if value is None or not math.isfinite(value) else self.fmt.format(value)


def _ex(name: str, attr: str) -> Callable[[Session], float | None]:
    def get(s: Session) -> float | None:
        e = s.exercise(name)
        return None if e is None else getattr(e, attr)
    return get


def _holds_pct(s: Session) -> float | None:
    return 100.0 * s.holds_met / s.holds_total if s.holds_total else None


def _walk(attr: str, scale: float = 1.0) -> Callable[[Session], float | None]:
    """The session's walk (see Session.walk: at its own pace, not a timed test), times scale."""
    def get(s: Session) -> float | None:
        v = None if s.walk is None else getattr(s.walk, attr)
        return v * scale if v is not None and math.isfinite(v) else None
    return get


def _sway(attr: str) -> Callable[[Session], float | None]:
    def get(s: Session) -> float | None:
        if s.sway is None:
            return None
        v = getattr(s.sway, attr)
        return v if math.isfinite(v) else None
    return get


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("reps", "Reps", "reps per complete session", True, "{:.0f}"),
    MetricSpec("slide_depth_deg", "Depth°", "wall-slide depth (°)", True, "{:.1f}"),
    MetricSpec("slide_hold_s", "Hold s", "wall-slide hold (s)", True, "{:.1f}"),
    MetricSpec("holds_pct", "Holds%", "holds completed (%)", True, "{:.0f}"),
    MetricSpec("march_deg", "March°", "march amplitude (°)", True, "{:.1f}"),
    MetricSpec("heel_toe_deg", "HeelT°", "heel-toe amplitude (°)", True, "{:.1f}"),
    MetricSpec("sway_rms", "SwayRMS", "sway RMS (m/s²)", False),
    MetricSpec("sway_velocity", "SwayVel", "sway mean velocity (m/s³)", False),
    MetricSpec("sway_ellipse", "Ellipse", "sway 95% ellipse area ((m/s²)²)", False),
    MetricSpec("sway_jerk", "Jerk", "sway jerk (m²/s⁵)", False),
    MetricSpec("walk_speed", "Walk m/s", "walking speed (m/s)", True, "{:.2f}"),
    MetricSpec("walk_cadence", "Steps/m", "walking cadence (steps/min)", True, "{:.0f}"),
    # stride-time variation: a fall-risk marker, lower is steadier
    MetricSpec("walk_cv", "StrideCV", "stride-time variation (CV, %)", False, "{:.1f}"),
    MetricSpec("feel", "Feel", "how you feel (1-10)", True, "{:.1f}"),
)
METRIC_BY_KEY = {m.key: m for m in METRICS}

SESSION_VALUE: dict[str, Callable[[Session], float | None]] = {
    # a complete session that had rep exercises (a balance-only session has no reps to average)
    "reps": lambda s: float(s.reps) if s.status == "complete" and s.exercises else None,
    "slide_depth_deg": _ex("wall-slide", "mean_depth_deg"),
    "slide_hold_s": _ex("wall-slide", "mean_hold_s"),
    "holds_pct": _holds_pct,
    "march_deg": _ex("march", "mean_amplitude_deg"),
    "heel_toe_deg": _ex("heel-toe", "mean_amplitude_deg"),
    "sway_rms": _sway("rms"),
    "sway_velocity": _sway("mean_velocity"),
    "sway_ellipse": _sway("ellipse_area_95"),
    "sway_jerk": _sway("jerk"),
    "walk_speed": _walk("speed_m_s"),
    "walk_cadence": _walk("cadence_spm"),
    "walk_cv": _walk("stride_time_cv", 100.0),
}


@dataclass(frozen=True)
class WeekValue:
    """One metric in one week: mean, the week's own SD (ddof=1; 0 for n=1), count, and the
    standard error of the mean from the pooled within-week SD (inf for n < 2)."""

    mean: float
    sd: float
    n: int
    se: float = math.inf

    @staticmethod
    def of(values: list[float]) -> WeekValue | None:
        if not values:
            return None
        a = np.asarray(values, dtype=float)
        return WeekValue(float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0, len(a))


def pooled_sd(values: list[WeekValue | None]) -> float:
    """sqrt(sum((n_i - 1) * sd_i^2) / sum(n_i - 1)) over the weeks with n >= 2 (nan if none)."""
    num = sum((v.n - 1) * v.sd**2 for v in values if v is not None and v.n > 1)
    den = sum(v.n - 1 for v in values if v is not None and v.n > 1)
    return math.sqrt(num / den) if den else math.nan


@dataclass(frozen=True)
class Change:
    """Difference of two weekly means, its standard error, and whether it exceeds the noise."""

    delta: float
    se: float
    significant: bool
    better: bool | None  # None when unchanged within noise

    @staticmethod
    def between(new: WeekValue | None, old: WeekValue | None, spec: MetricSpec) -> Change | None:
        if new is None or old is None:
            return None
        delta = new.mean - old.mean
        se = math.sqrt(new.se**2 + old.se**2) if math.isfinite(new.se) and math.isfinite(old.se) else math.inf
        significant = math.isfinite(se) and abs(delta) > NOISE_FACTOR * se
        better = None if not significant else (delta > 0) == spec.higher_is_better
        return Change(delta, se, significant, better)


@dataclass(frozen=True)
class Week:
    """One ISO week with data."""

    year: int
    week: int
    monday: dt.date
    sessions: int
    incomplete: int
    values: dict[str, WeekValue | None]
    vs_prev: dict[str, Change | None] = field(default_factory=dict)
    vs_first: dict[str, Change | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True)
class Trends:
    """Weeks with data, oldest first; ``first`` is the baseline week the changes refer to."""

    weeks: list[Week]
    metrics: tuple[MetricSpec, ...] = METRICS
    baseline: int = 0

    @property
    def first(self) -> Week | None:
        return self.weeks[self.baseline] if self.weeks else None

    @property
    def latest_index(self) -> int:
        """Index of "the latest week": the newest with at least BASELINE_MIN_SESSIONS sessions
        after the baseline (a week just begun, e.g. on a Tuesday, holds too few to compare), else
        the newest week (-1 if there are none)."""
        for i in range(len(self.weeks) - 1, self.baseline, -1):
            if self.weeks[i].sessions >= BASELINE_MIN_SESSIONS:
                return i
        return len(self.weeks) - 1

    @property
    def latest(self) -> Week | None:
        return self.weeks[self.latest_index] if self.weeks else None


def iso_week(day: str) -> tuple[int, int]:
    y, w, _ = dt.date.fromisoformat(day).isocalendar()
    return y, w


def compute_trends(store: Store, *, since: str | None = None) -> Trends:
    """Weekly values of every metric and their changes vs the week before and the first week."""
    sessions = store.sessions(since=since)
    feel = {d: e for d, e in store.feel_by_day().items() if not since or d >= since}
    groups: dict[tuple[int, int], list[Session]] = {}
    for s in sessions:
        groups.setdefault(iso_week(s.day), []).append(s)
    feel_groups: dict[tuple[int, int], list[float]] = {}
    for day, entry in feel.items():
        feel_groups.setdefault(iso_week(day), []).append(float(entry.score))
    weeks: list[Week] = []
    for key in sorted(set(groups) | set(feel_groups)):
        ss = groups.get(key, [])
        values: dict[str, WeekValue | None] = {}
        for spec in METRICS:
            if spec.key == "feel":
                values[spec.key] = WeekValue.of(feel_groups.get(key, []))
                continue
            get = SESSION_VALUE[spec.key]
            vals = [v for v in (get(s) for s in ss) if v is not None and math.isfinite(v)]
            values[spec.key] = WeekValue.of(vals)
        monday = dt.date.fromisocalendar(key[0], key[1], 1)
        weeks.append(Week(key[0], key[1], monday, len(ss),
                          sum(1 for s in ss if s.status == "incomplete"), values))
    for spec in METRICS:
        sd = pooled_sd([w.values[spec.key] for w in weeks])
        for w in weeks:
            v = w.values[spec.key]
            if v is not None and v.n > 1 and math.isfinite(sd):
                w.values[spec.key] = WeekValue(v.mean, v.sd, v.n, sd / math.sqrt(v.n))
    # The baseline is the first week with enough sessions to tell noise from change.
    base = next((i for i, w in enumerate(weeks) if w.sessions >= BASELINE_MIN_SESSIONS), 0)
    out: list[Week] = []
    for i, w in enumerate(weeks):
        prev = weeks[i - 1] if i else None
        first = weeks[base]
        vs_prev = {m.key: Change.between(w.values[m.key], prev.values[m.key] if prev else None, m)
                   for m in METRICS}
        vs_first = {m.key: Change.between(w.values[m.key], first.values[m.key], m) if i > base else None
                    for m in METRICS}
        out.append(Week(w.year, w.week, w.monday, w.sessions, w.incomplete, w.values, vs_prev, vs_first))
    return Trends(out, baseline=base)


def _mark(c: Change | None) -> str:
    """↑ or ↓ for a change beyond the noise (the direction of the change), else nothing."""
    return ("↑" if c.delta > 0 else "↓") if c is not None and c.significant else ""


def _signed(spec: MetricSpec, c: Change | None) -> str:
    if c is None:
        return "-"
    text = spec.format(abs(c.delta))
    sign = "+" if c.delta > 0 else "-" if c.delta < 0 else "±"
    text = sign + text
    if c.significant:
        text += f" {_mark(c)} " + ("better" if c.better else "worse")
    return text


def format_trends(trends: Trends, *, weeks: int | None = 12) -> str:
    """The weekly table (last `weeks` weeks) and the latest week vs the one before and the first."""
    shown = trends.weeks[-weeks:] if weeks else trends.weeks
    metrics = trends.metrics
    widths = [max(len(m.header), 7) + 1 for m in metrics]
    lines = [f"Weekly averages, {shown[0].label} to {shown[-1].label} "
             f"({len(shown)} of {len(trends.weeks)} weeks with data). "
             "↑/↓: changed more than the noise since the week before (see the end).",
             "Week      Sess " + "".join(m.header.rjust(w) for m, w in zip(metrics, widths, strict=True))]
    for w in shown:
        sess = f"{w.sessions}" + (f"({w.incomplete}i)" if w.incomplete else "")
        cells = []
        for m, width in zip(metrics, widths, strict=True):
            v = w.values.get(m.key)
            text = m.format(None if v is None else v.mean)
            c = w.vs_prev.get(m.key)
            text += _mark(c) or " "
            cells.append(text.rjust(width))
        lines.append(f"{w.label:<9} {sess:<5}" + "".join(cells))
    latest, first = trends.latest, trends.first
    prev = trends.weeks[trends.latest_index - 1] if trends.latest_index > 0 else None
    lines += ["", f"Latest week {latest.label} vs the week before"
              f" ({prev.label if prev else 'none'}) and your first week ({first.label}):",
              f"{'':34}{'now':>9}{'vs week before':>22}{'vs first week':>22}"]
    for m in metrics:
        v = latest.values.get(m.key)
        lines.append(f"{m.label:<34}{m.format(None if v is None else v.mean):>9}"
                     f"{_signed(m, latest.vs_prev.get(m.key)):>22}{_signed(m, latest.vs_first.get(m.key)):>22}")
    lines.append(f"↑/↓ = a change larger than the noise: more than {NOISE_FACTOR:g}× the standard "
                 "error of the difference (from how much sessions vary within a week); "
                 "(Ni) = N incomplete sessions.")
    return "\n".join(lines)
