"""Inbound webhook payloads and carrier poll bookkeeping in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ordertrail.adapters.db.tables import orders, shipments, tracking_events
from ordertrail.adapters.db.tables_carriers import carrier_polls, inbound_payloads
from ordertrail.domain.events import Location
from ordertrail.services.ports_carriers import DueShipment, NewPayload, Parcel

_P = inbound_payloads.c


class SqlInboundPayloads:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def _find(self, provider: str, body_sha256: str) -> int | None:
        q = select(_P.id).where(_P.provider == provider, _P.body_sha256 == body_sha256)
        found: int | None = self.c.execute(q).scalar()
        return found

    def find_or_add(self, payload: NewPayload) -> tuple[int, bool]:
        existing = self._find(payload.provider, payload.body_sha256)
        if existing is not None:
            return existing, False
        values = {
            "provider": payload.provider,
            "body_sha256": payload.body_sha256,
            "body": payload.body,
            "received_at": payload.received_at,
            "tracking_number": payload.tracking_number,
            "delivery_id": payload.delivery_id,
            "unknown_codes": payload.unknown_codes,
        }
        try:
            # A savepoint, so that losing the race against the same delivery arriving twice at once
            # leaves the transaction usable.
            with self.c.begin_nested():
                new_id: int = self.c.execute(
                    insert(inbound_payloads).values(**values).returning(_P.id)
                ).scalar_one()
            return new_id, True
        except IntegrityError:
            again = self._find(payload.provider, payload.body_sha256)
            if again is None:
                raise
            return again, False

    def record_outcome(self, payload_id: int, accepted: int, duplicates: int, rejected: int) -> None:
        self.c.execute(
            update(inbound_payloads)
            .where(_P.id == payload_id, _P.accepted.is_(None))
            .values(accepted=accepted, duplicates=duplicates, rejected=rejected)
        )

    def for_shipment(self, shipment_id: str, limit: int, before_id: int | None) -> list[dict[str, Any]]:
        linked = (
            select(tracking_events.c.source_id, func.count().label("events"))
            .where(tracking_events.c.shipment_id == shipment_id, tracking_events.c.source_id.is_not(None))
            .group_by(tracking_events.c.source_id)
            .subquery()
        )
        q = (
            select(inbound_payloads, linked.c.events)
            .join(linked, linked.c.source_id == _P.id)
            .order_by(_P.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            q = q.where(_P.id < before_id)
        out = []
        for r in self.c.execute(q):
            row = dict(r._mapping)
            body = bytes(row["body"])
            try:
                row["body"] = json.loads(body)
            except ValueError:  # stored only after it parsed, but keep the listing alive regardless
                row["body"] = body.decode("utf-8", errors="replace")
            out.append(row)
        return out

    def purge(self, received_before: datetime, limit: int) -> int:
        # Oldest first, a bounded number per call, so one sweep never holds a long transaction.
        doomed = select(_P.id).where(_P.received_at < received_before).order_by(_P.id).limit(limit)
        ids = [r.id for r in self.c.execute(doomed)]
        if not ids:
            return 0
        self.c.execute(delete(inbound_payloads).where(_P.id.in_(ids)))
        return len(ids)


_S = shipments.c
_C = carrier_polls.c


def _destination(address: Any) -> Location | None:
    if isinstance(address, str):
        address = json.loads(address)
    if not isinstance(address, dict):
        return None
    return Location(
        address.get("city") or None,
        address.get("country_area") or None,
        address.get("postal_code") or None,
        address.get("country_code") or None,
    )


class SqlCarrierPolls:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def due(self, carrier: str, polled_before: datetime, limit: int) -> list[DueShipment]:
        q = (
            select(_S.id, _S.tracking_number, _S.tracking_added_at, orders.c.shipping_address)
            .select_from(
                shipments.join(orders, orders.c.id == _S.order_id).outerjoin(
                    carrier_polls, _C.shipment_id == _S.id
                )
            )
            .where(
                _S.carrier == carrier,
                _S.active.is_(True),
                _S.tracking_number.is_not(None),
                (_C.last_polled_at.is_(None)) | (_C.last_polled_at <= polled_before),
            )
            .order_by(_C.last_polled_at.is_not(None), _C.last_polled_at, _S.tracking_added_at, _S.id)
            .limit(limit)
        )
        return [
            DueShipment(
                r.id, Parcel(r.tracking_number, r.tracking_added_at, _destination(r.shipping_address))
            )
            for r in self.c.execute(q)
        ]

    def _upsert(self, rows: list[dict[str, Any]], changes: dict[str, Any]) -> None:
        dialect = postgresql if self.c.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(carrier_polls).values(rows)
        self.c.execute(
            stmt.on_conflict_do_update(
                index_elements=[_C.shipment_id],
                set_={
                    key: (value(stmt.excluded) if callable(value) else value)
                    for key, value in changes.items()
                },
            )
        )

    def mark_polled(self, carrier: str, shipment_ids: Sequence[str], at: datetime, error: str | None) -> None:
        if not shipment_ids:
            return
        self._upsert(
            [
                {
                    "shipment_id": sid,
                    "carrier": carrier,
                    "last_polled_at": at,
                    "polls": 1,
                    "last_error": error,
                }
                for sid in shipment_ids
            ],
            {
                "carrier": lambda new: new.carrier,
                "last_polled_at": lambda new: new.last_polled_at,
                "polls": _C.polls + 1,
                "last_error": lambda new: new.last_error,
            },
        )

    def overdue(self, carrier: str, added_before: datetime, limit: int) -> list[tuple[str, str]]:
        q = (
            select(_S.id, _S.tracking_number)
            .select_from(shipments.outerjoin(carrier_polls, _C.shipment_id == _S.id))
            .where(
                _S.carrier == carrier,
                _S.active.is_(True),
                _S.tracking_number.is_not(None),
                _S.tracking_added_at < added_before,
                _C.retired_at.is_(None),
            )
            .order_by(_S.tracking_added_at, _S.id)
            .limit(limit)
        )
        return [(r.id, r.tracking_number) for r in self.c.execute(q)]

    def mark_retired(self, carrier: str, shipment_ids: Sequence[str], at: datetime) -> None:
        if not shipment_ids:
            return
        self._upsert(
            [
                {"shipment_id": sid, "carrier": carrier, "last_polled_at": at, "polls": 0, "retired_at": at}
                for sid in shipment_ids
            ],
            {"retired_at": lambda new: new.retired_at},
        )
