"""Fanning the outbox out: the in-app inbox exactly once, e-mail and webhooks as deliveries of their own.

One transaction per batch claims due outbox rows (locked, SKIP LOCKED on PostgreSQL), writes each
recipient's inbox row (keyed by outbox id, so never twice), queues an e-mail delivery and one webhook
delivery per matching subscription (keyed, so never twice), and marks the rows done. Nothing here
talks to the outside world, so a worker killed at any point leaves either all of a batch's effects
or none; the slow, failing parts (SMTP, HTTP) retry on their own schedule in `services.deliveries`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ordertrail.domain.ids import new_id
from ordertrail.domain.monitoring import backoff
from ordertrail.domain.statuses import Role
from ordertrail.domain.text import storable
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.deliveries import deliver
from ordertrail.services.ports import ClaimedMessage, Page, UnitOfWork
from ordertrail.services.ports_monitoring import EMAIL, WEBHOOK, Channel, NewDelivery, Subscription

log = logging.getLogger(__name__)

OPT_OUT_ALL = "*"


@dataclass
class DispatchReport:
    claimed: int = 0
    dispatched: int = 0
    retried: int = 0
    failed: int = 0


def event_id_of(message: ClaimedMessage) -> str:
    return str(message.payload.get("event_id") or f"evt_{message.id}")


def wants_email(user: User | None, notice_type: str) -> bool:
    """The inbox always keeps a notice; e-mail only goes where there is an address and no opt-out."""
    if user is None or not user.email:
        return False
    return OPT_OUT_ALL not in user.email_opt_out and notice_type not in user.email_opt_out


def subscribed(sub: Subscription, message: ClaimedMessage, sellers: Mapping[str, str]) -> bool:
    """Admins receive every event they asked for; a seller those about its own orders."""
    if not sub.wants(message.type):
        return False
    if sub.owner_role == Role.ADMIN:
        return True
    return message.order_id is not None and sellers.get(message.order_id) == sub.owner_id


def _email(message: ClaimedMessage, user: User) -> NewDelivery:
    return NewDelivery(
        channel=EMAIL,
        dedupe_key=f"email:{message.id}",
        event_id=event_id_of(message),
        type=message.type,
        payload={
            "to": user.email,
            "name": user.name,
            "role": user.role.value,
            "title": message.payload.get("title", message.type),
            "body": message.payload.get("body", ""),
            "order_id": message.order_id,
            "data": message.payload.get("data") or {},
        },
        created_at=message.created_at,
        outbox_id=message.id,
        user_id=user.id,
    )


def _webhook(message: ClaimedMessage, sub: Subscription) -> NewDelivery:
    event = event_id_of(message)
    data = {"order_id": message.order_id, **dict(message.payload.get("data") or {})}
    return NewDelivery(
        channel=WEBHOOK,
        dedupe_key=f"webhook:{sub.id}:{event}",
        event_id=event,
        type=message.type,
        payload={"data": data},
        created_at=message.created_at,
        outbox_id=message.id,
        subscription_id=sub.id,
    )


def _case_of(message: ClaimedMessage) -> str | None:
    case_id = (message.payload.get("data") or {}).get("case_id")
    return case_id if isinstance(case_id, str) and len(case_id) <= 32 else None


def _fan_out(
    message: ClaimedMessage, user: User | None, subs: Sequence[Subscription], sellers: Mapping[str, str]
) -> tuple[dict[str, Any] | None, list[NewDelivery]]:
    inbox_row = None
    if user is not None:
        inbox_row = {
            "id": new_id("ntf"),
            "user_id": user.id,
            "outbox_id": message.id,
            "type": message.type,
            # One row the database refuses would hold up the whole batch, and every batch after it.
            "title": storable(str(message.payload.get("title", message.type)))[:300],
            "body": storable(str(message.payload.get("body", ""))),
            "order_id": message.order_id,
            "case_id": _case_of(message),
            "created_at": message.created_at,
        }
    out = [_email(message, user)] if user is not None and wants_email(user, message.type) else []
    out += [_webhook(message, s) for s in subs if subscribed(s, message, sellers)]
    return inbox_row, out


def dispatch(deps: Deps, limit: int = 200) -> DispatchReport:
    """Fan out one batch of due outbox rows; a row that cannot be fanned out is retried with backoff."""
    now = deps.clock()
    with deps.uow() as uow:
        report = _fan_out_claimed(deps, uow, uow.outbox.claim_locked(now, limit), now)
        if report.claimed:
            uow.commit()
    return report


def fan_out_order_now(deps: Deps, uow: UnitOfWork, order_id: str, now: datetime) -> DispatchReport:
    """The order's due notices fanned out in the caller's transaction, which has just written them:
    when it commits, the recipients' inboxes already hold them (and their e-mails are queued)."""
    return _fan_out_claimed(deps, uow, uow.outbox.claim_locked(now, 50, order_id=order_id), now)


def _fan_out_claimed(
    deps: Deps, uow: UnitOfWork, claimed: Sequence[ClaimedMessage], now: datetime
) -> DispatchReport:
    report = DispatchReport(claimed=len(claimed))
    if not claimed:
        return report
    policy = deps.delivery_policy
    users = uow.users.many({m.recipient_id for m in claimed if m.recipient_id})
    sellers = uow.webhooks.sellers_of({m.order_id for m in claimed if m.order_id})
    subs = uow.webhooks.enabled_for(set(sellers.values()))
    inbox_rows: list[dict[str, Any]] = []
    queued: list[NewDelivery] = []
    done: list[int] = []
    for message in claimed:
        try:
            row, deliveries = _fan_out(message, users.get(message.recipient_id or ""), subs, sellers)
        except Exception as exc:  # a malformed row must not hold up the rest of the batch
            log.warning("outbox %s (%s) could not be fanned out: %r", message.id, message.type, exc)
            final = message.attempts + 1 >= policy.outbox_max_attempts
            uow.outbox.retry(
                message.id,
                f"{type(exc).__name__}: {exc}",
                now + backoff(message.attempts + 1, policy.retry_base_seconds),
                final,
            )
            report.failed += final
            report.retried += not final
            continue
        if row is not None:
            inbox_rows.append(row)
        queued += deliveries
        done.append(message.id)
    uow.inbox.deliver(inbox_rows)
    uow.deliveries.add(queued, now)
    uow.outbox.done(done, now)
    report.dispatched = len(done)
    return report


def drain(deps: Deps, channels: Sequence[Channel] = ()) -> int:
    """Fan out and deliver until nothing is due now; returns how many outbox rows were fanned out.

    Deliveries that failed wait for their backoff, which lies in the future, so this always ends."""
    total = 0
    while True:
        report = dispatch(deps)
        total += report.dispatched
        sent = 0
        for channel in channels:
            while (claimed := deliver(deps, channel).claimed) > 0:
                sent += claimed
        if report.claimed == 0 and sent == 0:
            return total


def inbox(deps: Deps, user_id: str, limit: int, cursor: str | None) -> Page:
    with deps.uow() as uow:
        return uow.inbox.list(user_id, limit, cursor)


def mark_read(deps: Deps, user_id: str, notification_id: str) -> dict[str, Any] | None:
    with deps.uow() as uow:
        row = uow.inbox.mark_read(user_id, notification_id, deps.clock())
        uow.commit()
    return row
