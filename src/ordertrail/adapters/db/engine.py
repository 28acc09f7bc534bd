"""Engines for the embedded default (SQLite) and production (PostgreSQL via psycopg 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Insert
from sqlalchemy.sql.schema import Table

from ordertrail.adapters.db.checkpoints import CHECKPOINT_PAGES
from ordertrail.adapters.db.pool_health import ping_when_idle
from ordertrail.adapters.db.write_turns import take_turns

# Page cache of the one SQLite writer connection (see writer_engine) and of each reader.
WRITER_CACHE_KIB = 65536
READER_CACHE_KIB = 8192


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=pool_size,
            hide_parameters=True,
        )
        _tune_sqlite(engine, READER_CACHE_KIB)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # hide_parameters: an error's message (which may reach a log) never carries the row's values:
    # names, e-mail and postal addresses stay out of the logs.
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True)
    ping_when_idle(engine)  # instead of pool_pre_ping's round trip on every check-out
    return engine


def writer_engine(engine: Engine, wait_seconds: float = 30.0) -> Engine:
    """The engine for write transactions: on SQLite one connection of its own, on PostgreSQL the same.

    SQLite lets one writer in at a time and, in WAL mode, throws away a connection's whole page cache
    when another connection has written since its last transaction. Writes spread over a pool of
    connections therefore started cold every time (2,400 page reads per ingest batch), and the writers
    waiting for the lock polled it in sleeps of up to 100 ms. One writer connection keeps its cache warm
    and a big one pays; the threads waiting for it queue in the pool and are woken when it is free."""
    if engine.dialect.name != "sqlite":
        return engine
    writer = create_engine(
        engine.url,
        connect_args={"timeout": wait_seconds, "check_same_thread": False},
        pool_size=1,
        max_overflow=0,
        pool_timeout=wait_seconds,
        hide_parameters=True,
    )
    _tune_sqlite(writer, WRITER_CACHE_KIB, wait_seconds, checkpoint_pages=0)
    take_turns(writer, wait_seconds)
    return writer


def _tune_sqlite(
    engine: Engine, cache_kib: int, wait_seconds: float = 30.0, checkpoint_pages: int = CHECKPOINT_PAGES
) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes; WAL keeps it consistent
        cur.execute(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
        # Readers get 8 MB of page cache each: the operating system caches the file once for all of
        # them, while 64 MB each grew a server with a pool of connections past 300 MB of resident
        # memory under random lookups (benchmarks/, docs/scaling.md). The one writer gets more.
        cur.execute(f"PRAGMA cache_size=-{cache_kib}")
        # Checkpoint the WAL into the database every 40,000 pages (160 MB) instead of SQLite's 1,000:
        # an ingest batch dirties one to three thousand pages, and the pages a checkpoint copies
        # were mostly written over and over since the last one (the same shipments' and indexes'
        # pages), so a longer interval copies each once and syncs less often. In process, 100,000
        # shipments: 1,000 → 10,000 halved the commit; 10,000 → 40,000 gained another 11-16 %
        # (5,127-5,153 → 5,652-5,942 events/s), with no longer stall than before (the batch that
        # runs the checkpoint: 319 ms at most, 326-343 ms at 10,000). The service's writer turns it
        # off and checkpoints from a thread instead (adapters/db/checkpoints.py); this stays for any
        # other connection that writes (migrations, the CLI's own engine).
        cur.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages}")
        # The log is written over from its start after a checkpoint, not cut back; a log that grew
        # past twice the mark (a checkpoint held off by a long read) is cut back to that.
        cur.execute(f"PRAGMA journal_size_limit={2 * CHECKPOINT_PAGES * 4096}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and then writes can
        # fail with SQLITE_BUSY under concurrency without ever waiting for the busy timeout.
        if conn.info.get("readonly"):
            # Straight to the driver: a deferred BEGIN takes no lock and cannot fail, and going
            # through SQLAlchemy's statement machinery cost a tenth of a tracking lookup.
            conn.connection.driver_connection.execute("BEGIN DEFERRED")
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def insert_ignore(table: Table, dialect_name: str) -> Insert:
    """INSERT that skips rows breaking any unique key: the set-based dedupe primitive."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).prefix_with("OR IGNORE")
