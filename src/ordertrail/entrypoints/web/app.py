"""The ASGI application: API, pages, health and metrics, served by one process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.responses import Response

from ordertrail.bootstrap import Container
from ordertrail.entrypoints import worker
from ordertrail.entrypoints.web import access, limits, metrics, openapi, pages, problems, request_log
from ordertrail.entrypoints.web.api import carrier_events, health, notifications, orders, users
from ordertrail.entrypoints.web.api import cases as case_api
from ordertrail.entrypoints.web.api import email_preferences as email_preferences_api
from ordertrail.entrypoints.web.api import sellers as seller_api
from ordertrail.entrypoints.web.api import webhook_subscriptions as webhook_subscriptions_api
from ordertrail.entrypoints.web.api import webhooks as webhook_api
from ordertrail.entrypoints.web.json import FastJSON


def create_app(container: Container, *, run_worker: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        handle = worker.start_thread(container) if run_worker else None
        try:
            yield
        finally:
            if handle is not None:
                thread, stop = handle
                stop.set()
                thread.join(timeout=10)

    app = FastAPI(
        title="ordertrail",
        version="1.0",
        summary="Order tracking and post-purchase service for social-commerce marketplaces.",
        default_response_class=FastJSON,
        lifespan=lifespan,
        dependencies=[Depends(access.gate)],
    )
    app.state.container = container
    problems.install(app)
    openapi.install(app)
    limits.install(app, container.settings, container.deps.clock)
    app.middleware("http")(metrics.timing_middleware)
    for router in (users.router, orders.router, carrier_events.router, notifications.router, health.router):
        app.include_router(router)
    app.include_router(case_api.router)
    app.include_router(seller_api.router)
    app.include_router(webhook_api.router)
    app.include_router(webhook_subscriptions_api.router)
    app.include_router(email_preferences_api.router)
    pages.install(app)
    request_log.install(app)  # outermost: every answer, even a 429 or 413, is logged with its request id

    @app.get("/metrics", include_in_schema=False)
    def get_metrics() -> Response:
        return metrics.render(container.deps)

    return app
