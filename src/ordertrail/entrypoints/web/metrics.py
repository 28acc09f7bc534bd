"""Prometheus metrics: request latency by route, and the counters other parts increment."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response

registry = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "ordertrail_http_request_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    registry=registry,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_INGESTED = Counter(
    "ordertrail_events_ingested_total", "Carrier events by outcome", ["outcome"], registry=registry
)
UNKNOWN_CODES = Counter(
    "ordertrail_unknown_carrier_codes_total",
    "Provider codes with no mapping (kept raw)",
    ["provider"],
    registry=registry,
)
OUTBOX_PENDING = Gauge("ordertrail_outbox_pending", "Outbox rows waiting for delivery", registry=registry)
SWEEP_SECONDS = Histogram("ordertrail_sweep_seconds", "Sweep duration", ["sweep"], registry=registry)
SWEEP_FINDINGS = Counter(
    "ordertrail_sweep_findings_total", "What sweeps found", ["sweep", "finding"], registry=registry
)


async def timing_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    start = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    REQUEST_SECONDS.labels(request.method, path, str(response.status_code)).observe(
        time.perf_counter() - start
    )
    return response


def render() -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
