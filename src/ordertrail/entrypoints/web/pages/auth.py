"""Passwordless sign-in: ask for a link, use it once, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from ordertrail.domain.errors import Unauthenticated
from ordertrail.entrypoints.web.pages.rendering import PageRoute, error_page, render
from ordertrail.entrypoints.web.pages.sessions import (
    ROLE_HOME,
    SESSION_COOKIE,
    anon_csrf,
    check_anon_csrf,
    clear_session_cookie,
    deps_of,
    form_session,
    keep_anon_csrf,
    optional_session,
    set_session_cookie,
)
from ordertrail.services import sign_in
from ordertrail.services.sign_in import WebSession

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
async def home(session: Annotated[WebSession | None, Depends(optional_session)]) -> Response:
    if session is None:
        return RedirectResponse("/track", status_code=303)
    return RedirectResponse(ROLE_HOME.get(session.user.role, "/track"), status_code=303)


@router.get("/login")
async def login_form(request: Request, next: str = "") -> Response:
    anon_csrf(request)
    response = render(request, "auth/login.html", next=sign_in.safe_next(next) or "", error=None, email="")
    keep_anon_csrf(request, response)
    return response


@router.post("/login", dependencies=[Depends(check_anon_csrf)])
async def send_link(
    request: Request,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
    next: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    if "@" not in email.strip():
        anon_csrf(request)
        return render(
            request,
            "auth/login.html",
            status_code=422,
            next=sign_in.safe_next(next) or "",
            email=email,
            error="Enter your e-mail address, like ana@example.com.",
        )
    # Sent after the answer, so that neither the answer nor its timing tells whether the address exists.
    settings = request.app.state.container.settings
    background.add_task(sign_in.email_link, deps_of(request), email, next, settings.shop_name)
    return render(request, "auth/link_sent.html", email=email.strip())


@router.get("/login/{token}")
async def confirm_link(request: Request, token: str) -> Response:
    # Using the link takes a click: mail scanners that open links must not burn the one use.
    anon_csrf(request)
    response = render(request, "auth/confirm.html", token=token, headers={"Referrer-Policy": "no-referrer"})
    keep_anon_csrf(request, response)
    return response


@router.post("/login/{token}", dependencies=[Depends(check_anon_csrf)])
async def use_link(request: Request, token: str) -> Response:
    try:
        session, next_path = await run_in_threadpool(sign_in.redeem_link, deps_of(request), token)
    except Unauthenticated as exc:
        return error_page(request, 400, "This link no longer works", exc.detail)
    target = next_path or ROLE_HOME.get(session.user.role, "/track")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session.token)
    return response


@router.post("/logout")
async def logout(request: Request, session: Annotated[WebSession, Depends(form_session)]) -> Response:
    await run_in_threadpool(sign_in.sign_out, deps_of(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    clear_session_cookie(request, response)
    return response
