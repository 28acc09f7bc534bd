"""The request id (X-Request-ID in and out) and one log line per request.

A client's X-Request-ID is kept when it is a short token of safe characters, so that a caller can
follow its own request through our logs; anything else is replaced by a fresh id (a header that
could carry a line break or a megabyte into the logs is not taken). The request log names the
route template and never the raw path or query: paths can hold one-time sign-in tokens.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("ordertrail.requests")

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._\-]{8,128}")


def valid_request_id(value: str) -> bool:
    return _SAFE_ID.fullmatch(value) is not None


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                },
            )


def install(app: FastAPI) -> None:
    """Add the request log inside the request-id middleware, so its line carries the id."""
    app.add_middleware(RequestLog)
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        generator=lambda: uuid.uuid4().hex,
        validator=valid_request_id,
    )
