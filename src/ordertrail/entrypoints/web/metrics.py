"""Prometheus metrics: request latency by route, and the counters other parts increment."""

from __future__ import annotations

import logging
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

from ordertrail.services.context import Deps
from ordertrail.services.observability import operational_figures

log = logging.getLogger(__name__)

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
INGEST_BATCHES = Counter(
    "ordertrail_ingest_batches_total",
    "Batches of carrier events applied, by how they were planned: ahead of the write lock and written "
    "as planned, planned again under the lock because a parcel moved meanwhile, or under the lock only",
    ["plan"],
    registry=registry,
)
INGEST_TRANSACTIONS = Counter(
    "ordertrail_ingest_transactions_total",
    "Write transactions of carrier-event batches: below the batch count when batches arriving together "
    "in one process shared a transaction (SQLite)",
    registry=registry,
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


# Read from the database at scrape time, so they are true whichever process (API or worker) did the work.
OUTBOX_LAG = Gauge(
    "ordertrail_outbox_lag_seconds",
    "Age of the oldest outbox row waiting to be fanned out",
    registry=registry,
)
DELIVERIES_PENDING = Gauge(
    "ordertrail_deliveries_pending", "E-mail and webhook deliveries waiting", ["channel"], registry=registry
)
DELIVERY_LAG = Gauge(
    "ordertrail_delivery_lag_seconds",
    "Age of the oldest delivery waiting, by channel",
    ["channel"],
    registry=registry,
)
SWEEP_LAST_SECONDS = Gauge(
    "ordertrail_sweep_last_duration_seconds",
    "How long each sweep's last run took",
    ["sweep"],
    registry=registry,
)
SWEEP_LAST_FINDINGS = Gauge(
    "ordertrail_sweep_last_findings",
    "What each sweep's last run found",
    ["sweep", "finding"],
    registry=registry,
)
SWEEP_LAST_FAILED = Gauge(
    "ordertrail_sweep_last_failed",
    "1 when a sweep's last run ended in an error",
    ["sweep"],
    registry=registry,
)
FIGURES_UP = Gauge(
    "ordertrail_figures_up", "1 when the backlog and sweep figures could be read", registry=registry
)


def count_ingest(accepted: int, duplicates: int, rejected: int, plan: str | None, shared_by: int = 1) -> None:
    if plan is not None:
        INGEST_BATCHES.labels(plan).inc()
        INGEST_TRANSACTIONS.inc(1 / shared_by)
    EVENTS_INGESTED.labels("accepted").inc(accepted)
    EVENTS_INGESTED.labels("duplicate").inc(duplicates)
    EVENTS_INGESTED.labels("rejected").inc(rejected)


def refresh(deps: Deps) -> None:
    try:
        figures = operational_figures(deps)
    except Exception as exc:  # a scrape must answer even when the database does not
        log.warning("figures for /metrics unavailable: %s", type(exc).__name__)
        FIGURES_UP.set(0)
        return
    FIGURES_UP.set(1)
    OUTBOX_PENDING.set(figures.outbox.pending)
    OUTBOX_LAG.set(figures.outbox_lag_seconds)
    for gauge in (
        DELIVERIES_PENDING,
        DELIVERY_LAG,
        SWEEP_LAST_SECONDS,
        SWEEP_LAST_FINDINGS,
        SWEEP_LAST_FAILED,
    ):
        gauge.clear()
    for channel, backlog in figures.deliveries.items():
        DELIVERIES_PENDING.labels(channel).set(backlog.pending)
        DELIVERY_LAG.labels(channel).set(figures.delivery_lag_seconds[channel])
    for run in figures.sweeps:
        if run.started_at and run.finished_at and run.finished_at >= run.started_at:
            SWEEP_LAST_SECONDS.labels(run.name).set((run.finished_at - run.started_at).total_seconds())
        SWEEP_LAST_FAILED.labels(run.name).set(int(run.failed))
        for finding, n in run.counts.items():
            SWEEP_LAST_FINDINGS.labels(run.name, finding).set(n)


def render(deps: Deps | None = None) -> Response:
    if deps is not None:
        refresh(deps)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
