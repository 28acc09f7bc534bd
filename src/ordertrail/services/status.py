"""The one place where derived order statuses are recomputed and their changes recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ordertrail.domain.orders import OrderFacts, derive_order_status, unshipped_quantities
from ordertrail.domain.statuses import SCANNED, OrderStatus, ShipmentStatus
from ordertrail.services.ports import ShipmentFacts, StatusChange, UnitOfWork

# A parcel the carrier lost, destroyed or sent back no longer decides where the order stands once
# another parcel (a replacement) is on its way.
GONE = frozenset(
    {
        ShipmentStatus.LOST,
        ShipmentStatus.DAMAGED,
        ShipmentStatus.DISPOSED,
        ShipmentStatus.RETURNED_TO_SENDER,
        ShipmentStatus.EXPIRED,
    }
)


def _counted(shipments: Sequence[ShipmentFacts]) -> list[ShipmentFacts]:
    live = [s for s in shipments if s.status is not ShipmentStatus.CANCELLED]
    still_coming = [s for s in live if s.status not in GONE]
    return still_coming if still_coming and len(still_coming) < len(live) else live


def order_class(status: ShipmentStatus) -> int:
    """The part of a shipment's status its order's status depends on (see derive_order_status):
    a change within a class, such as in transit to out for delivery, cannot change the order."""
    if status in GONE:
        return 4
    if status is ShipmentStatus.DELIVERED:
        return 3
    if status is ShipmentStatus.CANCELLED:
        return 2
    return 1 if status in SCANNED else 0


def refresh_orders(
    uow: UnitOfWork, order_ids: Sequence[str], now: datetime, reporting_window: timedelta, reason: str
) -> list[StatusChange]:
    """Recompute these orders' statuses from their facts: a fixed number of queries for any number of orders."""
    if not order_ids:
        return []
    changes: list[StatusChange] = []
    updates: list[tuple[str, OrderStatus, datetime | None]] = []
    for order_id, inputs in uow.orders.status_inputs(order_ids).items():
        live = _counted(inputs.shipments)
        delivered = [s.delivered_at for s in live if s.delivered_at is not None]
        all_delivered_at = max(delivered) if live and len(delivered) == len(live) else None
        new = derive_order_status(
            OrderFacts(
                cancelled=inputs.cancelled,
                fully_covered=not unshipped_quantities(inputs.items, [s.items for s in live]),
                shipment_statuses=tuple(s.status for s in live),
                last_delivered_at=all_delivered_at,
                has_open_case=inputs.has_open_case,
            ),
            now,
            reporting_window,
        )
        if new != inputs.status:
            changes.append(StatusChange(order_id, now, inputs.status, new, reason))
            updates.append((order_id, new, all_delivered_at))
    if updates:
        uow.orders.set_statuses(updates, now)
        uow.history.order_changes(changes)
    return changes
