from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from ordertrail.domain.errors import ValidationFailed
from ordertrail.domain.orders import LineItem
from ordertrail.entrypoints.web.deps import Actor, Cursor, DepsT, Limit
from ordertrail.entrypoints.web.json import FastJSON
from ordertrail.entrypoints.web.schemas import AddressIn, CancelIn, OrderIn, ShipmentIn, TrackingNumberIn
from ordertrail.entrypoints.web.views import estimate_change_view, order_view, shipment_view
from ordertrail.services import orders as order_service
from ordertrail.services import shipments as shipment_service
from ordertrail.services import tracking as tracking_service
from ordertrail.services.estimate_history import order_with_estimates

router = APIRouter(prefix="/v1", tags=["orders"])

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _address(body: AddressIn) -> dict[str, str]:
    return {k: v for k, v in body.model_dump().items() if v is not None}


@router.post("/orders", status_code=201)
def place_order(
    body: OrderIn,
    deps: DepsT,
    actor: Actor,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    cmd = order_service.PlaceOrder(
        seller_id=body.seller_id,
        buyer_id=body.buyer_id,
        items=[LineItem(i.sku, i.title, i.quantity, i.unit_price) for i in body.items],
        currency=body.currency,
        shipping_fee=body.shipping_fee,
        shipping_address=_address(body.shipping_address),
        shipping_service=body.shipping_service,
    )
    order, created = order_service.place_order(deps, actor, cmd, idempotency_key)
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    shipments = [] if created else order_service.read_order(deps, actor, order.id)[1]
    return order_view(deps, order, shipments)


@router.get("/orders")
def list_orders(
    deps: DepsT,
    actor: Actor,
    limit: Limit = 20,
    cursor: Cursor = None,
    status: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    page, shipments = order_service.list_orders(deps, actor, status, limit, cursor)
    return {
        "items": [order_view(deps, o, shipments.get(o.id, [])) for o in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get("/orders/{order_id}")
def get_order(order_id: str, deps: DepsT, actor: Actor) -> dict[str, Any]:
    order, shipments, history = order_with_estimates(deps, actor, order_id)
    # Additive: the promise made at checkout and every change of the estimate since, with its reason.
    return order_view(deps, order, shipments) | {
        "estimate_history": [estimate_change_view(c) for c in history]
    }


@router.put("/orders/{order_id}/shipping-address")
def change_address(order_id: str, body: AddressIn, deps: DepsT, actor: Actor) -> dict[str, Any]:
    order_service.change_address(deps, actor, order_id, _address(body))
    order, shipments = order_service.read_order(deps, actor, order_id)
    return order_view(deps, order, shipments)


@router.post("/orders/{order_id}/cancel")
def cancel(order_id: str, body: CancelIn, deps: DepsT, actor: Actor) -> dict[str, Any]:
    order = order_service.cancel_order(deps, actor, order_id, body.reason)
    return order_view(deps, order, [])


@router.post("/orders/{order_id}/shipments", status_code=201)
def add_shipment(order_id: str, body: ShipmentIn, deps: DepsT, actor: Actor) -> dict[str, Any]:
    items = [(i.sku, i.quantity) for i in body.items] if body.items is not None else None
    shipment = shipment_service.add_shipment(
        deps, actor, order_id, body.tracking_number, body.carrier, items, body.tracked_by
    )
    order, _ = order_service.read_order(deps, actor, order_id)
    # "201 Shipment (as in Tracking)": a new shipment has no carrier events yet.
    return shipment_view(deps, shipment, order) | {"events": []}


@router.put("/shipments/{shipment_id}/tracking-number")
def change_tracking_number(
    shipment_id: str, body: TrackingNumberIn, deps: DepsT, actor: Actor
) -> dict[str, Any]:
    shipment = shipment_service.change_tracking_number(
        deps, actor, shipment_id, body.tracking_number, body.carrier
    )
    order, _ = order_service.read_order(deps, actor, shipment.order_id)
    # The Shipment as in Tracking, like the 201 that added it: with the scans it already has.
    tracked = tracking_service.order_tracking(deps, actor, shipment.order_id)["shipments"]
    events = next((s["events"] for s in tracked if s["id"] == shipment.id), [])
    return shipment_view(deps, shipment, order) | {"events": events}


@router.get("/orders/{order_id}/tracking", response_model=dict[str, Any])
def order_tracking(order_id: str, deps: DepsT, actor: Actor) -> Response:
    # The hot read: rendered straight to JSON, without a second pass through the response model.
    return FastJSON(tracking_service.order_tracking(deps, actor, order_id))


@router.get("/track/{tracking_number}", tags=["public"])
def public_tracking(tracking_number: str, deps: DepsT) -> dict[str, Any]:
    return tracking_service.public_tracking(deps, tracking_number)


def _carrier_cursor(slug: str) -> str:
    return base64.urlsafe_b64encode(f"carrier|{slug}".encode()).decode().rstrip("=")


def _after_carrier(cursor: str) -> str:
    try:
        kind, slug = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|", 1)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed.bad_cursor() from None
    if kind != "carrier":
        raise ValidationFailed.bad_cursor()
    return slug


@router.get("/carriers", tags=["public"])
def carriers(deps: DepsT, limit: Limit = 20, cursor: Cursor = None) -> dict[str, Any]:
    """The carriers ordertrail knows, the large ones first, a page at a time like every list."""
    try:
        page, last = deps.carriers.page(_after_carrier(cursor) if cursor else None, limit)
    except KeyError:  # a carrier of an older release's directory, or a made-up cursor
        raise ValidationFailed.bad_cursor() from None
    return {
        "items": [
            {
                "slug": c.slug,
                "name": c.name,
                "tracking_url_template": c.tracking_url_template,
                "country_code": c.country_code,
                "number_format": c.number_format,
                "home_timezone": c.home_timezone,
                "delivery_weekdays": [WEEKDAYS[d] for d in sorted(c.delivery_weekdays)],
                "holiday_country": c.holiday_country,
                # UPU S10 numbers (RB123456785GB) go to the national post of their country suffix;
                # s10_post takes those of countries without a post listed here.
                "s10": {"national_post_of": c.country_code}
                if c.upu_post
                else {"national_post_of": "*"}
                if c.slug == "s10_post"
                else None,
            }
            for c in page
        ],
        "next_cursor": _carrier_cursor(last) if last else None,
    }
