"""The web pages: server-rendered HTML for buyers, sellers, support and the public tracking page."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from starlette.staticfiles import StaticFiles

from ordertrail.domain.errors import ValidationFailed
from ordertrail.entrypoints.web.pages import auth, buyer, cases, public, seller, support
from ordertrail.entrypoints.web.pages.rendering import STATIC
from ordertrail.entrypoints.web.pages.security import SecurityHeaders
from ordertrail.entrypoints.web.problems import nul_field_errors


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
    app.add_middleware(SecurityHeaders)
