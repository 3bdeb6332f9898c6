"""Child processes (mosquitto, the simulated wearable's firmware, espeak-ng) that end with us.

`subprocess.Popen` children outlive a parent that is killed (SIGKILL, SIGTERM, a closed
terminal): they are re-parented to init and keep running, a private broker holding its port.
:func:`popen` starts a child that the Linux kernel ends (SIGTERM) as soon as the thread that
started it is gone, however it went (``prctl(PR_SET_PDEATHSIG)``). Elsewhere it is a plain Popen.

Start a child from a thread that lives as long as the child should (the main thread, or the
worker that owns it): the signal follows the thread, not the process.
"""

from __future__ import annotations

# Imported before any child is forked: it registers at-fork hooks that take and give back its
# lock around every fork with a preexec_fn (below). Imported lazily instead (asyncio's first
# to_thread), the import could land between another thread's fork and its "after fork" hooks,
# which then give back a lock never taken: "RuntimeError: release unlocked lock" in the coach's
# to_thread (seen in 1 of 2 loaded `demo` runs in tests/test_live_screen.py).
import concurrent.futures.thread  # noqa: F401
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from typing import Any

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _libc_prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _libc_prctl()


def _end_with(parent_pid: int):
    def in_child() -> None:  # runs between fork and exec
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before the line above
            os._exit(1)

    return in_child


def popen(argv: list[str], **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen(argv, **kwargs)`` for a child that ends when its parent thread ends."""
    if _PRCTL is not None and "preexec_fn" not in kwargs:
        kwargs["preexec_fn"] = _end_with(os.getpid())
    return subprocess.Popen(argv, **kwargs)


__all__ = ["popen"]
