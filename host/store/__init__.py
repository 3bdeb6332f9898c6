"""Where sessions are kept: the storage interface (base.py) and its stores (sqlite.py, the
default; memory.py), the recorder's writer (recorder.py), the data directory and its privacy
(paths.py), CSV files (csvio.py).

:func:`open_store` opens a store from a location: a data directory or ``.sqlite`` file (the
SQLite store), or a URL whose scheme names a store in :data:`STORES` (``memory:`` for tests).
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from movecoach.errors import UserError

if TYPE_CHECKING:
    from movecoach.samples import SampleBlock
    from movecoach.store.base import Store

# URL scheme -> the module whose open_store(location, *, record, create, min_free_mb,
# commit_interval_s) opens that kind of store. A new store is one module and one line here.
STORES = {
    "sqlite": "movecoach.store.sqlite",
    "memory": "movecoach.store.memory",
}
DEFAULT_STORE = "sqlite"  # a plain path: a data directory or a .sqlite file
# Stores people ask for that this movecoach does not have, by the name they know them by.
KNOWN_ELSEWHERE = {"postgresql": "PostgreSQL", "postgres": "PostgreSQL", "mysql": "MySQL"}

# The --db option's help, for every command that records or reviews sessions.
LOCATION_HELP = ("the store to use instead of the data directory's movecoach.sqlite: a data "
                 "directory, a .sqlite file, or a store URL (memory: keeps nothing)")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: C:\ is a path


def store_scheme(location: str | os.PathLike) -> str:
    """The kind of store a location names (a key of STORES); UserError for any other URL."""
    text = os.fspath(location)
    match = _SCHEME.match(text) if isinstance(text, str) else None
    if match is None or (match.group(1).lower() not in STORES and "://" not in text
                         and match.group(1).lower() not in KNOWN_ELSEWHERE):
        return DEFAULT_STORE
    scheme = match.group(1).lower()
    if scheme in STORES:
        return scheme
    parts = urlsplit(text)
    shown = f"{parts.scheme}://{parts.hostname or ''}{parts.path}"  # never the password
    name = KNOWN_ELSEWHERE.get(scheme, scheme)
    raise UserError(f"{shown}: no {name} store is installed in this movecoach (it keeps sessions "
                    "in a data directory or a .sqlite file; memory: for tests)")


def open_store(location: str | os.PathLike, *, record: bool = False, create: bool = False,
               min_free_mb: float = 50.0, commit_interval_s: float = 0.5) -> Store:
    """The store at a location (see :mod:`movecoach.store.base` for what it does).

    record: to record sessions (the coach): created if missing and checked writable with
    ``min_free_mb`` free before anything starts. Otherwise (review) a missing store reads as empty
    unless ``create``. commit_interval_s: the longest a recorded sample waits to be committed.
    """
    module = importlib.import_module(STORES[store_scheme(location)])
    return module.open_store(location, record=record, create=create, min_free_mb=min_free_mb,
                             commit_interval_s=commit_interval_s)


def is_store(path: str | os.PathLike) -> bool:
    """Whether a file or directory holds a store that a plain path names (a data directory or a
    database file, told by its name or else its first bytes)."""
    return importlib.import_module(STORES[DEFAULT_STORE]).is_database(Path(path))


def read_samples(location: str | os.PathLike, session_id: int, step: int | None = None) -> SampleBlock:
    """One session's (or step's) raw samples from the store at a location (UserError if there is
    no store there or no such session)."""
    with open_store(location) as store:
        return store.read_samples(session_id, step)
