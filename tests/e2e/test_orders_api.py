"""Orders over HTTP: placement with confirmation, validation that stores nothing, reading, changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from ordertrail.adapters.db.tables import order_items, orders, outbox, users
from tests.conftest import ADDRESS, order_body
from tests.e2e.conftest import Api, Party


def count_rows(api: Api) -> tuple[int, int, int]:
    with api.container.engine.connect() as c:
        return (
            c.execute(select(func.count()).select_from(orders)).scalar_one(),
            c.execute(select(func.count()).select_from(order_items)).scalar_one(),
            c.execute(select(func.count()).select_from(outbox)).scalar_one(),
        )


def test_a_valid_order_is_confirmed_at_once_with_an_unguessable_id_totals_and_promise(
    api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    assert order["id"].startswith("ord_") and len(order["id"]) >= 16
    assert order["status"] == "awaiting_shipment"
    assert (order["subtotal"], order["shipping_fee"], order["total"]) == (3998, 499, 4497)
    assert order["placed_at"] == "2026-11-26T10:00:00Z"
    # Thanksgiving (26 Nov) is not a business day: two business days are Fri 27 and Mon 30.
    assert order["ship_by"] == "2026-11-30T23:59:59Z"
    assert order["promised_delivery"] == {"earliest": "2026-12-02", "latest": "2026-12-05"}
    assert order["shipping_address"]["city"] == "MOUNTAIN VIEW"
    assert order["shipments"] == []


def test_the_confirmation_reaches_the_buyers_inbox_and_mailbox_naming_the_order(
    api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    # In the inbox when the 201 comes back, before any worker has run.
    inbox = api.inbox(buyer)
    assert [n["type"] for n in inbox] == ["order_confirmed"]
    assert order["id"] in inbox[0]["title"] and order["id"] in inbox[0]["body"]
    assert inbox[0]["order_id"] == order["id"] and inbox[0]["read_at"] is None
    api.run_worker()  # sends the e-mail the placement queued
    assert [n["id"] for n in api.inbox(buyer)] == [inbox[0]["id"]]  # fanned out once
    mails = list((api.container.settings.data_dir / "mail").glob("*.eml"))
    assert len(mails) == 1
    text = mails[0].read_text()
    assert "To: ana@example.com" in text and order["id"] in text


def test_two_orders_never_share_an_id(api: Api, buyer: Party, seller: Party) -> None:
    ids = {api.order(buyer, seller)["id"] for _ in range(5)}
    assert len(ids) == 5


BAD_ORDERS: list[tuple[str, dict[str, Any], str, str]] = [
    ("no items", {"items": []}, "items", "empty"),
    (
        "zero quantity",
        {"items": [{"sku": "A", "title": "A", "quantity": 0, "unit_price": 100}]},
        "items.0.quantity",
        "too_small",
    ),
    (
        "negative price",
        {"items": [{"sku": "A", "title": "A", "quantity": 1, "unit_price": -1}]},
        "items.0.unit_price",
        "negative",
    ),
    (
        "fractional price",
        {"items": [{"sku": "A", "title": "A", "quantity": 1, "unit_price": 19.99}]},
        "items.0.unit_price",
        "invalid_type",
    ),
    ("negative fee", {"shipping_fee": -5}, "shipping_fee", "negative"),
    ("unknown currency", {"currency": "XYZ"}, "currency", "unknown_currency"),
    (
        "wrong postal format",
        {"shipping_address": {**ADDRESS, "postal_code": "ABCDE"}},
        "shipping_address.postal_code",
        "invalid_postal_code",
    ),
    (
        "postal code of another state",
        {"shipping_address": {**ADDRESS, "postal_code": "10001"}},
        "shipping_address.postal_code",
        "postal_code_state_mismatch",
    ),
    ("missing city", {"shipping_address": {**ADDRESS, "city": ""}}, "shipping_address.city", "required"),
    (
        "unknown country",
        {"shipping_address": {**ADDRESS, "country_code": "XX"}},
        "shipping_address.country_code",
        "unknown_country",
    ),
    ("missing recipient", {"shipping_address": {**ADDRESS, "name": ""}}, "shipping_address.name", "required"),
    ("unknown service", {"shipping_service": "teleport"}, "shipping_service", "invalid_choice"),
]


@pytest.mark.parametrize(("case", "change", "field", "code"), BAD_ORDERS, ids=[c[0] for c in BAD_ORDERS])
def test_a_bad_order_is_refused_with_the_field_at_fault_and_nothing_is_stored(
    api: Api, buyer: Party, seller: Party, case: str, change: dict[str, Any], field: str, code: str
) -> None:
    before = count_rows(api)
    r = api.client.post("/v1/orders", json=order_body(seller.id, **change), headers=buyer.auth)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 422 and problem["title"] and problem["detail"]
    assert (problem["errors"][0]["field"], problem["errors"][0]["code"]) == (field, code), problem
    assert count_rows(api) == before


def test_an_unknown_seller_is_refused_on_the_seller_field(api: Api, buyer: Party) -> None:
    r = api.client.post("/v1/orders", json=order_body("usr_nobody"), headers=buyer.auth)
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "field": "seller_id",
        "code": "unknown_seller",
        "message": "There is no seller with this id.",
    }


def test_a_buyer_is_not_a_seller(api: Api, buyer: Party) -> None:
    other = api.user("buyer", "B2")
    r = api.client.post("/v1/orders", json=order_body(other.id), headers=buyer.auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "seller_id"


def test_malformed_json_is_a_400_problem_and_stores_nothing(api: Api, buyer: Party) -> None:
    before = count_rows(api)
    r = api.client.post(
        "/v1/orders", content=b'{"items": [', headers={**buyer.auth, "content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert count_rows(api) == before


@pytest.mark.parametrize("label", [None, "application/x-www-form-urlencoded", "text/plain; charset=utf-8"])
def test_a_json_body_not_labelled_as_json_is_read_as_json(
    api: Api, buyer: Party, seller: Party, label: str | None
) -> None:
    """`curl -d '{...}'` labels its body a form: the API speaks JSON only, so it reads it as JSON."""
    headers = {**buyer.auth, **({"content-type": label} if label else {})}
    placed = api.client.post(
        "/v1/orders", content=json.dumps(order_body(seller.id)).encode(), headers=headers
    )
    assert placed.status_code == 201, placed.text
    before = count_rows(api)
    broken = api.client.post("/v1/orders", content=b'{"items": [', headers=headers)
    assert broken.status_code == 400 and broken.json()["code"] == "malformed_json", broken.text
    assert count_rows(api) == before


def test_an_empty_body_is_malformed_json_too(api: Api, buyer: Party) -> None:
    before = count_rows(api)
    r = api.client.post("/v1/orders", headers={**buyer.auth, "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    assert count_rows(api) == before


def test_text_holding_a_nul_character_is_refused_on_its_field_and_nothing_is_stored(
    api: Api, buyer: Party, seller: Party
) -> None:
    """PostgreSQL cannot store NUL in text: this was a 500 there, with the order half placed in the
    request's eyes. Now it is a field error on either database."""
    before = count_rows(api)
    body = order_body(seller.id)
    body["items"][0]["sku"] = "TSHIRT\u0000M"
    body["shipping_address"]["name"] = "Ana\u0000"
    r = api.client.post("/v1/orders", json=body, headers=buyer.auth)
    assert r.status_code == 422
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} == {
        ("items.0.sku", "invalid_character"),
        ("shipping_address.name", "invalid_character"),
    }
    assert count_rows(api) == before
    r = api.client.post("/v1/users", json={"role": "buyer", "name": "A\u0000"}, headers=api.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"


def test_several_errors_are_reported_together_with_dotted_paths(
    api: Api, buyer: Party, seller: Party
) -> None:
    body = order_body(seller.id, currency="ABC", shipping_fee=-1)
    body["items"].append({"sku": "B", "title": "B", "quantity": 0, "unit_price": 5})
    r = api.client.post("/v1/orders", json=body, headers=buyer.auth)
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"items.1.quantity", "shipping_fee", "currency"} <= fields


def test_the_same_idempotency_key_and_body_returns_the_first_order(
    api: Api, buyer: Party, seller: Party
) -> None:
    headers = {**buyer.auth, "Idempotency-Key": "checkout-123"}
    first = api.client.post("/v1/orders", json=order_body(seller.id), headers=headers)
    again = api.client.post("/v1/orders", json=order_body(seller.id), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert count_rows(api)[0] == 1
    api.run_worker()
    assert len(api.inbox(buyer)) == 1  # one confirmation, not two


def test_the_same_idempotency_key_with_another_body_is_a_conflict(
    api: Api, buyer: Party, seller: Party
) -> None:
    headers = {**buyer.auth, "Idempotency-Key": "checkout-123"}
    api.client.post("/v1/orders", json=order_body(seller.id), headers=headers)
    r = api.client.post("/v1/orders", json=order_body(seller.id, shipping_fee=0), headers=headers)
    assert r.status_code == 409 and count_rows(api)[0] == 1


def test_an_admin_places_an_order_for_a_named_buyer(api: Api, buyer: Party, seller: Party) -> None:
    r = api.client.post("/v1/orders", json=order_body(seller.id, buyer_id=buyer.id), headers=api.admin)
    assert r.status_code == 201 and r.json()["buyer_id"] == buyer.id
    r = api.client.post("/v1/orders", json=order_body(seller.id), headers=api.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "buyer_id"


def test_sellers_support_and_carriers_cannot_place_orders(api: Api, seller: Party) -> None:
    for role in ("seller", "support", "carrier"):
        party = api.user(role)
        r = api.client.post("/v1/orders", json=order_body(seller.id), headers=party.auth)
        assert r.status_code == 403, role


def test_missing_or_invalid_keys_get_401(api: Api, seller: Party) -> None:
    assert api.client.post("/v1/orders", json=order_body(seller.id)).status_code == 401
    r = api.client.get("/v1/orders", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


def test_an_order_is_visible_to_its_buyer_seller_and_support_and_404_to_others(
    api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    for party in (buyer, seller, api.user("support")):
        assert api.client.get(f"/v1/orders/{order['id']}", headers=party.auth).status_code == 200
    stranger = api.user("buyer", "Stranger")
    other_seller = api.user("seller", "Other shop")
    for party in (stranger, other_seller):
        r = api.client.get(f"/v1/orders/{order['id']}", headers=party.auth)
        assert r.status_code == 404
        missing = api.client.get("/v1/orders/ord_doesnotexist", headers=party.auth)
        assert missing.status_code == 404 and missing.json()["title"] == r.json()["title"]


def test_lists_are_the_callers_own_newest_first_with_cursor_pagination(
    api: Api, buyer: Party, seller: Party, clock: Any
) -> None:
    ids = []
    for _ in range(5):
        ids.append(api.order(buyer, seller)["id"])
        clock.advance(minutes=1)
    api.order(api.user("buyer", "Other"), seller)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.client.get("/v1/orders", params=params, headers=buyer.auth).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    assert len(api.client.get("/v1/orders", headers=seller.auth).json()["items"]) == 6
    assert api.client.get("/v1/orders", params={"limit": 101}, headers=buyer.auth).status_code == 422
    assert api.client.get("/v1/orders", params={"cursor": "garbage!"}, headers=buyer.auth).status_code == 422


def test_listed_orders_carry_their_shipments_as_a_single_order_does(
    api: Api, buyer: Party, seller: Party
) -> None:
    shipped = api.order(buyer, seller)
    api.ship(shipped["id"], seller, "1Z5R89390357567127")
    waiting = api.order(buyer, seller)
    for party in (buyer, seller, api.user("support")):
        listed = {o["id"]: o for o in api.client.get("/v1/orders", headers=party.auth).json()["items"]}
        one = api.client.get(f"/v1/orders/{shipped['id']}", headers=party.auth).json()
        assert [s["tracking_number"] for s in listed[shipped["id"]]["shipments"]] == ["1Z5R89390357567127"]
        assert listed[shipped["id"]]["shipments"] == one["shipments"]
        assert listed[waiting["id"]]["shipments"] == []


def test_orders_filter_by_status(api: Api, buyer: Party, seller: Party) -> None:
    a = api.order(buyer, seller)
    api.order(buyer, seller)
    api.client.post(f"/v1/orders/{a['id']}/cancel", json={"reason": "changed my mind"}, headers=buyer.auth)
    r = api.client.get("/v1/orders", params={"status": "cancelled"}, headers=buyer.auth).json()
    assert [o["id"] for o in r["items"]] == [a["id"]]
    assert api.client.get("/v1/orders", params={"status": "lost"}, headers=buyer.auth).status_code == 422


def test_the_buyer_corrects_the_address_and_the_seller_is_told(api: Api, buyer: Party, seller: Party) -> None:
    order = api.order(buyer, seller)
    new = {**ADDRESS, "street_address": "1 Infinite Loop", "city": "Cupertino", "postal_code": "95014"}
    r = api.client.put(f"/v1/orders/{order['id']}/shipping-address", json=new, headers=buyer.auth)
    assert r.status_code == 200 and r.json()["shipping_address"]["city"] == "CUPERTINO"
    # The same address again (as typed, before normalising) changes nothing and tells nobody twice.
    again = api.client.put(f"/v1/orders/{order['id']}/shipping-address", json=new, headers=buyer.auth)
    assert again.status_code == 200 and again.json()["shipping_address"] == r.json()["shipping_address"]
    api.run_worker()
    assert [n["type"] for n in api.inbox(seller)] == ["address_changed"]
    assert api.inbox(seller)[0]["body"].endswith("Ship to the new address.")


def test_an_address_change_after_the_label_tells_the_seller_to_correct_it(
    api: Api, buyer: Party, seller: Party
) -> None:
    """Until the carrier's first scan the address may change; a label already made for the old one
    must then be corrected, or the parcel goes to the old address."""
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, "1Z5R89390357567127")
    new = {**ADDRESS, "street_address": "1 Infinite Loop", "city": "Cupertino", "postal_code": "95014"}
    r = api.client.put(f"/v1/orders/{order['id']}/shipping-address", json=new, headers=buyer.auth)
    assert r.status_code == 200
    api.run_worker()
    changed = [n for n in api.inbox(seller) if n["type"] == "address_changed"]
    assert len(changed) == 1
    assert "The label of UPS 1Z5R89390357567127 was made for the old address" in changed[0]["body"]
    assert "Ship to the new address" not in changed[0]["body"]


def test_an_invalid_new_address_is_refused_and_the_old_one_kept(
    api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    r = api.client.put(
        f"/v1/orders/{order['id']}/shipping-address", json={**ADDRESS, "postal_code": "1"}, headers=buyer.auth
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "postal_code"
    assert (
        api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["shipping_address"][
            "postal_code"
        ]
        == "94043"
    )


def test_the_address_is_locked_once_the_carrier_has_scanned_a_parcel(
    api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, "1Z5R89390357567127")
    new = {**ADDRESS, "street_address": "1 Infinite Loop", "city": "Cupertino", "postal_code": "95014"}
    # Label only: still allowed.
    assert (
        api.client.put(f"/v1/orders/{order['id']}/shipping-address", json=new, headers=buyer.auth).status_code
        == 200
    )
    api.events(
        [
            {
                "tracking_number": "1Z5R89390357567127",
                "occurred_at": "2026-11-27T08:00:00-05:00",
                "status": "in_transit",
                "description": "Origin scan",
            }
        ]
    )
    r = api.client.put(f"/v1/orders/{order['id']}/shipping-address", json=ADDRESS, headers=buyer.auth)
    assert r.status_code == 409


def test_only_the_buyer_changes_the_address(api: Api, buyer: Party, seller: Party) -> None:
    """API.md: `PUT /v1/orders/{id}/shipping-address` (the buyer); staff and carriers: wrong role."""
    order = api.order(buyer, seller)
    new = {**ADDRESS, "street_address": "1 Infinite Loop", "city": "Cupertino", "postal_code": "95014"}
    for party in (seller, api.user("support"), api.user("admin"), api.user("carrier")):
        r = api.client.put(f"/v1/orders/{order['id']}/shipping-address", json=new, headers=party.auth)
        assert r.status_code == 403, party
    kept = api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["shipping_address"]
    assert kept["city"] == order["shipping_address"]["city"]


def test_only_the_buyer_or_the_seller_cancels(api: Api, buyer: Party, seller: Party) -> None:
    """API.md: `POST /v1/orders/{id}/cancel` (the buyer or the seller); anyone else's role: 403."""
    order = api.order(buyer, seller)
    for party in (api.user("support"), api.user("admin"), api.user("carrier")):
        r = api.client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "x"}, headers=party.auth)
        assert r.status_code == 403, party
    assert api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["status"] != "cancelled"


def test_cancel_before_shipment_and_not_after(api: Api, buyer: Party, seller: Party) -> None:
    a = api.order(buyer, seller)
    r = api.client.post(f"/v1/orders/{a['id']}/cancel", json={"reason": "ordered twice"}, headers=seller.auth)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["cancellation"]["by"] == "seller"
    assert (
        api.client.post(
            f"/v1/orders/{a['id']}/cancel", json={"reason": "again"}, headers=buyer.auth
        ).status_code
        == 409
    )
    r = api.client.put(f"/v1/orders/{a['id']}/shipping-address", json=ADDRESS, headers=buyer.auth)
    assert r.status_code == 409
    b = api.order(buyer, seller)
    api.ship(b["id"], seller, "1Z5R89390357567127")
    assert (
        api.client.post(
            f"/v1/orders/{b['id']}/cancel", json={"reason": "late"}, headers=buyer.auth
        ).status_code
        == 409
    )
    api.run_worker()
    assert "order_cancelled" in [n["type"] for n in api.inbox(buyer)]


def test_marking_a_notification_read(api: Api, buyer: Party, seller: Party) -> None:
    api.order(buyer, seller)
    api.run_worker()
    (n,) = api.inbox(buyer)
    r = api.client.post(f"/v1/notifications/{n['id']}/read", headers=buyer.auth)
    assert r.status_code == 200 and r.json()["read_at"] == "2026-11-26T10:00:00Z"
    assert api.client.post(f"/v1/notifications/{n['id']}/read", headers=seller.auth).status_code == 404


def test_users_are_created_by_the_admin_only_and_keys_are_shown_once(api: Api) -> None:
    r = api.client.post(
        "/v1/users", json={"role": "buyer", "name": "Zed", "email": "Zed@Example.com"}, headers=api.admin
    )
    assert r.status_code == 201
    body = r.json()
    assert body["api_key"].startswith("ot_") and body["email"] == "zed@example.com"
    party = Party(body["id"], body["api_key"], "buyer", None)
    assert (
        api.client.post("/v1/users", json={"role": "buyer", "name": "X"}, headers=party.auth).status_code
        == 403
    )
    assert (
        api.client.post("/v1/users", json={"role": "god", "name": "X"}, headers=api.admin).status_code == 422
    )
    assert (
        api.client.post(
            "/v1/users", json={"role": "buyer", "name": "X", "email": "nope"}, headers=api.admin
        ).status_code
        == 422
    )


def test_an_email_address_names_one_account_whatever_its_case(api: Api) -> None:
    """Signing in to the pages is by e-mail: a second account with the address could never sign in."""
    first = api.client.post(
        "/v1/users", json={"role": "buyer", "name": "Zed", "email": "zed@example.com"}, headers=api.admin
    )
    assert first.status_code == 201
    again = api.client.post(
        "/v1/users",
        json={"role": "seller", "name": "Zed's shop", "email": "ZED@example.com"},
        headers=api.admin,
    )
    assert again.status_code == 409 and again.json()["code"] == "email_taken"
    listed = api.client.get("/v1/orders", headers={"Authorization": f"Bearer {first.json()['api_key']}"})
    assert listed.status_code == 200
    with api.container.engine.connect() as c:
        assert (
            c.execute(
                select(func.count()).select_from(users).where(users.c.email == "zed@example.com")
            ).scalar_one()
            == 1
        )
    no_email = [
        api.client.post(
            "/v1/users", json={"role": "carrier", "name": f"Feed {i}"}, headers=api.admin
        ).status_code
        for i in range(2)
    ]
    assert no_email == [201, 201]


def test_an_address_with_a_control_character_or_a_country_code_that_is_not_two_latin_letters_is_refused(
    api: Api, buyer: Party, seller: Party
) -> None:
    """ "ß" upper-cased to "SS" and the parcel went to South Sudan; a control character was stored."""
    before = count_rows(api)
    for field, value, code in (
        ("country_code", "ß", "unknown_country"),
        ("name", "Ana\x01", "invalid_character"),
    ):
        body = order_body(seller.id)
        body["shipping_address"][field] = value
        r = api.client.post("/v1/orders", json=body, headers=buyer.auth)
        assert r.status_code == 422
        assert (f"shipping_address.{field}", code) in {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert count_rows(api) == before
    body = order_body(seller.id)
    body["shipping_address"]["street_address"] = "1600 Amphitheatre Pkwy\nBuilding 40"  # a line break folds
    assert api.client.post("/v1/orders", json=body, headers=buyer.auth).status_code == 201


def test_field_errors_use_our_codes_and_the_detail_reads_as_sentences(
    api: Api, buyer: Party, seller: Party
) -> None:
    body = order_body(seller.id)
    body["items"][0]["quantity"] = "two"
    body["shipping_fee"] = 1.5
    r = api.client.post("/v1/orders", json=body, headers=buyer.auth)
    assert r.status_code == 422
    codes = {e["field"]: e["code"] for e in r.json()["errors"]}
    assert codes == {"items.0.quantity": "invalid_type", "shipping_fee": "invalid_type"}
    # Several refusals of the service's own rules make one readable detail.
    two = order_body(seller.id)
    two["currency"], two["shipping_address"]["postal_code"] = "XYZ", "ABCDE"
    r = api.client.post("/v1/orders", json=two, headers=buyer.auth)
    assert r.status_code == 422 and len(r.json()["errors"]) >= 2, r.text
    assert ".;" not in r.json()["detail"] and ". shipping_address.postal_code: " in r.json()["detail"]
