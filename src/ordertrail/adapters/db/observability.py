"""Backlogs and sweep runs for /metrics: a few aggregate queries, read at scrape time."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from ordertrail.adapters.db.tables import UtcDateTime, outbox
from ordertrail.adapters.db.tables_monitoring import deliveries, sweep_runs
from ordertrail.services.ports_observability import Backlog, SweepRun


def _utc(value: object) -> object:
    # MIN() loses the column's type on SQLite; bring the value back through the column's decoder.
    return UtcDateTime().process_result_value(value, None) if value is not None else None  # type: ignore[arg-type]


class SqlOperationalFigures:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def outbox_backlog(self) -> Backlog:
        row = self.c.execute(
            select(func.count(), func.min(outbox.c.available_at)).where(outbox.c.state == "pending")
        ).one()
        return Backlog(int(row[0]), _utc(row[1]))  # type: ignore[arg-type]

    def delivery_backlogs(self) -> dict[str, Backlog]:
        rows = self.c.execute(
            select(deliveries.c.channel, func.count(), func.min(deliveries.c.available_at))
            .where(deliveries.c.state == "pending")
            .group_by(deliveries.c.channel)
        )
        return {r[0]: Backlog(int(r[1]), _utc(r[2])) for r in rows}  # type: ignore[misc]

    def sweep_runs(self) -> list[SweepRun]:
        rows = self.c.execute(select(sweep_runs).order_by(sweep_runs.c.name))
        return [
            SweepRun(
                r.name, r.last_started_at, r.last_finished_at, dict(r.last_counts or {}), bool(r.last_error)
            )
            for r in rows
        ]
