from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ordertrail.bootstrap import Container
from ordertrail.entrypoints.web.app import create_app
from ordertrail.services.outbox import drain
from tests.conftest import ADMIN_KEY, Party, order_body


class Api:
    """A thin driver over the HTTP API for tests: creates parties, places orders, runs the worker."""

    def __init__(self, client: TestClient, container: Container) -> None:
        self.client = client
        self.container = container
        self.admin = {"Authorization": f"Bearer {ADMIN_KEY}"}

    def user(self, role: str, name: str = "Someone", email: str | None = None) -> Party:
        r = self.client.post(
            "/v1/users", json={"role": role, "name": name, "email": email}, headers=self.admin
        )
        assert r.status_code == 201, r.text
        body = r.json()
        return Party(body["id"], body["api_key"], role, email)

    def order(self, buyer: Party, seller: Party, **over: Any) -> dict[str, Any]:
        r = self.client.post("/v1/orders", json=order_body(seller.id, **over), headers=buyer.auth)
        assert r.status_code == 201, r.text
        return r.json()

    def ship(self, order_id: str, seller: Party, number: str, carrier: str | None = "ups") -> dict[str, Any]:
        body: dict[str, Any] = {"tracking_number": number}
        if carrier:
            body["carrier"] = carrier
        r = self.client.post(f"/v1/orders/{order_id}/shipments", json=body, headers=seller.auth)
        assert r.status_code == 201, r.text
        return r.json()

    def events(self, events: list[dict[str, Any]], key: dict[str, str] | None = None) -> dict[str, Any]:
        r = self.client.post("/v1/carrier-events", json={"events": events}, headers=key or self.admin)
        assert r.status_code == 202, r.text
        return r.json()

    def run_worker(self) -> int:
        return drain(self.container.deps, self.container.channels)

    def inbox(self, party: Party) -> list[dict[str, Any]]:
        r = self.client.get("/v1/notifications", headers=party.auth)
        assert r.status_code == 200, r.text
        return r.json()["items"]


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api(client: TestClient, container: Container) -> Api:
    return Api(client, container)


@pytest.fixture
def buyer(api: Api) -> Party:
    return api.user("buyer", "Ana Souza", "ana@example.com")


@pytest.fixture
def seller(api: Api) -> Party:
    return api.user("seller", "Sunny Gadgets", "shop@example.com")
