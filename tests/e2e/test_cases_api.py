"""Issue resolution through the HTTP API: the flows and refusals of API.md "Cases"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from ordertrail.adapters.db.tables import orders, shipments
from ordertrail.adapters.db.tables_cases import refunds
from ordertrail.services.sweeps import run_all
from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api

UPS = "1Z5R89390357567127"
UPS2 = "1Z879E930346834440"
DELIVERED_AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def delivered_order(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, number: str = UPS
) -> dict[str, Any]:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, number)
    clock.now = DELIVERED_AT + timedelta(hours=1)
    api.events([{"tracking_number": number, "occurred_at": DELIVERED_AT.isoformat(), "status": "delivered"}])
    return order


def open_case(
    api: Api, buyer: Party, order_id: str, type_: str = "damaged", requested: str = "refund", **kw: Any
) -> Any:
    body = {
        "type": type_,
        "description": "The screen arrived cracked.",
        "requested_resolution": requested,
        **kw,
    }
    return api.client.post(f"/v1/orders/{order_id}/cases", json=body, headers=buyer.auth)


def opened(
    api: Api, buyer: Party, order_id: str, type_: str = "damaged", requested: str = "refund", **kw: Any
) -> dict[str, Any]:
    r = open_case(api, buyer, order_id, type_, requested, **kw)
    assert r.status_code == 201, r.text
    return r.json()


def post(api: Api, party: Party | dict[str, str], path: str, body: dict[str, Any] | None = None) -> Any:
    headers = party.auth if isinstance(party, Party) else party
    return api.client.post(path, json=body, headers=headers)


def kinds(api: Api, party: Party) -> list[str]:
    api.run_worker()
    return sorted(n["type"] for n in api.inbox(party) if n["type"].startswith("case_"))


def steps(case: dict[str, Any]) -> list[tuple[str, str]]:
    return [(h["action"], h["actor_role"]) for h in case["history"]]


def test_open_reject_escalate_decide_ends_in_the_platforms_decision_and_a_refund_on_the_order(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"])
    assert case["status"] == "awaiting_seller" and case["order_id"] == order["id"]
    assert case["respond_by"] == "2026-12-03T16:00:00Z"  # 48 h after opening
    assert case["messages"] == [] and case["attachments"] == [] and steps(case) == [("open", "buyer")]
    assert kinds(api, seller) == ["case_opened"]

    r = post(
        api, seller, f"/v1/cases/{case['id']}/responses", {"action": "reject", "message": "It left intact."}
    )
    assert r.status_code == 200 and r.json()["status"] == "awaiting_buyer"
    assert [m["body"] for m in r.json()["messages"]] == ["It left intact."]
    assert kinds(api, buyer) == ["case_updated"]

    r = post(api, buyer, f"/v1/cases/{case['id']}/escalate")
    assert r.status_code == 200 and r.json()["status"] == "escalated"

    support = api.user("support", "Sam Support")
    queue = api.client.get("/v1/cases?status=escalated", headers=support.auth).json()
    assert [c["id"] for c in queue["items"]] == [case["id"]]

    clock.advance(hours=5)
    r = post(
        api,
        support,
        f"/v1/cases/{case['id']}/decision",
        {"outcome": "partial_refund", "amount": 1500, "note": "The photos show a cracked screen."},
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "resolved"
    resolution = done["resolution"]
    assert {k: resolution[k] for k in ("outcome", "amount", "decided_by", "decided_at")} == {
        "outcome": "partial_refund",
        "amount": 1500,
        "decided_by": support.id,
        "decided_at": "2026-12-01T21:00:00Z",
    }
    assert [r["amount"] for r in done["refunds"]] == [1500] and done["order_refunded_total"] == 1500
    assert steps(done) == [
        ("open", "buyer"),
        ("reject", "seller"),
        ("escalate", "buyer"),
        ("decide", "support"),
    ]
    assert all(h["at"] for h in done["history"])
    with api.container.engine.connect() as c:
        assert c.execute(select(refunds.c.order_id, refunds.c.amount)).all() == [(order["id"], 1500)]
    assert kinds(api, buyer) == ["case_escalated", "case_resolved", "case_updated"]
    assert kinds(api, seller) == ["case_escalated", "case_opened", "case_resolved"]


def test_open_offer_accept_resolves_with_the_offered_partial_refund(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"])
    r = post(
        api,
        seller,
        f"/v1/cases/{case['id']}/responses",
        {
            "action": "offer",
            "resolution": "partial_refund",
            "amount": 2000,
            "message": "Keep it, with 20 back?",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awaiting_buyer"
    assert r.json()["offer"]["resolution"] == "partial_refund" and r.json()["offer"]["amount"] == 2000
    api.run_worker()
    (update,) = [n for n in api.inbox(buyer) if n["type"] == "case_updated"]
    assert "partial refund of 20.00 USD" in update["body"]

    r = post(api, buyer, f"/v1/cases/{case['id']}/accept-offer")
    assert r.status_code == 200
    done = r.json()
    assert done["status"] == "resolved" and done["offer"] is None
    assert (done["resolution"]["outcome"], done["resolution"]["amount"]) == ("partial_refund", 2000)
    assert done["resolution"]["decided_by"] == buyer.id
    assert done["order_refunded_total"] == 2000
    assert steps(done) == [("open", "buyer"), ("offer", "seller"), ("accept_offer", "buyer")]


def test_accepting_a_replacement_creates_a_shipment_awaiting_tracking_that_the_order_status_follows(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    assert api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["status"] == "delivered"
    case = opened(api, buyer, order["id"], "wrong_item", "replacement")
    r = post(
        api, seller, f"/v1/cases/{case['id']}/responses", {"action": "accept", "message": "Sorry, resending."}
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "resolved" and done["resolution"]["outcome"] == "replacement"
    assert done["resolution"]["amount"] is None and done["refunds"] == []
    replacement_id = done["replacement_shipment_id"]

    view = api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()
    assert view["status"] == "in_transit"  # no longer delivered: something is still to come
    (new,) = [s for s in view["shipments"] if s["id"] == replacement_id]
    assert (new["status"], new["carrier"], new["tracking_number"]) == ("pending", None, None)
    assert new["substatus"] == "awaiting_tracking"
    with api.container.engine.connect() as c:
        ship_by = c.execute(select(shipments.c.ship_by).where(shipments.c.id == replacement_id)).scalar_one()
    assert ship_by is not None and ship_by > clock.now

    r = api.client.put(
        f"/v1/shipments/{replacement_id}/tracking-number", json={"tracking_number": UPS2}, headers=seller.auth
    )
    assert r.status_code == 200, r.text
    assert r.json()["substatus"] is None  # the number came: it awaits a scan, no longer its tracking
    (added,) = [
        s
        for s in api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["shipments"]
        if s["id"] == replacement_id
    ]
    assert (added["tracking_number"], added["substatus"]) == (UPS2, None)
    clock.advance(days=2)
    api.events([{"tracking_number": UPS2, "occurred_at": clock.now.isoformat(), "status": "delivered"}])
    assert api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["status"] == "delivered"


def test_the_buyer_withdraws_and_the_case_no_longer_holds_the_order_open(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"])
    r = post(api, buyer, f"/v1/cases/{case['id']}/withdraw", {"message": "Found it at the neighbour's."})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn" and r.json()["closed_at"]
    assert steps(r.json()) == [("open", "buyer"), ("withdraw", "buyer")]
    assert kinds(api, seller) == ["case_opened", "case_resolved"]
    closed = next(n for n in api.inbox(seller) if n["type"] == "case_resolved")
    # The ids as they are (a notice once lower-cased the whole sentence, naming no real case).
    assert closed["body"].startswith(f"Case {case['id']} (") and f"order {order['id']}" in closed["body"]
    again = post(api, seller, f"/v1/cases/{case['id']}/responses", {"action": "accept", "message": ""})
    assert again.status_code == 409 and again.json()["code"] == "case_closed"
    clock.now = DELIVERED_AT + timedelta(days=31)
    assert run_all(api.container.deps, clock.now)["complete_orders"]["completed"] == 1
    assert api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["status"] == "completed"


def test_an_unanswered_case_is_escalated_by_the_sweep_at_its_deadline_once(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"])
    clock.advance(hours=47)
    assert run_all(api.container.deps, clock.now)["escalate_overdue_cases"]["escalated"] == 0
    clock.advance(hours=1)
    assert run_all(api.container.deps, clock.now)["escalate_overdue_cases"] == {"escalated": 1, "lapsed": 0}
    assert run_all(api.container.deps, clock.now)["escalate_overdue_cases"] == {"escalated": 0, "lapsed": 0}
    now = api.client.get(f"/v1/cases/{case['id']}", headers=buyer.auth).json()
    assert now["status"] == "escalated" and now["escalated_at"] == now["respond_by"]
    assert now["history"][-1] | {"at": None} == {
        "at": None,
        "action": "auto_escalate",
        "actor_id": None,
        "actor_role": "system",
        "status": "escalated",
        "detail": {},
    }
    assert kinds(api, buyer) == ["case_escalated"]
    assert kinds(api, seller) == ["case_escalated", "case_opened"]


def test_a_case_left_with_the_buyer_past_the_escalation_window_lapses(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"])
    post(api, seller, f"/v1/cases/{case['id']}/responses", {"action": "reject", "message": "No damage."})
    clock.advance(days=21)
    assert run_all(api.container.deps, clock.now)["escalate_overdue_cases"] == {"escalated": 0, "lapsed": 1}
    now = api.client.get(f"/v1/cases/{case['id']}", headers=buyer.auth).json()
    assert now["status"] == "withdrawn" and steps(now)[-1] == ("lapse", "system")


def test_reporting_windows_refuse_too_early_and_too_late_with_their_codes(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    moving, other = api.order(buyer, seller), api.order(buyer, seller)
    api.ship(moving["id"], seller, UPS)
    latest = moving["promised_delivery"]["latest"]
    for type_ in ("not_received", "damaged", "late_delivery"):
        r = open_case(api, buyer, moving["id"], type_)
        assert r.status_code == 422, r.text
        err = r.json()["errors"][0]
        assert (err["field"], err["code"]) == ("type", "not_yet_eligible")
    assert latest in open_case(api, buyer, moving["id"], "not_received").json()["errors"][0]["message"]

    clock.now = datetime.fromisoformat(latest).replace(tzinfo=UTC) + timedelta(days=1)
    assert open_case(api, buyer, moving["id"], "not_received").status_code == 201
    clock.advance(days=30)
    r = open_case(api, buyer, other["id"], "not_received")
    assert r.json()["errors"][0]["code"] == "outside_reporting_window"

    clock.now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    done = delivered_order(api, buyer, seller, clock, UPS2)
    clock.now = DELIVERED_AT + timedelta(days=30, seconds=1)
    r = open_case(api, buyer, done["id"], "damaged")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "outside_reporting_window"


def test_a_lost_parcel_may_be_reported_before_the_promise_runs_out(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    assert open_case(api, buyer, order["id"], "not_received").status_code == 422
    api.events([{"tracking_number": UPS, "occurred_at": "2026-11-27T10:00:00Z", "status": "lost"}])
    assert open_case(api, buyer, order["id"], "not_received").status_code == 201


def test_a_second_open_case_of_the_same_type_is_a_conflict_until_the_first_closes(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    first = opened(api, buyer, order["id"])
    r = open_case(api, buyer, order["id"])
    assert r.status_code == 409 and r.json()["code"] == "duplicate_case"
    assert open_case(api, buyer, order["id"], "missing_items").status_code == 201
    post(api, buyer, f"/v1/cases/{first['id']}/withdraw")
    assert open_case(api, buyer, order["id"]).status_code == 201


def test_escalating_before_the_sellers_deadline_is_a_conflict_and_changes_nothing(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"])
    r = post(api, buyer, f"/v1/cases/{case['id']}/escalate")
    assert r.status_code == 409 and r.json()["code"] == "too_early_to_escalate"
    assert "Thu 03 Dec 2026, 16:00 UTC" in r.json()["detail"] and case["respond_by"] == "2026-12-03T16:00:00Z"
    after = api.client.get(f"/v1/cases/{case['id']}", headers=buyer.auth).json()
    assert after["status"] == "awaiting_seller" and steps(after) == [("open", "buyer")]
    clock.advance(hours=48)
    assert post(api, buyer, f"/v1/cases/{case['id']}/escalate").json()["status"] == "escalated"


def test_refunds_on_an_order_never_exceed_what_was_paid(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    first = opened(api, buyer, order["id"], "damaged", "refund")
    second = opened(api, buyer, order["id"], "missing_items", "partial_refund", amount=500)
    done = post(api, seller, f"/v1/cases/{first['id']}/responses", {"action": "accept", "message": ""}).json()
    assert done["resolution"]["amount"] == order["total"] == 4497
    r = post(api, seller, f"/v1/cases/{second['id']}/responses", {"action": "accept", "message": ""})
    assert r.status_code == 409 and r.json()["code"] == "refund_exceeds_paid"
    assert (
        api.client.get(f"/v1/cases/{second['id']}", headers=buyer.auth).json()["status"] == "awaiting_seller"
    )
    r = open_case(api, buyer, order["id"], "wrong_item", "partial_refund", amount=1)
    assert r.status_code == 409 and r.json()["code"] == "refund_exceeds_paid"
    assert r.json()["detail"] == "Everything paid for this order has already been refunded."
    with api.container.engine.connect() as c:
        assert c.execute(select(refunds.c.amount)).scalars().all() == [4497]


def test_outsiders_get_404_and_the_wrong_side_403(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"])
    stranger, rival = api.user("buyer", "Stranger"), api.user("seller", "Rival shop")
    base = f"/v1/cases/{case['id']}"
    for party in (stranger, rival):
        assert api.client.get(base, headers=party.auth).status_code == 404
        assert post(api, party, f"{base}/messages", {"body": "hi"}).status_code == 404
        assert post(api, party, f"{base}/escalate").status_code == 404
        assert post(api, party, f"{base}/responses", {"action": "accept", "message": ""}).status_code == 404
        assert open_case(api, party, order["id"]).status_code == 404
    assert open_case(api, seller, order["id"]).status_code == 403
    assert post(api, buyer, f"{base}/responses", {"action": "accept", "message": ""}).status_code == 403
    assert post(api, buyer, f"{base}/decision", {"outcome": "refund", "note": "mine"}).status_code == 403
    assert post(api, seller, f"{base}/withdraw").status_code == 403
    assert api.client.get("/v1/cases", headers=api.user("carrier", "UPS feed").auth).status_code == 403
    assert api.client.get(base).status_code == 401
    assert api.client.get("/v1/cases/cas_nope", headers=buyer.auth).status_code == 404


def test_bad_case_requests_are_refused_with_field_paths_and_store_nothing(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    r = open_case(api, buyer, order["id"], "melted")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "type"
    r = open_case(api, buyer, order["id"], "damaged", "partial_refund")
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "field": "amount",
        "code": "required",
        "message": "Say how much to refund: a partial refund needs an amount.",
    }
    # Every field at fault at once, not one per attempt.
    r = open_case(api, buyer, order["id"], "late_delivery", "partial_refund", description=" ")
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [
        ("description", "required"),
        ("type", "not_applicable"),
        ("amount", "required"),
    ]
    r = open_case(api, buyer, order["id"], "damaged", "refund", shipment_id="shp_other")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "shipment_id"
    r = api.client.post(
        f"/v1/orders/{order['id']}/cases",
        content=b"{",
        headers={**buyer.auth, "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert api.client.get("/v1/cases", headers=buyer.auth).json()["items"] == []
    assert api.client.get("/v1/cases?status=open", headers=buyer.auth).status_code == 422


def test_messages_between_the_parties_are_kept_in_order_and_notify_the_other_side(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"])
    r = post(api, buyer, f"/v1/cases/{case['id']}/messages", {"body": "Photos attached soon."})
    assert r.status_code == 201 and r.json()["author_role"] == "buyer"
    clock.advance(minutes=5)
    assert post(api, seller, f"/v1/cases/{case['id']}/messages", {"body": "Thanks."}).status_code == 201
    assert post(api, buyer, f"/v1/cases/{case['id']}/messages", {"body": "   "}).status_code == 422
    view = api.client.get(f"/v1/cases/{case['id']}", headers=seller.auth).json()
    assert [(m["author_id"], m["body"]) for m in view["messages"]] == [
        (buyer.id, "Photos attached soon."),
        (seller.id, "Thanks."),
    ]
    assert steps(view) == [("open", "buyer"), ("message", "buyer"), ("message", "seller")]
    assert kinds(api, seller) == ["case_opened", "case_updated"]
    assert kinds(api, buyer) == ["case_updated"]


def test_case_lists_show_own_cases_newest_first_and_the_support_queue_oldest_escalation_first(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    a = opened(api, buyer, order["id"], "damaged")
    clock.advance(minutes=1)
    b = opened(api, buyer, order["id"], "wrong_item")
    clock.advance(minutes=1)
    c = opened(api, buyer, order["id"], "missing_items")
    support = api.user("support", "Sam")
    mine = api.client.get("/v1/cases?limit=2", headers=buyer.auth).json()
    assert [x["id"] for x in mine["items"]] == [c["id"], b["id"]] and mine["next_cursor"]
    rest = api.client.get(f"/v1/cases?limit=2&cursor={mine['next_cursor']}", headers=buyer.auth).json()
    assert [x["id"] for x in rest["items"]] == [a["id"]] and rest["next_cursor"] is None
    assert len(api.client.get("/v1/cases", headers=seller.auth).json()["items"]) == 3
    assert api.client.get("/v1/cases", headers=api.user("buyer", "Other").auth).json()["items"] == []

    clock.advance(hours=48)
    post(api, buyer, f"/v1/cases/{c['id']}/escalate")
    clock.advance(minutes=1)
    post(api, buyer, f"/v1/cases/{a['id']}/escalate")
    queue = api.client.get("/v1/cases?status=escalated&limit=1", headers=support.auth).json()
    assert [x["id"] for x in queue["items"]] == [c["id"]]
    tail = api.client.get(
        f"/v1/cases?status=escalated&limit=1&cursor={queue['next_cursor']}", headers=support.auth
    )
    assert [x["id"] for x in tail.json()["items"]] == [a["id"]]


def test_an_open_case_keeps_a_delivered_order_from_completing(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"])
    clock.now = DELIVERED_AT + timedelta(days=40)
    assert run_all(api.container.deps, clock.now)["complete_orders"]["completed"] == 0
    with api.container.engine.connect() as c:
        assert c.execute(select(orders.c.status)).scalar_one() == "delivered"
    support = api.user("support", "Sam")
    assert api.client.get(f"/v1/cases/{case['id']}", headers=buyer.auth).json()["status"] == "escalated"
    r = post(
        api, support, f"/v1/cases/{case['id']}/decision", {"outcome": "reject", "note": "Not supported."}
    )
    assert r.status_code == 200, r.text
    assert api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["status"] == "completed"


def test_an_offer_past_what_the_order_cost_is_a_field_error_naming_both_amounts_in_money(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    """More than the order cost is a wrong amount (422); more than earlier refunds left, a conflict
    with the order's state (409, in the domain's tests)."""
    order = delivered_order(api, buyer, seller, clock)
    case = opened(api, buyer, order["id"], "damaged", "partial_refund", amount=500)
    offer = {"action": "offer", "resolution": "partial_refund", "amount": 5000, "message": "All of it"}
    r = post(api, seller, f"/v1/cases/{case['id']}/responses", offer)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {
            "field": "amount",
            "code": "more_than_paid",
            "message": "Refunding 50.00 USD is more than the order cost (44.97 USD).",
        }
    ]
    too_much = {
        "type": "wrong_item",
        "description": "x",
        "requested_resolution": "partial_refund",
        "amount": 10**9,
    }
    r = api.client.post(f"/v1/orders/{order['id']}/cases", json=too_much, headers=buyer.auth)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "more_than_paid", r.text
