"""Placing, reading, correcting and cancelling orders."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ordertrail.domain import notices
from ordertrail.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from ordertrail.domain.ids import new_id
from ordertrail.domain.money import format_money
from ordertrail.domain.orders import LineItem, Order, check_items, totals
from ordertrail.domain.statuses import SCANNED, OrderStatus, Role
from ordertrail.domain.users import User
from ordertrail.services import estimates
from ordertrail.services.context import Deps
from ordertrail.services.notify import messages
from ordertrail.services.outbox import fan_out_order_now
from ordertrail.services.ports import Page, StatusChange, UnitOfWork


@dataclass(frozen=True)
class PlaceOrder:
    seller_id: str
    items: Sequence[LineItem]
    currency: str
    shipping_fee: int
    shipping_address: Mapping[str, str]
    shipping_service: str
    buyer_id: str | None = None  # admin only


def _request_hash(cmd: PlaceOrder, buyer_id: str) -> str:
    body = {
        "seller_id": cmd.seller_id,
        "buyer_id": buyer_id,
        "items": [[i.sku, i.title, i.quantity, i.unit_price] for i in cmd.items],
        "currency": cmd.currency,
        "shipping_fee": cmd.shipping_fee,
        "shipping_address": dict(sorted(cmd.shipping_address.items())),
        "shipping_service": cmd.shipping_service,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def place_order(
    deps: Deps, actor: User, cmd: PlaceOrder, idempotency_key: str | None = None
) -> tuple[Order, bool]:
    """Validate everything, then store the order and its confirmation in one transaction.

    Returns (order, created). With an Idempotency-Key already used for the same body, the first order
    comes back and nothing new is stored; with a different body, 409.
    """
    if actor.role is Role.BUYER:
        if cmd.buyer_id not in (None, actor.id):
            raise Forbidden("A buyer places orders for themself; leave buyer_id out.")
        buyer_id = actor.id
    elif actor.role is Role.ADMIN:
        if not cmd.buyer_id:
            raise ValidationFailed.one(
                "buyer_id", "required", "An admin must say which buyer the order is for."
            )
        buyer_id = cmd.buyer_id
    else:
        raise Forbidden("Only buyers (and admins) place orders.")
    request_hash = _request_hash(cmd, buyer_id)

    errors: list[FieldError] = list(check_items(cmd.items, cmd.currency, cmd.shipping_fee))
    address: dict[str, str] = {}
    try:
        address = deps.addresses.normalize(cmd.shipping_address, "shipping_address")
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if cmd.shipping_service not in deps.promises.services():
        errors.append(
            FieldError(
                "shipping_service",
                "invalid_choice",
                f"Shipping service must be one of: {', '.join(sorted(deps.promises.services()))}.",
            )
        )

    with deps.uow() as uow:
        if idempotency_key:
            seen = uow.orders.by_idempotency_key(buyer_id, idempotency_key)
            if seen is not None:
                order, seen_hash = seen
                if seen_hash != request_hash:
                    raise Conflict(
                        "This Idempotency-Key was used with a different request body; use a new key.",
                        code="idempotency_key_reused",
                    )
                return order, False
        seller = uow.users.get(cmd.seller_id)
        if seller is None or seller.role is not Role.SELLER:
            errors.insert(0, FieldError("seller_id", "unknown_seller", "There is no seller with this id."))
        if actor.role is Role.ADMIN:
            buyer = uow.users.get(buyer_id)
            if buyer is None or buyer.role is not Role.BUYER:
                errors.insert(0, FieldError("buyer_id", "unknown_buyer", "There is no buyer with this id."))
        if errors:
            raise ValidationFailed(errors)

        now = deps.clock()
        ship_by = deps.promises.ship_by(now, cmd.seller_id)
        promise = estimates.checkout_promise(
            deps, uow, now, ship_by, cmd.shipping_service, address, cmd.seller_id
        )
        earliest, latest = promise.earliest, promise.latest
        t = totals(cmd.items, cmd.shipping_fee)
        order = Order(
            id=new_id("ord"),
            buyer_id=buyer_id,
            seller_id=cmd.seller_id,
            status=OrderStatus.AWAITING_SHIPMENT,
            placed_at=now,
            currency=cmd.currency,
            items=list(cmd.items),
            subtotal=t.subtotal,
            shipping_fee=t.shipping_fee,
            total=t.total,
            shipping_address=address,
            shipping_service=cmd.shipping_service,
            ship_by=ship_by,
            promised_earliest=earliest,
            promised_latest=latest,
        )
        uow.orders.add(order, idempotency_key, request_hash)
        uow.history.order_changes([StatusChange(order.id, now, None, order.status, "order placed")])
        estimates.record_promise(uow, order, promise.basis)
        notice = notices.order_confirmed(
            order.id,
            format_money(order.total, order.currency),
            sum(i.quantity for i in order.items),
            earliest,
            latest,
            ship_by.strftime("%a %d %b %Y %H:%M UTC"),
        )
        uow.outbox.add(messages(notice, order.id, [buyer_id]), now)
        # "On success the buyer's inbox holds an order_confirmed notification": not a moment later.
        fan_out_order_now(deps, uow, order.id, now)
        uow.commit()
    return order, True


def get_order(uow: UnitOfWork, actor: User, order_id: str, *, for_update: bool = False) -> Order:
    """The order if the actor may see it; 404 alike for missing and foreign ones."""
    order = uow.orders.get(order_id, for_update=for_update)
    if order is None or not actor.may_see_order(order.buyer_id, order.seller_id):
        raise NotFound(f"No order {order_id}.")
    return order


def read_order(deps: Deps, actor: User, order_id: str) -> tuple[Order, list[Any]]:
    with deps.uow() as uow:
        order = get_order(uow, actor, order_id)
        shipments = uow.shipments.for_orders([order.id]).get(order.id, [])
    return order, shipments


def list_orders(
    deps: Deps, actor: User, status: str | None, limit: int, cursor: str | None
) -> tuple[Page, dict[str, list[Any]]]:
    """A page of the caller's orders, and their shipments by order (one query for the page)."""
    if status is not None and status not in set(OrderStatus):
        raise ValidationFailed.one(
            "status", "invalid_choice", f"Status must be one of: {', '.join(s.value for s in OrderStatus)}."
        )
    buyer_id = actor.id if actor.role is Role.BUYER else None
    seller_id = actor.id if actor.role is Role.SELLER else None
    if actor.role is Role.CARRIER:
        raise Forbidden("Carrier keys cannot list orders.")
    with deps.uow() as uow:
        page = uow.orders.list(
            buyer_id=buyer_id, seller_id=seller_id, status=status, limit=limit, cursor=cursor
        )
        shipments = uow.shipments.for_orders([o.id for o in page.items]) if page.items else {}
    return page, shipments


def change_address(deps: Deps, actor: User, order_id: str, address: Mapping[str, str]) -> Order:
    with deps.uow() as uow:
        order = get_order(uow, actor, order_id, for_update=True)
        if actor.id != order.buyer_id:
            raise Forbidden("Only the buyer can change the delivery address.")
        normalized = deps.addresses.normalize(address, "")
        if order.status is OrderStatus.CANCELLED:
            raise Conflict("The order is cancelled.", code="order_cancelled")
        shipments = uow.shipments.for_orders([order.id]).get(order.id, [])
        if any(s.status in SCANNED or s.first_scan_at is not None for s in shipments):
            raise Conflict(
                "A carrier has already scanned a parcel of this order; ask the carrier to redirect it.",
                code="already_shipped",
            )
        if normalized == order.shipping_address:
            return order  # the address it has: nothing to change, nobody to tell
        now = deps.clock()
        uow.orders.update_address(order.id, normalized, now)
        summary = ", ".join(
            v
            for k, v in normalized.items()
            if k in ("street_address", "city", "postal_code", "country_code") and v
        )
        labelled = [
            f"{deps.carrier_name(s.carrier)} {s.tracking_number}"
            for s in shipments
            if s.carrier and s.tracking_number
        ]
        notice = notices.address_changed(order.id, summary, labelled)
        uow.outbox.add(messages(notice, order.id, [order.seller_id]), now)
        uow.commit()
        order.shipping_address = normalized
    return order


def cancel_order(deps: Deps, actor: User, order_id: str, reason: str) -> Order:
    if not reason.strip():
        raise ValidationFailed.one("reason", "required", "Say why the order is cancelled.")
    with deps.uow() as uow:
        order = get_order(uow, actor, order_id, for_update=True)
        if actor.id == order.buyer_id:
            by = Role.BUYER
        elif actor.id == order.seller_id:
            by = Role.SELLER
        else:
            raise Forbidden("Only the buyer or the seller can cancel an order.")
        if order.status is OrderStatus.CANCELLED:
            raise Conflict("The order is already cancelled.", code="order_cancelled")
        if uow.shipments.for_orders([order.id]).get(order.id):
            raise Conflict("The order has a shipment; it can no longer be cancelled.", code="already_shipped")
        now = deps.clock()
        uow.orders.cancel(order.id, reason.strip(), by, now)
        uow.history.order_changes(
            [StatusChange(order.id, now, order.status, OrderStatus.CANCELLED, f"cancelled by {by}")]
        )
        other = order.seller_id if by is Role.BUYER else order.buyer_id
        uow.outbox.add(
            messages(notices.order_cancelled(order.id, by.value, reason.strip()), order.id, [other]), now
        )
        uow.commit()
        order.status = OrderStatus.CANCELLED
        order.cancelled_at, order.cancel_reason, order.cancelled_by = now, reason.strip(), by.value
    return order
