"""The package installs as `movecoach` without shadowing the standard library."""

import subprocess
import sys
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
