"""Where movecoach keeps its data: one SQLite database under an XDG data directory, private.

Everything movecoach writes about a person (the data directory, the database and its -wal/-shm
files, reports, exports, the MQTT outbox) is created 0700 (directories) / 0600 (files).
"""

from __future__ import annotations

import os
from pathlib import Path

DB_NAME = "movecoach.sqlite"
DB_SUFFIXES = (".sqlite", ".sqlite3", ".db")  # a path ending so names the database file itself


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The data directory, first match wins.

    1. ``override`` (the ``--data-dir`` option of every command),
    2. ``$MOVECOACH_DATA_DIR``,
    3. ``$XDG_DATA_HOME/movecoach``,
    4. ``~/.local/share/movecoach``.

    Empty environment variables count as unset (as the XDG spec says). The directory is not
    created here: the recorder creates it (0700, see make_private_dir) and checks it is writable
    before a session starts.
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
    if p.suffix.lower() in DB_SUFFIXES:
        return p
    return p / DB_NAME


# Health data: only the person it belongs to may read it (not the other accounts on a shared
# Raspberry Pi or family laptop), whatever the umask says.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: str | os.PathLike) -> Path:
    """Create the directory (and its parents) if needed and make it 0700.

    An existing directory of ours that others may enter is tightened (a data directory made by
    an older movecoach was 0755); one owned by someone else is left as it is.
    """
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    _tighten(p, PRIVATE_DIR_MODE)
    return p


def private_file(path: str | os.PathLike) -> Path:
    """Make sure the file exists and is 0600 (created empty if missing), before it is written."""
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    os.close(fd)
    _tighten(p, PRIVATE_FILE_MODE)
    return p


def write_private_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file (UTF-8) that only its owner can read (0600)."""
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        _tighten(p, PRIVATE_FILE_MODE)
        f.write(text)


def _tighten(p: Path, mode: int) -> None:
    st = p.stat()
    if st.st_mode & 0o777 & ~mode and st.st_uid == os.geteuid():
        os.chmod(p, mode)


DEMO_SUBDIR = "demo"


def demo_data_dir(override: str | os.PathLike | None = None) -> Path:
    """Where `movecoach demo` records: ``<data dir>/demo``, apart from the person's own sessions
    (the review commands read it with ``--demo``)."""
    return data_dir(override) / DEMO_SUBDIR
