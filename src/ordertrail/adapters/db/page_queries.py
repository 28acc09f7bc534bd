"""Read models of the web pages: the seller's to-ship queue, the tracking version, an order's cases."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, case, func, select

from ordertrail.adapters.db.tables import order_items, orders, shipments
from ordertrail.adapters.db.tables_cases import cases
from ordertrail.domain.statuses import OrderStatus

OC = orders.c
SC = shipments.c
WAITING = (OrderStatus.AWAITING_SHIPMENT.value, OrderStatus.PARTIALLY_SHIPPED.value)


class SqlPageQueries:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def to_ship(self, seller_id: str, limit: int) -> list[dict[str, Any]]:
        rows = self.c.execute(
            select(OC.id, OC.status, OC.placed_at, OC.ship_by, OC.shipping_address, OC.shipping_service)
            .where(OC.seller_id == seller_id, OC.status.in_(WAITING))
            .order_by(OC.ship_by, OC.id)
            .limit(limit)
        ).all()
        items: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if rows:
            q = (
                select(order_items.c.order_id, order_items.c.title, order_items.c.sku, order_items.c.quantity)
                .where(order_items.c.order_id.in_([r.id for r in rows]))
                .order_by(order_items.c.order_id, order_items.c.line_no)
            )
            for i in self.c.execute(q):
                items[i.order_id].append({"title": i.title, "sku": i.sku, "quantity": i.quantity})
        return [
            {
                "id": r.id,
                "status": r.status,
                "placed_at": r.placed_at,
                "ship_by": r.ship_by,
                "shipping_service": r.shipping_service,
                "destination": {
                    k: r.shipping_address.get(k) for k in ("city", "country_area", "country_code")
                },
                "items": items.get(r.id, []),
            }
            for r in rows
        ]

    def tracking_version(self, order_id: str) -> str | None:
        row = self.c.execute(
            select(
                OC.status,
                OC.updated_at,
                func.count(SC.id),
                func.sum(SC.event_count),
                func.max(SC.last_event_at),
                func.max(SC.tracking_added_at),
                func.max(SC.estimated_latest),
                func.sum(case((SC.stalled, 1), else_=0)),
                func.sum(case((SC.predicted_late, 1), else_=0)),
            )
            .select_from(orders.outerjoin(shipments, SC.order_id == OC.id))
            .where(OC.id == order_id)
            .group_by(OC.id, OC.status, OC.updated_at)
        ).first()
        return None if row is None else "|".join(str(v) for v in row)

    def order_cases(self, buyer_id: str, order_id: str) -> list[dict[str, Any]]:
        # Through the buyer's index: a buyer has few cases, an order even fewer.
        c = cases.c
        rows = self.c.execute(
            select(c.id, c.type, c.status, c.opened_at)
            .where(c.buyer_id == buyer_id, c.order_id == order_id)
            .order_by(c.opened_at.desc(), c.id.desc())
        ).all()
        return [dict(r._mapping) for r in rows]
