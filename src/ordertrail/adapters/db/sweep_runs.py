"""The persisted sweep schedule: which sweep is due, and who runs it now.

A claim is one guarded UPDATE (`WHERE next_run_at <= now AND not running`): under PostgreSQL's row
lock the second of two concurrent claims re-reads the row, sees the new next_run_at and matches
nothing; SQLite serialises writers. So however many workers poll, each due run starts once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, or_, select, update

from ordertrail.adapters.db.engine import insert_ignore
from ordertrail.adapters.db.tables_monitoring import sweep_runs

T = sweep_runs


class SqlSweepRuns:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def ensure(self, names: Sequence[str], now: datetime) -> None:
        if names:
            self.c.execute(
                insert_ignore(T, self.c.dialect.name), [{"name": n, "next_run_at": now} for n in names]
            )

    def due(self, now: datetime) -> list[str]:
        q = select(T.c.name).where(
            T.c.next_run_at <= now, or_(T.c.running_until.is_(None), T.c.running_until < now)
        )
        return [r.name for r in self.c.execute(q.order_by(T.c.next_run_at, T.c.name))]

    def claim(self, name: str, now: datetime, next_run_at: datetime, lease_until: datetime) -> bool:
        result = self.c.execute(
            update(T)
            .where(
                T.c.name == name,
                T.c.next_run_at <= now,
                or_(T.c.running_until.is_(None), T.c.running_until < now),
            )
            .values(next_run_at=next_run_at, running_until=lease_until, last_started_at=now)
        )
        return bool(result.rowcount)

    def finish(self, name: str, at: datetime, counts: Mapping[str, int] | None, error: str | None) -> None:
        values: dict[str, object] = {"running_until": None, "last_finished_at": at, "last_error": error}
        if counts is not None:
            values["last_counts"] = dict(counts)
        self.c.execute(update(T).where(T.c.name == name).values(**values))
