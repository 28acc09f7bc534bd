"""The outbox, the in-app inbox and e-mail preferences in SQL.

Claims: on PostgreSQL `FOR UPDATE SKIP LOCKED` lets any number of workers claim disjoint rows, held
until the claiming transaction ends; on SQLite the write transaction is already exclusive (BEGIN
IMMEDIATE), which gives the same guarantee. A worker that dies mid-transaction leaves nothing
claimed: the database rolls its work back and the rows are due again at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from ordertrail.adapters.db.engine import insert_ignore
from ordertrail.adapters.db.rows import decode_cursor, encode_cursor
from ordertrail.adapters.db.tables import notifications, order_items, orders, outbox, shipments, users
from ordertrail.services.ports import ClaimedMessage, OutboxMessage, Page

_CHUNK = 2000


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class SqlOutbox:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add(self, messages: Sequence[OutboxMessage], at: datetime) -> int:
        if not messages:
            return 0
        snapshots = self._order_snapshots({m.order_id for m in messages if m.order_id})
        rows = []
        for m in messages:
            payload = dict(m.payload)
            if m.order_id in snapshots:
                payload["data"] = {**snapshots[m.order_id], **dict(payload.get("data") or {})}
            rows.append(
                {
                    "type": m.type,
                    "recipient_id": m.recipient_id,
                    "order_id": m.order_id,
                    "payload": payload,
                    "dedupe_key": m.dedupe_key,
                    "created_at": at,
                    "available_at": at,
                    "state": "pending",
                    "attempts": 0,
                }
            )
        keyed = [r for r in rows if r["dedupe_key"] is not None]
        plain = [r for r in rows if r["dedupe_key"] is None]
        queued = 0
        if plain:
            self.c.execute(outbox.insert(), plain)
            queued += len(plain)
        if keyed:
            result = self.c.execute(insert_ignore(outbox, self.c.dialect.name).returning(outbox.c.id), keyed)
            queued += len(result.all())
        return queued

    def _order_snapshots(self, order_ids: set[str]) -> dict[str, dict[str, Any]]:
        """What e-mails and webhooks say about an order, as it is when the message is written: the
        order, its items and totals, and each shipment's carrier, number and delivery window."""
        out: dict[str, dict[str, Any]] = {}
        ids = sorted(order_ids)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            items: dict[str, list[dict[str, Any]]] = defaultdict(list)
            q_items = (
                select(order_items)
                .where(order_items.c.order_id.in_(chunk))
                .order_by(order_items.c.order_id, order_items.c.line_no)
            )
            for r in self.c.execute(q_items):
                items[r.order_id].append(
                    {"sku": r.sku, "title": r.title, "quantity": r.quantity, "unit_price": r.unit_price}
                )
            parcels: dict[str, list[dict[str, Any]]] = defaultdict(list)
            q_ships = (
                select(
                    shipments.c.id,
                    shipments.c.order_id,
                    shipments.c.carrier,
                    shipments.c.tracking_number,
                    shipments.c.status,
                    shipments.c.estimated_earliest,
                    shipments.c.estimated_latest,
                    shipments.c.predicted_late,
                    shipments.c.stalled,
                    shipments.c.last_event_at,
                )
                .where(shipments.c.order_id.in_(chunk))
                .order_by(shipments.c.order_id, shipments.c.created_at, shipments.c.id)
            )
            for r in self.c.execute(q_ships):
                parcels[r.order_id].append(
                    {
                        "id": r.id,
                        "carrier": r.carrier,
                        "tracking_number": r.tracking_number,
                        "status": r.status,
                        "estimated_delivery": {
                            "earliest": _iso(r.estimated_earliest),
                            "latest": _iso(r.estimated_latest),
                        }
                        if r.estimated_earliest and r.estimated_latest
                        else None,
                        "predicted_late": bool(r.predicted_late),
                        "stalled": bool(r.stalled),
                        "last_event_at": _iso(r.last_event_at),
                    }
                )
            q_orders = select(
                orders.c.id,
                orders.c.status,
                orders.c.placed_at,
                orders.c.currency,
                orders.c.subtotal,
                orders.c.shipping_fee,
                orders.c.total,
                orders.c.ship_by,
                orders.c.promised_earliest,
                orders.c.promised_latest,
                orders.c.shipping_address,
                orders.c.shipping_service,
            ).where(orders.c.id.in_(chunk))
            for r in self.c.execute(q_orders):
                address = r.shipping_address or {}
                out[r.id] = {
                    "order": {
                        "id": r.id,
                        "status": r.status,
                        "placed_at": _iso(r.placed_at),
                        "currency": r.currency,
                        "items": items.get(r.id, []),
                        "subtotal": r.subtotal,
                        "shipping_fee": r.shipping_fee,
                        "total": r.total,
                        "ship_by": _iso(r.ship_by),
                        "promised_delivery": {
                            "earliest": _iso(r.promised_earliest),
                            "latest": _iso(r.promised_latest),
                        },
                        "shipping_service": r.shipping_service,
                        # City level only: webhooks and e-mails need no street address.
                        "destination": {
                            k: address.get(k) for k in ("city", "country_area", "postal_code", "country_code")
                        },
                    },
                    "shipments": parcels.get(r.id, []),
                }
        return out

    def claim_locked(self, now: datetime, limit: int) -> list[ClaimedMessage]:
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
