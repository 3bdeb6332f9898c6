"""The HTML report: self-contained, accessible, and it really renders in headless Chromium."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from movecoach import cli
from movecoach.recorder import SessionStore
from movecoach.review.report import pick_sway_trials
from movecoach.review.swaypath import CHI2_2DOF_95, confidence_ellipse, sway_path
from movecoach.review.synthetic import record_synthetic_history, synthetic_sway_acc

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    directory = tmp_path_factory.mktemp("year")
    # ends on a Monday: the newest week holds one session, too few to compare, so the summary
    # compares the week before it with the first week
    truth = record_synthetic_history(directory, days=365, end_day=dt.date(2026, 11, 30), seed=11)
    return directory, truth


@pytest.fixture(scope="module")
def report(year, tmp_path_factory):
    """`movecoach report --out DIR` over the year; returns the HTML file's path."""
    directory, _ = year
    out = tmp_path_factory.mktemp("report")
    cli_modules = cli.COMMAND_MODULES
    cli.COMMAND_MODULES = ("movecoach.review.commands",)
    try:
        assert cli.main(["report", "--data-dir", str(directory), "--out", str(out)]) == 0
    finally:
        cli.COMMAND_MODULES = cli_modules
    (path,) = out.glob("movecoach-report-*.html")
    return path


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
    assert len(images) == 5
    for a in images:
        assert a["src"].startswith("data:image/png;base64,") and len(a["src"]) > 5000
        assert len(a.get("alt", "")) > 40  # says what the plot shows
    assert names.count("table") == 5 and names.count("caption") == 5
    headers = [a for t, a in page.tags if t == "th"]
    assert headers and all(a.get("scope") in ("col", "row") for a in headers)
    # the sway path compares the latest trial with raw samples to one at least 4 weeks older
    with_samples = [d for d in truth if d.sway_samples]
    latest = with_samples[-1]
    earlier = [d for d in with_samples
               if dt.date.fromisoformat(d.day) <= dt.date.fromisoformat(latest.day) - dt.timedelta(days=28)][-1]
    assert f'<th scope="col">{earlier.day}</th><th scope="col">{latest.day}</th>' in text
    assert f"<td>{latest.sway.rms:.3g}</td>" in text
    # the summary names the real improvements
    assert "Wall-slide depth (°)" in text and "better." in text


def test_sway_trials_for_the_plot_are_the_latest_and_one_four_weeks_older(year):
    directory, truth = year
    latest, earlier = pick_sway_trials(SessionStore(directory))
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


@pytest.mark.slow
def test_the_report_renders_in_headless_chromium_without_errors(report, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run ./scripts/setup --test (installs chromium)")
    shot = tmp_path / "report.png"
    run = _chromium([f"--screenshot={shot}", "--window-size=1200,2000", report.as_uri()], tmp_path / "p1")
    assert shot.exists(), run.stderr[-2000:]
    variance, ink = _ink(shot)
    assert variance > 0.005 and ink > 0.05, (variance, ink)
    assert _console_errors(run.stderr) == []

    dom = _chromium(["--dump-dom", report.as_uri()], tmp_path / "p2")
    page = _parse(dom.stdout)
    names = [t for t, _ in page.tags]
    assert names.count("img") == 5 and names.count("table") == 5
    assert "Your movecoach report" in "".join(page.text)
    assert _console_errors(dom.stderr) == []

    # the same checks catch a broken page: a blank one with a script error
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

