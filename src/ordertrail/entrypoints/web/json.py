"""Fast JSON with the API's conventions: UTC instants end in Z, dates are YYYY-MM-DD."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ordertrail.domain.text import without_surrogates

OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_default, option=OPTIONS)
    except TypeError:
        # A lone surrogate (a half of a UTF-16 pair, no character) stored before the inputs refused
        # them must not make every later read of its order fail: answer with "?" in its place.
        return orjson.dumps(_scrub(value), default=_default, option=OPTIONS)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


class FastJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)


# What `curl -d` and some HTTP libraries label a body they were given as text.
_UNLABELLED = ("", "application/x-www-form-urlencoded", "text/plain")


class JsonRequests:
    """The API takes JSON only (API.md), so a body sent to it without saying so, as `curl -d` does
    (labelled a form) is read as the JSON it is: a valid order is placed rather than refused with a
    422 about a "dictionary", and malformed JSON gets the 400 the contract gives it. The pages'
    forms, uploads and the providers' inbound webhooks (read as raw bytes) are left as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("POST", "PUT", "PATCH")
            and scope["path"].startswith("/v1/")
            and not scope["path"].startswith("/v1/webhooks/inbound/")
        ):
            headers = MutableHeaders(scope=scope)
            kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if kind in _UNLABELLED:
                headers["content-type"] = "application/json"
        await self.app(scope, receive, send)
