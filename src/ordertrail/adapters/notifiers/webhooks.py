"""The webhook channel: signed POSTs of `{"id", "type", "created_at", "data"}` to subscribers.

`Ordertrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` lets a receiver
check that we sent the exact body, and reject replays by the age of `t`. The event id is the same on
every retry, so receivers can deduplicate (delivery is at least once). A batch goes out over a small
thread pool with strict timeouts, so one slow endpoint costs at most its timeout; redirects are not
followed (an endpoint must answer where it is registered).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import typing
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx

from ordertrail.domain.monitoring import is_private_address
from ordertrail.services.ports_monitoring import WEBHOOK, Delivery, Outcome

SIGNATURE_HEADER = "Ordertrail-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (shown here for integrators and tests)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, t, body).split("v1=", 1)[1]
    return abs(now - t) <= tolerance and hmac.compare_digest(expected, parts.get("v1", ""))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body_of(d: Delivery) -> bytes:
    event = {
        "id": d.event_id,
        "type": d.type,
        "created_at": _utc(d.created_at),
        "data": d.payload.get("data") or {},
    }
    return json.dumps(event, separators=(",", ":"), sort_keys=True, default=str).encode()


class _PublicOnly(httpcore.SyncBackend):
    """Connects to public addresses only. The host is resolved here and the connection made to the
    address that was checked, so a name that resolves, or is re-pointed between a check and the
    connection, to this machine or a private network is refused. (TLS still names the host.)"""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = [str(info[4][0]) for info in found]
        for address in addresses:
            if is_private_address(ipaddress.ip_address(address.split("%", 1)[0])):
                raise httpcore.ConnectError(
                    f"{host} resolves to {address}, which is not a public address: webhooks go to public "
                    "addresses only (ORDERTRAIL_WEBHOOK_ALLOW_PRIVATE_TARGETS allows others)"
                )
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


class PublicOnlyTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that reaches public addresses only. httpx takes no
    network backend itself, so its pool is replaced with one built on httpcore's public API (a
    proxy set in the environment would connect for us and is not covered: webhooks use none)."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=_PublicOnly()
        )


class WebhookChannel:
    name = WEBHOOK

    def __init__(
        self,
        clock: Callable[[], datetime],
        timeout: float = 10.0,
        concurrency: int = 8,
        transport: httpx.BaseTransport | None = None,
        allow_private_targets: bool = False,
    ) -> None:
        self.clock = clock
        self.concurrency = concurrency
        guarded = transport is None and not allow_private_targets
        if guarded:
            transport = PublicOnlyTransport()
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            headers={"User-Agent": "ordertrail-webhooks/1", "Content-Type": "application/json"},
            transport=transport,
            trust_env=not guarded,  # a proxy from the environment would bypass the address check
        )

    def _post(self, d: Delivery) -> Outcome:
        if not d.url or not d.secret:
            return Outcome(False, 0, error="the subscription no longer exists", permanent=True)
        body = body_of(d)
        headers = {
            SIGNATURE_HEADER: sign(d.secret, int(self.clock().timestamp()), body),
            "Ordertrail-Event-Id": d.event_id,
            "Ordertrail-Event-Type": d.type,
        }
        started = time.perf_counter()
        try:
            response = self.client.post(d.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(False, _ms(started), error=f"{type(exc).__name__}: {exc}"[:500])
        ms = _ms(started)
        if 200 <= response.status_code < 300:
            return Outcome(True, ms, status_code=response.status_code)
        snippet = response.text[:200].strip()
        return Outcome(
            False,
            ms,
            status_code=response.status_code,
            error=f"HTTP {response.status_code}" + (f": {snippet}" if snippet else ""),
            permanent=response.status_code == 410,
        )

    def send(self, batch: Sequence[Delivery]) -> list[Outcome]:
        if len(batch) <= 1 or self.concurrency <= 1:
            return [self._post(d) for d in batch]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batch))) as pool:
            return list(pool.map(self._post, batch))

    def close(self) -> None:
        self.client.close()


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
