"""The outbox, the in-app inbox and e-mail preferences in SQL.

Claims: on PostgreSQL `FOR UPDATE SKIP LOCKED` lets any number of workers claim disjoint rows, held
until the claiming transaction ends; on SQLite the write transaction is already exclusive (BEGIN
IMMEDIATE), which gives the same guarantee. A worker that dies mid-transaction leaves nothing
claimed: the database rolls its work back and the rows are due again at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, or_, select, update

from ordertrail.adapters.db.driver import Values, insert_values
from ordertrail.adapters.db.engine import insert_ignore
from ordertrail.adapters.db.rows import decode_cursor, encode_cursor
from ordertrail.adapters.db.tables import notifications, outbox, users
from ordertrail.services.ports import ClaimedMessage, OutboxMessage, Page

_CHUNK = 2000


_OUTBOX_COLUMNS = (
    "type",
    "recipient_id",
    "order_id",
    "payload",
    "dedupe_key",
    "created_at",
    "available_at",
    "state",
    "attempts",
)
_DESTINATION = ("city", "country_area", "postal_code", "country_code")


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _instant(value: datetime | str | None) -> str | None:
    """RFC 3339 in UTC with a Z, as the API writes instants, from what the driver returns (SQLite:
    naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _day(value: date | str | None) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


class SqlOutbox:
    """Writes go through the driver (see `adapters.db.driver`): the sweeps queue tens of thousands of
    messages at once, where Core's per-row processing would cost more than the database."""

    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add(self, messages: Sequence[OutboxMessage], at: datetime) -> int:
        if not messages:
            return 0
        v = Values(self.c)
        snapshots = self._order_snapshots({m.order_id for m in messages if m.order_id})
        stamp = v.dt(at)
        plain: list[tuple[Any, ...]] = []
        keyed: list[tuple[Any, ...]] = []
        for m in messages:
            payload = dict(m.payload)
            snapshot = snapshots.get(m.order_id or "")
            if snapshot is not None:
                payload["data"] = {**snapshot, **dict(payload.get("data") or {})}
            row = (
                m.type,
                m.recipient_id,
                m.order_id,
                _json(payload),
                m.dedupe_key,
                stamp,
                stamp,
                "pending",
                0,
            )
            (keyed if m.dedupe_key is not None else plain).append(row)
        insert_values(self.c, "outbox", _OUTBOX_COLUMNS, plain)
        added = insert_values(
            self.c, "outbox", _OUTBOX_COLUMNS, keyed, ignore_conflicts=True, returning=("id",)
        )
        return len(plain) + len(added)

    def _order_snapshots(self, order_ids: set[str]) -> dict[str, dict[str, Any]]:
        """What e-mails and webhooks say about an order, as it is when the message is written: the
        order, its items and totals, and each shipment's carrier, number and delivery window."""
        v = Values(self.c)
        out: dict[str, dict[str, Any]] = {}
        ids = sorted(order_ids)
        for start in range(0, len(ids), _CHUNK):
            chunk: tuple[Any, ...] = tuple(ids[start : start + _CHUNK])
            if v.sqlite:
                member = f"IN ({', '.join('?' * len(chunk))})"
            else:  # one array parameter: psycopg parses a query with thousands of placeholders slowly
                member, chunk = "= ANY(%s)", (list(chunk),)
            items: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for order_id, sku, title, quantity, unit_price in self.c.exec_driver_sql(
                "SELECT order_id, sku, title, quantity, unit_price FROM order_items "
                f"WHERE order_id {member} ORDER BY order_id, line_no",
                chunk,
            ):
                items[order_id].append(
                    {"sku": sku, "title": title, "quantity": quantity, "unit_price": unit_price}
                )
            parcels: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for r in self.c.exec_driver_sql(
                "SELECT id, order_id, carrier, tracking_number, status, estimated_earliest, estimated_latest, "
                f"predicted_late, stalled, last_event_at FROM shipments WHERE order_id {member} "
                "ORDER BY order_id, created_at, id",
                chunk,
            ):
                earliest, latest = _day(r[5]), _day(r[6])
                parcels[r[1]].append(
                    {
                        "id": r[0],
                        "carrier": r[2],
                        "tracking_number": r[3],
                        "status": r[4],
                        "estimated_delivery": {"earliest": earliest, "latest": latest}
                        if earliest and latest
                        else None,
                        "predicted_late": bool(r[7]),
                        "stalled": bool(r[8]),
                        "last_event_at": _instant(r[9]),
                    }
                )
            for r in self.c.exec_driver_sql(
                "SELECT id, status, placed_at, currency, subtotal, shipping_fee, total, ship_by, promised_earliest, "
                f"promised_latest, shipping_address, shipping_service FROM orders WHERE id {member}",
                chunk,
            ):
                address = (orjson.loads(r[10]) if isinstance(r[10], str) else r[10]) or {}
                out[r[0]] = {
                    "order": {
                        "id": r[0],
                        "status": r[1],
                        "placed_at": _instant(r[2]),
                        "currency": r[3],
                        "items": items.get(r[0], []),
                        "subtotal": r[4],
                        "shipping_fee": r[5],
                        "total": r[6],
                        "ship_by": _instant(r[7]),
                        "promised_delivery": {"earliest": _day(r[8]), "latest": _day(r[9])},
                        "shipping_service": r[11],
                        # City level only: webhooks and e-mails need no street address.
                        "destination": {k: address.get(k) for k in _DESTINATION},
                    },
                    "shipments": parcels.get(r[0], []),
                }
        return out

    def claim_locked(self, now: datetime, limit: int, order_id: str | None = None) -> list[ClaimedMessage]:
        due = (
            select(
                outbox.c.id,
                outbox.c.type,
                outbox.c.recipient_id,
                outbox.c.order_id,
                outbox.c.payload,
                outbox.c.attempts,
                outbox.c.created_at,
            )
            .where(outbox.c.state == "pending", outbox.c.available_at <= now)
            .order_by(outbox.c.available_at, outbox.c.id)
            .limit(limit)
        )
        if order_id is not None:
            due = due.where(outbox.c.order_id == order_id)
        if self.c.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        return [
            ClaimedMessage(r.id, r.type, r.recipient_id, r.order_id, r.payload, r.attempts, r.created_at)
            for r in self.c.execute(due)
        ]

    def done(self, ids: Sequence[int], at: datetime) -> None:
        for start in range(0, len(ids), _CHUNK):
            self.c.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(ids[start : start + _CHUNK])))
                .values(state="done", done_at=at, attempts=outbox.c.attempts + 1, claimed_until=None)
            )

    def retry(self, message_id: int, error: str, at: datetime, final: bool) -> None:
        self.c.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(
                state="failed" if final else "pending",
                attempts=outbox.c.attempts + 1,
                last_error=error[:2000],
                available_at=at,
                claimed_until=None,
            )
        )

    def pending_count(self) -> int:
        return int(self.c.execute(select(func.count()).where(outbox.c.state == "pending")).scalar_one())


def _notification(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "type": r.type,
        "title": r.title,
        "body": r.body,
        "order_id": r.order_id,
        "case_id": r.case_id,
        "created_at": r.created_at,
        "read_at": r.read_at,
    }


class SqlInbox:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def deliver(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.c.execute(insert_ignore(notifications, self.c.dialect.name), list(rows))

    def list(self, user_id: str, limit: int, cursor: str | None) -> Page:
        q = select(notifications).where(notifications.c.user_id == user_id)
        if cursor:
            at, nid = decode_cursor(cursor)
            q = q.where(
                or_(
                    notifications.c.created_at < at,
                    and_(notifications.c.created_at == at, notifications.c.id < nid),
                )
            )
        rows = self.c.execute(
            q.order_by(notifications.c.created_at.desc(), notifications.c.id.desc()).limit(limit + 1)
        ).all()
        page = rows[:limit]
        nxt = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
        return Page([_notification(r) for r in page], nxt)

    def mark_read(self, user_id: str, notification_id: str, at: datetime) -> dict[str, Any] | None:
        where = and_(notifications.c.id == notification_id, notifications.c.user_id == user_id)
        self.c.execute(
            update(notifications).where(where, notifications.c.read_at.is_(None)).values(read_at=at)
        )
        r = self.c.execute(select(notifications).where(where)).first()
        return _notification(r) if r else None


class SqlEmailPreferences:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def set_opt_out(self, user_id: str, types: Iterable[str]) -> None:
        self.c.execute(update(users).where(users.c.id == user_id).values(email_opt_out=sorted(set(types))))
