"""Turning facts into outbox messages, written in the same transaction as the facts."""

from __future__ import annotations

from collections.abc import Iterable

from ordertrail.domain.notices import Notice
from ordertrail.services.ports import OutboxMessage


def messages(
    notice: Notice, order_id: str | None, recipients: Iterable[str], dedupe: str | None = None
) -> list[OutboxMessage]:
    """One message per recipient; `dedupe` (a condition's name) makes a persisting condition notify once."""
    payload = {"title": notice.title, "body": notice.body, "data": notice.data}
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
