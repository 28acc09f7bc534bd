"""What each notification says. Pure: the words are chosen here, the channels deliver them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any


class NoticeType:
    ORDER_CONFIRMED = "order_confirmed"
    ORDER_SHIPPED = "order_shipped"
    TRACKING_NUMBER_CHANGED = "tracking_number_changed"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_ATTEMPTED = "delivery_attempted"
    SHIPMENT_EXCEPTION = "shipment_exception"
    SHIPMENT_STALLED = "shipment_stalled"
    DELIVERY_DELAYED = "delivery_delayed"
    SHIP_BY_OVERDUE = "ship_by_overdue"
    NO_FIRST_SCAN = "no_first_scan"
    ADDRESS_CHANGED = "address_changed"
    ORDER_CANCELLED = "order_cancelled"
    CASE_OPENED = "case_opened"
    CASE_UPDATED = "case_updated"
    CASE_ESCALATED = "case_escalated"
    CASE_RESOLVED = "case_resolved"

    ALL: frozenset[str] = frozenset()


NoticeType.ALL = frozenset(v for k, v in vars(NoticeType).items() if k.isupper() and isinstance(v, str))


@dataclass(frozen=True, slots=True)
class Notice:
    type: str
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)


def _window(earliest: date | None, latest: date | None) -> str:
    if earliest is None or latest is None:
        return "to be confirmed"
    if earliest == latest:
        return earliest.strftime("%a %d %b %Y")
    return f"{earliest.strftime('%a %d %b')} – {latest.strftime('%a %d %b %Y')}"


def order_confirmed(
    order_id: str, total: str, items: int, earliest: date, latest: date, ship_by: str
) -> Notice:
    return Notice(
        "order_confirmed",
        f"Order {order_id} confirmed",
        f"Thank you! Your order {order_id} ({items} item{'s' if items != 1 else ''}, {total}) is confirmed. "
        f"The seller ships by {ship_by}; expected delivery {_window(earliest, latest)}.",
    )


def order_shipped(order_id: str, carrier: str, number: str, url: str | None) -> Notice:
    link = f" Track it: {url}" if url else ""
    return Notice(
        "order_shipped",
        f"Order {order_id} has shipped",
        f"Your order {order_id} is on its way with {carrier}, tracking number {number}.{link}",
    )


def tracking_number_changed(order_id: str, carrier: str, number: str, url: str | None) -> Notice:
    link = f" Track it: {url}" if url else ""
    return Notice(
        "tracking_number_changed",
        f"New tracking number for order {order_id}",
        f"The seller corrected the tracking number of your order {order_id}: {carrier} {number}.{link}",
    )


def address_changed(order_id: str, summary: str, labelled: Sequence[str] = ()) -> Notice:
    """`labelled`: the parcels ("UPS 1Z…") whose label was made for the old address, not yet scanned."""
    if labelled:
        todo = (
            f"The label of {', '.join(labelled)} was made for the old address: correct it before the "
            "carrier collects the parcel, or ask the carrier to redirect it."
        )
    else:
        todo = "Ship to the new address."
    return Notice(
        "address_changed",
        f"Delivery address changed on order {order_id}",
        f"The buyer changed the delivery address of order {order_id} to: {summary}. {todo}",
    )


def order_cancelled(order_id: str, by: str, reason: str) -> Notice:
    return Notice(
        "order_cancelled",
        f"Order {order_id} cancelled",
        f"Order {order_id} was cancelled by the {by}: {reason}",
    )


_SCAN_WORDS = {
    "out_for_delivery": (
        "is out for delivery",
        "Your parcel is on the delivery vehicle and should arrive today.",
    ),
    "delivered": (
        "was delivered",
        "Your parcel was delivered. Something wrong? Report a problem from the order page.",
    ),
    "delivery_attempted": (
        "could not be delivered",
        "The carrier tried to deliver your parcel but could not. Check the carrier's note; it usually tries again "
        "the next business day or leaves it at a pickup point.",
    ),
    "shipment_exception": (
        "has a problem",
        "The carrier reported a problem with your parcel. We are watching it; if it does not move again soon you "
        "can report a problem from the order page.",
    ),
}


def scan_notice(kind: str, order_id: str, carrier: str | None, number: str | None, detail: str) -> Notice:
    headline, advice = _SCAN_WORDS[kind]
    what = f"{carrier} {number}" if number else "Your parcel"
    return Notice(
        kind,
        f"Order {order_id} {headline}",
        f"{what}: {detail}. {advice}".replace(". .", "."),
    )
