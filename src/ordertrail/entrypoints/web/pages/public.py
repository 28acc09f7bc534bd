"""The public tracking page: by tracking number, no sign-in, no personal data, in the shop's colours."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from ordertrail.domain.errors import NotFound
from ordertrail.entrypoints.web.pages.branding import brand_css
from ordertrail.entrypoints.web.pages.rendering import PageRoute, render
from ordertrail.entrypoints.web.pages.sessions import deps_of
from ordertrail.entrypoints.web.pages.timeline import shipment_notice
from ordertrail.services import tracking

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/brand.css")
async def brand(request: Request) -> Response:
    css = brand_css(request.app.state.container.settings.shop_color)
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


@router.get("/track")
async def track_form(request: Request, number: Annotated[str, Query(max_length=64)] = "") -> Response:
    cleaned = "".join(number.split()).upper()
    if cleaned:
        return RedirectResponse(f"/track/{cleaned}", status_code=303)
    return render(request, "public/track_form.html", number="", missing=False)


@router.get("/track/{tracking_number}")
async def track(request: Request, tracking_number: str) -> Response:
    if len(tracking_number) > 64:
        return render(request, "public/track_form.html", status_code=404, number="", missing=True)
    try:
        shipment = await run_in_threadpool(tracking.public_tracking, deps_of(request), tracking_number)
    except NotFound:
        return render(
            request, "public/track_form.html", status_code=404, number=tracking_number, missing=True
        )
    notice = shipment_notice(shipment)
    carrier = deps_of(request).carriers.get(shipment["carrier"] or "")
    return render(
        request,
        "public/track.html",
        s=shipment,
        notice=notice,
        carrier_name=carrier.name if carrier else shipment["carrier"],
    )
