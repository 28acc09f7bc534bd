"""The tracking read model: an order with its shipments and events in two queries, shaped for JSON."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta, timezone
from typing import Any

from sqlalchemy import Connection, select

from ordertrail.adapters.db.tables import orders, shipments, tracking_events

_E = tracking_events.c
_EVENT_COLS = (
    _E.shipment_id,
    _E.id,
    _E.occurred_at,
    _E.utc_offset_min,
    _E.offset_source,
    _E.status,
    _E.substatus,
    _E.description,
    _E.carrier_code,
    _E.city,
    _E.region,
    _E.postal_code,
    _E.country_code,
)


def _window(earliest: Any, latest: Any) -> dict[str, Any] | None:
    if earliest is None or latest is None:
        return None
    return {"earliest": earliest, "latest": latest}


def _event(r: Any) -> dict[str, Any]:
    offset = timezone(timedelta(minutes=r.utc_offset_min))
    has_loc = r.city or r.region or r.postal_code or r.country_code
    return {
        "id": r.id,
        "occurred_at": r.occurred_at,
        "local_time": r.occurred_at.astimezone(offset).isoformat(),
        "offset_source": r.offset_source,
        "status": r.status,
        "substatus": r.substatus,
        "description": r.description,
        "carrier_code": r.carrier_code,
        "location": {
            "city": r.city,
            "region": r.region,
            "postal_code": r.postal_code,
            "country_code": r.country_code,
        }
        if has_loc
        else None,
    }


def shipment_view(s: Any, tracking_url: str | None = None) -> dict[str, Any]:
    return {
        "id": s.id,
        "tracking_number": s.tracking_number,
        "carrier": s.carrier,
        "tracking_url": tracking_url,
        "status": s.status,
        "substatus": s.substatus,
        "promised_delivery": None,
        "estimated_delivery": _window(s.estimated_earliest, s.estimated_latest),
        "carrier_estimated_delivery": s.carrier_estimated_delivery,
        "predicted_late": bool(s.predicted_late),
        "stalled": bool(s.stalled),
        "last_event_at": s.last_event_at,
        "delivered_at": s.delivered_at,
        "proof_of_delivery": s.proof_of_delivery,
        "created_at": s.created_at,
    }


class SqlTracking:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def order_tracking(self, order_id: str) -> dict[str, Any] | None:
        rows = self.c.execute(
            select(
                orders.c.id.label("order_id"),
                orders.c.status.label("order_status"),
                orders.c.buyer_id,
                orders.c.seller_id,
                orders.c.promised_earliest,
                orders.c.promised_latest,
                shipments,
            )
            .select_from(orders.outerjoin(shipments, shipments.c.order_id == orders.c.id))
            .where(orders.c.id == order_id)
            .order_by(shipments.c.created_at, shipments.c.id)
        ).all()
        if not rows:
            return None
        head = rows[0]
        promised = _window(head.promised_earliest, head.promised_latest)
        views = []
        for r in rows:
            if r.id is None:
                continue
            v = shipment_view(r)
            v["promised_delivery"] = promised
            views.append(v)
        if views:
            events: dict[str, list[dict[str, Any]]] = defaultdict(list)
            q = (
                select(*_EVENT_COLS)
                .where(_E.shipment_id.in_([v["id"] for v in views]))
                .order_by(_E.occurred_at.desc(), _E.id.desc())
            )
            for e in self.c.execute(q):
                events[e.shipment_id].append(_event(e))
            for v in views:
                v["events"] = events.get(v["id"], [])
        return {
            "order_id": head.order_id,
            "order_status": head.order_status,
            "buyer_id": head.buyer_id,
            "seller_id": head.seller_id,
            "shipments": views,
        }
