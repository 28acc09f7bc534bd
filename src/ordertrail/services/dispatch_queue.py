"""What the seller's pages show: orders to ship by their deadline, and carrier detection as they type."""

from __future__ import annotations

from typing import Any

from ordertrail.domain.carriers import Resolution
from ordertrail.domain.deadlines import is_overdue, time_left
from ordertrail.domain.errors import Forbidden
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.orders import get_order

QUEUE_LIMIT = 200


def _seller(actor: User) -> None:
    if actor.role is not Role.SELLER:
        raise Forbidden("These pages are for sellers.")


def to_ship(deps: Deps, actor: User) -> list[dict[str, Any]]:
    """The seller's orders still to ship, the most urgent ship-by first, overdue ones marked."""
    _seller(actor)
    now = deps.clock()
    with deps.read() as uow:
        rows = uow.pages.to_ship(actor.id, QUEUE_LIMIT)
    for r in rows:
        r["overdue"] = is_overdue(r["ship_by"], now)
        r["time_left"] = time_left(r["ship_by"], now)
        r["seconds_left"] = (r["ship_by"] - now).total_seconds()
    return rows


def detect_carrier(deps: Deps, actor: User, number: str, order_id: str | None) -> Resolution:
    """What the add-tracking form will decide for this number, with the same context as on submit."""
    _seller(actor)
    country = ""
    with deps.read() as uow:
        if order_id:
            country = get_order(uow, actor, order_id).shipping_address.get("country_code", "")
        used = uow.shipments.carriers_used_by(actor.id)
    return deps.carriers.resolve(number[:64], destination_country=country, seller_carriers=used)
