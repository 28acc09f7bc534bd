"""Outbound webhook subscriptions: sellers (for their own orders) and admins (for all) ask for events.

Every delivery is POSTed by the worker (see `services.deliveries` and the webhook channel) and each
attempt is logged with its status code and duration, readable here by the subscription's owner.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ordertrail.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from ordertrail.domain.ids import new_id
from ordertrail.domain.monitoring import is_private_host
from ordertrail.domain.notices import NoticeType
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.ports import UnitOfWork
from ordertrail.services.ports_monitoring import WEBHOOK, NewDelivery, Subscription

TEST_EVENT = "webhook_test"
MAX_EVENTS = 50


@dataclass(frozen=True)
class TestEvent:
    event_id: str
    queued: bool


def _owner(actor: User) -> None:
    if actor.role not in (Role.SELLER, Role.ADMIN):
        raise Forbidden("Only sellers and admins subscribe to webhooks.")


def _parts(url: str) -> SplitResult | None:
    """The URL's parts if a request can be sent to it: brackets that close, a port in range, and a
    host name that IDNA can encode (what the HTTP client will do with it)."""
    try:
        parts = urlsplit(url)
        _ = parts.port
        if parts.hostname:
            parts.hostname.encode("idna")
    except (ValueError, UnicodeError):
        return None
    return parts


def _check(deps: Deps, url: str, events: Sequence[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    parts = _parts(url.strip())
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(FieldError("url", "invalid_url", "Give an absolute http:// or https:// URL."))
    elif parts.username or parts.password:
        errors.append(
            FieldError("url", "invalid_url", "Put no credentials in the URL; verify our signature instead.")
        )
    elif is_private_host(parts.hostname) and not deps.delivery_policy.webhook_allow_private_targets:
        errors.append(
            FieldError(
                "url", "private_address", "Webhooks go to public addresses only (not loopback or private)."
            )
        )
    if not events:
        errors.append(FieldError("events", "required", 'List the event types to receive, or ["*"] for all.'))
    for i, event in enumerate(events):
        if event != "*" and event not in NoticeType.ALL:
            errors.append(
                FieldError(
                    f"events.{i}",
                    "unknown_event_type",
                    f"'{event}' is not an event type; use one of {', '.join(sorted(NoticeType.ALL))} or '*'.",
                )
            )
    return errors


def create_subscription(deps: Deps, actor: User, url: str, events: Sequence[str]) -> Subscription:
    _owner(actor)
    errors = _check(deps, url, events)
    if errors:
        raise ValidationFailed(errors)
    chosen = ("*",) if "*" in events else tuple(dict.fromkeys(events))
    sub = Subscription(
        id=new_id("whk"),
        owner_id=actor.id,
        owner_role=actor.role.value,
        url=url.strip(),
        events=chosen,
        secret="whsec_" + secrets.token_urlsafe(32),
        created_at=deps.clock(),
    )
    with deps.uow() as uow:
        uow.webhooks.add(sub)
        uow.commit()
    return sub


def _get(uow: UnitOfWork, actor: User, subscription_id: str) -> Subscription:
    """The subscription if the actor owns it (admins: any); 404 alike for missing and foreign."""
    _owner(actor)
    sub = uow.webhooks.get(subscription_id)
    if sub is None or (actor.role is not Role.ADMIN and sub.owner_id != actor.id):
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return sub


def get_subscription(deps: Deps, actor: User, subscription_id: str) -> Subscription:
    with deps.uow() as uow:
        return _get(uow, actor, subscription_id)


def list_subscriptions(
    deps: Deps, actor: User, limit: int, cursor: str | None
) -> tuple[list[Subscription], str | None]:
    _owner(actor)
    with deps.uow() as uow:
        return uow.webhooks.owned_by(None if actor.role is Role.ADMIN else actor.id, limit, cursor)


def delete_subscription(deps: Deps, actor: User, subscription_id: str) -> None:
    with deps.uow() as uow:
        sub = _get(uow, actor, subscription_id)
        uow.webhooks.delete(sub.id)
        uow.commit()


def enable_subscription(deps: Deps, actor: User, subscription_id: str) -> tuple[Subscription, int]:
    """Switch a subscription on again; deliveries parked while it was off are sent again."""
    with deps.uow() as uow:
        sub = _get(uow, actor, subscription_id)
        requeued = uow.webhooks.enable(sub.id, deps.clock())
        sub = uow.webhooks.get(sub.id) or sub
        uow.commit()
    return sub, requeued


def send_test_event(deps: Deps, actor: User, subscription_id: str) -> TestEvent:
    """Queue a `webhook_test` event to this endpoint alone, whatever event types it chose."""
    now = deps.clock()
    event_id = new_id("evt")
    with deps.uow() as uow:
        sub = _get(uow, actor, subscription_id)
        queued = uow.deliveries.add(
            [
                NewDelivery(
                    channel=WEBHOOK,
                    dedupe_key=f"webhook:{sub.id}:{event_id}",
                    event_id=event_id,
                    type=TEST_EVENT,
                    payload={"data": {"subscription_id": sub.id, "message": "A test event from ordertrail."}},
                    created_at=now,
                    subscription_id=sub.id,
                )
            ],
            now,
        )
        uow.commit()
    return TestEvent(event_id, queued == 1)


def delivery_log(
    deps: Deps, actor: User, subscription_id: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    with deps.uow() as uow:
        sub = _get(uow, actor, subscription_id)
        return uow.webhooks.attempts(sub.id, limit, cursor)
