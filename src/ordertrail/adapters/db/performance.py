"""Seller performance figures as set-based SQL: one aggregate statement per figure (two share one).

What each figure counts is written in `domain.performance.MEANING`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, or_, select

from ordertrail.adapters.db.sql_time import utc_date, within
from ordertrail.adapters.db.tables import orders, shipments
from ordertrail.adapters.db.tables_cases import cases
from ordertrail.domain import performance as perf
from ordertrail.domain.cases import BUYER_FAVOURED, CaseStatus


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SqlPerformance:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def _pair(self, q: Any) -> tuple[int, int]:
        r = self.c.execute(q).one()
        return int(r.num), int(r.den)

    def seller_figures(
        self, seller_id: str, since: datetime, now: datetime, scan_within: timedelta
    ) -> dict[str, tuple[int, int]]:
        live_order = and_(orders.c.seller_id == seller_id, orders.c.status != "cancelled")

        first_tracking = (
            select(func.min(shipments.c.tracking_added_at))
            .where(shipments.c.order_id == orders.c.id, shipments.c.tracking_added_at.is_not(None))
            .scalar_subquery()
        )
        late_dispatch = select(
            _count_if(or_(first_tracking.is_(None), first_tracking > orders.c.ship_by)).label("num"),
            func.count().label("den"),
        ).where(live_order, orders.c.ship_by >= since, orders.c.ship_by < now)

        s = shipments.c
        scanned_in_time = and_(
            s.first_scan_at.is_not(None),
            within(s.tracking_added_at, s.first_scan_at, scan_within.total_seconds()),
        )
        valid_tracking = (
            select(_count_if(scanned_in_time).label("num"), func.count().label("den"))
            .select_from(shipments.join(orders, orders.c.id == s.order_id))
            .where(
                live_order,
                s.status != "cancelled",
                s.tracking_added_at >= since,
                s.tracking_added_at < now,
                # A shipment still inside its allowance and unscanned has no verdict yet.
                or_(s.first_scan_at.is_not(None), s.tracking_added_at <= now - scan_within),
            )
        )

        on_time = (
            select(
                _count_if(utc_date(s.delivered_at) <= orders.c.promised_latest).label("num"),
                func.count().label("den"),
            )
            .select_from(shipments.join(orders, orders.c.id == s.order_id))
            .where(
                live_order,
                s.delivered_at >= since,
                s.delivered_at < now,
                # Replacements carry their own ship-by and were never part of the checkout promise.
                s.ship_by.is_(None),
            )
        )

        any_case = exists().where(cases.c.order_id == orders.c.id)
        against_seller = exists().where(
            cases.c.order_id == orders.c.id,
            cases.c.status == CaseStatus.RESOLVED.value,
            cases.c.outcome.in_(sorted(BUYER_FAVOURED)),
        )
        case_counts = self.c.execute(
            select(
                _count_if(any_case).label("cases"),
                _count_if(against_seller).label("fault"),
                func.count().label("den"),
            ).where(live_order, orders.c.placed_at >= since, orders.c.placed_at < now)
        ).one()
        return {
            perf.LATE_DISPATCH: self._pair(late_dispatch),
            perf.VALID_TRACKING: self._pair(valid_tracking),
            perf.ON_TIME_DELIVERY: self._pair(on_time),
            perf.CASE_RATE: (int(case_counts.cases), int(case_counts.den)),
            perf.SELLER_FAULT: (int(case_counts.fault), int(case_counts.den)),
        }
