"""GET /v1/sellers/{id}/performance: each figure checked against a fixture computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def number(n: int) -> str:
    return f"SIM{n:010d}"


def ship(api: Api, clock: FixedClock, when: str, order: dict[str, Any], seller: Party, n: int) -> None:
    clock.now = at(when)
    api.ship(order["id"], seller, number(n), carrier="simulated")


def scan(api: Api, clock: FixedClock, n: int, when: str, status: str = "in_transit") -> None:
    """The carrier reports the scan as it happens."""
    clock.now = max(clock.now, at(when))
    api.events([{"tracking_number": number(n), "occurred_at": at(when).isoformat(), "status": status}])


def act(api: Api, party: Party, path: str, body: dict[str, Any] | None = None) -> None:
    r = api.client.post(path, json=body, headers=party.auth)
    assert r.status_code in (200, 201), r.text


def build_history(api: Api, buyer: Party, seller: Party, clock: FixedClock) -> None:
    """The seller's last two months; the query runs at 2026-12-20 12:00, so the window opens 2026-11-20 12:00.

    | order | ship-by in window | first tracking       | first scan           | delivered        | case                  |
    |-------|-------------------|----------------------|----------------------|------------------|-----------------------|
    | O7    | no (October)      | Oct, on time         | within 1 day         | Oct              | -                     |
    | O1    | yes               | 11-27, on time       | 9 h later: valid     | 12-03, on time   | -                     |
    | O2    | yes               | 12-01, LATE          | 4 days later: invalid| 12-07, LATE      | late_delivery, rejected by support |
    | O3    | yes               | 11-30, on time       | never: invalid       | -                | -                     |
    | O4    | yes               | never: LATE          | -                    | -                | -                     |
    | O5    | cancelled: not counted anywhere                                                                   |
    | O6    | yes               | 11-28, on time       | 11-29: valid         | 12-05 20:00, on time | damaged, refunded by the seller |
    | O8    | no (due 12-21)    | 12-19 (1 day ago)    | none yet: no verdict | -                | -                     |

    late dispatch 2/5 (O2, O4 of O1-O4, O6); valid tracking 2/4 (O1, O6 of O1, O2, O3, O6);
    on-time delivery 2/3 (O1, O6 of O1, O2, O6); cases 2/6 and seller-fault 1/6 (O1-O4, O6, O8).
    """
    clock.now = at("2026-10-01T10:00:00")
    o7 = api.order(buyer, seller)
    ship(api, clock, "2026-10-01T11:00:00", o7, seller, 7)
    scan(api, clock, 7, "2026-10-01T18:00:00")
    scan(api, clock, 7, "2026-10-05T12:00:00", "delivered")

    clock.now = at("2026-11-26T10:00:00")
    o1, o2, o3, o4, o5, o6 = (api.order(buyer, seller) for _ in range(6))
    assert {o["ship_by"] for o in (o1, o2, o3, o4, o6)} == {"2026-11-30T23:59:59Z"}
    assert o1["promised_delivery"]["latest"] == "2026-12-05"
    act(api, buyer, f"/v1/orders/{o5['id']}/cancel", {"reason": "Changed my mind"})
    api.order(buyer, api.user("seller", "Another shop"))  # another seller's late order counts for it alone

    ship(api, clock, "2026-11-27T09:00:00", o1, seller, 1)
    scan(api, clock, 1, "2026-11-27T18:00:00")
    ship(api, clock, "2026-11-28T09:00:00", o6, seller, 6)
    scan(api, clock, 6, "2026-11-29T09:00:00")
    ship(api, clock, "2026-11-30T20:00:00", o3, seller, 3)
    ship(api, clock, "2026-12-01T10:00:00", o2, seller, 2)
    scan(api, clock, 1, "2026-12-03T12:00:00", "delivered")
    scan(api, clock, 2, "2026-12-05T12:00:00")
    scan(api, clock, 6, "2026-12-05T20:00:00", "delivered")

    clock.now = at("2026-12-06T09:00:00")
    damaged = {"type": "damaged", "description": "Cracked", "requested_resolution": "refund"}
    r = api.client.post(f"/v1/orders/{o6['id']}/cases", json=damaged, headers=buyer.auth)
    assert r.status_code == 201, r.text
    act(api, seller, f"/v1/cases/{r.json()['id']}/responses", {"action": "accept", "message": "Sorry"})
    scan(api, clock, 2, "2026-12-07T12:00:00", "delivered")

    clock.now = at("2026-12-08T09:00:00")
    late = {
        "type": "late_delivery",
        "description": "Two days late",
        "requested_resolution": "partial_refund",
        "amount": 500,
    }
    r = api.client.post(f"/v1/orders/{o2['id']}/cases", json=late, headers=buyer.auth)
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    act(api, seller, f"/v1/cases/{case_id}/responses", {"action": "reject", "message": "Carrier delay"})
    act(api, buyer, f"/v1/cases/{case_id}/escalate")
    support = api.user("support", "Sam")
    act(
        api,
        support,
        f"/v1/cases/{case_id}/decision",
        {"outcome": "reject", "note": "Within the carrier's range"},
    )

    clock.now = at("2026-12-18T12:00:00")
    o8 = api.order(buyer, seller)
    ship(api, clock, "2026-12-19T12:00:00", o8, seller, 8)
    clock.now = at("2026-12-20T12:00:00")
    assert o4 and o3  # placed and (for O4) never shipped


def test_the_scorecard_matches_the_hand_computed_fixture(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    build_history(api, buyer, seller, clock)
    r = api.client.get(f"/v1/sellers/{seller.id}/performance", headers=seller.auth)
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["seller_id"] == seller.id
    assert card["window"] == {"from": "2026-11-20T12:00:00Z", "to": "2026-12-20T12:00:00Z", "days": 30}
    got = {
        name: (f["numerator"], f["denominator"], f["rate"], f["threshold"], f["meets_threshold"])
        for name, f in card["figures"].items()
    }
    assert got == {
        "late_dispatch_rate": (2, 5, 0.4, {"at_most": 0.04}, False),
        "valid_tracking_rate": (2, 4, 0.5, {"at_least": 0.95}, False),
        "on_time_delivery_rate": (2, 3, pytest.approx(0.6667), {"at_least": 0.9}, False),
        "case_rate": (2, 6, pytest.approx(0.3333), {"at_most": 0.01}, False),
        "seller_fault_resolution_rate": (1, 6, pytest.approx(0.1667), {"at_most": 0.01}, False),
    }


def test_a_seller_with_no_orders_has_no_rates_rather_than_perfect_ones(api: Api, seller: Party) -> None:
    card = api.client.get(f"/v1/sellers/{seller.id}/performance", headers=seller.auth).json()
    assert {f["rate"] for f in card["figures"].values()} == {None}
    assert {f["meets_threshold"] for f in card["figures"].values()} == {None}


def test_the_scorecard_is_for_the_seller_itself_and_support(api: Api, buyer: Party, seller: Party) -> None:
    path = f"/v1/sellers/{seller.id}/performance"
    assert api.client.get(path, headers=api.user("support", "Sam").auth).status_code == 200
    assert api.client.get(path, headers=api.admin).status_code == 200
    assert api.client.get(path, headers=buyer.auth).status_code == 403
    assert api.client.get(path, headers=api.user("seller", "Rival").auth).status_code == 404
    assert api.client.get(path).status_code == 401
    support = api.user("support", "Sue")
    assert api.client.get("/v1/sellers/usr_nobody/performance", headers=support.auth).status_code == 404
    assert api.client.get(f"/v1/sellers/{buyer.id}/performance", headers=support.auth).status_code == 404
