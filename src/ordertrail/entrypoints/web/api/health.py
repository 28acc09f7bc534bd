from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import Response

from ordertrail.entrypoints.web.deps import container

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    try:
        with container(request).engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not ready"
        return Response(
            f'{{"status":"unavailable","detail":"{type(exc).__name__}"}}', 503, media_type="application/json"
        )
    return Response('{"status":"ready"}', 200, media_type="application/json")
