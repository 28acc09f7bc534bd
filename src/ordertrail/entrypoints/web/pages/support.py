"""Support's pages: the escalation queue and the decision (the case itself is the shared case page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from ordertrail.domain.errors import Conflict, ValidationFailed
from ordertrail.domain.money import parse_amount
from ordertrail.domain.statuses import Role
from ordertrail.entrypoints.web.pages import case_words
from ordertrail.entrypoints.web.pages.cases import case_response, form_state
from ordertrail.entrypoints.web.pages.rendering import PageRoute, render
from ordertrail.entrypoints.web.pages.sessions import deps_of, role, role_form
from ordertrail.services import case_actions, case_pages
from ordertrail.services.sign_in import WebSession

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Support = Annotated[WebSession, Depends(role(Role.SUPPORT, Role.ADMIN))]
SupportForm = Annotated[WebSession, Depends(role_form(Role.SUPPORT, Role.ADMIN))]


@router.get("/support")
async def escalations(request: Request, session: Support) -> Response:
    rows = await run_in_threadpool(case_pages.escalations, deps_of(request), session.user)
    return render(request, "support/queue.html", rows=rows, words=case_words)


@router.post("/cases/{case_id}/decision")
async def decide(
    request: Request,
    case_id: str,
    session: SupportForm,
    outcome: Annotated[str, Form(max_length=40)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    deps = deps_of(request)
    values = {"outcome": outcome, "amount": amount, "note": note}
    try:
        page = await run_in_threadpool(case_pages.case_page, deps, session.user, case_id)
        minor = parse_amount(amount, page.view.case.currency) if amount.strip() else None
        if amount.strip() and minor is None:
            raise ValidationFailed.one(
                "amount", "invalid", f"Give the amount in {page.view.case.currency}, like 12.50."
            )
        if not outcome:
            raise ValidationFailed.one("outcome", "required", "Choose the decision.")
        await run_in_threadpool(case_actions.decide, deps, session.user, case_id, outcome, note, minor)
    except (ValidationFailed, Conflict) as exc:
        status = 422 if isinstance(exc, ValidationFailed) else 409
        return await case_response(request, session, case_id, form_state("decision", values, exc), status)
    return RedirectResponse(f"/cases/{case_id}?done=decided", status_code=303)
