"""Scan-gap statistics in SQL: the learning reads only events received since its watermark (an index
range on `received_at`), so each refresh costs what arrived since the last one, not the history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, cast, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from ordertrail.adapters.db.engine import insert_ignore
from ordertrail.adapters.db.tables import orders, shipments, tracking_events
from ordertrail.adapters.db.tables_monitoring import stall_gap_counts, stall_learning, stall_thresholds
from ordertrail.services.ports_monitoring import GapBatch, ScanGap

TE = tracking_events


def _utc_day(conn: Connection, column: ColumnElement[Any]) -> ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps UTC text: its date part


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


class SqlStallStats:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def learned_until(self) -> datetime | None:
        return self.c.execute(select(stall_learning.c.learned_until).where(stall_learning.c.id == 1)).scalar()

    def new_gaps(self, after: datetime, until: datetime, limit: int) -> GapBatch:
        in_window = (TE.c.received_at > after, TE.c.received_at <= until)
        # Cut the window after about `limit` events; events of one ingest batch share received_at and
        # stay together because the bound is inclusive.
        boundary = self.c.execute(
            select(TE.c.received_at).where(*in_window).order_by(TE.c.received_at).offset(limit).limit(1)
        ).scalar()
        upper = boundary if boundary is not None else until
        window = (TE.c.received_at > after, TE.c.received_at <= upper)
        touched = select(TE.c.shipment_id).where(*window).distinct()
        order = {"partition_by": TE.c.shipment_id, "order_by": (TE.c.occurred_at, TE.c.id)}
        lagged = (
            select(
                TE.c.shipment_id,
                TE.c.occurred_at,
                TE.c.received_at,
                func.lag(TE.c.occurred_at, type_=TE.c.occurred_at.type).over(**order).label("prev_at"),
                func.lag(TE.c.status, type_=TE.c.status.type).over(**order).label("prev_status"),
            )
            .where(TE.c.shipment_id.in_(touched))
            .subquery()
        )
        prev_day, day = _utc_day(self.c, lagged.c.prev_at), _utc_day(self.c, lagged.c.occurred_at)
        destination = orders.c.shipping_address["country_code"].as_string()
        # Counted per (carrier, status, destination, day pair) in SQL: Python sees one row per group.
        q = (
            select(shipments.c.carrier, lagged.c.prev_status, destination, prev_day, day, func.count())
            .join(shipments, shipments.c.id == lagged.c.shipment_id)
            .join(orders, orders.c.id == shipments.c.order_id)
            .where(
                lagged.c.received_at > after,
                lagged.c.received_at <= upper,
                lagged.c.prev_at.is_not(None),
                shipments.c.carrier.is_not(None),
            )
            .group_by(shipments.c.carrier, lagged.c.prev_status, destination, prev_day, day)
        )
        gaps = [
            ScanGap(carrier, status, country, _as_date(start), _as_date(end), int(n))
            for carrier, status, country, start, end, n in self.c.execute(q)
        ]
        return GapBatch(gaps, upper)

    def add_counts(
        self,
        rows: Sequence[tuple[str, str, str, date, int, int]],
        read_from: datetime | None,
        learned_until: datetime,
    ) -> bool:
        # Compare-and-set on the watermark first: of two runs that read the same events, the second
        # finds it moved (PostgreSQL re-checks the row after the first commits) and adds nothing.
        if read_from is None:  # RETURNING: with PostgreSQL's implicit returning, rowcount says -1
            moved = len(
                self.c.execute(
                    insert_ignore(stall_learning, self.c.dialect.name)
                    .values(id=1, learned_until=learned_until)
                    .returning(stall_learning.c.id)
                ).all()
            )
        else:
            moved = self.c.execute(
                update(stall_learning)
                .where(stall_learning.c.id == 1, stall_learning.c.learned_until == read_from)
                .values(learned_until=learned_until)
            ).rowcount
        if moved != 1:
            return False
        t = stall_gap_counts
        if rows:
            dialect = postgresql if self.c.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(t)
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.c.carrier, t.c.status, t.c.lane, t.c.week, t.c.business_days],
                set_={"count": t.c.count + stmt.excluded.count},
            )
            self.c.execute(
                stmt,
                [
                    {"carrier": c, "status": s, "lane": ln, "week": w, "business_days": d, "count": n}
                    for c, s, ln, w, d, n in rows
                ],
            )
        return True

    def histograms(self, since_week: date) -> dict[tuple[str, str, str], dict[int, int]]:
        t = stall_gap_counts
        q = (
            select(t.c.carrier, t.c.status, t.c.lane, t.c.business_days, func.sum(t.c.count))
            .where(t.c.week >= since_week)
            .group_by(t.c.carrier, t.c.status, t.c.lane, t.c.business_days)
        )
        out: dict[tuple[str, str, str], dict[int, int]] = defaultdict(dict)
        for carrier, status, lane, days, n in self.c.execute(q):
            out[(carrier, status, lane)][int(days)] = int(n)
        return dict(out)

    def drop_counts_before(self, week: date) -> None:
        self.c.execute(delete(stall_gap_counts).where(stall_gap_counts.c.week < week))

    def replace_thresholds(self, rows: Sequence[tuple[str, str, str, int, int]], at: datetime) -> None:
        self.c.execute(delete(stall_thresholds))
        if rows:
            self.c.execute(
                insert(stall_thresholds),
                [
                    {
                        "carrier": c,
                        "status": s,
                        "lane": ln,
                        "business_days": d,
                        "samples": n,
                        "refreshed_at": at,
                    }
                    for c, s, ln, d, n in rows
                ],
            )

    def thresholds(self) -> dict[tuple[str, str, str], int]:
        t = stall_thresholds
        return {
            (r.carrier, r.status, r.lane): r.business_days
            for r in self.c.execute(select(t.c.carrier, t.c.status, t.c.lane, t.c.business_days))
        }
