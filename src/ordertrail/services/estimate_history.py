"""Reading an order's estimate history: the promise made at checkout, then every change of its
shipments' estimated delivery with the reason."""

from __future__ import annotations

from ordertrail.domain.orders import Order
from ordertrail.domain.shipments import Shipment
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.orders import get_order
from ordertrail.services.ports_eta import EstimateChange


def order_with_estimates(
    deps: Deps, actor: User, order_id: str
) -> tuple[Order, list[Shipment], list[EstimateChange]]:
    with deps.read() as uow:
        order = get_order(uow, actor, order_id)
        shipments = uow.shipments.for_orders([order.id]).get(order.id, [])
        history = uow.eta.for_order(order.id)
    return order, shipments, history
