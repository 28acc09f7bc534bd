"""Outbound webhook subscriptions (API.md "Notifications"): sellers and admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, StrictStr

from ordertrail.entrypoints.web.deps import Actor, Cursor, DepsT, Limit, container
from ordertrail.entrypoints.web.schemas import Body
from ordertrail.services import webhooks as webhook_service
from ordertrail.services.ports_monitoring import Subscription

router = APIRouter(prefix="/v1", tags=["webhooks"])


class SubscriptionIn(Body):
    url: Annotated[StrictStr, Field(min_length=1, max_length=2000)]
    events: Annotated[
        list[Annotated[StrictStr, Field(max_length=40)]], Field(max_length=webhook_service.MAX_EVENTS)
    ]


def subscription_view(s: Subscription, secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "url": s.url,
        "events": list(s.events),
        "enabled": s.disabled_at is None,
        "disabled_at": s.disabled_at,
        "disabled_reason": s.disabled_reason,
        "consecutive_failures": s.consecutive_failures,
        "created_at": s.created_at,
    }
    if secret:  # shown when created only, like an API key
        out["secret"] = s.secret
    return out


@router.post("/webhook-subscriptions", status_code=201)
def create(body: SubscriptionIn, deps: DepsT, actor: Actor) -> dict[str, Any]:
    sub = webhook_service.create_subscription(deps, actor, body.url, body.events)
    return subscription_view(sub, secret=True)


@router.get("/webhook-subscriptions")
def list_subscriptions(deps: DepsT, actor: Actor, limit: Limit = 20, cursor: Cursor = None) -> dict[str, Any]:
    subs, nxt = webhook_service.list_subscriptions(deps, actor, limit, cursor)
    return {"items": [subscription_view(s) for s in subs], "next_cursor": nxt}


@router.get("/webhook-subscriptions/{subscription_id}")
def get(subscription_id: str, deps: DepsT, actor: Actor) -> dict[str, Any]:
    return subscription_view(webhook_service.get_subscription(deps, actor, subscription_id))


@router.delete("/webhook-subscriptions/{subscription_id}", status_code=204)
def delete(subscription_id: str, deps: DepsT, actor: Actor) -> Response:
    webhook_service.delete_subscription(deps, actor, subscription_id)
    return Response(status_code=204)


@router.post("/webhook-subscriptions/{subscription_id}/enable")
def enable(subscription_id: str, deps: DepsT, actor: Actor) -> dict[str, Any]:
    sub, requeued = webhook_service.enable_subscription(deps, actor, subscription_id)
    return {**subscription_view(sub), "requeued_deliveries": requeued}


@router.post("/webhook-subscriptions/{subscription_id}/test", status_code=202)
def send_test(subscription_id: str, deps: DepsT, actor: Actor) -> dict[str, Any]:
    test = webhook_service.send_test_event(deps, actor, subscription_id)
    return {"event_id": test.event_id, "type": webhook_service.TEST_EVENT, "queued": test.queued}


@router.get("/webhook-subscriptions/{subscription_id}/deliveries")
def deliveries(
    subscription_id: str,
    request: Request,
    deps: DepsT,
    actor: Actor,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Delivery attempts, newest first: status code (null when no answer), duration, error."""
    items, nxt = webhook_service.delivery_log(deps, actor, subscription_id, limit, cursor)
    ids = container(request).row_ids
    shown = [
        {**i, "id": ids.show("att", i["id"]), "delivery_id": ids.show("dlv", i["delivery_id"])} for i in items
    ]
    return {"items": shown, "next_cursor": nxt}
