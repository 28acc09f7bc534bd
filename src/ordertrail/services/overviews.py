"""What the order pages show: the buyer's and the seller's orders lists with delivery windows and one order with its tracking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ordertrail.domain.errors import NotFound
from ordertrail.domain.orders import Order
from ordertrail.domain.progress import order_window
from ordertrail.domain.statuses import SCANNED, OrderStatus, Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.orders import get_order


@dataclass(frozen=True)
class OrderSummary:
    order: Order
    seller_name: str
    window: tuple[date, date]
    late: bool
    parcels: int
    tracking: tuple[tuple[str, str], ...] = ()  # (carrier name, number) of each parcel with one


@dataclass(frozen=True)
class OrdersOverview:
    items: list[OrderSummary]
    next_cursor: str | None


def orders_overview(deps: Deps, actor: User, cursor: str | None, limit: int = 20) -> OrdersOverview:
    """The actor's orders, newest first, each with its current delivery window: three queries a page."""
    with deps.read() as uow:
        page = uow.orders.list(
            buyer_id=actor.id if actor.role is Role.BUYER else None,
            seller_id=actor.id if actor.role is Role.SELLER else None,
            status=None,
            limit=limit,
            cursor=cursor,
        )
        orders: list[Order] = page.items
        shipments = uow.shipments.for_orders([o.id for o in orders]) if orders else {}
        sellers = uow.users.many({o.seller_id for o in orders})
    items = []
    for o in orders:
        parcels = shipments.get(o.id, [])
        window, _ = order_window(
            (o.promised_earliest, o.promised_latest),
            [
                (s.estimated_earliest, s.estimated_latest)
                if s.estimated_earliest and s.estimated_latest
                else None
                for s in parcels
            ],
        )
        late = any(s.predicted_late for s in parcels)  # the estimator's flag, as on the order page
        seller = sellers.get(o.seller_id)
        tracking = tuple(
            (deps.carrier_name(s.carrier), s.tracking_number)
            for s in parcels
            if s.carrier and s.tracking_number
        )
        items.append(OrderSummary(o, seller.name if seller else "", window, late, len(parcels), tracking))
    return OrdersOverview(items, page.next_cursor)


@dataclass(frozen=True)
class OrderPage:
    order: Order
    tracking: dict[str, Any]  # as GET /v1/orders/{id}/tracking
    seller_name: str
    buyer_name: str
    address_changeable: bool
    version: str
    cases: list[dict[str, Any]]  # id, type, status, opened_at


def order_page(deps: Deps, actor: User, order_id: str) -> OrderPage:
    """An order with its confirmation details and tracking, for anyone who may see it (404 otherwise)."""
    with deps.read() as uow:
        order = get_order(uow, actor, order_id)
        view = uow.tracking.order_tracking(order.id)
        people = uow.users.many({order.buyer_id, order.seller_id})
        version = uow.pages.tracking_version(order.id)
        cases = uow.pages.order_cases(order.buyer_id, order.id)
    if view is None or version is None:
        raise NotFound(f"No order {order_id}.")
    for s in view["shipments"]:
        s["tracking_url"] = deps.tracking_url(s["carrier"], s["tracking_number"])
    changeable = order.status is not OrderStatus.CANCELLED and not any(
        s["status"] in SCANNED for s in view["shipments"]
    )
    seller, buyer = people.get(order.seller_id), people.get(order.buyer_id)
    return OrderPage(
        order,
        view,
        seller.name if seller else "",
        buyer.name if buyer else "",
        changeable,
        version,
        cases,
    )


def tracking_version(deps: Deps, order_id: str) -> str | None:
    """The cheap value a live page polls to know that its tracking changed.

    Unchecked on purpose: the page's stream authorises the viewer once, through `order_page`, and
    then polls this every second; it reveals nothing but whether something changed.
    """
    with deps.read() as uow:
        return uow.pages.tracking_version(order_id)
