"""Orders: line items, totals, and the order status derived from facts (DESIGN.md §3)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ordertrail.domain.errors import FieldError
from ordertrail.domain.money import is_currency
from ordertrail.domain.statuses import SCANNED, OrderStatus, ShipmentStatus

MAX_QUANTITY = 10_000
MAX_AMOUNT = 10**12  # minor units; guards against overflow in sums and absurd input


@dataclass(frozen=True, slots=True)
class LineItem:
    sku: str
    title: str
    quantity: int
    unit_price: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: int
    shipping_fee: int
    total: int


def check_items(items: Sequence[LineItem], currency: str, shipping_fee: int) -> list[FieldError]:
    errors: list[FieldError] = []
    if not items:
        errors.append(FieldError("items", "empty", "An order needs at least one item."))
    for i, item in enumerate(items):
        if not item.sku.strip():
            errors.append(FieldError(f"items.{i}.sku", "required", "Give the item's SKU."))
        if not item.title.strip():
            errors.append(FieldError(f"items.{i}.title", "required", "Give the item's title."))
        if item.quantity < 1:
            errors.append(FieldError(f"items.{i}.quantity", "too_small", "Quantity must be at least 1."))
        elif item.quantity > MAX_QUANTITY:
            errors.append(
                FieldError(f"items.{i}.quantity", "too_large", f"Quantity may be at most {MAX_QUANTITY}.")
            )
        if item.unit_price < 0:
            errors.append(FieldError(f"items.{i}.unit_price", "negative", "Price cannot be negative."))
        elif item.unit_price > MAX_AMOUNT:
            errors.append(FieldError(f"items.{i}.unit_price", "too_large", "Price is too large."))
    if shipping_fee < 0:
        errors.append(FieldError("shipping_fee", "negative", "The shipping fee cannot be negative."))
    elif shipping_fee > MAX_AMOUNT:
        errors.append(FieldError("shipping_fee", "too_large", "The shipping fee is too large."))
    if not is_currency(currency):
        errors.append(
            FieldError("currency", "unknown_currency", f"'{currency}' is not an ISO 4217 currency code.")
        )
    return errors


def totals(items: Sequence[LineItem], shipping_fee: int) -> Totals:
    subtotal = sum(i.amount for i in items)
    return Totals(subtotal, shipping_fee, subtotal + shipping_fee)


def unshipped_quantities(
    items: Sequence[LineItem], shipments_items: Sequence[Sequence[tuple[str, int]] | None]
) -> Counter[str]:
    """What is left to ship. A shipment that lists no items carries everything left."""
    left: Counter[str] = Counter()
    for item in items:
        left[item.sku] += item.quantity
    for carried in shipments_items:
        if carried is None:
            return Counter()
        for sku, qty in carried:
            left[sku] -= qty
    return +left  # drops zero and negative counts


@dataclass(frozen=True, slots=True)
class OrderFacts:
    cancelled: bool
    fully_covered: bool  # every ordered unit is on some shipment
    shipment_statuses: tuple[ShipmentStatus, ...]  # of live shipments (not cancelled labels)
    last_delivered_at: datetime | None
    has_open_case: bool = False


def derive_order_status(facts: OrderFacts, now: datetime, reporting_window: timedelta) -> OrderStatus:
    """An order's status is a pure function of its shipments, cancellation and cases."""
    if facts.cancelled:
        return OrderStatus.CANCELLED
    statuses = facts.shipment_statuses
    if not statuses:
        return OrderStatus.AWAITING_SHIPMENT
    if not facts.fully_covered:
        return OrderStatus.PARTIALLY_SHIPPED
    if all(s is ShipmentStatus.DELIVERED for s in statuses):
        if (
            not facts.has_open_case
            and facts.last_delivered_at is not None
            and now >= facts.last_delivered_at + reporting_window
        ):
            return OrderStatus.COMPLETED
        return OrderStatus.DELIVERED
    if any(s in SCANNED for s in statuses):
        return OrderStatus.IN_TRANSIT
    return OrderStatus.SHIPPED


@dataclass(slots=True)
class Order:
    id: str
    buyer_id: str
    seller_id: str
    status: OrderStatus
    placed_at: datetime
    currency: str
    items: list[LineItem]
    subtotal: int
    shipping_fee: int
    total: int
    shipping_address: dict[str, str]
    shipping_service: str
    ship_by: datetime
    promised_earliest: date
    promised_latest: date
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    cancelled_by: str | None = None
    delivered_at: datetime | None = None
