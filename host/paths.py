"""Where movecoach keeps its data: one SQLite database under an XDG data directory."""

from __future__ import annotations

import os
from pathlib import Path

DB_NAME = "movecoach.sqlite"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The data directory, first match wins.

    1. ``override`` (the ``--data-dir`` option of every command),
    2. ``$MOVECOACH_DATA_DIR``,
    3. ``$XDG_DATA_HOME/movecoach``,
    4. ``~/.local/share/movecoach``.

    Empty environment variables count as unset (as the XDG spec says). The directory is not
    created here: the recorder creates it (and checks it is writable) before a session starts.
    """
    if override:
        return Path(override).expanduser()
    env = os.environ.get("MOVECOACH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and Path(xdg).is_absolute():  # XDG: relative paths are invalid and must be ignored
        return Path(xdg) / "movecoach"
    return Path.home() / ".local" / "share" / "movecoach"


def db_path(directory: str | os.PathLike) -> Path:
    """The database file inside a data directory; a path to a ``.sqlite`` file is kept as is."""
    p = Path(directory)
    if p.suffix in (".sqlite", ".db", ".sqlite3"):
        return p
    return p / DB_NAME


DEMO_SUBDIR = "demo"


def demo_data_dir(override: str | os.PathLike | None = None) -> Path:
    """Where `movecoach demo` records: ``<data dir>/demo``, apart from the person's own sessions
    (the review commands read it with ``--demo``)."""
    return data_dir(override) / DEMO_SUBDIR
