"""Domain objects shaped as the API's JSON."""

from __future__ import annotations

from typing import Any

from ordertrail.adapters.db.rows import pod_to_json
from ordertrail.domain.orders import Order
from ordertrail.domain.shipments import Shipment
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.ports_eta import EstimateChange


def user_view(u: User, api_key: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": u.id,
        "role": u.role,
        "name": u.name,
        "email": u.email,
        "created_at": u.created_at,
    }
    if api_key is not None:
        out["api_key"] = api_key
    return out


def shipment_view(deps: Deps, s: Shipment, order: Order | None = None) -> dict[str, Any]:
    return {
        "id": s.id,
        "order_id": s.order_id,
        "tracking_number": s.tracking_number,
        "carrier": s.carrier,
        "tracking_url": deps.tracking_url(s.carrier, s.tracking_number),
        "status": s.status,
        "substatus": s.substatus,
        "items": [{"sku": sku, "quantity": q} for sku, q in s.items] if s.items is not None else None,
        "promised_delivery": {"earliest": order.promised_earliest, "latest": order.promised_latest}
        if order
        else None,
        "estimated_delivery": {"earliest": s.estimated_earliest, "latest": s.estimated_latest}
        if s.estimated_earliest and s.estimated_latest
        else None,
        "carrier_estimated_delivery": s.carrier_estimated_delivery,
        "predicted_late": s.predicted_late,
        "stalled": s.stalled,
        "last_event_at": s.last_event_at,
        "delivered_at": s.delivered_at,
        "proof_of_delivery": pod_to_json(s.proof_of_delivery),
        "created_at": s.created_at,
    }


def estimate_change_view(c: EstimateChange) -> dict[str, Any]:
    return {
        "at": c.at,
        "shipment_id": c.shipment_id,
        "old": {"earliest": c.old[0], "latest": c.old[1]} if c.old else None,
        "new": {"earliest": c.new[0], "latest": c.new[1]},
        "predicted_late": c.predicted_late,
        "reason": c.reason,
        "trigger": c.trigger,
    }


def order_view(deps: Deps, o: Order, shipments: list[Shipment] | None = None) -> dict[str, Any]:
    return {
        "id": o.id,
        "buyer_id": o.buyer_id,
        "seller_id": o.seller_id,
        "status": o.status,
        "placed_at": o.placed_at,
        "items": [
            {"sku": i.sku, "title": i.title, "quantity": i.quantity, "unit_price": i.unit_price}
            for i in o.items
        ],
        "currency": o.currency,
        "subtotal": o.subtotal,
        "shipping_fee": o.shipping_fee,
        "total": o.total,
        "shipping_address": o.shipping_address,
        "shipping_service": o.shipping_service,
        "ship_by": o.ship_by,
        "promised_delivery": {"earliest": o.promised_earliest, "latest": o.promised_latest},
        "cancellation": {"at": o.cancelled_at, "reason": o.cancel_reason, "by": o.cancelled_by}
        if o.cancelled_at
        else None,
        "shipments": [shipment_view(deps, s, o) for s in (shipments or [])],
    }
