"""Order rules: totals, item checks and the order status derived from facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ordertrail.domain.money import format_money, is_currency
from ordertrail.domain.orders import (
    LineItem,
    OrderFacts,
    check_items,
    derive_order_status,
    totals,
    unshipped_quantities,
)
from ordertrail.domain.statuses import OrderStatus as O
from ordertrail.domain.statuses import ShipmentStatus as S

NOW = datetime(2026, 12, 10, tzinfo=UTC)
WINDOW = timedelta(days=30)


def facts(
    *statuses: S,
    covered: bool = True,
    delivered: datetime | None = None,
    case: bool = False,
    cancelled: bool = False,
) -> OrderFacts:
    return OrderFacts(cancelled, covered, tuple(statuses), delivered, case)


def test_totals_are_integer_sums_of_minor_units() -> None:
    t = totals([LineItem("A", "A", 2, 1999), LineItem("B", "B", 1, 1)], 499)
    assert (t.subtotal, t.shipping_fee, t.total) == (3999, 499, 4498)


def test_item_checks_name_the_item_and_field() -> None:
    errors = check_items([LineItem("", "A", 0, -1)], "usd", -1)
    assert [(e.field, e.code) for e in errors] == [
        ("items.0.sku", "required"),
        ("items.0.quantity", "too_small"),
        ("items.0.unit_price", "negative"),
        ("shipping_fee", "negative"),
        ("currency", "unknown_currency"),
    ]


def test_currencies_and_their_minor_units() -> None:
    assert is_currency("USD") and is_currency("JPY") and not is_currency("XYZ")
    assert format_money(4497, "USD") == "44.97 USD"
    assert format_money(500, "JPY") == "500 JPY"
    assert format_money(1234, "KWD") == "1.234 KWD"


def test_the_order_status_follows_its_shipments() -> None:
    assert derive_order_status(facts(), NOW, WINDOW) is O.AWAITING_SHIPMENT
    assert derive_order_status(facts(S.PENDING, covered=False), NOW, WINDOW) is O.PARTIALLY_SHIPPED
    assert derive_order_status(facts(S.PENDING, S.INFO_RECEIVED), NOW, WINDOW) is O.SHIPPED
    assert derive_order_status(facts(S.PENDING, S.IN_TRANSIT), NOW, WINDOW) is O.IN_TRANSIT
    assert derive_order_status(facts(S.DELIVERED, S.OUT_FOR_DELIVERY), NOW, WINDOW) is O.IN_TRANSIT
    assert derive_order_status(facts(S.DELIVERED, S.DELIVERED, delivered=NOW), NOW, WINDOW) is O.DELIVERED
    assert derive_order_status(facts(S.DELIVERED, delivered=NOW - WINDOW), NOW, WINDOW) is O.COMPLETED
    assert (
        derive_order_status(facts(S.DELIVERED, delivered=NOW - WINDOW, case=True), NOW, WINDOW) is O.DELIVERED
    )
    assert derive_order_status(facts(S.DELIVERED, cancelled=True), NOW, WINDOW) is O.CANCELLED


def test_a_shipment_without_item_list_carries_everything_left() -> None:
    items = [LineItem("A", "A", 2, 1), LineItem("B", "B", 1, 1)]
    assert unshipped_quantities(items, [[("A", 1)]]) == {"A": 1, "B": 1}
    assert not unshipped_quantities(items, [[("A", 1)], None])


@given(st.lists(st.sampled_from(list(S)), max_size=6), st.booleans(), st.booleans())
def test_the_order_status_does_not_depend_on_shipment_order(
    statuses: list[S], covered: bool, case: bool
) -> None:
    a = derive_order_status(facts(*statuses, covered=covered, case=case, delivered=NOW), NOW, WINDOW)
    b = derive_order_status(
        facts(*reversed(statuses), covered=covered, case=case, delivered=NOW), NOW, WINDOW
    )
    assert a is b
