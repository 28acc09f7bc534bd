"""Shipments, their tracking events and the status histories in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, case, select, update

from ordertrail.adapters.db.driver import Values, execute_many, insert_values
from ordertrail.adapters.db.rows import (
    pod_from_json,
    pod_to_json,
    shipment_from_row,
    shipment_state_values,
    utc_day,
)
from ordertrail.adapters.db.tables import (
    order_status_history,
    orders,
    shipments,
    tracking_events,
)
from ordertrail.domain.events import Location, ScanEvent
from ordertrail.domain.shipments import AWAITING_TRACKING, Shipment, decode_sort_key, encode_sort_key
from ordertrail.domain.statuses import TERMINAL, ShipmentStatus
from ordertrail.services.ports import StatusChange

CLOSED_ORDER_STATUSES = ("cancelled", "completed")


class SqlShipments:
    def __init__(self, conn: Connection) -> None:
        self.c = conn
        # The indexed state columns as read by the hot path, so that saving can leave alone the
        # indexes whose values did not change (see _sqlite_save_states).
        self._read: dict[str, tuple[Any, ...]] = {}
        # Every hot row read, and the numbers asked for: the snapshot that still_as_read compares.
        self._rows_read: dict[str, tuple[Any, ...]] = {}
        self._numbers_read: list[str] = []

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
        # A replacement waited for its number (substatus awaiting_tracking): it waits no more.
        waited = case((shipments.c.substatus == AWAITING_TRACKING, None), else_=shipments.c.substatus)
        self.c.execute(
            update(shipments)
            .where(shipments.c.id == shipment_id)
            .values(carrier=carrier, tracking_number=tracking_number, tracking_added_at=at, substatus=waited)
        )

    def by_tracking_numbers(
        self, numbers: Iterable[str], *, for_update: bool = False
    ) -> dict[str, list[tuple[Shipment, str, str]]]:
        """Shipments by number with their order's buyer and seller, newest live one first.

        The ingest hot path: read through the driver (see adapters.db.driver). With `for_update` on
        PostgreSQL the shipment rows are locked in id order (so that concurrent batches cannot deadlock);
        SQLite's writers already take turns (BEGIN IMMEDIATE)."""
        numbers = list(numbers)
        out: dict[str, list[tuple[Shipment, str, str]]] = defaultdict(list)
        if not numbers:
            return out
        v = Values(self.c)
        rows = self._hot_rows(v, numbers, for_update)
        self._numbers_read += numbers
        refs = []
        for r in rows:
            shipment = _hot_shipment(v, r)
            self._rows_read[shipment.id] = r
            if v.sqlite:
                self._read[shipment.id] = (_indexed_as_read(r), r[_ROWID_AT])
            refs.append(
                (r[-2] in CLOSED_ORDER_STATUSES, -shipment.created_at.timestamp(), shipment, r[-4], r[-3])
            )
        refs.sort(key=lambda x: (x[0], x[1]))
        for _, _, shipment, buyer_id, seller_id in refs:
            out[shipment.tracking_number or ""].append((shipment, buyer_id, seller_id))
        return out

    def _hot_rows(self, v: Values, numbers: list[str], for_update: bool) -> list[tuple[Any, ...]]:
        params: tuple[Any, ...]
        if v.sqlite:
            member, params = f"IN ({', '.join('?' * len(numbers))})", tuple(numbers)
        else:  # one array parameter: a statement with hundreds of placeholders is slow for psycopg to parse
            member, params = "= ANY(%s)", (numbers,)
        # On SQLite the rowid comes too: saving by rowid skips a descent of the id index per row.
        # The order's last change comes for still_as_read (an address change moves the estimate).
        sql = (
            f"SELECT {_HOT_COLS}, {'s.rowid' if v.sqlite else 'NULL'}, o.buyer_id, o.seller_id, o.status, "
            f"o.updated_at FROM shipments s JOIN orders o ON o.id = s.order_id WHERE s.tracking_number {member}"
        )
        if for_update and not v.sqlite:
            sql += " ORDER BY s.id FOR UPDATE OF s"
        return [tuple(r) for r in self.c.exec_driver_sql(sql, params)]

    def snapshot(self) -> object:
        return (tuple(self._numbers_read), dict(self._rows_read))

    def still_as_read(self, snapshot: object) -> bool:
        numbers, rows_read = snapshot  # type: ignore[misc]
        if not numbers:
            return True
        v = Values(self.c)
        rows = {r[0]: r for r in self._hot_rows(v, list(numbers), for_update=True)}
        if rows != rows_read:
            return False
        self._numbers_read += numbers
        self._rows_read.update(rows)
        if v.sqlite:
            for sid, r in rows.items():
                self._read[sid] = (_indexed_as_read(r), r[_ROWID_AT])
        return True

    def by_tracking_number(self, number: str) -> Shipment | None:
        refs = self.by_tracking_numbers([number]).get(number)
        return refs[0][0] if refs else None

    def save_states(self, items: Sequence[Shipment]) -> None:
        if not items:
            return
        v = Values(self.c)
        rows = [
            (
                s.status.value,
                s.substatus,
                v.dt(s.first_scan_at),
                v.dt(s.last_event_at),
                v.day(utc_day(s.last_event_at)),
                v.dt(s.delivered_at),
                v.day(s.carrier_estimated_delivery),
                v.day(s.estimated_earliest),
                v.day(s.estimated_latest),
                s.predicted_late,
                s.stalled,
                v.json(pod_to_json(s.proof_of_delivery)),
                encode_sort_key(s.last_key),
                s.event_count,
                s.active,
                v.day(s.estimate_due_on),
                s.id,
            )
            for s in items
        ]
        if v.sqlite:
            self._sqlite_save_states(rows)
        else:  # one statement for the batch: arrays unnested by the server (see driver._insert_arrays)
            # A shipment given twice keeps its later state, as with executemany above.
            last = list({r[-1]: r for r in rows}.values())
            self.c.exec_driver_sql(_SAVE_STATES_PG, tuple(list(c) for c in zip(*last, strict=True)))

    def _sqlite_save_states(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """SQLite rewrites the entry of every index whose column an UPDATE sets, changed or not: a
        hub scan that sets all five indexed columns dirties five index pages where one changed. So
        rows are grouped by which indexed columns really changed since they were read, and each
        group is written with a statement that sets only those (and every unindexed column)."""
        groups: dict[tuple[tuple[str, ...], str], list[tuple[Any, ...]]] = defaultdict(list)
        for r in rows:
            sid = r[-1]
            now = tuple(r[i] for i in _INDEXED_IN_SAVE)
            was, rowid = self._read.get(sid, (None, None))
            if now[-1] is None:  # saved without its due day (not read here): the stored one stays
                now = (*now[:-1], was[-1] if was else None)
            if was is None:
                changed = tuple(
                    c for c, value in zip(_INDEXED, now, strict=True) if value is not None or c != _DUE
                )
            else:
                changed = tuple(c for c, a, b in zip(_INDEXED, was, now, strict=True) if a != b)
                self._read[sid] = (now, rowid)  # a second save in this unit of work compares with this one
            values = (*(r[i] for i in _UNINDEXED_AT), *(now[_INDEXED.index(c)] for c in changed))
            groups[(changed, "id" if was is None else "rowid")].append(
                (*values, sid if was is None else rowid)
            )
        for (changed, key), params in groups.items():
            sets = ", ".join(f"{c} = ?" for c in (*_UNINDEXED, *changed))
            execute_many(self.c, f"UPDATE shipments SET {sets} WHERE {key} = ?", params)


# The state columns ingest saves, in save_states row order, with their PostgreSQL array types.
_STATE_TYPES = {
    "status": "varchar",
    "substatus": "varchar",
    "first_scan_at": "timestamptz",
    "last_event_at": "timestamptz",
    "last_event_on": "date",
    "delivered_at": "timestamptz",
    "carrier_estimated_delivery": "date",
    "estimated_earliest": "date",
    "estimated_latest": "date",
    "predicted_late": "boolean",
    "stalled": "boolean",
    "proof_of_delivery": "json",
    "last_key": "varchar",
    "event_count": "integer",
    "active": "boolean",
}
_STATE_COLUMNS = tuple(_STATE_TYPES)
# The state columns that some index of shipments has as key or condition, and the others; their
# positions in a save_states row (the state columns, the due day, the id).
_DUE = "estimate_due_on"
_INDEXED = ("status", "first_scan_at", "last_event_on", "estimated_latest", "stalled", "active", _DUE)
_UNINDEXED = tuple(c for c in _STATE_COLUMNS if c not in _INDEXED)
_UNINDEXED_AT = tuple(_STATE_COLUMNS.index(c) for c in _UNINDEXED)
_INDEXED_IN_SAVE = tuple((*_STATE_COLUMNS, _DUE).index(c) for c in _INDEXED)
_TERMINAL_VALUES = frozenset(s.value for s in TERMINAL)
_SAVE_STATES_PG = (
    f"UPDATE shipments s SET {', '.join(f'{c} = v.{c}' for c in _STATE_COLUMNS)}, "
    "estimate_due_on = COALESCE(v.due, s.estimate_due_on) FROM unnest("
    + ", ".join(f"%b::{t}[]" for t in (*_STATE_TYPES.values(), "date", "varchar"))
    + f") AS v({', '.join(_STATE_COLUMNS)}, due, id) WHERE s.id = v.id"
)

# What the ingest reads of a shipment: what it is, then its state as saved (`active` follows from
# the status), then the due day; _hot_shipment unpacks a row in this order.
_HOT_COLUMNS = (
    "id",
    "order_id",
    "carrier",
    "tracking_number",
    "items",
    "created_at",
    "tracking_added_at",
    "ship_by",
    *(c for c in _STATE_COLUMNS if c != "active"),
    _DUE,
)
_HOT_COLS = ", ".join(f"s.{c}" for c in _HOT_COLUMNS)
_STATUS_AT = _HOT_COLUMNS.index("status")
_ROWID_AT = len(_HOT_COLUMNS)  # then the order's buyer, seller, status and last change
_INDEXED_IN_HOT = tuple(_HOT_COLUMNS.index(c) if c != "active" else _STATUS_AT for c in _INDEXED)


def _indexed_as_read(r: Any) -> tuple[Any, ...]:
    """The indexed state columns of a hot row, as a save_states row would hold them (`active`, not
    read, follows from the status)."""
    values = [r[i] for i in _INDEXED_IN_HOT]
    values[_INDEXED.index("active")] = r[_STATUS_AT] not in _TERMINAL_VALUES
    return tuple(values)


def _hot_shipment(v: Values, r: Any) -> Shipment:
    (
        sid,
        order_id,
        carrier,
        number,
        raw_items,
        created_at,
        added_at,
        ship_by,
        status,
        substatus,
        first_scan_at,
        last_event_at,
        _last_event_on,
        delivered_at,
        carrier_estimate,
        earliest,
        latest,
        predicted_late,
        stalled,
        pod,
        last_key,
        event_count,
        due,
    ) = r[: len(_HOT_COLUMNS)]
    items = v.read_json(raw_items)
    return Shipment(
        id=sid,
        order_id=order_id,
        carrier=carrier,
        tracking_number=number,
        items=[(sku, int(q)) for sku, q in items] if items is not None else None,
        status=ShipmentStatus(status),
        substatus=substatus,
        created_at=v.read_dt(created_at),  # type: ignore[arg-type]
        tracking_added_at=v.read_dt(added_at),
        ship_by=v.read_dt(ship_by),
        first_scan_at=v.read_dt(first_scan_at),
        last_event_at=v.read_dt(last_event_at),
        delivered_at=v.read_dt(delivered_at),
        carrier_estimated_delivery=v.read_day(carrier_estimate),
        estimated_earliest=v.read_day(earliest),
        estimated_latest=v.read_day(latest),
        predicted_late=bool(predicted_late),
        stalled=bool(stalled),
        proof_of_delivery=pod_from_json(v.read_json(pod)),
        last_key=decode_sort_key(last_key),
        event_count=event_count,
        estimate_due_on=v.read_day(due),
    )


EVENT_COLUMNS = (
    "shipment_id",
    "id",
    "provider_event_id",
    "occurred_at",
    "utc_offset_min",
    "offset_source",
    "status",
    "substatus",
    "description",
    "carrier_code",
    "raw_status",
    "city",
    "region",
    "postal_code",
    "country_code",
    "estimated_delivery",
    "proof_of_delivery",
    "received_at",
    "source_id",
)


def event_values(
    v: Values, shipment_id: str, e: ScanEvent, received_at: Any, source_id: int | None
) -> tuple[Any, ...]:
    """One tracking_events row as driver values, in EVENT_COLUMNS order."""
    loc = e.location or _NO_PLACE
    return (
        shipment_id,
        e.content_hash,
        e.event_id,
        v.dt(e.occurred_at_utc),
        e.utc_offset_minutes,
        e.offset_source,
        e.status.value,
        e.substatus,
        e.description,
        e.carrier_code,
        e.raw_status,
        loc.city,
        loc.region,
        loc.postal_code,
        loc.country_code,
        v.day(e.estimated_delivery),
        v.json(pod_to_json(e.proof_of_delivery)),
        received_at,
        source_id,
    )


_NO_PLACE = Location()


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
        v = Values(self.c)
        at = v.dt(received_at)
        inserted = insert_values(
            self.c,
            "tracking_events",
            EVENT_COLUMNS,
            [event_values(v, sid, e, at, source_id) for sid, e in rows],
            ignore_conflicts=True,
            returning=("shipment_id", "id"),
        )
        return {(r[0], r[1]) for r in inserted}

    def stored(self, rows: Sequence[tuple[str, ScanEvent]]) -> set[tuple[str, str]]:
        """Either key of the table counts: the content hash, or the carrier's own event id."""
        if not rows:
            return set()
        keys = sorted({(sid, e.content_hash, e.event_id or "") for sid, e in rows})
        found = (
            "SELECT k.shipment_id, k.id FROM k WHERE EXISTS (SELECT 1 FROM tracking_events t "
            "WHERE t.shipment_id = k.shipment_id AND t.id = k.id) OR (k.pid <> '' AND EXISTS ("
            "SELECT 1 FROM tracking_events t WHERE t.shipment_id = k.shipment_id AND t.provider_event_id = k.pid))"
        )
        params: tuple[Any, ...]
        if self.c.dialect.name == "sqlite":
            sql = f"WITH k(shipment_id, id, pid) AS (VALUES {', '.join(['(?, ?, ?)'] * len(keys))}) {found}"
            params = tuple(v for key in keys for v in key)
        else:  # three array parameters: a short statement psycopg prepares once
            sql = (
                "WITH k AS (SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[]) "
                f"AS u(shipment_id, id, pid)) {found}"
            )
            params = tuple([k[i] for k in keys] for i in range(3))
        return {(r[0], r[1]) for r in self.c.exec_driver_sql(sql, params)}

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

    def _insert(self, table: str, key: str, changes: Sequence[StatusChange]) -> None:
        if changes:
            v = Values(self.c)
            insert_values(
                self.c,
                table,
                (key, "at", "old_status", "new_status", "reason"),
                [(ch.subject_id, v.dt(ch.at), ch.old, ch.new, ch.reason) for ch in changes],
            )

    def shipment_changes(self, changes: Sequence[StatusChange]) -> None:
        self._insert("shipment_status_history", "shipment_id", changes)

    def order_changes(self, changes: Sequence[StatusChange]) -> None:
        self._insert("order_status_history", "order_id", changes)

    def for_order(self, order_id: str) -> list[dict[str, Any]]:
        q = (
            select(order_status_history)
            .where(order_status_history.c.order_id == order_id)
            .order_by(order_status_history.c.id)
        )
        return [dict(r._mapping) for r in self.c.execute(q)]
