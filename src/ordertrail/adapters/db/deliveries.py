"""E-mail and webhook deliveries, their attempt log, and webhook subscriptions in SQL.

A delivery is claimed with a lease (`claimed_until`) and a random `claim_token`, then sent outside any
transaction. A worker killed while sending leaves its rows leased; when the lease runs out another
worker sends them again (at least once). Results are written only under the token that claimed the
row, so a slow worker whose lease expired cannot overwrite what its successor recorded.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from ordertrail.adapters.db.engine import insert_ignore
from ordertrail.adapters.db.rows import decode_cursor, encode_cursor
from ordertrail.adapters.db.tables import orders
from ordertrail.adapters.db.tables_monitoring import deliveries, delivery_attempts, webhook_subscriptions
from ordertrail.domain.errors import ValidationFailed
from ordertrail.domain.ids import row_number
from ordertrail.services.ports_monitoring import Delivery, DeliveryResult, NewDelivery, Subscription

_CHUNK = 2000


class SqlDeliveries:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add(self, rows: Sequence[NewDelivery], at: datetime) -> int:
        if not rows:
            return 0
        values = [
            {
                "channel": r.channel,
                "dedupe_key": r.dedupe_key,
                "outbox_id": r.outbox_id,
                "subscription_id": r.subscription_id,
                "user_id": r.user_id,
                "event_id": r.event_id,
                "type": r.type,
                "payload": dict(r.payload),
                "created_at": r.created_at,
                "state": "pending",
                "attempts": 0,
                "available_at": at,
            }
            for r in rows
        ]
        result = self.c.execute(
            insert_ignore(deliveries, self.c.dialect.name).returning(deliveries.c.id), values
        )
        return len(result.all())

    def claim(self, channel: str, now: datetime, limit: int, lease_seconds: float) -> list[Delivery]:
        due = (
            select(deliveries.c.id)
            .where(
                deliveries.c.state == "pending",
                deliveries.c.channel == channel,
                deliveries.c.available_at <= now,
                or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
            )
            .order_by(deliveries.c.available_at, deliveries.c.id)
            .limit(limit)
        )
        if self.c.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = [r.id for r in self.c.execute(due)]
        if not ids:
            return []
        token = secrets.token_hex(16)
        self.c.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids))
            .values(
                claimed_until=now + timedelta(seconds=lease_seconds),
                claim_token=token,
                attempts=deliveries.c.attempts + 1,
            )
        )
        q = (
            select(deliveries, webhook_subscriptions.c.url, webhook_subscriptions.c.secret)
            .outerjoin(webhook_subscriptions, webhook_subscriptions.c.id == deliveries.c.subscription_id)
            .where(deliveries.c.id.in_(ids))
            .order_by(deliveries.c.id)
        )
        return [
            Delivery(
                id=r.id,
                channel=r.channel,
                event_id=r.event_id,
                type=r.type,
                payload=r.payload,
                created_at=r.created_at,
                attempts=r.attempts,
                claim_token=token,
                subscription_id=r.subscription_id,
                user_id=r.user_id,
                url=r.url,
                secret=r.secret,
            )
            for r in self.c.execute(q)
        ]

    def record(self, results: Sequence[DeliveryResult]) -> None:
        if not results:
            return
        self.c.execute(
            update(deliveries)
            .where(deliveries.c.id == bindparam("did"), deliveries.c.claim_token == bindparam("token"))
            .values(
                state=bindparam("st"),
                available_at=bindparam("avail"),
                claimed_until=None,
                claim_token=None,
                last_status_code=bindparam("code"),
                last_error=bindparam("err"),
                done_at=bindparam("done"),
            ),
            [
                {
                    "did": r.delivery.id,
                    "token": r.delivery.claim_token,
                    "st": "done" if r.outcome.ok else ("pending" if r.next_attempt_at else "failed"),
                    "avail": r.next_attempt_at or r.attempted_at,
                    "code": r.outcome.status_code,
                    "err": (r.outcome.error or "")[:2000] or None,
                    "done": r.attempted_at if r.outcome.ok else None,
                }
                for r in results
            ],
        )
        # A subscription deleted while its deliveries were out took them along: log only what remains.
        remaining = {
            r.id
            for r in self.c.execute(
                select(deliveries.c.id).where(deliveries.c.id.in_([r.delivery.id for r in results]))
            )
        }
        results = [r for r in results if r.delivery.id in remaining]
        if not results:
            return
        self.c.execute(
            insert(delivery_attempts),
            [
                {
                    "delivery_id": r.delivery.id,
                    "subscription_id": r.delivery.subscription_id,
                    "attempt": r.delivery.attempts,
                    "attempted_at": r.attempted_at,
                    "ok": r.outcome.ok,
                    "status_code": r.outcome.status_code,
                    "duration_ms": r.outcome.duration_ms,
                    "error": (r.outcome.error or "")[:2000] or None,
                }
                for r in results
            ],
        )

    def states(self) -> dict[str, int]:
        q = select(deliveries.c.channel, deliveries.c.state, func.count()).group_by(
            deliveries.c.channel, deliveries.c.state
        )
        return {f"{channel}.{state}": n for channel, state, n in self.c.execute(q)}


def _subscription(r: Any) -> Subscription:
    return Subscription(
        id=r.id,
        owner_id=r.owner_id,
        owner_role=r.owner_role,
        url=r.url,
        events=tuple(r.events),
        secret=r.secret,
        created_at=r.created_at,
        disabled_at=r.disabled_at,
        disabled_reason=r.disabled_reason,
        consecutive_failures=r.consecutive_failures,
        failing_since=r.failing_since,
    )


class SqlWebhooks:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add(self, s: Subscription) -> None:
        self.c.execute(
            insert(webhook_subscriptions).values(
                id=s.id,
                owner_id=s.owner_id,
                owner_role=s.owner_role,
                url=s.url,
                events=list(s.events),
                secret=s.secret,
                created_at=s.created_at,
                consecutive_failures=0,
            )
        )

    def get(self, subscription_id: str) -> Subscription | None:
        r = self.c.execute(
            select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
        ).first()
        return _subscription(r) if r else None

    def owned_by(
        self, owner_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Subscription], str | None]:
        t = webhook_subscriptions
        q = select(t)
        if owner_id is not None:
            q = q.where(t.c.owner_id == owner_id)
        if cursor:
            at, sid = decode_cursor(cursor)
            q = q.where(or_(t.c.created_at < at, and_(t.c.created_at == at, t.c.id < sid)))
        rows = self.c.execute(q.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit + 1)).all()
        page = rows[:limit]
        nxt = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
        return [_subscription(r) for r in page], nxt

    def delete(self, subscription_id: str) -> None:
        # Attempts and deliveries go with it (ON DELETE CASCADE), explicitly too for engines without FKs.
        self.c.execute(
            delete(delivery_attempts).where(delivery_attempts.c.subscription_id == subscription_id)
        )
        self.c.execute(delete(deliveries).where(deliveries.c.subscription_id == subscription_id))
        self.c.execute(delete(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id))

    def enabled_for(self, seller_ids: Iterable[str]) -> list[Subscription]:
        t = webhook_subscriptions
        sellers = sorted(set(seller_ids))
        owners = t.c.owner_role == "admin"
        if sellers:
            owners = or_(owners, t.c.owner_id.in_(sellers))
        return [_subscription(r) for r in self.c.execute(select(t).where(t.c.disabled_at.is_(None), owners))]

    def sellers_of(self, order_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(order_ids))
        out: dict[str, str] = {}
        for start in range(0, len(ids), _CHUNK):
            q = select(orders.c.id, orders.c.seller_id).where(orders.c.id.in_(ids[start : start + _CHUNK]))
            out.update({r.id: r.seller_id for r in self.c.execute(q)})
        return out

    def note_successes(self, subscription_ids: Iterable[str]) -> None:
        ids = sorted(set(subscription_ids))
        if ids:
            self.c.execute(
                update(webhook_subscriptions)
                .where(webhook_subscriptions.c.id.in_(ids))
                .values(consecutive_failures=0, failing_since=None)
            )

    def note_failures(self, failures: Mapping[str, int], at: datetime) -> list[Subscription]:
        if not failures:
            return []
        t = webhook_subscriptions
        self.c.execute(
            update(t)
            .where(t.c.id == bindparam("sid"))
            .values(
                consecutive_failures=t.c.consecutive_failures + bindparam("n"),
                failing_since=func.coalesce(t.c.failing_since, bindparam("at", type_=t.c.failing_since.type)),
            ),
            [{"sid": sid, "n": n, "at": at} for sid, n in failures.items()],
        )
        return [_subscription(r) for r in self.c.execute(select(t).where(t.c.id.in_(sorted(failures))))]

    def disable(self, subscription_id: str, at: datetime, reason: str) -> None:
        self.c.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == subscription_id)
            .values(disabled_at=at, disabled_reason=reason)
        )
        self.c.execute(
            update(deliveries)
            .where(deliveries.c.subscription_id == subscription_id, deliveries.c.state == "pending")
            .values(state="paused")
        )

    def enable(self, subscription_id: str, at: datetime) -> int:
        self.c.execute(
            update(webhook_subscriptions)
            .where(webhook_subscriptions.c.id == subscription_id)
            .values(disabled_at=None, disabled_reason=None, consecutive_failures=0, failing_since=None)
        )
        result = self.c.execute(
            update(deliveries)
            .where(deliveries.c.subscription_id == subscription_id, deliveries.c.state == "paused")
            .values(state="pending", available_at=at, attempts=0, claimed_until=None, claim_token=None)
        )
        return int(result.rowcount or 0)

    def attempts(
        self, subscription_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        a, d = delivery_attempts, deliveries
        q = (
            select(
                a.c.id,
                a.c.delivery_id,
                a.c.attempt,
                a.c.attempted_at,
                a.c.ok,
                a.c.status_code,
                a.c.duration_ms,
                a.c.error,
                d.c.event_id,
                d.c.type,
                d.c.state,
            )
            .join(d, d.c.id == a.c.delivery_id)
            .where(a.c.subscription_id == subscription_id)
        )
        if cursor:
            _, last = decode_cursor(cursor)
            before = row_number(last)
            if before is None:
                raise ValidationFailed.bad_cursor()
            q = q.where(a.c.id < before)
        rows = self.c.execute(q.order_by(a.c.id.desc()).limit(limit + 1)).all()
        page = rows[:limit]
        nxt = encode_cursor(page[-1].attempted_at, str(page[-1].id)) if len(rows) > limit else None
        return [
            {
                "id": str(r.id),
                "delivery_id": str(r.delivery_id),
                "event_id": r.event_id,
                "type": r.type,
                "attempt": r.attempt,
                "attempted_at": r.attempted_at,
                "ok": bool(r.ok),
                "status_code": r.status_code,
                "duration_ms": r.duration_ms,
                "error": r.error,
                "delivery_state": r.state,
            }
            for r in page
        ], nxt
