"""The buyer's pages: orders, one order with live tracking, the address correction, the inbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse

from ordertrail.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from ordertrail.domain.statuses import Role
from ordertrail.entrypoints.web.pages.rendering import PageRoute, render, render_fragment
from ordertrail.entrypoints.web.pages.sessions import ROLE_HOME, deps_of, form_session, role, role_form
from ordertrail.entrypoints.web.pages.timeline import tracking_context
from ordertrail.services import orders as order_service
from ordertrail.services import outbox, overviews
from ordertrail.services.sign_in import WebSession

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Buyer = Annotated[WebSession, Depends(role(Role.BUYER, Role.SELLER, Role.SUPPORT, Role.ADMIN))]

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
# A stream ends after a while and the browser reconnects (with Last-Event-ID): no connection lives
# forever, and a server restart or a deploy never waits on one.
STREAM_SECONDS = 300.0

ADDRESS_FIELDS = (
    ("name", "Full name", "name"),
    ("street_address", "Street address", "street-address"),
    ("city", "City", "address-level2"),
    ("country_area", "State or region", "address-level1"),
    ("postal_code", "Postal code", "postal-code"),
    ("country_code", "Country code (2 letters)", "country"),
    ("phone", "Phone (optional)", "tel"),
)


@router.get("/orders")
async def orders_list(request: Request, session: Buyer, cursor: str | None = None) -> Response:
    if session.user.role is not Role.BUYER:
        return RedirectResponse(ROLE_HOME[session.user.role], status_code=303)
    overview = await run_in_threadpool(overviews.orders_overview, deps_of(request), session.user, cursor)
    return render(request, "buyer/orders.html", overview=overview)


@router.get("/orders/{order_id}")
async def order_detail(request: Request, order_id: str, session: Buyer, done: str = "") -> Response:
    page = await run_in_threadpool(overviews.order_page, deps_of(request), session.user, order_id)
    if session.user.role is Role.SELLER:  # links in e-mails lead everyone to /orders/{id}
        return RedirectResponse(f"/seller/orders/{order_id}", status_code=303)
    return render(request, "buyer/order.html", done=done, **tracking_context(deps_of(request), page))


def _sse(event: str, data: str, event_id: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"id: {event_id}\nevent: {event}\n{lines}\n"


@router.get("/orders/{order_id}/events")
async def order_events(request: Request, order_id: str, session: Buyer, v: str = "") -> Response:
    """Server-Sent Events: the order's tracking section, re-rendered whenever it changes."""
    deps = deps_of(request)
    page = await run_in_threadpool(overviews.order_page, deps, session.user, order_id)  # 404 for strangers
    since = request.headers.get("last-event-id") or v or page.version

    async def stream() -> AsyncIterator[str]:
        last, started, quiet_since = since, time.monotonic(), time.monotonic()
        yield "retry: 2000\n\n"
        while time.monotonic() - started < STREAM_SECONDS:
            version = await run_in_threadpool(overviews.tracking_version, deps, order_id)
            if version is not None and version != last:
                fresh = await run_in_threadpool(overviews.order_page, deps, session.user, order_id)
                html = render_fragment("buyer/_tracking.html", **tracking_context(deps, fresh))
                yield _sse("tracking", html, fresh.version)
                last, quiet_since = fresh.version, time.monotonic()
            elif time.monotonic() - quiet_since > HEARTBEAT_SECONDS:
                yield ": still here\n\n"  # keeps proxies from closing an idle connection
                quiet_since = time.monotonic()
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _address_page(
    request: Request, page: overviews.OrderPage, values: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    return render(
        request,
        "buyer/address.html",
        status_code=status,
        order=page.order,
        page=page,
        fields=ADDRESS_FIELDS,
        values=values,
        errors=errors,
    )


AddressOwner = Annotated[WebSession, Depends(role(Role.BUYER, Role.SELLER, Role.ADMIN))]


@router.get("/orders/{order_id}/address")
async def address_form(request: Request, order_id: str, session: AddressOwner) -> Response:
    page = await run_in_threadpool(overviews.order_page, deps_of(request), session.user, order_id)
    if session.user.id != page.order.buyer_id and session.user.role is not Role.ADMIN:
        raise Forbidden("Only the buyer can change the delivery address.")
    return _address_page(request, page, dict(page.order.shipping_address), {}, 200)


@router.post("/orders/{order_id}/address")
async def change_address(
    request: Request,
    order_id: str,
    session: Annotated[WebSession, Depends(role_form(Role.BUYER, Role.SELLER, Role.ADMIN))],
    name: Annotated[str, Form(max_length=300)] = "",
    street_address: Annotated[str, Form(max_length=300)] = "",
    city: Annotated[str, Form(max_length=300)] = "",
    country_area: Annotated[str, Form(max_length=300)] = "",
    postal_code: Annotated[str, Form(max_length=300)] = "",
    country_code: Annotated[str, Form(max_length=300)] = "",
    phone: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    deps = deps_of(request)
    values = {
        "name": name,
        "street_address": street_address,
        "city": city,
        "country_area": country_area,
        "postal_code": postal_code,
        "country_code": country_code,
        "phone": phone,
    }
    address = {k: v for k, v in values.items() if v.strip()}
    try:
        await run_in_threadpool(order_service.change_address, deps, session.user, order_id, address)
    except ValidationFailed as exc:
        page = await run_in_threadpool(overviews.order_page, deps, session.user, order_id)
        errors = {e.field.rsplit(".", 1)[-1]: e.message for e in exc.errors}
        return _address_page(request, page, values, errors, 422)
    except Conflict as exc:
        page = await run_in_threadpool(overviews.order_page, deps, session.user, order_id)
        return _address_page(request, page, values, {"form": exc.detail}, 409)
    return RedirectResponse(f"/orders/{order_id}?done=address_changed", status_code=303)


@router.get("/inbox")
async def inbox(request: Request, session: Buyer, cursor: str | None = None) -> Response:
    page = await run_in_threadpool(outbox.inbox, deps_of(request), session.user.id, 50, cursor)
    return render(request, "buyer/inbox.html", notifications=page.items, next_cursor=page.next_cursor)


@router.post("/inbox/{notification_id}/read")
async def mark_read(
    request: Request, notification_id: str, session: Annotated[WebSession, Depends(form_session)]
) -> Response:
    row = await run_in_threadpool(outbox.mark_read, deps_of(request), session.user.id, notification_id)
    if row is None:
        raise NotFound(f"No notification {notification_id}.")
    return RedirectResponse("/inbox", status_code=303)
