"""The seller's pages: the to-ship queue, all orders, adding or correcting tracking, cases to answer, performance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from ordertrail.domain.errors import Conflict, ValidationFailed
from ordertrail.domain.money import parse_amount
from ordertrail.domain.performance import MEANING
from ordertrail.domain.statuses import Role
from ordertrail.entrypoints.web.pages import case_words
from ordertrail.entrypoints.web.pages.cases import case_response, form_state
from ordertrail.entrypoints.web.pages.rendering import PageRoute, render
from ordertrail.entrypoints.web.pages.sessions import deps_of, role, role_form
from ordertrail.entrypoints.web.pages.timeline import tracking_context
from ordertrail.services import case_actions, case_pages, dispatch_queue, overviews
from ordertrail.services import shipments as shipment_service
from ordertrail.services.performance import seller_performance
from ordertrail.services.sign_in import WebSession

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Seller = Annotated[WebSession, Depends(role(Role.SELLER))]
SellerForm = Annotated[WebSession, Depends(role_form(Role.SELLER))]


@router.get("/seller")
async def to_ship(request: Request, session: Seller) -> Response:
    rows = await run_in_threadpool(dispatch_queue.to_ship, deps_of(request), session.user)
    return render(request, "seller/queue.html", rows=rows)


@router.get("/seller/orders")
async def all_orders(request: Request, session: Seller, cursor: str | None = None) -> Response:
    """Every order of the shop, newest first: the way back to one that has left the to-ship queue."""
    overview = await run_in_threadpool(overviews.orders_overview, deps_of(request), session.user, cursor)
    return render(request, "seller/orders.html", overview=overview)


async def _order_page(
    request: Request,
    session: WebSession,
    order_id: str,
    form: dict[str, Any] | None = None,
    status: int = 200,
    done: str = "",
) -> Response:
    deps = deps_of(request)
    page = await run_in_threadpool(overviews.order_page, deps, session.user, order_id)
    carriers = sorted(deps.carriers.all(), key=lambda c: c.name.lower())
    return render(
        request,
        "seller/order.html",
        status_code=status,
        carriers=carriers,
        form=form or {"id": None, "values": {}, "errors": {}},
        done=done,
        **tracking_context(deps, page),
    )


@router.get("/seller/orders/{order_id}")
async def seller_order(request: Request, order_id: str, session: Seller, done: str = "") -> Response:
    return await _order_page(request, session, order_id, done=done)


def _form_errors(exc: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(exc, Conflict):
        return {"tracking_number": exc.detail}
    return {e.field.split(".")[0]: e.message for e in exc.errors}


@router.post("/seller/orders/{order_id}/shipments")
async def add_tracking(
    request: Request,
    order_id: str,
    session: SellerForm,
    tracking_number: Annotated[str, Form(max_length=64)] = "",
    carrier: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        await run_in_threadpool(
            shipment_service.add_shipment,
            deps_of(request),
            session.user,
            order_id,
            tracking_number,
            carrier or None,
            None,
        )
    except (ValidationFailed, Conflict) as exc:
        form = {
            "id": "add",
            "values": {"tracking_number": tracking_number, "carrier": carrier},
            "errors": _form_errors(exc),
        }
        return await _order_page(
            request, session, order_id, form, 422 if isinstance(exc, ValidationFailed) else 409
        )
    return RedirectResponse(f"/seller/orders/{order_id}?done=tracking_added", status_code=303)


@router.post("/seller/shipments/{shipment_id}/tracking-number")
async def correct_tracking(
    request: Request,
    shipment_id: str,
    session: SellerForm,
    order_id: Annotated[str, Form(max_length=40)],
    tracking_number: Annotated[str, Form(max_length=64)] = "",
    carrier: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        shipment = await run_in_threadpool(
            shipment_service.change_tracking_number,
            deps_of(request),
            session.user,
            shipment_id,
            tracking_number,
            carrier or None,
        )
    except (ValidationFailed, Conflict) as exc:
        form = {
            "id": shipment_id,
            "values": {"tracking_number": tracking_number, "carrier": carrier},
            "errors": _form_errors(exc),
        }
        return await _order_page(
            request, session, order_id, form, 422 if isinstance(exc, ValidationFailed) else 409
        )
    return RedirectResponse(f"/seller/orders/{shipment.order_id}?done=tracking_changed", status_code=303)


@router.get("/seller/detect-carrier")
async def detect_carrier(
    request: Request,
    session: Seller,
    number: Annotated[str, Query(max_length=64)] = "",
    order_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """What the form will decide for the number typed so far (the page's detection as you type)."""
    deps = deps_of(request)
    if len("".join(number.split())) < 4:
        return JSONResponse({"carrier": None, "name": None, "problem": None})
    resolution = await run_in_threadpool(dispatch_queue.detect_carrier, deps, session.user, number, order_id)
    carrier = deps.carriers.get(resolution.carrier) if resolution.carrier else None
    problem = resolution.problem
    return JSONResponse(
        {
            "carrier": resolution.carrier,
            "name": carrier.name if carrier else None,
            "problem": {"field": problem.field, "code": problem.code, "message": problem.message}
            if problem
            else None,
            "candidates": list(problem.candidates) if problem else [],
        },
        headers={"Cache-Control": "no-store"},
    )


# --- cases to answer, and the scorecard -----------------------------------------------------------


@router.get("/seller/cases")
async def cases_to_answer(request: Request, session: Seller) -> Response:
    to_answer, others = await run_in_threadpool(case_pages.seller_cases, deps_of(request), session.user)
    return render(request, "seller/cases.html", to_answer=to_answer, others=others, words=case_words)


@router.post("/cases/{case_id}/response")
async def respond(
    request: Request,
    case_id: str,
    session: SellerForm,
    action: Annotated[str, Form(max_length=20)] = "",
    resolution: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    message: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    deps = deps_of(request)
    values = {"action": action, "resolution": resolution, "amount": amount, "message": message}
    offer = action == "offer"
    try:
        page = await run_in_threadpool(case_pages.case_page, deps, session.user, case_id)
        minor = parse_amount(amount, page.view.case.currency) if offer and amount.strip() else None
        if offer and amount.strip() and minor is None:
            raise ValidationFailed.one(
                "amount", "invalid", f"Give the amount in {page.view.case.currency}, like 12.50."
            )
        await run_in_threadpool(
            case_actions.respond,
            deps,
            session.user,
            case_id,
            action,
            message,
            (resolution or None) if offer else None,
            minor,
        )
    except (ValidationFailed, Conflict) as exc:
        status = 422 if isinstance(exc, ValidationFailed) else 409
        return await case_response(request, session, case_id, form_state("response", values, exc), status)
    return RedirectResponse(f"/cases/{case_id}?done=answered", status_code=303)


@router.get("/seller/performance")
async def performance(request: Request, session: Seller) -> Response:
    deps = deps_of(request)
    card = await run_in_threadpool(seller_performance, deps, session.user, session.user.id)
    return render(
        request, "seller/performance.html", card=card, meaning=MEANING, days=(card.until - card.since).days
    )
