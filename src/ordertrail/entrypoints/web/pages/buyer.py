"""The buyer's pages: orders, one order with live tracking, the address, the inbox, reporting a problem."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse

from ordertrail.domain.cases import CaseRequest, CaseType, Requested
from ordertrail.domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from ordertrail.domain.money import parse_amount
from ordertrail.domain.statuses import Role
from ordertrail.entrypoints.web.pages import case_words
from ordertrail.entrypoints.web.pages.cases import (
    ACCEPTED_FILES,
    FormUpload,
    case_response,
    chosen_file,
    file_problem,
    form_state,
)
from ordertrail.entrypoints.web.pages.rendering import PageRoute, render, render_fragment
from ordertrail.entrypoints.web.pages.sessions import ROLE_HOME, deps_of, form_session, role, role_form
from ordertrail.entrypoints.web.pages.timeline import tracking_context
from ordertrail.services import case_actions, case_pages, evidence, outbox, overviews
from ordertrail.services import cases as case_service
from ordertrail.services import orders as order_service
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


AddressOwner = Annotated[WebSession, Depends(role(Role.BUYER, Role.SELLER))]


@router.get("/orders/{order_id}/address")
async def address_form(request: Request, order_id: str, session: AddressOwner) -> Response:
    page = await run_in_threadpool(overviews.order_page, deps_of(request), session.user, order_id)
    if session.user.id != page.order.buyer_id:
        raise Forbidden("Only the buyer can change the delivery address.")
    return _address_page(request, page, dict(page.order.shipping_address), {}, 200)


@router.post("/orders/{order_id}/address")
async def change_address(
    request: Request,
    order_id: str,
    session: Annotated[WebSession, Depends(role_form(Role.BUYER, Role.SELLER))],
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


# --- reporting a problem, and the buyer's answers on a case ---------------------------------------


BuyerOnly = Annotated[WebSession, Depends(role(Role.BUYER))]
BuyerForm = Annotated[WebSession, Depends(role_form(Role.BUYER))]


@router.get("/cases")
async def my_cases(request: Request, session: BuyerOnly, cursor: str | None = None) -> Response:
    rows, next_cursor = await run_in_threadpool(
        case_pages.buyer_cases, deps_of(request), session.user, cursor
    )
    return render(request, "cases/list.html", rows=rows, next_cursor=next_cursor, words=case_words)


async def _report_page(
    request: Request,
    session: WebSession,
    order_id: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int,
) -> Response:
    page = await run_in_threadpool(overviews.order_page, deps_of(request), session.user, order_id)
    if session.user.id != page.order.buyer_id:
        raise Forbidden("Only the buyer of the order can report a problem with it.")
    closed = case_pages.reportable(deps_of(request), page)
    return render(
        request,
        "cases/report.html",
        closed=closed,
        status_code=status,
        page=page,
        order=page.order,
        values=values,
        errors=errors,
        words=case_words,
        accepted_files=ACCEPTED_FILES,
    )


@router.get("/orders/{order_id}/report")
async def report_form(request: Request, order_id: str, session: BuyerOnly, type: str = "") -> Response:
    return await _report_page(request, session, order_id, {"type": type}, {}, 200)


@router.post("/orders/{order_id}/report")
async def report(
    request: Request,
    order_id: str,
    session: BuyerForm,
    type: Annotated[str, Form(max_length=40)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    requested_resolution: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    shipment_id: Annotated[str, Form(max_length=40)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    deps = deps_of(request)
    values = {
        "type": type,
        "description": description,
        "requested_resolution": requested_resolution,
        "amount": amount,
        "shipment_id": shipment_id,
    }
    page = await run_in_threadpool(overviews.order_page, deps, session.user, order_id)
    errors: dict[str, str] = {}
    if type not in set(CaseType):
        errors["type"] = "Choose what went wrong."
    if requested_resolution not in set(Requested):
        errors["requested_resolution"] = "Choose what you would like."
    minor = parse_amount(amount, page.order.currency) if amount.strip() else None
    if amount.strip() and minor is None:
        errors["amount"] = f"Give the amount in {page.order.currency}, like 12.50."
    upload = chosen_file(photo)
    problem = file_problem(deps, upload) if upload else None
    if problem:
        errors["photo"] = problem
    if errors:
        return await _report_page(request, session, order_id, values, errors, 422)
    case_request = CaseRequest(
        CaseType(type), description, Requested(requested_resolution), minor, shipment_id or None
    )
    try:
        view = await run_in_threadpool(case_service.open_case, deps, session.user, order_id, case_request)
    except ValidationFailed as exc:
        errors = {e.field.split(".")[0]: e.message for e in exc.errors}
        return await _report_page(request, session, order_id, values, errors, 422)
    except Conflict as exc:
        return await _report_page(request, session, order_id, values, {"form": exc.detail}, 409)
    done = "case_opened"
    if upload is not None:
        try:
            await run_in_threadpool(
                evidence.add_attachment, deps, session.user, view.case.id, FormUpload(upload)
            )
        except DomainError:
            done = "case_opened_without_photo"
    return RedirectResponse(f"/cases/{view.case.id}?done={done}", status_code=303)


@router.post("/cases/{case_id}/accept-offer")
async def accept_offer(request: Request, case_id: str, session: BuyerForm) -> Response:
    try:
        await run_in_threadpool(case_actions.accept_offer, deps_of(request), session.user, case_id)
    except Conflict as exc:
        return await case_response(request, session, case_id, form_state("accept_offer", {}, exc), 409)
    return RedirectResponse(f"/cases/{case_id}?done=offer_accepted", status_code=303)


@router.post("/cases/{case_id}/withdraw")
async def withdraw(
    request: Request, case_id: str, session: BuyerForm, message: Annotated[str, Form(max_length=5000)] = ""
) -> Response:
    try:
        await run_in_threadpool(case_actions.withdraw, deps_of(request), session.user, case_id, message)
    except Conflict as exc:
        return await case_response(request, session, case_id, form_state("withdraw", {}, exc), 409)
    return RedirectResponse(f"/cases/{case_id}?done=withdrawn", status_code=303)
