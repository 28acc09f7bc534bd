"""Delivering the outbox: the in-app inbox exactly once, e-mail at least once.

A claim is a lease: a worker that dies mid-batch leaves rows whose lease runs out and another
worker takes them. The inbox row is written in the same transaction that marks the outbox row done,
and is keyed by the outbox id, so a retried row can never appear twice in an inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ordertrail.domain.ids import new_id
from ordertrail.services.context import Deps
from ordertrail.services.ports import ClaimedMessage, Page

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """Exponential: 10 s, 20 s, 40 s ... capped at one hour."""
    return timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


# Extra channels (e-mail, webhooks) register here; each gets the claimed messages and the
# recipients, and raises for a message it could not deliver.
Channel = Callable[[Deps, ClaimedMessage, dict[str, Any]], None]


def deliver_pending(deps: Deps, limit: int = 200, channels: Sequence[Channel] = ()) -> DeliveryReport:
    report = DeliveryReport()
    now = deps.clock()
    with deps.uow() as uow:
        claimed = uow.outbox.claim(now, limit, LEASE_SECONDS)
        recipients = uow.users.many({m.recipient_id for m in claimed if m.recipient_id})
        uow.commit()
    report.claimed = len(claimed)
    if not claimed:
        return report

    ok: list[ClaimedMessage] = []
    failures: list[tuple[ClaimedMessage, str]] = []
    for message in claimed:
        try:
            for channel in channels:
                channel(deps, message, {"recipient": recipients.get(message.recipient_id or "")})
            ok.append(message)
        except Exception as exc:  # a channel's failure is recorded on the row and retried
            log.warning("outbox %s (%s) failed: %s", message.id, message.type, type(exc).__name__)
            failures.append((message, f"{type(exc).__name__}: {exc}"))

    now = deps.clock()
    with deps.uow() as uow:
        uow.inbox.deliver(
            [
                {
                    "id": new_id("ntf"),
                    "user_id": m.recipient_id,
                    "outbox_id": m.id,
                    "type": m.type,
                    "title": m.payload.get("title", m.type),
                    "body": m.payload.get("body", ""),
                    "order_id": m.order_id,
                    "created_at": m.created_at,
                }
                for m in ok
                if m.recipient_id and m.recipient_id in recipients
            ]
        )
        uow.outbox.done([m.id for m in ok], now)
        for message, error in failures:
            final = message.attempts >= MAX_ATTEMPTS
            uow.outbox.retry(message.id, error, now + backoff(message.attempts), final)
            report.failed += final
            report.retried += not final
        uow.commit()
    report.delivered = len(ok)
    return report


def drain(deps: Deps, channels: Sequence[Channel] = ()) -> int:
    """Deliver until nothing is due; returns how many were delivered."""
    total = 0
    while True:
        report = deliver_pending(deps, channels=channels)
        total += report.delivered
        if report.claimed == 0 or report.delivered + report.failed + report.retried == 0:
            return total
        if report.delivered == 0:
            return total


def inbox(deps: Deps, user_id: str, limit: int, cursor: str | None) -> Page:
    with deps.uow() as uow:
        return uow.inbox.list(user_id, limit, cursor)


def mark_read(deps: Deps, user_id: str, notification_id: str) -> dict[str, Any] | None:
    with deps.uow() as uow:
        row = uow.inbox.mark_read(user_id, notification_id, deps.clock())
        uow.commit()
    return row
