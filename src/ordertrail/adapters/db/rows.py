"""Mapping between table rows and domain objects, and the cursor format of list endpoints."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

from ordertrail.domain.errors import ValidationFailed
from ordertrail.domain.events import ProofOfDelivery, in_range
from ordertrail.domain.shipments import Shipment, decode_sort_key, encode_sort_key
from ordertrail.domain.statuses import ShipmentStatus


def encode_cursor(at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.split("|", 1)
        parsed = datetime.fromisoformat(at)
        # Only what we hand out: an aware time in the years we store (a year-1 time overflows on
        # its way to UTC), and an id without NUL (PostgreSQL cannot compare text holding one).
        if parsed.tzinfo is None or not in_range(parsed) or "\x00" in row_id:
            raise ValueError
        return parsed, row_id
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed.bad_cursor() from None


def pod_from_json(value: dict[str, Any] | None) -> ProofOfDelivery | None:
    if not value:
        return None
    return ProofOfDelivery(value.get("type", "photo"), value.get("url"), value.get("signed_by"))


def pod_to_json(pod: ProofOfDelivery | None) -> dict[str, Any] | None:
    if pod is None:
        return None
    out: dict[str, Any] = {"type": pod.type}
    if pod.url:
        out["url"] = pod.url
    if pod.signed_by:
        out["signed_by"] = pod.signed_by
    return out


def shipment_from_row(r: Any) -> Shipment:
    return Shipment(
        id=r.id,
        order_id=r.order_id,
        carrier=r.carrier,
        tracking_number=r.tracking_number,
        items=[(sku, int(q)) for sku, q in r.items] if r.items is not None else None,
        status=ShipmentStatus(r.status),
        substatus=r.substatus,
        created_at=r.created_at,
        tracking_added_at=r.tracking_added_at,
        ship_by=r.ship_by,
        first_scan_at=r.first_scan_at,
        last_event_at=r.last_event_at,
        delivered_at=r.delivered_at,
        carrier_estimated_delivery=r.carrier_estimated_delivery,
        estimated_earliest=r.estimated_earliest,
        estimated_latest=r.estimated_latest,
        predicted_late=bool(r.predicted_late),
        stalled=bool(r.stalled),
        proof_of_delivery=pod_from_json(r.proof_of_delivery),
        last_key=decode_sort_key(r.last_key),
        event_count=r.event_count,
    )


def utc_day(at: datetime | None) -> date | None:
    """The UTC day of an instant: what the stall watch indexes (see tables.shipments)."""
    return at.astimezone(UTC).date() if at is not None else None


def shipment_state_values(s: Shipment) -> dict[str, Any]:
    return {
        "status": s.status.value,
        "substatus": s.substatus,
        "first_scan_at": s.first_scan_at,
        "last_event_at": s.last_event_at,
        "last_event_on": utc_day(s.last_event_at),
        "delivered_at": s.delivered_at,
        "carrier_estimated_delivery": s.carrier_estimated_delivery,
        "estimated_earliest": s.estimated_earliest,
        "estimated_latest": s.estimated_latest,
        "predicted_late": s.predicted_late,
        "stalled": s.stalled,
        "proof_of_delivery": pod_to_json(s.proof_of_delivery),
        "last_key": encode_sort_key(s.last_key),
        "event_count": s.event_count,
        "active": s.active,
    }
