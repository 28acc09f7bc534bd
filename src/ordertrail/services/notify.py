"""Turning facts into outbox messages, written in the same transaction as the facts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ordertrail.domain.ids import new_id
from ordertrail.domain.notices import Notice
from ordertrail.services.ports import OutboxMessage


def messages(
    notice: Notice, order_id: str | None, recipients: Iterable[str], dedupe: str | None = None
) -> list[OutboxMessage]:
    """One message per recipient; `dedupe` (a condition's name) makes a persisting condition notify once."""
    payload = {"title": notice.title, "body": notice.body, "data": notice.data, "event_id": event_id(dedupe)}
    return [
        OutboxMessage(
            type=notice.type,
            recipient_id=r,
            order_id=order_id,
            payload=payload,
            dedupe_key=f"{dedupe}:{r}" if dedupe else None,
        )
        for r in recipients
    ]


def event_id(dedupe: str | None) -> str:
    """The id of the fact behind a notice, shared by its messages to every recipient, so that a webhook
    receives one event per fact. A condition's id follows from its dedupe name, so the separate notices
    it sends the buyer and the seller are still one event."""
    if dedupe:
        return "evt_" + hashlib.sha256(dedupe.encode()).hexdigest()[:24]
    return new_id("evt")
