"""Limits: request rates per key and per address (429 + Retry-After), body size (413), page size."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ordertrail.adapters.carriers.providers import shippo
from ordertrail.adapters.db.tables import orders
from ordertrail.bootstrap import Container, build
from ordertrail.config import Settings
from ordertrail.entrypoints.web.app import create_app
from tests.conftest import ADMIN_KEY, SHARED, FixedClock, Party, order_body
from tests.e2e.conftest import Api


def limited_app(settings: Settings, clock: FixedClock, **limits: Any) -> tuple[TestClient, Container]:
    container = build(settings.model_copy(update=limits), clock=clock)
    return TestClient(create_app(container), raise_server_exceptions=False), container


@pytest.fixture
def strict(settings: Settings, clock: FixedClock) -> Iterator[TestClient]:
    """An app whose limits are small enough to reach in a test: 60 a minute, bursts of 3."""
    client, container = limited_app(
        settings,
        clock,
        rate_limit_key_per_minute=60,
        rate_limit_key_burst=3,
        rate_limit_address_per_minute=60,
        rate_limit_address_burst=3,
        rate_limit_auth_failures_per_minute=6,
        rate_limit_auth_failures_burst=2,
    )
    with client:
        yield client
    container.close()


def test_a_key_past_its_burst_gets_429_with_retry_after_until_its_bucket_refills(
    strict: TestClient, clock: FixedClock
) -> None:
    client = strict
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    assert [client.get("/v1/orders", headers=admin).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/v1/orders", headers=admin)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "1"  # one token a second
    clock.advance(seconds=1)
    assert client.get("/v1/orders", headers=admin).status_code == 200
    assert client.get("/v1/orders", headers=admin).status_code == 429


def test_one_key_spending_its_budget_leaves_other_keys_untouched(
    settings: Settings, clock: FixedClock
) -> None:
    client, container = limited_app(settings, clock, rate_limit_key_per_minute=60, rate_limit_key_burst=3)
    with client:
        api = Api(client, container)
        buyer = api.user("buyer", "Ana")  # the admin key spends one token here
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        while client.get("/v1/orders", headers=admin).status_code != 429:
            pass
        assert client.get("/v1/orders", headers=buyer.auth).status_code == 200
    container.close()


def test_anonymous_callers_of_public_endpoints_are_limited_per_client_address(
    settings: Settings, clock: FixedClock
) -> None:
    container = build(
        settings.model_copy(update={"rate_limit_address_per_minute": 30, "rate_limit_address_burst": 2}),
        clock=clock,
    )
    app = create_app(container)
    with (
        TestClient(app, client=("203.0.113.7", 4000)) as crowd,
        TestClient(app, client=("198.51.100.9", 4000)) as other,
    ):
        assert [crowd.get("/v1/carriers").status_code for _ in range(3)] == [200, 200, 429]
        assert crowd.get("/v1/track/1Z5R89390357567127").status_code == 429
        assert int(crowd.get("/v1/carriers").headers["Retry-After"]) == 2  # half a token a second
        assert other.get("/v1/carriers").status_code == 200
    container.close()


def test_guessing_keys_from_one_address_is_stopped_after_the_failure_budget_even_with_the_right_key(
    strict: TestClient,
) -> None:
    client = strict
    guesses = [
        client.get("/v1/orders", headers={"Authorization": f"Bearer guess-{i}"}).status_code for i in range(3)
    ]
    assert guesses == [401, 401, 429]
    right = client.get("/v1/orders", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert right.status_code == 429 and int(right.headers["Retry-After"]) >= 1


def test_signed_carrier_pushes_are_not_throttled_but_bad_signatures_spend_the_failure_budget(
    settings: Settings, clock: FixedClock
) -> None:
    client, container = limited_app(
        settings.model_copy(update={"webhook_secret_shippo": "s3cret"}),
        clock,
        rate_limit_address_per_minute=60,
        rate_limit_address_burst=3,
        rate_limit_auth_failures_per_minute=6,
        rate_limit_auth_failures_burst=2,
    )
    with client:
        pushes = [client.post("/v1/webhooks/inbound/shippo", content=b"{}").status_code for _ in range(4)]
        # Unsigned pushes are refused (401) and, past the failure budget, throttled (429) ...
        assert pushes[:2] == [401, 401] and pushes[2:] == [429, 429]
    container.close()
    client, container = limited_app(
        settings.model_copy(update={"webhook_secret_shippo": "s3cret"}),
        clock,
        rate_limit_address_per_minute=60,
        rate_limit_address_burst=3,
    )
    body = (SHARED / "data" / "webhook_samples" / "shippo_track_object_api_response.json").read_bytes()
    signature = shippo.sign(body, "s3cret", int(clock().timestamp()))
    with client:
        # ... but volume alone never throttles a provider whose pushes are signed.
        codes = [
            client.post(
                "/v1/webhooks/inbound/shippo", content=body, headers={"Shippo-Auth-Signature": signature}
            )
            for _ in range(10)
        ]
        assert all(r.status_code < 300 for r in codes), [r.status_code for r in codes]
    container.close()


def test_health_probes_and_metrics_scrapes_are_never_throttled(strict: TestClient) -> None:
    assert {strict.get(p).status_code for p in ("/healthz", "/readyz", "/metrics") * 5} == {200}


def count_orders(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(orders)).scalar_one())


def test_a_body_declared_over_the_limit_is_refused_with_413_before_the_route_runs(
    settings: Settings, clock: FixedClock, buyer: Party, seller: Party
) -> None:
    client, container = limited_app(settings, clock, max_request_bytes=2000)
    body = order_body(
        seller.id, items=[{"sku": "S", "title": "x" * 300, "quantity": 1, "unit_price": 1}] * 10
    )
    with client:
        r = client.post("/v1/orders", json=body, headers=buyer.auth)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == "too_large"
    assert count_orders(container) == 0
    container.close()


def test_a_streamed_body_without_content_length_is_cut_off_at_the_limit_and_stores_nothing(
    settings: Settings, clock: FixedClock, buyer: Party, seller: Party
) -> None:
    import json

    client, container = limited_app(settings, clock, max_request_bytes=2000)
    payload = json.dumps(
        order_body(seller.id, items=[{"sku": "S", "title": "x" * 300, "quantity": 1, "unit_price": 1}] * 10)
    ).encode()

    def chunks() -> Iterator[bytes]:  # a generator body goes out chunked, with no Content-Length
        for i in range(0, len(payload), 500):
            yield payload[i : i + 500]

    with client:
        r = client.post(
            "/v1/orders", content=chunks(), headers={**buyer.auth, "Content-Type": "application/json"}
        )
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert count_orders(container) == 0
    container.close()


def test_a_full_batch_of_1000_carrier_events_fits_under_the_default_body_limit(api: Api) -> None:
    event = {
        "tracking_number": "1Z5R89390357567127",
        "carrier": "ups",
        "event_id": "e" * 40,
        "occurred_at": "2026-12-01T08:10:00-06:00",
        "status": "in_transit",
        "substatus": "arrived_at_facility",
        "code": "AR",
        "description": "Arrived at facility " + "x" * 100,
        "location": {"city": "Memphis", "region": "TN", "postal_code": "38118", "country_code": "US"},
        "estimated_delivery": "2026-12-04",
    }
    r = api.client.post("/v1/carrier-events", json={"events": [event] * 1000}, headers=api.admin)
    assert r.status_code == 202, r.text[:300]


def list_routes(client: TestClient) -> list[str]:
    paths = []
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if (
            isinstance(route, APIRoute)
            and "GET" in route.methods
            and "{" not in route.path
            and any(p.name == "limit" for p in route.dependant.query_params)
        ):
            paths.append(route.path)
    return paths


@pytest.mark.parametrize("limit", ["0", "101", "-1", "many"])
def test_every_list_endpoint_refuses_a_page_size_outside_1_to_100(api: Api, limit: str) -> None:
    paths = list_routes(api.client)
    assert "/v1/orders" in paths and "/v1/notifications" in paths
    for path in paths:
        r = api.client.get(path, params={"limit": limit}, headers=api.admin)
        assert r.status_code == 422, (path, r.status_code)
        assert r.json()["errors"][0]["field"] == "limit"


def test_every_list_endpoint_serves_its_largest_page_of_100(api: Api) -> None:
    for path in list_routes(api.client):
        assert api.client.get(path, params={"limit": 100}, headers=api.admin).status_code == 200, path


def test_a_nul_character_in_an_address_query_or_form_is_refused_before_the_database_sees_it(
    api: Api, buyer: Party, seller: Party
) -> None:
    """PostgreSQL cannot compare or store NUL: `/v1/track/AB%00C` was a 500 there for anyone."""
    order = api.order(buyer, seller)
    for path in ("/v1/track/AB%00C", "/track/AB%00C", f"/v1/orders/{order['id']}%00", "/v1/cases/cas_%00x"):
        r = api.client.get(path, headers=buyer.auth)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
    r = api.client.get("/v1/orders?cursor=abc%00&limit=5", headers=buyer.auth)
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("cursor", "invalid_character")]
    form = "csrf_token=x&name=Ana%00+Souza&city=Cupertino"
    r = api.client.post(
        f"/orders/{order['id']}/address",
        content=form,
        headers={**buyer.auth, "content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["name"]
    with api.container.engine.connect() as c:
        stored = c.execute(select(orders.c.shipping_address).where(orders.c.id == order["id"])).scalar_one()
    assert stored["name"] == "Ana Souza"
    # A form without NUL still reaches its route (here: sent to sign in, having no session).
    clean = api.client.post(
        f"/orders/{order['id']}/address",
        content="name=Ana",
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert clean.status_code == 303 and clean.headers["location"].startswith("/login?next=")
