"""E-mail preferences per notification type, and the unsubscribe link that works without signing in.

The link (also in the `List-Unsubscribe` header) shows a confirmation page on GET, because mail
scanners fetch links; the unsubscribing is a POST, which RFC 8058 one-click clients send directly.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field, StrictStr
from starlette.responses import HTMLResponse

from ordertrail.domain.errors import NotFound
from ordertrail.domain.notices import NoticeType
from ordertrail.entrypoints.web.deps import Actor, ContainerT, DepsT
from ordertrail.entrypoints.web.schemas import Body
from ordertrail.services import email_preferences as prefs

router = APIRouter(prefix="/v1", tags=["notifications"])

Token = Annotated[str, Query(min_length=10, max_length=400)]


class PreferencesIn(Body):
    disabled_types: Annotated[list[Annotated[StrictStr, Field(max_length=40)]], Field(max_length=100)]


def _view(p: prefs.EmailPreferences) -> dict[str, Any]:
    return {
        "email": p.email,
        "disabled_types": list(p.disabled_types),
        "all_disabled": p.all_disabled,
        "types": sorted(NoticeType.ALL),
    }


@router.get("/me/email-preferences")
def get_preferences(deps: DepsT, actor: Actor) -> dict[str, Any]:
    return _view(prefs.preferences(deps, actor))


@router.put("/me/email-preferences")
def put_preferences(body: PreferencesIn, deps: DepsT, actor: Actor) -> dict[str, Any]:
    return _view(prefs.set_preferences(deps, actor, body.disabled_types))


def _page(title: str, inner: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{escape(title)}</title></head>'
        '<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">'
        f"<h1>{escape(title)}</h1>{inner}</body></html>"
    )
    return HTMLResponse(html, status_code=status)


def _what(notice_type: str) -> str:
    return "all e-mails" if notice_type == prefs.ALL else f"e-mails about {notice_type.replace('_', ' ')}"


@router.get("/email/unsubscribe", include_in_schema=False)
def confirm_unsubscribe(container: ContainerT, token: Token) -> HTMLResponse:
    found = container.unsubscribe.read(token) if container.unsubscribe else None
    if found is None:
        return _page("Link not valid", "<p>This unsubscribe link is not valid.</p>", 404)
    what = _what(found[1])
    return _page(
        "Unsubscribe",
        f'<form method="post" action="?token={escape(token)}"><p>Stop {escape(what)}? Your in-app inbox '
        'keeps every notice.</p><button type="submit">Unsubscribe</button></form>',
    )


@router.post("/email/unsubscribe", include_in_schema=False)
def unsubscribe(container: ContainerT, token: Token) -> HTMLResponse:
    found = container.unsubscribe.read(token) if container.unsubscribe else None
    if found is None:
        return _page("Link not valid", "<p>This unsubscribe link is not valid.</p>", 404)
    try:
        prefs.unsubscribe(container.deps, found[0], found[1])
    except NotFound:
        return _page("Link not valid", "<p>This unsubscribe link is not valid.</p>", 404)
    return _page("Unsubscribed", f"<p>You will get no more {escape(_what(found[1]))}.</p>")
