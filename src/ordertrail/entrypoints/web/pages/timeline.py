"""The banner above a shipment's timeline, from the tracking view the pages and the API share."""

from __future__ import annotations

from typing import Any

from ordertrail.domain.progress import DelayNotice, LatestScan, delay_notice
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.entrypoints.web.pages.rendering import local_time
from ordertrail.services.context import Deps
from ordertrail.services.overviews import OrderPage


def _place(location: dict[str, Any] | None) -> str | None:
    if not location:
        return None
    return ", ".join(v for v in (location.get("city"), location.get("region")) if v) or None


def _window(w: dict[str, Any] | None) -> tuple[Any, Any] | None:
    return (w["earliest"], w["latest"]) if w else None


def shipment_notice(s: dict[str, Any]) -> DelayNotice | None:
    """What is wrong with a shipment and why, the carrier's latest scan being the reason."""
    latest = s["events"][0] if s.get("events") else None
    return delay_notice(
        ShipmentStatus(s["status"]),
        stalled=s["stalled"],
        predicted_late=s["predicted_late"],
        promised=_window(s.get("promised_delivery")),
        estimated=_window(s.get("estimated_delivery")),
        latest=LatestScan(latest["description"], _place(latest["location"]), local_time(latest))
        if latest
        else None,
    )


def tracking_context(deps: Deps, page: OrderPage) -> dict[str, Any]:
    """What the order page's tracking section (and its live re-renders) are drawn from."""

    def carrier_name(slug: str) -> str:
        carrier = deps.carriers.get(slug)
        return carrier.name if carrier else slug

    notices = {s["id"]: shipment_notice(s) for s in page.tracking["shipments"]}
    return {"page": page, "order": page.order, "notices": notices, "carrier_name": carrier_name}
