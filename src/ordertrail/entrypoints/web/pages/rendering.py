"""Templates, their filters, static-file URLs, and the route class that turns refusals into pages."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ordertrail.domain import progress
from ordertrail.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from ordertrail.domain.money import format_money
from ordertrail.entrypoints.web.pages import case_words
from ordertrail.entrypoints.web.problems import field_errors

WEB = Path(__file__).resolve().parents[1]
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"


class SignInRequired(Exception):
    """A page that needs a session was asked for without one: send the browser to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@cache
def static_version(name: str) -> str:
    """A content hash in the URL lets browsers cache static files for a year and never go stale."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_version(name)}"


def _when(value: datetime | None) -> Markup | str:
    """An instant as a `<time>` in UTC, which static/local-times.js shows in the reader's own zone
    (a parcel delivered at 05:06 UTC came on Thursday evening to a buyer in California)."""
    if value is None:
        return ""
    return Markup('<time datetime="{}" data-utc>{}</time>').format(
        value.isoformat(), value.strftime("%a %d %b %Y, %H:%M UTC")
    )


def _day(value: date | None) -> str:
    return value.strftime("%a %d %b %Y") if value else ""


def local_time(event: dict[str, Any]) -> str:
    """An event's time as the carrier's local clock showed it, with that clock's UTC offset."""
    local = datetime.fromisoformat(event["local_time"])
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    hours, mins = divmod(abs(minutes), 60)
    zone = f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "") if minutes else "UTC"
    return f"{local.strftime('%a %d %b, %H:%M')} {zone}"


def _place(location: dict[str, Any] | None) -> str:
    if not location:
        return ""
    return ", ".join(
        v for v in (location.get("city"), location.get("region"), location.get("country_code")) if v
    )


def _money(amount: int | None, currency: str) -> str:
    return "" if amount is None else format_money(amount, currency)


def _window(window: dict[str, date] | tuple[date, date] | None) -> str:
    if window is None:
        return progress.window_text(None)
    if isinstance(window, dict):
        return progress.window_text((window["earliest"], window["latest"]))
    return progress.window_text(window)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=_when,
        day=_day,
        local=local_time,
        place=_place,
        money=_money,
        window=_window,
        label=progress.label,
        urlpart=lambda v: quote(str(v), safe=""),
        case_type=case_words.case_type,
        case_status=_case_status,
        resolution=case_words.resolution,
        party=lambda v: case_words.PARTIES.get(v, v),
    )
    env.globals.update(static=static_url, milestones=progress.milestones)
    return env


@jinja2.pass_context
def _case_status(ctx: jinja2.runtime.Context, value: str) -> str:
    """A case's status in words, "Your turn" when it waits for the person reading."""
    user = ctx.get("user")
    if user is not None and value == f"awaiting_{user.role}":
        return "Your turn"
    return case_words.CASE_STATUSES.get(value, value)


def page_context(request: Request) -> dict[str, Any]:
    settings = request.app.state.container.settings
    session = getattr(request.state, "page_session", None)
    return {
        "request": request,
        "session": session,
        "user": session.user if session else None,
        "csrf": session.csrf_token if session else getattr(request.state, "anon_csrf", ""),
        "shop_name": settings.shop_name,
        "path": request.url.path,
    }


def render_fragment(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def render(
    request: Request, name: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    ctx = page_context(request)
    ctx.update(context)
    response = HTMLResponse(environment().get_template(name).render(**ctx), status_code=status_code)
    if ctx["session"] is not None:
        response.headers["Cache-Control"] = "no-store"  # personal pages stay out of shared caches
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, title=title, message=message)


_REFUSALS: tuple[tuple[type[DomainError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (Forbidden, 403, "Not allowed"),
    (Conflict, 409, "That cannot be done now"),
    (Unauthenticated, 401, "Sign-in needed"),
    (ValidationFailed, 422, "Please check the form"),
    (DomainError, 400, "That did not work"),
)


class PageRoute(APIRoute):
    """Page handlers answer every refusal with an HTML page (the API answers problem+json)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)
            except RequestValidationError as exc:
                # Browsers keep to the forms' own limits; this is what reaches the server past them:
                # each field named with what is wrong, as the API would say it.
                wrong = ValidationFailed(field_errors(list(exc.errors())))
                return error_page(
                    request, 422, "Please check the form", f"{wrong.detail}. Go back and correct it."
                )
            except DomainError as exc:
                for kind, status, title in _REFUSALS:
                    if isinstance(exc, kind):
                        return error_page(request, status, title, exc.detail)
                raise

        return page_handler
