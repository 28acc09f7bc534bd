"""Outbound webhooks against a real HTTP receiver on loopback: subscriptions, signatures, retries with
backoff, the attempt log, automatic disabling and re-enabling, test events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ordertrail.adapters.notifiers.webhooks import SIGNATURE_HEADER, verify
from ordertrail.bootstrap import build
from ordertrail.config import Settings
from ordertrail.entrypoints.web.app import create_app
from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api
from tests.receivers import Endpoint, http_endpoint, smtp_server

UPS = "1Z5R89390357567127"


@contextmanager
def api_with(settings: Settings, clock: FixedClock, **over: object) -> Iterator[Api]:
    over.setdefault("webhook_allow_private_targets", True)  # the receiver lives on loopback
    container = build(settings.model_copy(update=over), clock=clock)
    try:
        with TestClient(create_app(container), raise_server_exceptions=False) as client:
            yield Api(client, container)
    finally:
        container.close()


@pytest.fixture
def api(settings: Settings, clock: FixedClock) -> Iterator[Api]:
    with api_with(settings, clock) as a:
        yield a


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    with http_endpoint() as e:
        yield e


def subscribe(api: Api, owner: dict[str, str], url: str, events: list[str]) -> dict[str, Any]:
    r = api.client.post("/v1/webhook-subscriptions", json={"url": url, "events": events}, headers=owner)
    assert r.status_code == 201, r.text
    return r.json()


def log(api: Api, owner: dict[str, str], sub_id: str) -> list[dict[str, Any]]:
    r = api.client.get(f"/v1/webhook-subscriptions/{sub_id}/deliveries", headers=owner)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_seller_receives_signed_events_about_its_own_orders_only(
    api: Api, endpoint: Endpoint, clock: FixedClock
) -> None:
    buyer = api.user("buyer", "Ana", "ana@example.com")
    seller, other = api.user("seller", "Sunny"), api.user("seller", "Rival")
    sub = subscribe(api, seller.auth, endpoint.url, ["order_confirmed", "order_shipped"])
    assert set(sub) >= {"id", "url", "events", "secret"} and sub["secret"].startswith("whsec_")
    mine = api.order(buyer, seller)
    api.order(buyer, other)
    api.ship(mine["id"], seller, UPS)
    api.run_worker()

    got = sorted(endpoint.received(), key=lambda r: r.json["type"])  # sent concurrently: any order
    assert [r.json["type"] for r in got] == ["order_confirmed", "order_shipped"]
    for r in got:
        assert verify(sub["secret"], r.headers[SIGNATURE_HEADER], r.body, int(clock.now.timestamp()))
        assert not verify("whsec_wrong", r.headers[SIGNATURE_HEADER], r.body, int(clock.now.timestamp()))
        event = r.json
        assert set(event) == {"id", "type", "created_at", "data"} and event["created_at"].endswith("Z")
        assert event["data"]["order_id"] == mine["id"] and event["data"]["order"]["total"] == 4497
        assert r.headers["Ordertrail-Event-Id"] == event["id"]
        order = event["data"]["order"]  # instants in UTC with a Z, as in the API's responses
        assert order["placed_at"].endswith("Z") and order["ship_by"].endswith("Z"), order
    assert got[1].json["data"]["shipments"][0]["tracking_number"] == UPS
    attempts = log(api, seller.auth, sub["id"])
    assert [(a["type"], a["status_code"], a["ok"]) for a in attempts] == [
        ("order_shipped", 200, True),
        ("order_confirmed", 200, True),
    ]
    assert all(isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0 for a in attempts)


def test_an_admin_subscribed_to_everything_gets_one_event_per_fact(
    api: Api, endpoint: Endpoint, clock: FixedClock
) -> None:
    from ordertrail.services import monitoring

    buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
    subscribe(api, api.admin, endpoint.url, ["*"])
    order = api.order(buyer, seller)
    clock.now = datetime.fromisoformat(order["ship_by"].replace("Z", "+00:00")) + timedelta(hours=2)
    assert monitoring.ship_by_overdue(api.container.deps, clock.now)["notified"] == 2  # buyer and seller
    api.run_worker()
    assert sorted(r.json["type"] for r in endpoint.received()) == ["order_confirmed", "ship_by_overdue"]


def test_a_failing_endpoint_is_retried_with_backoff_and_every_attempt_is_logged(
    api: Api, endpoint: Endpoint, clock: FixedClock
) -> None:
    buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
    sub = subscribe(api, seller.auth, endpoint.url, ["*"])
    endpoint.statuses = [500, 503]
    api.order(buyer, seller)
    api.run_worker()
    assert [a["status_code"] for a in log(api, seller.auth, sub["id"])] == [500]
    api.run_worker()  # not due yet: nothing is sent
    assert len(endpoint.received()) == 1
    clock.advance(seconds=api.container.deps.delivery_policy.retry_base_seconds)
    api.run_worker()
    clock.advance(seconds=2 * api.container.deps.delivery_policy.retry_base_seconds)
    api.run_worker()
    attempts = log(api, seller.auth, sub["id"])
    assert [(a["attempt"], a["status_code"], a["ok"]) for a in attempts] == [
        (3, 200, True),
        (2, 503, False),
        (1, 500, False),
    ]
    assert attempts[1]["error"].startswith("HTTP 503")
    # Numbered by the database, shown keyed (API.md: ids are never sequential): one delivery, three
    # attempts, each id its own, the delivery's the same on all three.
    assert len({a["id"] for a in attempts}) == 3 and all(a["id"].startswith("att_") for a in attempts)
    assert len({a["delivery_id"] for a in attempts}) == 1 and attempts[0]["delivery_id"].startswith("dlv_")
    assert not any(a["id"][4:].isdigit() for a in attempts)
    bodies = {r.body for r in endpoint.received()}
    assert len(bodies) == 1  # the same event, byte for byte, on every retry


def test_an_endpoint_failing_for_long_is_disabled_and_its_owner_re_enables_it_to_get_what_waited(
    settings: Settings, clock: FixedClock, endpoint: Endpoint
) -> None:
    with api_with(settings, clock, webhook_disable_after_failures=3, webhook_disable_after_hours=1.0) as api:
        buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
        sub = subscribe(api, seller.auth, endpoint.url, ["*"])
        endpoint.statuses = [500] * 20
        api.order(buyer, seller)
        for _ in range(6):
            api.run_worker()
            clock.advance(minutes=30)
        state = api.client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=seller.auth).json()
        assert state["enabled"] is False and "in a row failed" in state["disabled_reason"]
        sent = len(endpoint.received())
        api.order(buyer, seller)  # nothing goes to a disabled endpoint
        clock.advance(hours=5)
        api.run_worker()
        assert len(endpoint.received()) == sent

        endpoint.statuses = []
        other = api.user("seller", "Rival")
        assert (
            api.client.post(f"/v1/webhook-subscriptions/{sub['id']}/enable", headers=other.auth).status_code
            == 404
        )
        r = api.client.post(f"/v1/webhook-subscriptions/{sub['id']}/enable", headers=seller.auth)
        assert r.status_code == 200 and r.json()["enabled"] is True and r.json()["requeued_deliveries"] == 1
        api.run_worker()
        assert endpoint.received()[-1].json["type"] == "order_confirmed"
        assert log(api, seller.auth, sub["id"])[0]["ok"] is True


def test_an_endpoint_answering_410_gone_is_disabled_at_once(api: Api, endpoint: Endpoint) -> None:
    buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
    sub = subscribe(api, seller.auth, endpoint.url, ["*"])
    endpoint.statuses = [410]
    api.order(buyer, seller)
    api.run_worker()
    state = api.client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=seller.auth).json()
    assert state["enabled"] is False and "410" in state["disabled_reason"]


def test_a_test_event_reaches_the_endpoint_whatever_events_it_chose(api: Api, endpoint: Endpoint) -> None:
    seller = api.user("seller", "Sunny")
    sub = subscribe(api, seller.auth, endpoint.url, ["delivered"])
    r = api.client.post(f"/v1/webhook-subscriptions/{sub['id']}/test", headers=seller.auth)
    assert r.status_code == 202 and r.json()["queued"] is True
    api.run_worker()
    (got,) = endpoint.received()
    assert got.json["type"] == "webhook_test" and got.json["id"] == r.json()["event_id"]
    assert log(api, seller.auth, sub["id"])[0]["type"] == "webhook_test"


def test_a_failing_endpoint_holds_up_neither_the_inbox_nor_email(
    settings: Settings, clock: FixedClock, endpoint: Endpoint
) -> None:
    with smtp_server() as (sink, port), api_with(settings, clock, smtp_url=f"smtp://127.0.0.1:{port}") as api:
        buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
        subscribe(api, seller.auth, endpoint.url, ["*"])
        endpoint.statuses = [500] * 5
        order = api.order(buyer, seller)
        api.run_worker()
        assert [n["order_id"] for n in api.inbox(buyer)] == [order["id"]]
        assert len(sink.received()) == 1 and len(endpoint.received()) == 1


def test_subscriptions_refuse_bad_input_wrong_roles_and_strangers(
    settings: Settings, clock: FixedClock, endpoint: Endpoint
) -> None:
    with api_with(settings, clock, webhook_allow_private_targets=False) as api:
        buyer: Party = api.user("buyer", "Ana", "ana@example.com")
        seller, other = api.user("seller", "Sunny"), api.user("seller", "Rival")
        url = "https://hooks.example.com/ordertrail"
        body = {"url": url, "events": ["*"]}
        assert api.client.post("/v1/webhook-subscriptions", json=body).status_code == 401
        assert api.client.post("/v1/webhook-subscriptions", json=body, headers=buyer.auth).status_code == 403
        bad = api.client.post(
            "/v1/webhook-subscriptions",
            json={"url": url, "events": ["order_shipped", "teleported"]},
            headers=seller.auth,
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "events.1"
        for wrong in ("ftp://x.example.com", "not a url", endpoint.url):
            r = api.client.post(
                "/v1/webhook-subscriptions", json={"url": wrong, "events": ["*"]}, headers=seller.auth
            )
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url", wrong
        assert (
            api.client.post(
                "/v1/webhook-subscriptions",
                content=b"{",
                headers={**seller.auth, "Content-Type": "application/json"},
            ).status_code
            == 400
        )
        sub = subscribe(api, seller.auth, url, ["*"])
        listed = api.client.get("/v1/webhook-subscriptions", headers=seller.auth).json()["items"]
        assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
        assert api.client.get("/v1/webhook-subscriptions", headers=other.auth).json()["items"] == []
        for path in ("", "/deliveries"):
            assert (
                api.client.get(f"/v1/webhook-subscriptions/{sub['id']}{path}", headers=other.auth).status_code
                == 404
            )
        assert api.client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=api.admin).status_code == 200
        assert (
            api.client.delete(f"/v1/webhook-subscriptions/{sub['id']}", headers=seller.auth).status_code
            == 204
        )
        assert (
            api.client.get(f"/v1/webhook-subscriptions/{sub['id']}", headers=seller.auth).status_code == 404
        )


def test_deliveries_wait_out_a_slow_endpoint_within_the_timeout(
    settings: Settings, clock: FixedClock, endpoint: Endpoint
) -> None:
    with api_with(settings, clock, webhook_timeout_seconds=0.3) as api:
        buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
        sub = subscribe(api, seller.auth, endpoint.url, ["*"])
        endpoint.delay = 1.0
        api.order(buyer, seller)
        started = time.monotonic()
        api.run_worker()
        assert time.monotonic() - started < 1.0
        (attempt,) = log(api, seller.auth, sub["id"])
        assert attempt["ok"] is False and attempt["status_code"] is None and "Timeout" in attempt["error"]


def test_a_subscription_deleted_while_its_delivery_is_out_is_dropped_without_an_error(
    api: Api, endpoint: Endpoint
) -> None:
    from sqlalchemy import func, select

    from ordertrail.adapters.db.tables_monitoring import deliveries, delivery_attempts
    from ordertrail.services.deliveries import deliver
    from ordertrail.services.outbox import dispatch

    buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
    sub = subscribe(api, seller.auth, endpoint.url, ["*"])
    api.order(buyer, seller)
    dispatch(api.container.deps)
    real = next(c for c in api.container.channels if c.name == "webhook")

    class DeletedMeanwhile:
        name = "webhook"

        def send(self, batch: Any) -> Any:
            r = api.client.delete(f"/v1/webhook-subscriptions/{sub['id']}", headers=seller.auth)
            assert r.status_code == 204
            return real.send(batch)

    assert deliver(api.container.deps, DeletedMeanwhile()).claimed == 1
    with api.container.engine.connect() as c:
        assert c.execute(select(func.count()).where(deliveries.c.channel == "webhook")).scalar_one() == 0
        assert c.execute(select(func.count()).select_from(delivery_attempts)).scalar_one() == 0
