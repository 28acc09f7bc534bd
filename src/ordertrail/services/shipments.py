"""Attaching and correcting tracking numbers."""

from __future__ import annotations

from collections.abc import Sequence

from ordertrail.domain import notices
from ordertrail.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from ordertrail.domain.ids import new_id
from ordertrail.domain.orders import unshipped_quantities
from ordertrail.domain.shipments import AWAITING_TRACKING, Shipment
from ordertrail.domain.statuses import OrderStatus, Role, ShipmentStatus
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.notify import messages
from ordertrail.services.orders import get_order
from ordertrail.services.ports import UnitOfWork
from ordertrail.services.status import refresh_orders


def _resolve(
    deps: Deps,
    uow: UnitOfWork,
    number: str,
    carrier: str | None,
    seller_id: str,
    country: str,
    tracked_by: str | None = None,
) -> tuple[str, str]:
    """(carrier slug, normalised number), or a 422 naming the field at fault."""
    if not number or not number.strip():
        raise ValidationFailed.one("tracking_number", "required", "Give the tracking number.")
    if tracked_by is not None:  # an aggregator already follows the number (domain.carriers, rule 4)
        resolution = deps.carriers.resolve_tracked(number, carrier)
    else:
        resolution = deps.carriers.resolve(
            number,
            carrier=carrier.strip().lower() if carrier else None,
            destination_country=country,
            seller_carriers=uow.shipments.carriers_used_by(seller_id) if not carrier else frozenset(),
        )
    if resolution.problem is not None:
        p = resolution.problem
        raise ValidationFailed([FieldError(p.field, p.code, p.message)])
    assert resolution.match is not None
    return resolution.match.carrier, resolution.match.number


def _check_not_elsewhere(
    deps: Deps, uow: UnitOfWork, carrier: str, number: str, order_id: str, shipment_id: str | None
) -> None:
    name = deps.carrier_name(carrier)
    for other_shipment, other_order in uow.shipments.open_with_number(carrier, number):
        if other_shipment != shipment_id and other_order != order_id:
            raise Conflict(
                f"{name} {number} is already the tracking number of another open order; check the "
                "number on the label.",
                code="tracking_number_in_use",
            )
        if other_shipment != shipment_id:
            raise Conflict(f"{name} {number} is already on this order.", code="tracking_number_in_use")


def add_shipment(
    deps: Deps,
    actor: User,
    order_id: str,
    tracking_number: str,
    carrier: str | None,
    items: Sequence[tuple[str, int]] | None,
    tracked_by: str | None = None,
) -> Shipment:
    with deps.uow() as uow:
        order = get_order(uow, actor, order_id, for_update=True)
        if actor.id != order.seller_id and actor.role is not Role.ADMIN:
            raise Forbidden("Only the seller adds shipments.")
        if order.status is OrderStatus.CANCELLED:
            raise Conflict("The order is cancelled.", code="order_cancelled")
        existing = uow.shipments.for_orders([order.id]).get(order.id, [])
        if items is not None:
            unshipped = unshipped_quantities(order.items, [s.items for s in existing])
            left = dict(unshipped)
            ordered = {item.sku for item in order.items}
            errors = []
            if not items:
                errors.append(
                    FieldError(
                        "items",
                        "empty",
                        "List what the parcel holds, or leave items out for all that is left.",
                    )
                )
            for i, (sku, qty) in enumerate(items):
                if qty < 1:
                    errors.append(
                        FieldError(f"items.{i}.quantity", "too_small", "Quantity must be at least 1.")
                    )
                elif sku not in ordered:
                    errors.append(
                        FieldError(f"items.{i}.sku", "not_on_order", f"'{sku}' is not on this order.")
                    )
                elif left.get(sku, 0) < qty:
                    earlier = (
                        ""
                        if left.get(sku, 0) == unshipped.get(sku, 0)
                        else " after this parcel's earlier lines"
                    )
                    errors.append(
                        FieldError(
                            f"items.{i}.quantity",
                            "more_than_left",
                            f"Only {left.get(sku, 0)} of '{sku}' are left to ship on this order{earlier}.",
                        )
                    )
                else:  # a SKU listed on two lines counts against what is left once
                    left[sku] -= qty
            if errors:
                raise ValidationFailed(errors)
        slug, number = _resolve(
            deps,
            uow,
            tracking_number,
            carrier,
            order.seller_id,
            order.shipping_address.get("country_code", ""),
            tracked_by,
        )
        _check_not_elsewhere(deps, uow, slug, number, order.id, None)
        now = deps.clock()
        shipment = Shipment(
            id=new_id("shp"),
            order_id=order.id,
            carrier=slug,
            tracking_number=number,
            items=list(items) if items is not None else None,
            status=ShipmentStatus.PENDING,
            substatus=None,
            created_at=now,
            tracking_added_at=now,
            estimated_earliest=order.promised_earliest,
            estimated_latest=order.promised_latest,
        )
        uow.shipments.add(shipment)
        refresh_orders(uow, [order.id], now, deps.reporting_window, "tracking number added")
        url = deps.tracking_url(slug, number)
        name = deps.carrier_name(slug)
        uow.outbox.add(
            messages(notices.order_shipped(order.id, name, number, url), order.id, [order.buyer_id]), now
        )
        uow.commit()
    return shipment


def change_tracking_number(
    deps: Deps, actor: User, shipment_id: str, tracking_number: str, carrier: str | None
) -> Shipment:
    with deps.uow() as uow:
        shipment = uow.shipments.get(shipment_id, for_update=True)
        if shipment is None:
            raise NotFound(f"No shipment {shipment_id}.")
        try:
            order = get_order(uow, actor, shipment.order_id)
        except NotFound:  # someone else's shipment answers as a missing one, without its order's id
            raise NotFound(f"No shipment {shipment_id}.") from None
        if actor.id != order.seller_id and actor.role is not Role.ADMIN:
            if actor.id == order.buyer_id or actor.role is Role.SUPPORT:
                raise Forbidden("Only the seller corrects tracking numbers.")
            raise NotFound(f"No shipment {shipment_id}.")
        if shipment.status is ShipmentStatus.DELIVERED:
            raise Conflict(
                "The shipment is delivered; its tracking number can no longer change.", code="delivered"
            )
        slug, number = _resolve(
            deps,
            uow,
            tracking_number,
            carrier,
            order.seller_id,
            order.shipping_address.get("country_code", ""),
        )
        if (slug, number) == (shipment.carrier, shipment.tracking_number):
            return shipment  # the number it has: nothing to correct, nobody to tell
        _check_not_elsewhere(deps, uow, slug, number, order.id, shipment.id)
        now = deps.clock()
        uow.shipments.set_tracking(shipment.id, slug, number, now)
        shipment.carrier, shipment.tracking_number, shipment.tracking_added_at = slug, number, now
        if shipment.substatus == AWAITING_TRACKING:
            shipment.substatus = None  # as stored (adapters' set_tracking)
        if shipment.ship_by is not None:
            refresh_orders(uow, [order.id], now, deps.reporting_window, "tracking number added")
        url = deps.tracking_url(slug, number)
        name = deps.carrier_name(slug)
        uow.outbox.add(
            messages(
                notices.tracking_number_changed(order.id, name, number, url), order.id, [order.buyer_id]
            ),
            now,
        )
        uow.commit()
    return shipment
