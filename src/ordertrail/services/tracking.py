"""The tracking views: for the parties to an order, and the public one by tracking number."""

from __future__ import annotations

from typing import Any

from ordertrail.domain.errors import NotFound
from ordertrail.domain.redaction import personal_terms, redact
from ordertrail.domain.users import User
from ordertrail.services.context import Deps

PUBLIC_LOCATION_FIELDS = ("city", "region", "country_code")


def order_tracking(deps: Deps, actor: User, order_id: str) -> dict[str, Any]:
    with deps.read() as uow:
        view = uow.tracking.order_tracking(order_id)
    if view is None or not actor.may_see_order(view.pop("buyer_id"), view.pop("seller_id")):
        raise NotFound(f"No order {order_id}.")
    for s in view["shipments"]:
        s["tracking_url"] = deps.tracking_url(s["carrier"], s["tracking_number"])
    return view


def public_tracking(deps: Deps, tracking_number: str) -> dict[str, Any]:
    """One shipment by number with nothing personal: no names, street, items, prices or order id."""
    number = "".join(tracking_number.split()).upper()
    with deps.read() as uow:
        shipment = uow.shipments.by_tracking_number(number)
        view = uow.tracking.order_tracking(shipment.order_id) if shipment else None
        order = uow.orders.get(shipment.order_id) if shipment else None
        buyer = uow.users.get(order.buyer_id) if order else None
    if shipment is None or view is None or order is None:
        raise NotFound(f"No shipment with tracking number {tracking_number}.")
    address = order.shipping_address
    # Carriers write names, streets and phones into their descriptions too ("signed by A SOUZA").
    terms = personal_terms(
        [address.get("name"), buyer.name if buyer else None],
        [address.get("street_address"), address.get("phone"), buyer.email if buyer else None],
    )
    (public,) = [s for s in view["shipments"] if s["id"] == shipment.id]
    public = dict(public, tracking_url=deps.tracking_url(public["carrier"], public["tracking_number"]))
    pod = public.get("proof_of_delivery")
    if pod:  # a signer's name is personal data; the fact of a signature is not
        public["proof_of_delivery"] = {"type": pod.get("type")}
    public["events"] = [
        {
            **e,
            "description": redact(e["description"], terms),
            "location": {k: (e["location"] or {}).get(k) for k in PUBLIC_LOCATION_FIELDS}
            if e.get("location")
            else None,
        }
        for e in public["events"]
    ]
    return public
