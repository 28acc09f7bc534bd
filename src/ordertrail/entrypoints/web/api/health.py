from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ordertrail.adapters.db.migrate import schema_state
from ordertrail.entrypoints.web.deps import container
from ordertrail.entrypoints.web.json import dumps

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


def _unavailable(detail: str) -> Response:
    return Response(dumps({"status": "unavailable", "detail": detail}), 503, media_type="application/json")


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """Ready when the database answers and holds this version's schema: a database not migrated yet
    (or by a newer version) would fail every request."""
    try:
        with container(request).engine.connect() as conn:
            state = schema_state(conn)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return _unavailable(type(exc).__name__)
    if state == "behind":
        return _unavailable("the database is not migrated to this version: run `ordertrail migrate`")
    if state == "ahead":
        return _unavailable("the database was migrated by a newer version of ordertrail")
    return Response('{"status":"ready"}', 200, media_type="application/json")
