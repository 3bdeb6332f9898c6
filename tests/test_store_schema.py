"""The SQLite store's schema: frozen migrations, every old version upgrades to today's schema,
and today's schema is the checked-in one (tests/data/store_schema.sql).

After adding a migration, write the expectation anew and review its diff:
``.venv/bin/python tests/test_store_schema.py > tests/data/store_schema.sql``
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from movecoach.store import open_store
from movecoach.store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version
from movecoach.store.models import (
    BOUT_FIELDS,
    REP_FIELDS,
    STEP_FIELDS,
    STRIDE_FIELDS,
    SWAY_FIELDS,
    WALK_FIELDS,
)
from movecoach.store.sqlite import connect

EXPECTED = Path(__file__).parent / "data" / "store_schema.sql"


def schema_at(version: int) -> str:
    """The schema a database has once migrated to ``version``: every table's and index's SQL."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn, target=version)
        return describe(conn)
    finally:
        conn.close()


def describe(conn: sqlite3.Connection) -> str:
    """user_version, then every table's and index's SQL by name (white space folded): what a
    database holds, however it got there."""
    lines = [f"PRAGMA user_version = {schema_version(conn)};"]
    lines += [" ".join(sql.split()) + ";" for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name")]
    return "\n".join(lines)


def expectation() -> str:
    """Version 1's schema, then what each later version changes ("- " gone, "+ " new)."""
    parts, before = [], []
    for version in range(1, SCHEMA_VERSION + 1):
        now = schema_at(version).splitlines()
        if version == 1:
            parts.append("-- version 1\n" + "\n".join(now))
        else:
            parts.append(f"-- version {version}: what changes from version {version - 1}\n" + "\n".join(
                [f"- {line}" for line in before if line not in now]
                + [f"+ {line}" for line in now if line not in before]))
        before = now
    return "\n\n".join(parts) + "\n"


def test_each_migration_makes_the_schema_it_made_when_it_shipped():
    # a shipped migration never changes: a database it made is upgraded by the ones after it
    assert expectation() == EXPECTED.read_text(), (
        "the schema drifted from tests/data/store_schema.sql: a change to the schema is a new "
        "migration at the end of store/migrations.py (see this module's doc)")


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_a_database_made_at_an_old_version_upgrades_to_the_schema_of_a_fresh_one(tmp_path, version):
    path = tmp_path / "movecoach.sqlite"
    conn = connect(path)
    migrate(conn, target=version)
    if version >= 1:  # a session recorded then is kept
        conn.execute("INSERT INTO sessions (device_id, routine, source, started_at, complete) "
                     "VALUES ('old', 'daily', 'sim', 1700000000, 1)")
    conn.close()
    with open_store(path) as store:  # opening it for review upgrades it in place
        assert [s.device_id for s in store.sessions()] == (["old"] if version >= 1 else [])
    conn = connect(path)
    try:
        assert schema_version(conn) == SCHEMA_VERSION == len(MIGRATIONS)
        assert describe(conn) == schema_at(SCHEMA_VERSION)
    finally:
        conn.close()


def test_the_tables_hold_a_column_for_every_field_the_store_writes():
    # a new sway metric (a SwayMetrics field) or walk measure needs a migration that adds it
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn)

    def columns(table: str) -> set[str]:
        return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}

    for table, fields in (("sway", SWAY_FIELDS), ("walks", WALK_FIELDS), ("walk_bouts", BOUT_FIELDS),
                          ("strides", STRIDE_FIELDS), ("reps", REP_FIELDS), ("steps", STEP_FIELDS)):
        missing = set(fields) - columns(table)
        assert not missing, f"{table} has no column for {sorted(missing)}: add a migration"
    conn.close()


if __name__ == "__main__":
    sys.stdout.write(expectation())
