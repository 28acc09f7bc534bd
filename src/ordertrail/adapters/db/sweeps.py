"""Set-based queries behind the sweeps: each is one indexed statement, never a scan in Python."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, exists, insert, literal, select, update

from ordertrail.adapters.db.tables import order_status_history, orders
from ordertrail.adapters.db.tables_cases import cases
from ordertrail.domain.cases import OPEN_STATUSES


class SqlSweeps:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def complete_delivered_orders(self, now: datetime, delivered_before: datetime) -> int:
        due = select(orders.c.id).where(
            orders.c.status == "delivered",
            orders.c.delivered_at <= delivered_before,
            # An order with an open case stays open until the case closes.
            ~exists().where(cases.c.order_id == orders.c.id, cases.c.status.in_(sorted(OPEN_STATUSES))),
        )
        ids = [r.id for r in self.c.execute(due)]
        if not ids:
            return 0
        self.c.execute(
            insert(order_status_history).from_select(
                ["order_id", "at", "old_status", "new_status", "reason"],
                select(
                    orders.c.id,
                    literal(now, orders.c.placed_at.type),
                    literal("delivered"),
                    literal("completed"),
                    literal("reporting window closed"),
                ).where(orders.c.id.in_(ids)),
            )
        )
        self.c.execute(update(orders).where(orders.c.id.in_(ids)).values(status="completed", updated_at=now))
        return len(ids)
