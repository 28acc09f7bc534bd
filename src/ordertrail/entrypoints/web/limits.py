"""Request limits, enforced before any route runs: body size (413), request rates (429), and no
NUL characters where the database would choke on them.

Body size is counted as the bytes arrive (Starlette's streaming limiter), so a client that lies in
Content-Length, or sends a chunked body with none, is cut off at the limit all the same, before the
route has the whole body: nothing is stored.

Rates are token buckets (`domain.rate_limits`) kept in this process, one per caller: per API key
(or page session) for signed calls, per client address for anonymous ones (the public tracking
endpoints, sign-in pages, and any call without credentials), and a third per address that counts
only refused credentials (401), so that guessing keys from one address stops after a few tries.
Several API processes each keep their own buckets: see docs/security.md for the multi-process story.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordertrail.config import Settings
from ordertrail.domain.errors import FieldError
from ordertrail.domain.rate_limits import TokenBucket
from ordertrail.entrypoints.web.json import JsonRequests
from ordertrail.entrypoints.web.problems import nul_field_errors, problem

# Probes and scrapes come from the platform, not from clients, and must answer while clients are throttled.
UNLIMITED_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/")
SESSION_COOKIE = "ot_session"
SIGNED_PUSH_PREFIX = "/v1/webhooks/inbound/"


@dataclass(frozen=True)
class Rate:
    per_minute: int
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0 and self.burst > 0


class Buckets:
    """One token bucket per caller; the least recently seen are forgotten beyond `max_callers`.

    Forgetting a caller gives it a full bucket again: that bounds memory under a flood of addresses
    at the price of a little generosity to the oldest of them.
    """

    def __init__(self, rate: Rate, max_callers: int = 100_000) -> None:
        self.rate = rate
        self.per_second = rate.per_minute / 60
        self.max_callers = max_callers
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def _bucket(self, caller: str) -> TokenBucket:
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = self._buckets[caller] = TokenBucket(self.per_second, self.rate.burst)
            if len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(caller)
        return bucket

    def _wait(self, bucket: TokenBucket) -> int:
        return max(1, math.ceil((1 - bucket.tokens) / self.per_second))

    def take(self, caller: str, now: datetime) -> int | None:
        """Take a token: None when there was one, else the seconds until there will be."""
        bucket = self._bucket(caller)
        return None if bucket.take(now) else self._wait(bucket)

    def empty(self, caller: str, now: datetime) -> int | None:
        """Like `take` without taking: the seconds to wait when the bucket is empty, else None."""
        bucket = self._buckets.get(caller)
        if bucket is None or bucket.available(now) >= 1:
            return None
        return self._wait(bucket)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def _too_many(retry_after: int, detail: str) -> ASGIApp:
    return problem(429, detail, code="rate_limited", headers={"Retry-After": str(retry_after)})


class RateLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        per_key: Rate,
        per_address: Rate,
        auth_failures: Rate,
        clock: Callable[[], datetime],
    ) -> None:
        self.app = app
        self.clock = clock
        self.per_key = Buckets(per_key) if per_key.enabled else None
        self.per_address = Buckets(per_address) if per_address.enabled else None
        self.failures = Buckets(auth_failures) if auth_failures.enabled else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        address = (scope.get("client") or ("unknown", 0))[0]
        scheme, _, key = headers.get("authorization", "").partition(" ")
        credential = key.strip() if scheme.lower() == "bearer" and key.strip() else None
        if credential is None:
            cookie = _session_cookie(headers.get("cookie", ""))
            credential = f"session:{cookie}" if cookie else None
        # Aggregators push from a handful of addresses at whatever rate parcels move; their calls are
        # authenticated by signature, so only failed signatures count (against the sender's address).
        signed_push = credential is None and scope["path"].startswith(SIGNED_PUSH_PREFIX)
        if signed_push:
            credential = "signed-push"
        now = self.clock()

        if credential is not None and self.failures is not None:
            wait = self.failures.empty(address, now)
            if wait is not None:
                refusal = "Too many requests with credentials that are not valid from this address."
                await _too_many(wait, refusal)(scope, receive, send)
                return
        if signed_push:
            wait = None
        elif credential is not None and self.per_key is not None:
            wait = self.per_key.take(_digest(credential), now)
        elif credential is None and self.per_address is not None:
            wait = self.per_address.take(address, now)
        else:
            wait = None
        if wait is not None:
            await _too_many(wait, f"Too many requests; try again in {wait} s.")(scope, receive, send)
            return

        if self.failures is None or credential is None:
            await self.app(scope, receive, send)
            return
        failures = self.failures

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                failures.take(address, self.clock())
            await send(message)

        await self.app(scope, receive, counting_send)


def _session_cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


class BodySizeLimit:
    """413 for a body over the limit: multipart uploads get `max_upload_bytes`, the rest `max_bytes`.

    A declared Content-Length over the limit is refused before the route runs; the bytes that do
    arrive are counted by Starlette's streaming limiter, whose 413 reaches the problem handlers.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes
        self._json = RequestBodyLimitMiddleware(app, max_bytes)
        self._upload = RequestBodyLimitMiddleware(app, max_upload_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        upload = headers.get("content-type", "").lower().startswith("multipart/")
        limit = self.max_upload_bytes if upload else self.max_bytes
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            refusal = problem(413, f"The request body may be at most {limit} bytes.", code="too_large")
            await refusal(scope, receive, send)
            return
        await (self._upload if upload else self._json)(scope, receive, send)


class NoNul:
    """No NUL character in a request's path, query or form: PostgreSQL cannot compare or store one
    (it answered 500 for `/v1/track/AB%00C`), and no id, number, name or address holds it. JSON
    bodies are checked field by field (schemas.Body), so that the error names the field; multipart
    bodies carry binary files and are left alone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:  # no resource is named so
            await problem(404, "Nothing here has a NUL character (%00) in its address.")(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if _has_nul(query):
            refusal = problem(422, "A query parameter holds a NUL character (%00).", _nul_fields(query))
            await refusal(scope, receive, send)
            return
        if (
            not Headers(scope=scope)
            .get("content-type", "")
            .lower()
            .startswith("application/x-www-form-urlencoded")
        ):
            await self.app(scope, receive, send)
            return
        # A form is small (BodySizeLimit, outside this, has capped it): read it whole, then replay it.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client went away: the app sees it so
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _has_nul(body):
            refusal = problem(422, "A form field holds a NUL character (%00).", _nul_fields(body))
            await refusal(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _has_nul(raw: bytes) -> bool:
    return b"\x00" in raw or b"%00" in raw


def _nul_fields(urlencoded: bytes) -> list[FieldError]:
    """The fields of a query or form whose name or value holds a NUL."""
    return nul_field_errors(parse_qsl(urlencoded.decode("latin-1"), keep_blank_values=True))


# Multipart framing and the small form fields that travel with an evidence file.
UPLOAD_ALLOWANCE = 1024 * 1024


def install(app: FastAPI, settings: Settings, clock: Callable[[], datetime]) -> None:
    app.add_middleware(NoNul)  # inside the size limit, which caps what it reads
    app.add_middleware(JsonRequests)  # outside NoNul, which reads a body labelled as a form
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        max_upload_bytes=settings.evidence_max_bytes + UPLOAD_ALLOWANCE,
    )
    app.add_middleware(
        RateLimit,
        per_key=Rate(settings.rate_limit_key_per_minute, settings.rate_limit_key_burst),
        per_address=Rate(settings.rate_limit_address_per_minute, settings.rate_limit_address_burst),
        auth_failures=Rate(
            settings.rate_limit_auth_failures_per_minute, settings.rate_limit_auth_failures_burst
        ),
        clock=clock,
    )
