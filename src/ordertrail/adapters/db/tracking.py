"""The tracking read model: an order with its shipments and events in one query, shaped for JSON.

The busiest read of the service (every buyer's "where is my parcel"), so it talks to the driver
(see `driver.py`): one statement on the DB-API cursor, rows as plain tuples, values converted here to exactly what the
Core column types would give (UTC-aware datetimes, dates, booleans, parsed JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from ordertrail.adapters.db.driver import Values

_SHIPMENT_COLUMNS = (
    "id", "tracking_number", "carrier", "status", "substatus", "estimated_earliest", "estimated_latest",
    "carrier_estimated_delivery", "predicted_late", "stalled", "last_event_at", "delivered_at",
    "proof_of_delivery", "created_at",
)  # fmt: skip
_EVENT_COLUMNS = (
    "id", "occurred_at", "utc_offset_min", "offset_source", "status", "substatus", "description",
    "carrier_code", "city", "region", "postal_code", "country_code",
)  # fmt: skip
# One row per event (or per shipment without events, or one for an order without shipments).
_SQL = (
    "SELECT o.id, o.status, o.buyer_id, o.seller_id, o.promised_earliest, o.promised_latest, "
    + ", ".join(f"s.{c}" for c in _SHIPMENT_COLUMNS)
    + ", "
    + ", ".join(f"e.{c}" for c in _EVENT_COLUMNS)
    + " FROM orders o LEFT JOIN shipments s ON s.order_id = o.id"
    " LEFT JOIN tracking_events e ON e.shipment_id = s.id WHERE o.id = {mark}"
    " ORDER BY s.created_at, s.id, e.occurred_at DESC, e.id DESC"
)
_S = 6  # first shipment column
_E = _S + len(_SHIPMENT_COLUMNS)  # first event column


def _window(earliest: Any, latest: Any) -> dict[str, Any] | None:
    if earliest is None or latest is None:
        return None
    return {"earliest": earliest, "latest": latest}


@lru_cache(maxsize=256)
def _offset(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


def _utc_sqlite(v: str | None) -> datetime | None:
    return None if v is None else datetime.fromisoformat(v).replace(tzinfo=UTC)


def _utc_pg(v: datetime | None) -> datetime | None:
    return None if v is None else v.astimezone(UTC)


def _day_sqlite(v: str | None) -> date | None:
    return None if v is None else date.fromisoformat(v)


def _same(v: Any) -> Any:
    return v


class SqlTracking:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def order_tracking(self, order_id: str) -> dict[str, Any] | None:
        v = Values(self.c)
        # The DB-API cursor itself: SQLAlchemy's result object would describe all 32 columns on
        # every call, which cost more than the query (docs/scaling.md).
        cursor = self.c.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_SQL.format(mark=v.placeholder), (order_id,))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not rows:
            return None
        utc: Callable[[Any], datetime | None] = _utc_sqlite if v.sqlite else _utc_pg
        day: Callable[[Any], date | None] = _day_sqlite if v.sqlite else _same
        head = rows[0]
        promised = _window(day(head[4]), day(head[5]))
        views: list[dict[str, Any]] = []
        current: dict[str, Any] | None = None
        for r in rows:
            if r[_S] is None:
                continue
            if current is None or current["id"] != r[_S]:
                current = {
                    "id": r[_S],
                    "tracking_number": r[_S + 1],
                    "carrier": r[_S + 2],
                    "tracking_url": None,
                    "status": r[_S + 3],
                    "substatus": r[_S + 4],
                    "promised_delivery": promised,
                    "estimated_delivery": _window(day(r[_S + 5]), day(r[_S + 6])),
                    "carrier_estimated_delivery": day(r[_S + 7]),
                    "predicted_late": bool(r[_S + 8]),
                    "stalled": bool(r[_S + 9]),
                    "last_event_at": utc(r[_S + 10]),
                    "delivered_at": utc(r[_S + 11]),
                    "proof_of_delivery": v.read_json(r[_S + 12]),
                    "created_at": utc(r[_S + 13]),
                    "events": [],
                }
                views.append(current)
            if r[_E] is not None:
                current["events"].append(_event(r, utc(r[_E + 1])))  # type: ignore[arg-type]
        return {
            "order_id": head[0],
            "order_status": head[1],
            "buyer_id": head[2],
            "seller_id": head[3],
            "shipments": views,
        }


def _event(r: Any, occurred_at: datetime) -> dict[str, Any]:
    city, region, postal_code, country_code = r[_E + 8], r[_E + 9], r[_E + 10], r[_E + 11]
    return {
        "id": r[_E],
        "occurred_at": occurred_at,
        "local_time": occurred_at.astimezone(_offset(r[_E + 2])).isoformat(),
        "offset_source": r[_E + 3],
        "status": r[_E + 4],
        "substatus": r[_E + 5],
        "description": r[_E + 6],
        "carrier_code": r[_E + 7],
        "location": {"city": city, "region": region, "postal_code": postal_code, "country_code": country_code}
        if city or region or postal_code or country_code
        else None,
    }
