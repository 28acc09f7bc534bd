"""A buyer's personal data on request: `ordertrail users export` gives all of it, `users erase` removes it
while the order facts stay, anonymised."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from ordertrail.adapters.db.tables import metadata, orders
from ordertrail.config import Settings
from ordertrail.entrypoints.cli import app as cli
from tests.conftest import ADDRESS, FixedClock, Party
from tests.e2e.conftest import Api

PERSONAL = ("Ana Souza", "ana@example.com", "1600 Amphitheatre", "650 253 0000", "cracked since the box")


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("ORDERTRAIL_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("ORDERTRAIL_DATA_DIR", str(settings.data_dir))

    def invoke(*args: str) -> Any:
        result = CliRunner().invoke(cli, list(args))
        assert result.exit_code == 0, result.output
        return result

    return invoke


def history_of_a_buyer(api: Api, buyer: Party, seller: Party, clock: FixedClock) -> dict[str, Any]:
    """An order delivered, a case with a message and a photo, notices in the inbox."""
    order = api.order(buyer, seller)
    shipment = api.ship(order["id"], seller, "SIM0500000001", carrier="simulated")
    clock.advance(hours=3)
    at = (clock.now - timedelta(hours=1)).isoformat()
    api.events([{"tracking_number": shipment["tracking_number"], "occurred_at": at, "status": "delivered"}])
    case = api.client.post(
        f"/v1/orders/{order['id']}/cases",
        json={
            "type": "damaged",
            "description": "The lid was cracked since the box",
            "requested_resolution": "refund",
        },
        headers=buyer.auth,
    ).json()
    api.client.post(
        f"/v1/cases/{case['id']}/messages", json={"body": "Ana Souza here, any news?"}, headers=buyer.auth
    )
    api.run_worker()
    return order


def everything_stored(api: Api) -> str:
    with api.container.engine.connect() as conn:
        return "\n".join(
            repr(row)
            for table in metadata.sorted_tables
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"'))
        )


def test_an_export_holds_the_buyers_orders_tracking_cases_and_notices_and_no_key(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, run: Any
) -> None:
    order = history_of_a_buyer(api, buyer, seller, clock)
    data = json.loads(run("users", "export", "--id", buyer.id).output)
    assert data["user"]["name"] == "Ana Souza" and data["user"]["email"] == "ana@example.com"
    (exported,) = data["orders"]
    assert (
        exported["id"] == order["id"]
        and exported["shipping_address"]["street_address"] == ADDRESS["street_address"]
    )
    assert [i["sku"] for i in exported["items"]] == ["TSHIRT-M"]
    assert exported["shipments"][0]["events"][0]["status"] == "delivered"
    (case,) = data["cases"]
    assert [m["body"] for m in case["messages"]] == ["Ana Souza here, any news?"]
    assert {n["type"] for n in data["notifications"]} >= {"order_confirmed", "order_shipped", "delivered"}
    dumped = json.dumps(data)
    assert buyer.key not in dumped and "api_key_hash" not in dumped


def test_erasing_a_buyer_keeps_the_order_facts_and_leaves_nothing_that_names_them(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, run: Any
) -> None:
    order = history_of_a_buyer(api, buyer, seller, clock)
    assert all(p in everything_stored(api) for p in PERSONAL)

    result = json.loads(run("users", "erase", "--id", buyer.id, "--yes").output)
    assert result["erased"] == buyer.id and result["changed"]["orders"] == 1

    stored = everything_stored(api)
    assert [line for line in stored.splitlines() if any(p in line for p in PERSONAL)] == []
    with api.container.engine.connect() as conn:
        kept = conn.execute(select(orders).where(orders.c.id == order["id"])).one()
    assert (kept.total, kept.currency, kept.status) == (order["total"], "USD", "delivered")
    assert kept.shipping_address["country_code"] == "US" and kept.shipping_address["name"] == "[erased]"
    assert api.client.get("/v1/orders", headers=buyer.auth).status_code == 401  # the key is revoked
    # The seller still sees the order it sold, without the buyer's identity.
    seen = api.client.get(f"/v1/orders/{order['id']}", headers=seller.auth).json()
    assert seen["total"] == order["total"] and seen["shipping_address"]["street_address"] == "[erased]"


def test_erasing_someone_who_does_not_exist_changes_nothing_and_says_so(settings: Settings, run: Any) -> None:
    result = CliRunner().invoke(cli, ["users", "erase", "--id", "usr_nobody", "--yes"])
    assert result.exit_code == 2 and "No user usr_nobody" in result.output
