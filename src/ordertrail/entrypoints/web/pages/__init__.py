"""The web pages: server-rendered HTML for buyers, sellers, support and the public tracking page."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from ordertrail.entrypoints.web.pages import auth, buyer, cases, public, seller, support
from ordertrail.entrypoints.web.pages.rendering import STATIC
from ordertrail.entrypoints.web.pages.security import SecurityHeaders


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, public, buyer, cases, seller, support):
        app.include_router(module.router)
    app.add_middleware(SecurityHeaders)
