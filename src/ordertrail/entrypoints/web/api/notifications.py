from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ordertrail.domain.errors import NotFound
from ordertrail.entrypoints.web.deps import Actor, Cursor, DepsT, Limit
from ordertrail.services import outbox

router = APIRouter(prefix="/v1", tags=["notifications"])


# The item as API.md gives it (the inbox rows also carry the case a notice is about, for the pages).
_FIELDS = ("id", "type", "title", "body", "order_id", "created_at", "read_at")


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in _FIELDS}


@router.get("/notifications")
def list_notifications(deps: DepsT, actor: Actor, limit: Limit = 20, cursor: Cursor = None) -> dict[str, Any]:
    page = outbox.inbox(deps, actor.id, limit, cursor)
    return {"items": [_item(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/notifications/{notification_id}/read")
def read_notification(notification_id: str, deps: DepsT, actor: Actor) -> dict[str, Any]:
    row = outbox.mark_read(deps, actor.id, notification_id)
    if row is None:
        raise NotFound(f"No notification {notification_id}.")
    return _item(row)
