"""The package installs as `movecoach` without shadowing the standard library."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_signal_is_the_standard_library_even_from_the_repo_root():
    code = (
        "import signal, movecoach.signal, movecoach.firmware;"
        "assert hasattr(signal, 'SIGINT'), signal.__file__;"
        "print(signal.__file__); print(movecoach.signal.__name__)"
    )
    # -I: isolated mode, like the installed console script (no cwd on sys.path).
    out = subprocess.run([sys.executable, "-I", "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    stdlib_path, name = out.stdout.split()
    assert not stdlib_path.startswith(str(REPO))
    assert name == "movecoach.signal"


def test_from_the_repo_root_without_isolation_signal_is_still_the_standard_library():
    # `python -m movecoach` / `python -c` from a checkout put the repo root first on sys.path
    code = ("import asyncio, signal, movecoach.signal.types;"
            "print(signal.__file__); print(movecoach.signal.types.__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    stdlib_path, name = out.stdout.split()
    assert not stdlib_path.startswith(str(REPO)) and name == "movecoach.signal.types"


def test_a_built_wheel_installs_the_analysis_as_movecoach_signal(tmp_path):
    src = tmp_path / "src"  # a copy: setuptools builds in the source tree (build/)
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("host", "signal", "firmware"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(src), "-w",
                    str(tmp_path)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("movecoach-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "movecoach/signal/sway.py" in names and "movecoach/signal/streaming.py" in names
    assert not any(n.startswith("signal/") for n in names)  # nothing installed as top-level signal
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (f"import sys; sys.path.insert(0, {str(site)!r}); import signal, movecoach.signal.sway as s;"
            "print(s.__file__); print(signal.__file__)")
    out = subprocess.run([sys.executable, "-I", "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    sway_file, stdlib_path = out.stdout.split()
    assert sway_file.startswith(str(site)) and not stdlib_path.startswith(str(REPO))


def test_console_script_lists_every_command():
    exe = Path(sys.executable).with_name("movecoach")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("demo", "coach", "scan", "wearable", "simulate", "analyze",
                    "history", "trends", "report", "feel", "export"):
        assert command in out


def test_unknown_command_is_a_one_line_usage_error():
    exe = Path(sys.executable).with_name("movecoach")
    out = subprocess.run([str(exe), "dance"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
