"""The web pages: server-rendered HTML for buyers, sellers, support and the public tracking page."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from ordertrail.domain.errors import ValidationFailed
from ordertrail.entrypoints.web.pages import auth, buyer, cases, public, seller, support
from ordertrail.entrypoints.web.pages.rendering import STATIC, error_page
from ordertrail.entrypoints.web.pages.security import SecurityHeaders
from ordertrail.entrypoints.web.problems import nul_field_errors, problem

# Addresses of the API and of the machines that watch it: refusals there stay problem+json.
_API_PREFIXES = ("/v1/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")


async def _page_or_problem(request: Request, exc: Exception) -> Response:
    """A person's browser that follows a wrong link gets a page it can leave, not JSON."""
    assert isinstance(exc, StarletteHTTPException)
    wants_page = "text/html" in request.headers.get("accept", "")
    if wants_page and not request.url.path.startswith(_API_PREFIXES):
        if exc.status_code == 404:
            return error_page(request, 404, "Not found", "There is no page at this address; check the link.")
        return error_page(request, exc.status_code, "That did not work", str(exc.detail))
    return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


async def _no_nul_in_multipart_text(request: Request) -> None:
    """Every form also arrives as multipart, which `limits.NoNul` leaves alone for its files' sake:
    its text fields must not hold NUL either (PostgreSQL cannot store one; a NUL street once stopped
    every later notification)."""
    if request.method != "POST" or not request.headers.get("content-type", "").startswith("multipart/"):
        return
    form = await request.form()  # parsed once: the route's own fields read the same form
    errors = nul_field_errors(form.multi_items())
    if errors:
        raise ValidationFailed(errors)


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, public, buyer, cases, seller, support):
        app.include_router(module.router, dependencies=[Depends(_no_nul_in_multipart_text)])
    app.add_exception_handler(StarletteHTTPException, _page_or_problem)  # replaces the API's own
    app.add_middleware(SecurityHeaders)
