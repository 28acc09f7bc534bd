"""A pooled PostgreSQL connection that the server dropped while it sat idle is replaced at check-out,
without the caller seeing an error (adapters/db/pool_health.py, in place of a ping per check-out)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from ordertrail.adapters.db.pool_health import ping_when_idle


def test_a_connection_the_server_dropped_while_idle_is_replaced_at_checkout(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite connections are files, not sessions a server can drop")
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds=0)  # every check-out of a used connection pings
    try:
        with engine.connect() as c:
            dropped = c.execute(text("SELECT pg_backend_pid()")).scalar_one()
        killer = create_engine(database_url)
        with killer.connect() as k:
            assert k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": dropped}).scalar_one()
        killer.dispose()
        with engine.connect() as c:
            assert c.execute(text("SELECT pg_backend_pid()")).scalar_one() != dropped
    finally:
        engine.dispose()
