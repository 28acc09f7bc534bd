"""Date arithmetic that SQLite and PostgreSQL spell differently, as SQL expressions.

SQLite keeps UTC instants as ISO text (see `UtcDateTime`), which its date functions read directly;
PostgreSQL has interval arithmetic on timestamptz.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class utc_date(FunctionElement[Any]):
    """The UTC calendar date of an instant."""

    type = Date()
    inherit_cache = True


class seconds_between(FunctionElement[Any]):
    """seconds_between(start, end): end - start in seconds (negative when end comes first)."""

    type = Float()
    inherit_cache = True


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_pg(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


def _pair(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    start, end = list(element.clauses)
    return compiler.process(start, **kw), compiler.process(end, **kw)


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _pair(element, compiler, **kw)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _pair(element, compiler, **kw)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


def within(start: ColumnElement[Any], end: ColumnElement[Any], seconds: float) -> ColumnElement[bool]:
    return seconds_between(start, end) <= seconds
