"""Delivery estimates in SQL: the lanes re-estimation reads, the estimate history, fitted models.

Reads are Core queries over a batch of ids or an index range; the writes on the ingest path (history
rows, next checks) are one driver-level statement per batch (see `driver`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from ordertrail.adapters.db.driver import Values, execute_many, insert_values
from ordertrail.adapters.db.tables import orders, shipments
from ordertrail.adapters.db.tables_eta import eta_history, eta_models
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.services.ports_eta import (
    EstimateChange,
    EstimateSubject,
    OrderLane,
    PastShipment,
    StoredModel,
)

S, O, H = shipments, orders, eta_history  # noqa: E741
KEEP_MODELS = 5  # older fits are dropped when a new one is stored

_ADDRESS = O.c.shipping_address
_LANE_COLUMNS = (
    O.c.id.label("o_id"),
    O.c.buyer_id,
    O.c.seller_id,
    O.c.placed_at,
    O.c.promised_earliest,
    O.c.promised_latest,
    O.c.shipping_service,
    _ADDRESS["country_code"].as_string().label("dest_country"),
    _ADDRESS["country_area"].as_string().label("dest_region"),
    _ADDRESS["postal_code"].as_string().label("dest_postal"),
)
_SUBJECT_COLUMNS = (
    S.c.id,
    S.c.status,
    S.c.first_scan_at,
    S.c.last_event_at,
    S.c.delivered_at,
    S.c.carrier_estimated_delivery,
    S.c.estimated_earliest,
    S.c.estimated_latest,
    S.c.predicted_late,
    S.c.event_count,
    *_LANE_COLUMNS,
)


_LANE_SELECT = (
    "SELECT id, buyer_id, seller_id, placed_at, promised_earliest, promised_latest, shipping_service, "
    "{address} FROM orders WHERE id {member}"
)
_LANES_SQLITE = _LANE_SELECT.format(
    address=", ".join(
        f"CAST(json_extract(shipping_address, '$.{k}') AS TEXT)"
        for k in ("country_code", "country_area", "postal_code")
    ),
    member="IN ({marks})",
)
_LANES_PG = _LANE_SELECT.format(
    address=", ".join(f"shipping_address->>'{k}'" for k in ("country_code", "country_area", "postal_code")),
    member="= ANY(%s)",
)


def _order_lane(
    order_id: str,
    buyer_id: str,
    seller_id: str,
    placed_at: datetime,
    promised: tuple[date, date],
    service: str,
    country: str | None,
    area: str | None,
    postal: str | None,
) -> OrderLane:
    return OrderLane(
        order_id=order_id,
        buyer_id=buyer_id,
        seller_id=seller_id,
        placed_at=placed_at,
        promised=promised,
        shipping_service=service,
        destination={"country_code": country or "", "country_area": area or "", "postal_code": postal or ""},
    )


def _lane(r: Any) -> OrderLane:
    return _order_lane(
        r.o_id,
        r.buyer_id,
        r.seller_id,
        r.placed_at,
        (r.promised_earliest, r.promised_latest),
        r.shipping_service,
        r.dest_country,
        r.dest_region,
        r.dest_postal,
    )


def _subject(r: Any) -> EstimateSubject:
    return EstimateSubject(
        shipment_id=r.id,
        order=_lane(r),
        status=ShipmentStatus(r.status),
        first_scan_at=r.first_scan_at,
        last_event_at=r.last_event_at,
        delivered_at=r.delivered_at,
        carrier_estimate=r.carrier_estimated_delivery,
        estimated=(r.estimated_earliest, r.estimated_latest)
        if r.estimated_earliest and r.estimated_latest
        else None,
        predicted_late=bool(r.predicted_late),
        event_count=r.event_count,
    )


class SqlEstimates:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def order_lanes(self, order_ids: Sequence[str]) -> dict[str, OrderLane]:
        """The ingest hot path: through the driver, values converted here (see adapters.db.driver)."""
        if not order_ids:
            return {}
        v = Values(self.c)
        ids = sorted(set(order_ids))
        if v.sqlite:
            sql = _LANES_SQLITE.format(marks=", ".join("?" * len(ids)))
            params: tuple[Any, ...] = tuple(ids)
        else:
            sql, params = _LANES_PG, (ids,)
        return {
            oid: _order_lane(
                oid,
                buyer,
                seller,
                v.read_dt(placed),
                (v.read_day(early), v.read_day(late)),
                *rest,  # type: ignore[arg-type]
            )
            for oid, buyer, seller, placed, early, late, *rest in self.c.exec_driver_sql(sql, params)
        }

    def subjects(self, shipment_ids: Sequence[str]) -> list[EstimateSubject]:
        if not shipment_ids:
            return []
        q = (
            select(*_SUBJECT_COLUMNS)
            .join(O, O.c.id == S.c.order_id)
            .where(S.c.id.in_(list(shipment_ids)))
            .order_by(S.c.id)
        )
        return [_subject(r) for r in self.c.execute(q)]

    def due(self, today: date, limit: int) -> list[EstimateSubject]:
        q = (
            select(*_SUBJECT_COLUMNS)
            .join(O, O.c.id == S.c.order_id)
            .where(S.c.active, S.c.estimate_due_on <= today)
            .order_by(S.c.estimate_due_on, S.c.estimated_latest, S.c.id)
            .limit(limit)
        )
        return [_subject(r) for r in self.c.execute(q)]

    def expired(self, today: date, statuses: Sequence[str], limit: int) -> list[EstimateSubject]:
        q = (
            select(*_SUBJECT_COLUMNS)
            .join(O, O.c.id == S.c.order_id)
            # A window that ended is due too (its check is at most the day after): the range of the
            # due index, filtered on its second column.
            .where(
                S.c.active,
                S.c.estimate_due_on <= today,
                S.c.estimated_latest < today,
                S.c.status.in_(list(statuses)),
            )
            .order_by(S.c.estimate_due_on, S.c.estimated_latest, S.c.id)
            .limit(limit)
        )
        return [_subject(r) for r in self.c.execute(q)]

    def save(self, rows: Sequence[tuple[str, int, date, date, bool, date]]) -> set[str]:
        if not rows:
            return set()
        if self.c.dialect.name == "postgresql":
            # One statement; a shipment whose events moved on since the read (ingest holds its row
            # lock meanwhile) keeps the estimate ingest gave it.
            sids, counts, earliest, latest, late, due = (list(x) for x in zip(*rows, strict=True))
            result = self.c.exec_driver_sql(
                "UPDATE shipments AS s SET estimated_earliest = v.e, estimated_latest = v.l, "
                "predicted_late = v.p, estimate_due_on = v.d "
                "FROM unnest(%s::text[], %s::int[], %s::date[], %s::date[], %s::boolean[], %s::date[]) "
                "AS v(id, n, e, l, p, d) WHERE s.id = v.id AND s.event_count = v.n RETURNING s.id",
                (sids, counts, earliest, latest, late, due),
            )
            return {r[0] for r in result}
        # SQLite: the sweep's transaction holds the database's write lock from its first read.
        v = Values(self.c)
        execute_many(
            self.c,
            "UPDATE shipments SET estimated_earliest = ?, estimated_latest = ?, predicted_late = ?, "
            "estimate_due_on = ? WHERE id = ? AND event_count = ?",
            [(v.day(e), v.day(lt), late, v.day(d), sid, n) for sid, n, e, lt, late, d in rows],
        )
        return {r[0] for r in rows}

    def set_next_checks(self, rows: Sequence[tuple[str, date]]) -> None:
        if not rows:
            return
        if self.c.dialect.name == "postgresql":
            sids, due = (list(x) for x in zip(*rows, strict=True))
            self.c.exec_driver_sql(
                "UPDATE shipments AS s SET estimate_due_on = v.d "
                "FROM unnest(%s::text[], %s::date[]) AS v(id, d) WHERE s.id = v.id",
                (sids, due),
            )
            return
        v = Values(self.c)
        execute_many(
            self.c,
            "UPDATE shipments SET estimate_due_on = ? WHERE id = ?",
            [(v.day(d), sid) for sid, d in rows],
        )

    def record(self, changes: Sequence[EstimateChange]) -> None:
        v = Values(self.c)
        insert_values(
            self.c,
            "eta_history",
            (
                "order_id",
                "shipment_id",
                "at",
                "old_earliest",
                "old_latest",
                "new_earliest",
                "new_latest",
                "predicted_late",
                "reason",
                "trigger",
            ),
            [
                (
                    ch.order_id,
                    ch.shipment_id,
                    v.dt(ch.at),
                    v.day(ch.old[0]) if ch.old else None,
                    v.day(ch.old[1]) if ch.old else None,
                    v.day(ch.new[0]),
                    v.day(ch.new[1]),
                    ch.predicted_late,
                    ch.reason,
                    ch.trigger,
                )
                for ch in changes
            ],
        )

    def for_order(self, order_id: str) -> list[EstimateChange]:
        q = select(H).where(H.c.order_id == order_id).order_by(H.c.id)
        return [
            EstimateChange(
                order_id=r.order_id,
                shipment_id=r.shipment_id,
                at=r.at,
                old=(r.old_earliest, r.old_latest) if r.old_earliest and r.old_latest else None,
                new=(r.new_earliest, r.new_latest),
                predicted_late=bool(r.predicted_late),
                reason=r.reason,
                trigger=r.trigger,
            )
            for r in self.c.execute(q)
        ]

    def past_shipments(self, placed_since: datetime, statuses: Sequence[str]) -> list[PastShipment]:
        q = (
            select(S.c.first_scan_at, S.c.delivered_at, *_LANE_COLUMNS)
            .join(O, O.c.id == S.c.order_id)
            .where(O.c.placed_at >= placed_since, S.c.status.in_(list(statuses)))
            .order_by(O.c.placed_at, S.c.id)
        )
        return [PastShipment(_lane(r), r.first_scan_at, r.delivered_at) for r in self.c.execute(q)]

    def store_model(self, data: Mapping[str, Any], fitted_at: datetime, as_of: date, shipments: int) -> int:
        text = json.dumps(data, separators=(",", ":"))
        new_id = self.c.execute(
            insert(eta_models)
            .values(fitted_at=fitted_at, as_of=as_of, shipments=shipments, model=text)
            .returning(eta_models.c.id)
        ).scalar_one()
        kept = select(eta_models.c.id).order_by(eta_models.c.id.desc()).limit(KEEP_MODELS)
        self.c.execute(delete(eta_models).where(eta_models.c.id.not_in(kept)))
        return int(new_id)

    def latest_model_id(self) -> int | None:
        value = self.c.execute(select(func.max(eta_models.c.id))).scalar()
        return int(value) if value is not None else None

    def model(self, model_id: int) -> StoredModel | None:
        r = self.c.execute(select(eta_models).where(eta_models.c.id == model_id)).first()
        if r is None:
            return None
        return StoredModel(r.id, r.fitted_at, r.as_of, r.shipments, json.loads(r.model))
