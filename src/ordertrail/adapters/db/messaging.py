"""The outbox and the in-app inbox in SQL.

Claims: on PostgreSQL `FOR UPDATE SKIP LOCKED` lets any number of workers claim disjoint rows; on
SQLite the write transaction is already exclusive (BEGIN IMMEDIATE), which gives the same guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from ordertrail.adapters.db.engine import insert_ignore
from ordertrail.adapters.db.rows import decode_cursor, encode_cursor
from ordertrail.adapters.db.tables import notifications, outbox
from ordertrail.services.ports import ClaimedMessage, OutboxMessage, Page


class SqlOutbox:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add(self, messages: Sequence[OutboxMessage], at: datetime) -> int:
        if not messages:
            return 0
        rows = [
            {
                "type": m.type,
                "recipient_id": m.recipient_id,
                "order_id": m.order_id,
                "payload": dict(m.payload),
                "dedupe_key": m.dedupe_key,
                "created_at": at,
                "available_at": at,
                "state": "pending",
                "attempts": 0,
            }
            for m in messages
        ]
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

    def claim(self, now: datetime, limit: int, lease_seconds: float) -> list[ClaimedMessage]:
        due = (
            select(outbox.c.id)
            .where(
                outbox.c.state == "pending",
                outbox.c.available_at <= now,
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
            )
            .order_by(outbox.c.available_at, outbox.c.id)
            .limit(limit)
        )
        if self.c.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = [r.id for r in self.c.execute(due)]
        if not ids:
            return []
        until = now + timedelta(seconds=lease_seconds)
        rows = self.c.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(claimed_until=until, attempts=outbox.c.attempts + 1)
            .returning(
                outbox.c.id,
                outbox.c.type,
                outbox.c.recipient_id,
                outbox.c.order_id,
                outbox.c.payload,
                outbox.c.attempts,
                outbox.c.created_at,
            )
        ).all()
        return sorted(
            (
                ClaimedMessage(r.id, r.type, r.recipient_id, r.order_id, r.payload, r.attempts, r.created_at)
                for r in rows
            ),
            key=lambda m: m.id,
        )

    def done(self, ids: Sequence[int], at: datetime) -> None:
        if ids:
            self.c.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(ids)))
                .values(state="done", done_at=at, claimed_until=None)
            )

    def retry(self, message_id: int, error: str, at: datetime, final: bool) -> None:
        self.c.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(
                state="failed" if final else "pending",
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
