"""The monitoring sweeps' SQL: each read is one range over a partial index, bounded by a cut-off
computed in Python and by a look-back, so its cost follows the number of findings, not of shipments.

"Notify once" for conditions without a flag of their own (ship-by overdue, no first scan) is an
anti-join on the outbox's unique dedupe key, built here as `notify.messages` builds it:
`<condition>:<subject>[:<occurrence>]:<recipient>`, checked for the seller's copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    not_,
    select,
    text,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from ordertrail.adapters.db.rows import utc_day
from ordertrail.adapters.db.tables import order_status_history, orders, outbox, shipments
from ordertrail.domain.monitoring import INTERNATIONAL
from ordertrail.services.ports_monitoring import OverdueOrder, StallCutoffs, WatchedShipment

S, O = shipments, orders  # noqa: E741  (short names keep the queries readable)
# Literal text so that SQLite sees the partial index's own predicate (a bound value would not match).
AWAITING = text("orders.status = 'awaiting_shipment'")


def _destination() -> ColumnElement[Any]:
    return O.c.shipping_address["country_code"].as_string()


def _international(origin_country: str) -> ColumnElement[bool]:
    dest = _destination()
    return and_(dest.is_not(None), dest != "", func.upper(dest) != origin_country.upper())


def _at(value: datetime) -> ColumnElement[Any]:
    return literal(value, S.c.last_event_at.type)


def _watched(r: Any) -> WatchedShipment:
    m = r._mapping
    return WatchedShipment(
        shipment_id=r.id,
        order_id=r.order_id,
        buyer_id=r.buyer_id,
        seller_id=r.seller_id,
        carrier=r.carrier,
        tracking_number=r.tracking_number,
        status=r.status,
        event_count=r.event_count,
        last_event_at=r.last_event_at,
        tracking_added_at=r.tracking_added_at,
        destination_country=m.get("destination"),
        estimated=(r.estimated_earliest, r.estimated_latest)
        if r.estimated_earliest and r.estimated_latest
        else None,
        promised=(m["promised_earliest"], m["promised_latest"]) if "promised_latest" in m else None,
        predicted_late=bool(r.predicted_late),
    )


_SHIPMENT_COLUMNS = (
    S.c.id,
    S.c.order_id,
    S.c.carrier,
    S.c.tracking_number,
    S.c.status,
    S.c.event_count,
    S.c.last_event_at,
    S.c.tracking_added_at,
    S.c.estimated_earliest,
    S.c.estimated_latest,
    S.c.predicted_late,
    O.c.buyer_id,
    O.c.seller_id,
)


class SqlMonitoring:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def overdue_orders(self, now: datetime, since: datetime, limit: int) -> list[OverdueOrder]:
        key = literal("ship_by_overdue:") + O.c.id + literal(":") + O.c.seller_id
        q = (
            select(O.c.id, O.c.buyer_id, O.c.seller_id, O.c.ship_by)
            .where(AWAITING, O.c.ship_by < now, O.c.ship_by >= since)
            .where(~exists().where(outbox.c.dedupe_key == key))
            .order_by(O.c.ship_by)
            .limit(limit)
        )
        return [OverdueOrder(r.id, r.buyer_id, r.seller_id, r.ship_by) for r in self.c.execute(q)]

    def cancel_unshipped(
        self, ship_by_before: datetime, since: datetime, at: datetime, reason: str, limit: int
    ) -> list[OverdueOrder]:
        ids = [
            r.id
            for r in self.c.execute(
                select(O.c.id)
                .where(AWAITING, O.c.ship_by < ship_by_before, O.c.ship_by >= since)
                .order_by(O.c.ship_by)
                .limit(limit)
            )
        ]
        if not ids:
            return []
        cancelled = self.c.execute(
            update(O)
            .where(O.c.id.in_(ids), O.c.status == "awaiting_shipment")
            .values(
                status="cancelled",
                cancelled_at=at,
                cancel_reason=reason,
                cancelled_by="system",
                updated_at=at,
            )
            .returning(O.c.id, O.c.buyer_id, O.c.seller_id, O.c.ship_by)
        ).all()
        if cancelled:
            self.c.execute(
                insert(order_status_history),
                [
                    {
                        "order_id": r.id,
                        "at": at,
                        "old_status": "awaiting_shipment",
                        "new_status": "cancelled",
                        "reason": "cancelled by system: not shipped",
                    }
                    for r in cancelled
                ],
            )
        return [OverdueOrder(r.id, r.buyer_id, r.seller_id, r.ship_by) for r in cancelled]

    def unscanned(self, added_before: datetime, since: datetime, limit: int) -> list[WatchedShipment]:
        key = (
            literal("no_first_scan:")
            + S.c.id
            + literal(":")
            + S.c.tracking_number
            + literal(":")
            + O.c.seller_id
        )
        q = (
            select(*_SHIPMENT_COLUMNS)
            .join(O, O.c.id == S.c.order_id)
            .where(
                S.c.active,
                S.c.first_scan_at.is_(None),
                S.c.tracking_added_at < added_before,
                S.c.tracking_added_at >= since,
                S.c.tracking_number.is_not(None),
            )
            .where(~exists().where(outbox.c.dedupe_key == key))
            .order_by(S.c.tracking_added_at)
            .limit(limit)
        )
        return [_watched(r) for r in self.c.execute(q)]

    def stall_candidates(self, cutoffs: StallCutoffs, since: datetime, limit: int) -> list[WatchedShipment]:
        intl = _international(cutoffs.origin_country)
        whens = [
            (and_(S.c.carrier == carrier, intl if lane_name == INTERNATIONAL else not_(intl)), _at(cut))
            for (carrier, lane_name), cut in sorted(cutoffs.by_carrier_lane.items())
        ]
        default = case((intl, _at(cutoffs.by_lane[INTERNATIONAL])), else_=_at(cutoffs.by_lane["domestic"]))
        own_cutoff = case(*whens, else_=default) if whens else default
        q = (
            select(*_SHIPMENT_COLUMNS, _destination().label("destination"))
            .join(O, O.c.id == S.c.order_id)
            .where(
                S.c.active,
                ~S.c.stalled,
                S.c.status == cutoffs.status,
                # The watch's range, by day (its key); then the instants, read from the rows.
                S.c.last_event_on >= utc_day(since),
                S.c.last_event_on <= utc_day(cutoffs.latest),
                S.c.last_event_at < cutoffs.latest,
                S.c.last_event_at >= since,
                S.c.last_event_at < own_cutoff,
            )
            .order_by(S.c.last_event_on)
            .limit(limit)
        )
        return [_watched(r) for r in self.c.execute(q)]

    def mark_stalled(self, shipment_ids: Sequence[str], before: datetime) -> set[str]:
        if not shipment_ids:
            return set()
        result = self.c.execute(
            update(S)
            .where(
                S.c.id.in_(list(shipment_ids)),
                S.c.active,
                ~S.c.stalled,
                S.c.last_event_at < before,
            )
            .values(stalled=True)
            .returning(S.c.id)
        )
        return {r.id for r in result}
