"""Shipments, their tracking events and the status histories in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from ordertrail.adapters.db.engine import insert_ignore
from ordertrail.adapters.db.rows import pod_from_json, pod_to_json, shipment_from_row, shipment_state_values
from ordertrail.adapters.db.tables import (
    order_status_history,
    orders,
    shipment_status_history,
    shipments,
    tracking_events,
)
from ordertrail.domain.events import Location, ScanEvent
from ordertrail.domain.shipments import Shipment
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.services.ports import StatusChange

CLOSED_ORDER_STATUSES = ("cancelled", "completed")


class SqlShipments:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add(self, s: Shipment) -> None:
        self.c.execute(
            shipments.insert().values(
                id=s.id,
                order_id=s.order_id,
                carrier=s.carrier,
                tracking_number=s.tracking_number,
                items=[list(i) for i in s.items] if s.items is not None else None,
                created_at=s.created_at,
                tracking_added_at=s.tracking_added_at,
                ship_by=s.ship_by,
                **shipment_state_values(s),
            )
        )

    def get(self, shipment_id: str, *, for_update: bool = False) -> Shipment | None:
        q = select(shipments).where(shipments.c.id == shipment_id)
        if for_update and self.c.dialect.name == "postgresql":
            q = q.with_for_update()
        r = self.c.execute(q).first()
        return shipment_from_row(r) if r else None

    def for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Shipment]]:
        out: dict[str, list[Shipment]] = defaultdict(list)
        q = (
            select(shipments)
            .where(shipments.c.order_id.in_(order_ids))
            .order_by(shipments.c.created_at, shipments.c.id)
        )
        for r in self.c.execute(q):
            out[r.order_id].append(shipment_from_row(r))
        return out

    def open_with_number(self, carrier: str, tracking_number: str) -> list[tuple[str, str]]:
        q = (
            select(shipments.c.id, shipments.c.order_id)
            .join(orders, orders.c.id == shipments.c.order_id)
            .where(
                shipments.c.tracking_number == tracking_number,
                shipments.c.carrier == carrier,
                orders.c.status.not_in(CLOSED_ORDER_STATUSES),
            )
        )
        return [(r.id, r.order_id) for r in self.c.execute(q)]

    def carriers_used_by(self, seller_id: str) -> frozenset[str]:
        q = (
            select(shipments.c.carrier)
            .join(orders, orders.c.id == shipments.c.order_id)
            .where(orders.c.seller_id == seller_id, shipments.c.carrier.is_not(None))
            .distinct()
        )
        return frozenset(r.carrier for r in self.c.execute(q))

    def set_tracking(self, shipment_id: str, carrier: str, tracking_number: str, at: datetime) -> None:
        self.c.execute(
            update(shipments)
            .where(shipments.c.id == shipment_id)
            .values(carrier=carrier, tracking_number=tracking_number, tracking_added_at=at)
        )

    def by_tracking_numbers(self, numbers: Iterable[str]) -> dict[str, list[tuple[Shipment, str, str]]]:
        """Shipments by number with their order's buyer and seller, newest live one first."""
        numbers = list(numbers)
        out: dict[str, list[tuple[Shipment, str, str]]] = defaultdict(list)
        if not numbers:
            return out
        q = (
            select(shipments, orders.c.buyer_id, orders.c.seller_id, orders.c.status.label("order_status"))
            .join(orders, orders.c.id == shipments.c.order_id)
            .where(shipments.c.tracking_number.in_(numbers))
        )
        rows = sorted(
            self.c.execute(q),
            key=lambda r: (r.order_status in CLOSED_ORDER_STATUSES, -r.created_at.timestamp()),
        )
        for r in rows:
            out[r.tracking_number].append((shipment_from_row(r), r.buyer_id, r.seller_id))
        return out

    def by_tracking_number(self, number: str) -> Shipment | None:
        refs = self.by_tracking_numbers([number]).get(number)
        return refs[0][0] if refs else None

    def save_states(self, items: Sequence[Shipment]) -> None:
        if not items:
            return
        values = [{"sid": s.id, **shipment_state_values(s)} for s in items]
        stmt = (
            update(shipments)
            .where(shipments.c.id == bindparam("sid"))
            .values({k: bindparam(k) for k in values[0] if k != "sid"})
        )
        self.c.execute(stmt, values)


def _event_row(
    shipment_id: str, e: ScanEvent, received_at: datetime, source_id: int | None
) -> dict[str, Any]:
    loc = e.location or Location()
    return {
        "shipment_id": shipment_id,
        "id": e.content_hash,
        "provider_event_id": e.event_id,
        "occurred_at": e.occurred_at,
        "utc_offset_min": e.utc_offset_minutes,
        "offset_source": e.offset_source,
        "status": e.status.value,
        "substatus": e.substatus,
        "description": e.description,
        "carrier_code": e.carrier_code,
        "raw_status": e.raw_status,
        "city": loc.city,
        "region": loc.region,
        "postal_code": loc.postal_code,
        "country_code": loc.country_code,
        "estimated_delivery": e.estimated_delivery,
        "proof_of_delivery": pod_to_json(e.proof_of_delivery),
        "received_at": received_at,
        "source_id": source_id,
    }


def event_from_row(r: Any, tracking_number: str, carrier: str | None) -> ScanEvent:
    loc = None
    if any((r.city, r.region, r.postal_code, r.country_code)):
        loc = Location(r.city, r.region, r.postal_code, r.country_code)
    return ScanEvent(
        tracking_number=tracking_number,
        occurred_at=r.occurred_at.astimezone(timezone(timedelta(minutes=r.utc_offset_min))),
        status=ShipmentStatus(r.status),
        description=r.description,
        substatus=r.substatus,
        carrier=carrier,
        carrier_code=r.carrier_code,
        event_id=r.provider_event_id,
        location=loc,
        offset_source=r.offset_source,
        estimated_delivery=r.estimated_delivery,
        proof_of_delivery=pod_from_json(r.proof_of_delivery),
        raw_status=r.raw_status,
    )


class SqlEvents:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def insert_new(
        self, rows: Sequence[tuple[str, ScanEvent]], received_at: datetime, source_id: int | None
    ) -> set[tuple[str, str]]:
        if not rows:
            return set()
        stmt = insert_ignore(tracking_events, self.c.dialect.name).returning(
            tracking_events.c.shipment_id, tracking_events.c.id
        )
        result = self.c.execute(stmt, [_event_row(sid, e, received_at, source_id) for sid, e in rows])
        return {(r[0], r[1]) for r in result}

    def for_shipments(self, shipment_ids: Sequence[str]) -> dict[str, list[ScanEvent]]:
        q = (
            select(tracking_events, shipments.c.tracking_number, shipments.c.carrier)
            .join(shipments, shipments.c.id == tracking_events.c.shipment_id)
            .where(tracking_events.c.shipment_id.in_(shipment_ids))
        )
        out: dict[str, list[ScanEvent]] = defaultdict(list)
        for r in self.c.execute(q):
            out[r.shipment_id].append(event_from_row(r, r.tracking_number, r.carrier))
        return out


class SqlHistory:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def _rows(self, changes: Sequence[StatusChange], key: str) -> list[dict[str, Any]]:
        return [
            {key: ch.subject_id, "at": ch.at, "old_status": ch.old, "new_status": ch.new, "reason": ch.reason}
            for ch in changes
        ]

    def shipment_changes(self, changes: Sequence[StatusChange]) -> None:
        if changes:
            self.c.execute(shipment_status_history.insert(), self._rows(changes, "shipment_id"))

    def order_changes(self, changes: Sequence[StatusChange]) -> None:
        if changes:
            self.c.execute(order_status_history.insert(), self._rows(changes, "order_id"))

    def for_order(self, order_id: str) -> list[dict[str, Any]]:
        q = (
            select(order_status_history)
            .where(order_status_history.c.order_id == order_id)
            .order_by(order_status_history.c.id)
        )
        return [dict(r._mapping) for r in self.c.execute(q)]
