"""Driver-level statements for the ingest hot path.

SQLAlchemy Core's per-row parameter processing costs more than the database itself when a batch
writes thousands of rows; here rows are plain tuples converted once to what the driver stores, and
sent as one multi-row statement (or one `executemany`). The stored values are exactly what the
SQLAlchemy column types write and read back (see `tables.UtcDateTime`), so every other query keeps
using Core.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection


class Values:
    """Python values to driver values for one dialect."""

    def __init__(self, conn: Connection) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
        self.placeholder = "?" if self.sqlite else "%s"

    def dt(self, v: datetime | None) -> Any:
        if v is None:
            return None
        if self.sqlite:  # SQLAlchemy's SQLite DATETIME storage format, in UTC
            return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return v

    def day(self, v: date | None) -> Any:
        if v is None:
            return None
        return v.isoformat() if self.sqlite else v

    def json(self, v: Any) -> Any:
        return None if v is None else json.dumps(v, separators=(",", ":"))

    def read_dt(self, v: Any) -> datetime | None:
        if v is None:
            return None
        if isinstance(v, str):
            return datetime.fromisoformat(v).replace(tzinfo=UTC)
        return v if v.tzinfo is not None else v.replace(tzinfo=UTC)

    def read_day(self, v: Any) -> date | None:
        if v is None or isinstance(v, date):
            return v
        return date.fromisoformat(v)

    def read_json(self, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        # SQLAlchemy's JSON type stores None as the text 'null' (most items and proof columns).
        return None if v == "null" else orjson.loads(v)


def insert_values(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    returning: Sequence[str] = (),
    chunk: int = 1000,
) -> list[tuple[Any, ...]]:
    """One multi-row INSERT per chunk; with `ignore_conflicts`, rows breaking a unique key are skipped
    (and, with `returning`, only the rows actually inserted come back)."""
    if not rows:
        return []
    values = Values(conn)
    if not values.sqlite:
        return _insert_arrays(conn, table, columns, rows, ignore_conflicts, returning, chunk)
    cols = ", ".join(columns)
    one = "(" + ", ".join([values.placeholder] * len(columns)) + ")"
    verb = "INSERT OR IGNORE" if ignore_conflicts and values.sqlite else "INSERT"
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts and not values.sqlite else ""
    ret = f" RETURNING {', '.join(returning)}" if returning else ""
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        sql = f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * len(part))}{tail}{ret}"
        if verb != "INSERT":
            sql = verb + sql[len("INSERT") :]
        flat = tuple(v for row in part for v in row)
        result = conn.exec_driver_sql(sql, flat)
        if returning:
            out.extend(tuple(r) for r in result)
    return out


def execute_many(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`sql` written with `?` placeholders; converted for the dialect."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        sql = sql.replace("?", "%s")
    conn.exec_driver_sql(sql, [tuple(r) for r in rows])


def _insert_arrays(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    ignore_conflicts: bool,
    returning: Sequence[str],
    chunk: int,
) -> list[tuple[Any, ...]]:
    """PostgreSQL: one array per column, unnested into rows by the server.

    A multi-row VALUES list of 500 events has 9,500 placeholders, and psycopg rewrites such a
    statement in Python on every call (too long for its statement cache): 28 ms, more than the
    database spent inserting. Here the statement text is short and fixed, so it is parsed once and
    prepared after a few calls. The arrays travel in binary (%b): psycopg's text form escapes
    every element with a regular expression, which cost as much again."""
    sql = _array_insert_sql(table, tuple(columns), ignore_conflicts, tuple(returning))
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), max(chunk, 5000)):
        part = rows[start : start + max(chunk, 5000)]
        arrays = tuple(list(column) for column in zip(*part, strict=True))
        result = conn.exec_driver_sql(sql, arrays)
        if returning:
            out.extend(tuple(r) for r in result)
    return out


@lru_cache(maxsize=128)
def _array_insert_sql(
    table: str, columns: tuple[str, ...], ignore_conflicts: bool, returning: tuple[str, ...]
) -> str:
    from sqlalchemy.dialects import postgresql

    from ordertrail.adapters.db.tables import metadata

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    t = metadata.tables[table]
    arrays = ", ".join(f"%b::{t.c[c].type.compile(dialect=dialect)}[]" for c in columns)
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    ret = f" RETURNING {', '.join(returning)}" if returning else ""
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}){tail}{ret}"
