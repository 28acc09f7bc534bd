"""Who is signed in to the pages, and the CSRF checks of their forms.

Signed-in forms carry the session's own CSRF token (kept server-side with the session). The two
forms used before a session exists (ask for a link, use a link) carry a random token that must equal
an HttpOnly cookie set with the form: a cross-site page can neither read the cookie nor set it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ordertrail.domain.errors import Forbidden
from ordertrail.domain.statuses import Role
from ordertrail.entrypoints.web.pages.rendering import SignInRequired
from ordertrail.services.context import Deps
from ordertrail.services.sign_in import SESSION_LIFETIME, WebSession, current_session

SESSION_COOKIE = "ot_session"
ANON_CSRF_COOKIE = "ot_csrf"
FORM_EXPIRED = "This form has expired. Go back, reload the page and try again."


def deps_of(request: Request) -> Deps:
    d: Deps = request.app.state.container.deps
    return d


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))


async def optional_session(request: Request) -> WebSession | None:
    cached = getattr(request.state, "page_session", None)
    if cached is not None:
        return cached
    session = await run_in_threadpool(current_session, deps_of(request), request.cookies.get(SESSION_COOKIE))
    request.state.page_session = session
    return session


async def signed_in(request: Request) -> WebSession:
    session = await optional_session(request)
    if session is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    return session


def role(*roles: Role):  # type: ignore[no-untyped-def]
    """A page for these roles: anyone else signed in gets 403, nobody signed in goes to /login."""

    async def check(session: Annotated[WebSession, Depends(signed_in)]) -> WebSession:
        if session.user.role not in roles:
            raise Forbidden("This page is not for your account.")
        return session

    return check


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


async def form_session(
    session: Annotated[WebSession, Depends(signed_in)], csrf_token: Annotated[str, Form()] = ""
) -> WebSession:
    """The session of a signed-in form post, once its CSRF token matched."""
    if not _same(csrf_token, session.csrf_token):
        raise Forbidden(FORM_EXPIRED)
    return session


def role_form(*roles: Role):  # type: ignore[no-untyped-def]
    """A form post for these roles: the role is checked first (403), then the CSRF token."""

    # A default, not an annotation: annotations are strings here and cannot see the closure.
    async def check(
        session: WebSession = Depends(role(*roles)), csrf_token: Annotated[str, Form()] = ""
    ) -> WebSession:
        if not _same(csrf_token, session.csrf_token):
            raise Forbidden(FORM_EXPIRED)
        return session

    return check


def anon_csrf(request: Request) -> str:
    """The pre-session form token: reuse the browser's cookie, or make one (set it with `keep_anon_csrf`)."""
    token = request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_urlsafe(24)
    request.state.anon_csrf = token
    return token


def keep_anon_csrf(request: Request, response: Response) -> None:
    token = getattr(request.state, "anon_csrf", None)
    if token and request.cookies.get(ANON_CSRF_COOKIE) != token:
        response.set_cookie(
            ANON_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/"
        )


def check_anon_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    if not _same(csrf_token, request.cookies.get(ANON_CSRF_COOKIE, "")):
        raise Forbidden(FORM_EXPIRED)


ROLE_HOME = {
    Role.BUYER: "/orders",
    Role.SELLER: "/seller",
    Role.SUPPORT: "/support",
    Role.ADMIN: "/support",
}
