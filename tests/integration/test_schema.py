"""The migrated schema is exactly the table definitions, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.migrate import is_current
from ordertrail.adapters.db.tables import metadata


def test_migrations_produce_the_schema_the_tables_describe(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert is_current(engine)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        if engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
