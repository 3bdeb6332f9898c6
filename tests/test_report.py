"""The HTML report: self-contained, accessible, and it really renders in headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib import image as mpimg

from movecoach import cli
from movecoach.review.report import (
    Measure,
    Points,
    build_report,
    grouping_for,
    pick_sway_trials,
    trend_figure,
)
from movecoach.review.swaypath import CHI2_2DOF_95, confidence_ellipse, sway_path
from movecoach.review.synthetic import record_synthetic_history, synthetic_sway_acc
from movecoach.store import open_store

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """Two years: a session every other day (365), ending on a Monday."""
    directory = tmp_path_factory.mktemp("year")
    # ends on a Monday: the newest week holds one session, too few to compare
    truth = record_synthetic_history(directory, days=365, end_day=dt.date(2026, 11, 30), seed=11,
                                     every_days=2)
    return directory, truth


def _write_report(directory: Path, out: Path) -> Path:
    """`movecoach report --out DIR` through the real CLI entry point; the HTML file's path."""
    cli_modules = cli.COMMAND_MODULES
    cli.COMMAND_MODULES = ("movecoach.commands.review",)
    try:
        assert cli.main(["report", "--data-dir", str(directory), "--out", str(out)]) == 0
    finally:
        cli.COMMAND_MODULES = cli_modules
    (path,) = out.glob("movecoach-report-*.html")
    return path


@pytest.fixture(scope="module")
def report(year, tmp_path_factory):
    """The report over the two years."""
    return _write_report(year[0], tmp_path_factory.mktemp("report"))


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html_text: str) -> _Tags:
    p = _Tags()
    p.feed(html_text)
    return p


def test_the_report_is_one_self_contained_accessible_file(report, year):
    _, truth = year
    text = report.read_text(encoding="utf-8")
    page = _parse(text)
    names = [t for t, _ in page.tags]
    assert ("html", {"lang": "en"}) in page.tags
    assert "script" not in names and "link" not in names and "iframe" not in names
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)  # nothing fetched
    assert "@import" not in text and "url(" not in text
    images = [a for t, a in page.tags if t == "img"]
    assert len(images) == 7  # sway path, balance, wall slides, heel-toe, marches, walking, how you feel
    for a in images:
        assert a["src"].startswith("data:image/png;base64,") and len(a["src"]) > 5000
        assert len(a.get("alt", "")) > 40  # says what the plot shows
    assert names.count("table") == 8 and names.count("caption") == 8
    headers = [a for t, a in page.tags if t == "th"]
    assert headers and all(a.get("scope") in ("col", "row") for a in headers)
    # the sway path compares the latest trial with raw samples to one at least 4 weeks older,
    # each named by its date and time
    with_samples = [d for d in truth if d.sway_samples]
    latest = with_samples[-1]
    earlier = [d for d in with_samples
               if dt.date.fromisoformat(d.day) <= dt.date.fromisoformat(latest.day) - dt.timedelta(days=28)][-1]
    trial_headers = re.findall(r'<th scope="col">(\w{3} \d\d \w{3} (?:\d{4} )?\d\d:\d\d)</th>', text)
    assert [dt.datetime.strptime(h[4:10], "%d %b").strftime("%m-%d") for h in trial_headers[:2]] == [
        earlier.day[5:], latest.day[5:]]
    assert f"<td>{latest.sway.rms:.3f}</td>" in text
    # the summary says the real improvements in words, against the first two weeks
    assert re.search(r"Wall-slide depth: [\d.]+° in your last two weeks, [\d.]+° in your first two: "
                     r"\d+ % more: better\.", text)
    assert re.search(r"Balance \(sway\): [\d.]+ m/s² in your last two weeks, [\d.]+ m/s² in your first "
                     r"two: \d+ % less: steadier\.", text)
    assert "March lift height: " in text and "about the same (within the day-to-day variation)" in text
    assert re.search(r"Walking speed: [\d.]+ m/s in your last two weeks, [\d.]+ m/s in your first "
                     r"two: \d+ % more: better\.", text)
    assert re.search(r"Cadence: \d+ steps/min in your last two weeks, \d+ steps/min in your first "
                     r"two: about the same", text)


def test_sway_trials_for_the_plot_are_the_latest_and_one_four_weeks_older(year):
    directory, truth = year
    latest, earlier = pick_sway_trials(open_store(directory))
    days = [d.day for d in truth if d.sway_samples]
    assert latest.trial.day == days[-1]
    assert earlier.trial.t_s <= latest.trial.t_s - 28 * 86400
    old_enough = [d for d in days if dt.date.fromisoformat(d) <= dt.date.fromisoformat(days[-1]) - dt.timedelta(28)]
    assert len(old_enough) < len(days) - 1  # a newer trial exists but is too recent to compare
    assert earlier.trial.day == old_enough[-1]  # the nearest that is old enough
    assert earlier.ellipse.area > latest.ellipse.area  # the synthetic person got steadier


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _console_errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]


def _ink(png: Path) -> tuple[float, float]:
    """(pixel variance, fraction of non-white pixels) of a screenshot."""
    img = mpimg.imread(png)[..., :3]
    gray = img.mean(axis=2)
    return float(gray.var()), float((gray < 0.95).mean())


# Injected into a copy of the page (the report itself has no script): measures the layout as
# Chromium drew it and leaves the numbers on <html data-measured> for --dump-dom.
MEASURE_LAYOUT = """<script>
const doc = document.documentElement, width = doc.clientWidth;
const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 1);
const cut = [...document.querySelectorAll('.data, table, figure')].filter(e => e.scrollWidth > e.clientWidth + 1
                                                                           || e.scrollHeight > e.clientHeight + 1);
const imgs = [...document.images];
doc.dataset.measured = JSON.stringify({height: doc.scrollHeight, wider: wide.length, cut: cut.length,
  images: imgs.length, drawn: imgs.filter(i => i.complete && i.naturalWidth > 0).length});
</script>"""
# (days of sessions, one every N days, window height): what each page state is
STATES = {"1-session": (1, 1, 3800), "1-week": (7, 1, 7000), "3-months": (46, 2, 9000)}
SCREENSHOT_DIR = os.environ.get("MOVECOACH_SCREENSHOT_DIR")  # keep the screenshots there


@pytest.fixture(scope="module", params=[*STATES, "2-years"])
def page_state(request, tmp_path_factory):
    """(name, report path, window height) for each state a person's report goes through."""
    if request.param == "2-years":
        return request.param, request.getfixturevalue("report"), 10500
    days, every, height = STATES[request.param]
    directory = tmp_path_factory.mktemp(request.param)
    record_synthetic_history(directory, days=days, end_day=dt.date(2026, 11, 30), seed=11,
                             every_days=every, sway_sample_days=(0, days - 1))
    return request.param, _write_report(directory, directory / "reports"), height


@pytest.mark.slow
def test_each_page_state_renders_in_headless_chromium_and_fits(page_state, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run ./scripts/setup --test (installs chromium)")
    name, report, height = page_state
    page = tmp_path / "measured.html"
    page.write_text(report.read_text(encoding="utf-8").replace("</body>", MEASURE_LAYOUT + "</body>"),
                    encoding="utf-8")
    shot = tmp_path / f"report-{name}.png"
    run = _chromium([f"--screenshot={shot}", f"--window-size=1200,{height}", "--hide-scrollbars",
                     "--dump-dom", page.as_uri()], tmp_path / "profile")  # one browser start
    assert shot.exists(), run.stderr[-2000:]
    assert _console_errors(run.stderr) == []
    if SCREENSHOT_DIR:
        shutil.copy(shot, Path(SCREENSHOT_DIR) / shot.name)
    dom = _parse(run.stdout)
    measured = json.loads(next(a["data-measured"] for t, a in dom.tags if t == "html"))
    assert measured["wider"] == 0 and measured["cut"] == 0, measured  # tables fit, nothing scrolls
    assert measured["height"] <= height, measured  # the screenshot holds the whole page
    assert measured["drawn"] == measured["images"] == {"1-session": 1}.get(name, 7), measured
    variance, ink = _ink(shot)
    assert variance > 0.005 and ink > 0.03, (variance, ink)

    text = " ".join("".join(dom.text).split())
    for heading in ("Balance: standing still", "Wall slides: depth and holds",
                    "Heel-toe raises: height and holds", "Seated marches: lifts",
                    "Walking: speed and cadence", "How you feel"):
        assert heading in text
    assert re.search(r"Holds met: \d+ ?%", text) and "Lift height: " in text and "Raises: 20" in text
    rows = {"1-session": "each session", "1-week": "each session", "3-months": "weekly averages",
            "2-years": "monthly averages"}[name]
    assert f"Seated marches: {rows}, newest first" in text
    if name in ("3-months", "2-years"):  # a change told against the first two weeks, in words
        assert re.search(r"Balance \(sway\): [\d.]+ m/s² in your last two weeks, [\d.]+ m/s² in "
                         r"your first two: \d+ % less: steadier\.", text)
    elif name == "1-week":
        assert "once you have 4 weeks of sessions" in text
    else:
        assert "1 session on Mon 30 Nov 2026" in text


@pytest.mark.slow
def test_the_page_checks_catch_a_broken_page(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run ./scripts/setup --test (installs chromium)")
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>notDefined();</script></body></html>")
    bad_shot = tmp_path / "broken.png"
    bad = _chromium([f"--screenshot={bad_shot}", "--window-size=400,300", broken.as_uri()], tmp_path / "p3")
    assert _console_errors(bad.stderr), bad.stderr[-2000:]
    variance, ink = _ink(bad_shot)
    assert variance < 0.005 and ink < 0.05


def test_the_95_percent_ellipse_holds_95_percent_of_a_gaussian_path():
    rng = np.random.default_rng(1)
    cov = np.array([[0.010, 0.004], [0.004, 0.005]])
    pts = rng.multivariate_normal([0.0, 0.0], cov, size=20000)
    e = confidence_ellipse(pts[:, 0], pts[:, 1])
    assert e.area == pytest.approx(np.pi * CHI2_2DOF_95 * np.sqrt(np.linalg.det(cov)), rel=0.03)
    a, b = e.width / 2, e.height / 2
    th = np.radians(e.angle_deg)
    u = (pts[:, 0] - e.center_ap) * np.cos(th) + (pts[:, 1] - e.center_ml) * np.sin(th)
    v = -(pts[:, 0] - e.center_ap) * np.sin(th) + (pts[:, 1] - e.center_ml) * np.cos(th)
    inside = (u / a) ** 2 + (v / b) ** 2 <= 1
    assert inside.mean() == pytest.approx(0.95, abs=0.01)
    ap_out, ml_out = e.outline(400)
    assert np.max(np.hypot(ap_out, ml_out)) == pytest.approx(a, rel=0.01)


def test_the_sway_path_undoes_a_tilted_sensor():
    rng = np.random.default_rng(2)
    fs = 104.0
    acc = synthetic_sway_acc(0.15, fs=fs, tilt_deg=8.0, rng=rng)  # 80% of it AP, 60% ML
    ap, ml = sway_path(np.arange(len(acc)) / fs, acc, fs=fs)
    assert np.sqrt(np.mean(ap**2)) == pytest.approx(0.12, rel=0.1)
    assert np.sqrt(np.mean(ml**2)) == pytest.approx(0.09, rel=0.1)
    assert abs(np.mean(ap)) < 1e-3 and abs(np.mean(ml)) < 1e-3



SECTIONS_DEPTH = Measure("slide_depth", "depth", "°", lambda s: None, True)


def _points(first: dt.datetime, n: int, step: dt.timedelta) -> Points:
    return Points([first + i * step for i in range(n)], np.linspace(30.0, 40.0, n))


def test_a_first_week_is_drawn_session_by_session_on_an_axis_of_that_week():
    first = dt.datetime(2026, 11, 24, 8, 7)
    pts = _points(first, 7, dt.timedelta(days=1))
    fig = trend_figure([(SECTIONS_DEPTH, pts, "#0072B2")], "t", grouping="session",
                       t_first=pts.t[0], t_last=pts.t[-1])
    lo, hi = (mdates.num2date(x).replace(tzinfo=None) for x in fig.axes[0].get_xlim())
    assert first - dt.timedelta(days=1) < lo < first and pts.t[-1] < hi < pts.t[-1] + dt.timedelta(days=1)
    (line,) = fig.axes[0].get_lines()
    assert len(line.get_xdata()) == 7  # every session, not one weekly dot
    assert fig.axes[0].get_ylim()[0] > 25 and fig.axes[0].get_ylim()[1] < 45  # fitted, not 0-100


def test_five_sessions_on_one_day_spread_over_hours_not_a_hairline():
    first = dt.datetime(2026, 12, 1, 9, 0)
    pts = _points(first, 5, dt.timedelta(minutes=20))
    fig = trend_figure([(SECTIONS_DEPTH, pts, "#0072B2")], "t", grouping="session",
                       t_first=pts.t[0], t_last=pts.t[-1])
    lo, hi = fig.axes[0].get_xlim()
    assert (hi - lo) * 24 < 8  # hours wide: the five points stand apart


def test_two_years_are_months_on_an_axis_of_those_months():
    first = dt.datetime(2024, 12, 2, 8, 0)
    pts = _points(first, 365, dt.timedelta(days=2))
    assert grouping_for(pts.t[0], pts.t[-1]) == "month"
    fig = trend_figure([(SECTIONS_DEPTH, pts, "#0072B2")], "t", grouping="month",
                       t_first=pts.t[0], t_last=pts.t[-1])
    lo, hi = (mdates.num2date(x).replace(tzinfo=None) for x in fig.axes[0].get_xlim())
    assert lo == dt.datetime(2024, 12, 1) and hi == dt.datetime(2026, 12, 1)
    dots, mean_line = fig.axes[0].get_lines()
    assert len(dots.get_xdata()) == 365 and len(mean_line.get_xdata()) == 24  # one mean a month


def test_two_balance_trials_on_one_day_are_told_apart_by_their_times(tmp_path):
    day = dt.date(2026, 11, 30)
    record_synthetic_history(tmp_path, days=1, end_day=day, seed=1, sway_sample_days=(0,))
    record_synthetic_history(tmp_path, days=1, end_day=day, seed=2, sway_sample_days=(0,))
    latest, earlier = pick_sway_trials(open_store(tmp_path))
    assert latest.trial.day == earlier.trial.day == "2026-11-30"
    assert latest.when != earlier.when and re.search(r"\d\d:\d\d$", latest.when)
    page = build_report(open_store(tmp_path))
    first, second = re.findall(r'<th scope="col">(\w{3} \d\d \w{3}(?: \d{4})? \d\d:\d\d)</th>', page)[:2]
    assert first[:10] == second[:10] == "Mon 30 Nov" and first != second  # same day, two times
