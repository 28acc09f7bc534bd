"""The tracking read model: an order with its shipments and events in one query, shaped for JSON."""

from __future__ import annotations

from datetime import timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, select

from ordertrail.adapters.db.tables import orders, shipments, tracking_events

_E = tracking_events.c
# Labelled apart from the shipment's own columns (id, status, substatus) in the one joined row.
_EVENT_COLS = (
    _E.id.label("e_id"),
    _E.occurred_at.label("e_occurred_at"),
    _E.utc_offset_min,
    _E.offset_source,
    _E.status.label("e_status"),
    _E.substatus.label("e_substatus"),
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


@lru_cache(maxsize=256)
def _offset(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


def _event(r: Any) -> dict[str, Any]:
    offset = _offset(r.utc_offset_min)
    has_loc = r.city or r.region or r.postal_code or r.country_code
    return {
        "id": r.e_id,
        "occurred_at": r.e_occurred_at,
        "local_time": r.e_occurred_at.astimezone(offset).isoformat(),
        "offset_source": r.offset_source,
        "status": r.e_status,
        "substatus": r.e_substatus,
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
        """One statement: the order, its shipments and their events, one row per event (or per
        shipment without events, or one for an order without shipments). Events come newest first."""
        rows = self.c.execute(_ORDER_TRACKING, {"order_id": order_id}).all()
        if not rows:
            return None
        head = rows[0]
        promised = _window(head.promised_earliest, head.promised_latest)
        views: list[dict[str, Any]] = []
        current: dict[str, Any] | None = None
        for r in rows:
            if r.id is None:
                continue
            if current is None or current["id"] != r.id:
                current = shipment_view(r)
                current["promised_delivery"] = promised
                current["events"] = []
                views.append(current)
            if r.e_id is not None:
                current["events"].append(_event(r))
        return {
            "order_id": head.order_id,
            "order_status": head.order_status,
            "buyer_id": head.buyer_id,
            "seller_id": head.seller_id,
            "shipments": views,
        }


_ORDER_TRACKING = (
    select(
        orders.c.id.label("order_id"),
        orders.c.status.label("order_status"),
        orders.c.buyer_id,
        orders.c.seller_id,
        orders.c.promised_earliest,
        orders.c.promised_latest,
        shipments,
        *_EVENT_COLS,
    )
    .select_from(
        orders.outerjoin(shipments, shipments.c.order_id == orders.c.id).outerjoin(
            tracking_events, tracking_events.c.shipment_id == shipments.c.id
        )
    )
    .where(orders.c.id == bindparam("order_id"))
    .order_by(shipments.c.created_at, shipments.c.id, _E.occurred_at.desc(), _E.id.desc())
)
