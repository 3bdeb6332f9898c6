"""The SQLite store's schema: numbered migrations, frozen once shipped.

Each entry of :data:`MIGRATIONS` upgrades the schema from version i to i + 1 (``PRAGMA
user_version`` = index + 1), and is written out literally: it must never change once shipped,
since a database made by it is upgraded by the ones after it. A new column or table is a new
entry at the end. tests/test_store_schema.py upgrades a database made at every old version and
compares it with a fresh one, and compares a fresh one with tests/data/schema.sql.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from movecoach.errors import UserError

if TYPE_CHECKING:
    import sqlite3  # the SQLite store's connection (store/sqlite.py)

log = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: sessions, every event, typed rows for steps / reps / sway, samples in blocks.
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, routine TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '', fs REAL, started_at REAL NOT NULL, ended_at REAL,
            complete INTEGER NOT NULL DEFAULT 0, summary TEXT)""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            kind TEXT NOT NULL, t_s REAL NOT NULL, data TEXT NOT NULL)""",
        """CREATE TABLE steps (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER, exercise TEXT NOT NULL, set_no INTEGER, sets INTEGER,
            target_reps INTEGER, hold_target_s REAL, placement TEXT, t_s REAL NOT NULL)""",
        """CREATE TABLE reps (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER, exercise TEXT NOT NULL, kind TEXT, count INTEGER, set_no INTEGER,
            amplitude_deg REAL, depth_deg REAL, hold_s REAL, hold_target_s REAL,
            hold_met INTEGER, t_start REAL, t_peak REAL, t_end REAL, t_s REAL NOT NULL)""",
        # the twelve SwayMetrics of v1, in their order (written out: a new metric is a new
        # migration that adds its column, and SWAY_FIELDS' test fails until it is)
        "CREATE TABLE sway (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), "
        "step INTEGER, exercise TEXT, t_s REAL NOT NULL, "
        "rms_ap REAL, rms_ml REAL, rms REAL, range_ap REAL, range_ml REAL, path_length REAL, "
        "mean_velocity REAL, jerk REAL, ellipse_area_95 REAL, centroid_freq_ap REAL, "
        "centroid_freq_ml REAL, duration_s REAL)",
        """CREATE TABLE samples (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER, n INTEGER NOT NULL, fs REAL, t BLOB NOT NULL, acc BLOB NOT NULL,
            gyr BLOB NOT NULL, t_host BLOB)""",
        "CREATE INDEX samples_session ON samples(session_id, step, id)",
        "CREATE INDEX events_session ON events(session_id, id)",
    ),
    # 2: local day + writer liveness on sessions, sample count, how-you-feel, review indexes.
    (
        "ALTER TABLE sessions ADD COLUMN day TEXT",
        "ALTER TABLE sessions ADD COLUMN pid INTEGER",
        "ALTER TABLE sessions ADD COLUMN host TEXT",
        "ALTER TABLE sessions ADD COLUMN heartbeat_at REAL",
        "ALTER TABLE sessions ADD COLUMN n_samples INTEGER NOT NULL DEFAULT 0",
        "UPDATE sessions SET day = date(started_at, 'unixepoch', 'localtime')",
        "UPDATE sessions SET n_samples = "
        "(SELECT COALESCE(SUM(n), 0) FROM samples WHERE samples.session_id = sessions.id)",
        """CREATE TABLE feel (
            id INTEGER PRIMARY KEY, day TEXT NOT NULL,
            session_id INTEGER REFERENCES sessions(id),
            score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10), note TEXT,
            created_at REAL NOT NULL)""",
        "CREATE UNIQUE INDEX feel_session ON feel(session_id) WHERE session_id IS NOT NULL",
        "CREATE INDEX feel_day ON feel(day)",
        "CREATE INDEX sessions_day ON sessions(day, started_at)",
        "CREATE INDEX steps_session ON steps(session_id)",
        "CREATE INDEX reps_session ON reps(session_id, exercise)",
        "CREATE INDEX sway_session ON sway(session_id)",
    ),
    # 3: walks (one row per walk step: its totals and a timed test's result), their bouts and
    # the sensor foot's strides (sensor clock s, m, deg).
    (
        """CREATE TABLE walks (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER, exercise TEXT NOT NULL, test TEXT, trial INTEGER, t_s REAL NOT NULL,
            duration_s REAL, walking_s REAL, distance_m REAL, speed_m_s REAL, cadence_spm REAL,
            strides INTEGER, stride_time_s REAL, stride_time_cv REAL, stance_frac REAL,
            stride_length_m REAL, turns INTEGER, test_time_s REAL, test_distance_m REAL,
            test_done INTEGER)""",
        """CREATE TABLE walk_bouts (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER, bout INTEGER NOT NULL, t_start REAL, t_end REAL, strides INTEGER,
            cadence_spm REAL, stride_time_s REAL, stride_time_cv REAL, stance_frac REAL,
            stride_length_m REAL, speed_m_s REAL, distance_m REAL, turns INTEGER)""",
        """CREATE TABLE strides (
            id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
            step INTEGER, t_start REAL, t_end REAL, time_s REAL, length_m REAL, stance_s REAL,
            swing_s REAL, turn_deg REAL)""",
        "CREATE INDEX walks_session ON walks(session_id)",
        "CREATE INDEX walk_bouts_session ON walk_bouts(session_id, step)",
        "CREATE INDEX strides_session ON strides(session_id, step)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, *, target: int = SCHEMA_VERSION) -> int:
    """Upgrade the schema to ``target`` one migration at a time, each in its own transaction.

    Safe against a second process migrating at the same time (BEGIN IMMEDIATE, then re-check).
    Returns the version reached. A database newer than this movecoach raises UserError.
    """
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise UserError(f"the database was written by a newer movecoach (schema {version}, "
                        f"this one knows {SCHEMA_VERSION}): upgrade movecoach")
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)
            if version >= target:
                conn.execute("COMMIT")
                break
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("database schema migrated to version %d", version + 1)
        version += 1
    return version
