"""Secrets at rest and in logs, security headers on pages, and timeouts on every outbound call."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import text

from ordertrail.adapters.carriers.http_client import TIMEOUT, SeventeenTrackClient
from ordertrail.adapters.db.tables import metadata
from ordertrail.adapters.notifiers.email import SmtpMailer
from ordertrail.adapters.notifiers.webhooks import WebhookChannel
from ordertrail.domain.monitoring import is_private_host
from ordertrail.entrypoints import logs
from ordertrail.services.ports_monitoring import Delivery
from ordertrail.services.sign_in import issue_link
from tests.conftest import ADDRESS, ADMIN_KEY, FixedClock, Party
from tests.e2e.conftest import Api
from tests.e2e.page_session import use_link


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every log record of the run, as the JSON lines the service writes, at the most talkative level."""
    stream = io.StringIO()
    handler = logs.handler(stream)
    handler.addFilter(
        lambda record: not record.name.startswith(("httpx", "httpcore"))
    )  # the test's own client
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def full_run(api: Api, buyer: Party, seller: Party, clock: FixedClock) -> list[str]:
    """Orders, shipping, scans, a case, notices and e-mails, page sign-in, and refusals; its secrets."""
    carrier = api.user("carrier", "Carrier Bot", "bot@carrier.example")
    order = api.order(buyer, seller)
    shipment = api.ship(order["id"], seller, "SIM0200000001", carrier="simulated")
    api.client.put(f"/v1/orders/{order['id']}/shipping-address", json=ADDRESS, headers=buyer.auth)
    clock.advance(hours=3)
    at = (clock.now - timedelta(hours=1)).isoformat()
    delivered = {"tracking_number": shipment["tracking_number"], "occurred_at": at, "status": "delivered"}
    api.events([delivered, {**delivered, "tracking_number": "SIM0299999999"}], key=carrier.auth)
    case = api.client.post(
        f"/v1/orders/{order['id']}/cases",
        json={
            "type": "damaged",
            "description": "Ana Souza: the box was crushed",
            "requested_resolution": "refund",
        },
        headers=buyer.auth,
    ).json()
    api.client.post(
        f"/v1/cases/{case['id']}/messages", json={"body": "Call me on +1 650 253 0000"}, headers=buyer.auth
    )
    api.run_worker()
    link = issue_link(api.container.deps, buyer.email or "")
    assert link is not None
    use_link(api.client, link.url)
    session = api.client.cookies.get("ot_session") or ""
    api.client.get("/orders")
    api.client.get(f"/orders/{order['id']}")
    api.client.cookies.clear()
    # Refusals: a wrong key that looks like one, a bad e-mail, malformed JSON, a foreign order.
    api.client.get("/v1/orders", headers={"Authorization": f"Bearer {buyer.key}x"})
    api.client.post(
        "/v1/users", json={"role": "buyer", "name": "Bo", "email": "not an address"}, headers=api.admin
    )
    api.client.post("/v1/orders", content=b'{"seller_id": "ana@example.com', headers=buyer.auth)
    api.client.get(f"/v1/orders/{order['id']}", headers=carrier.auth)
    tokens = [link.url.rsplit("/", 1)[-1], session]
    return [buyer.key, seller.key, carrier.key, ADMIN_KEY, *tokens]


def test_a_full_run_logs_no_key_token_email_address_name_or_phone(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, captured: io.StringIO
) -> None:
    secrets = full_run(api, buyer, seller, clock)
    lines = captured.getvalue().splitlines()
    assert len(lines) >= 10 and all(json.loads(line)["level"] for line in lines)  # it did log, as JSON
    personal = [
        "ana@example.com",
        "shop@example.com",
        "bot@carrier.example",
        "Ana Souza",
        "Sunny Gadgets",
        "Carrier Bot",
        ADDRESS["street_address"],
        "650 253 0000",
        "Amphitheatre",
    ]
    leaks = [(s[:12], line[:200]) for line in lines for s in [*secrets, *personal] if s and s in line]
    assert leaks == []


def test_keys_and_one_time_links_are_stored_only_as_hashes(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    secrets = full_run(api, buyer, seller, clock)
    with api.container.engine.connect() as conn:
        stored = "\n".join(
            repr(row)
            for t in metadata.sorted_tables
            for row in conn.execute(text(f'SELECT * FROM "{t.name}"'))
        )
    assert [s[:12] for s in secrets if s in stored] == []
    assert hashlib.sha256(buyer.key.encode()).hexdigest() in stored  # what is kept is the digest


def page_paths(api: Api) -> list[str]:
    paths = []
    for context in iter_route_contexts(api.client.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if getattr(route, "include_in_schema", True) is False and "GET" in (context.methods or ()):
            path = context.path or ""
            if "{" not in path and not path.startswith(("/docs", "/redoc", "/openapi", "/metrics")):
                paths.append(path)
    return paths


def test_every_page_forbids_inline_script_framing_sniffing_and_leaky_referrers(api: Api) -> None:
    paths = page_paths(api)
    assert "/login" in paths and "/track" in paths
    for path in paths:
        r = api.client.get(path, follow_redirects=False)
        csp = r.headers.get("content-security-policy", "")
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] in (
            "same-origin",
            "no-referrer",
            "strict-origin-when-cross-origin",
        ), path


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_webhook_endpoint_that_never_answers_costs_one_timeout_and_is_recorded_as_failed(
    silent_server: int,
) -> None:
    channel = WebhookChannel(
        lambda: datetime(2026, 11, 26, tzinfo=UTC), timeout=0.3, allow_private_targets=True
    )
    delivery = Delivery(
        1,
        "webhook",
        "evt_1",
        "order_shipped",
        {"data": {}},
        datetime(2026, 11, 26, tzinfo=UTC),
        1,
        "claim",
        url=f"http://127.0.0.1:{silent_server}/hook",
        secret="whsec",
    )
    started = time.monotonic()
    (outcome,) = channel.send([delivery])
    channel.close()
    assert not outcome.ok and "Timeout" in (outcome.error or "")
    assert time.monotonic() - started < 3


def test_an_smtp_server_that_never_greets_costs_one_timeout(silent_server: int) -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{silent_server}", "orders@localhost", timeout=0.3)
    started = time.monotonic()
    with pytest.raises((TimeoutError, OSError)):
        mailer.send("someone@example.com", "Hello", "Body")
    assert time.monotonic() - started < 3


def test_the_carrier_api_client_times_out_on_a_silent_carrier(silent_server: int) -> None:
    assert TIMEOUT.connect is not None and TIMEOUT.read is not None
    client = SeventeenTrackClient(
        "key", base_url=f"http://127.0.0.1:{silent_server}", timeout=httpx.Timeout(0.3)
    )
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - the client's own error type wraps the timeout
        client._http.get("/track")
    client.close()
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "https://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://db.internal/hook",
        # The old IPv4 forms a resolver still reads: all of them 127.0.0.1.
        "http://2130706433:8799/hook",
        "http://127.1:8799/hook",
        "http://0x7f000001:8799/hook",
        "http://0177.0.0.1/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.1/hook",  # 10.0.0.1
        "http://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
        "http://LOCALHOST./hook",
    ],
)
def test_a_webhook_subscription_may_not_point_inside_the_network(api: Api, seller: Party, url: str) -> None:
    r = api.client.post("/v1/webhook-subscriptions", json={"url": url, "events": ["*"]}, headers=seller.auth)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "private_address"


def _delivery_to(url: str) -> Delivery:
    at = datetime(2026, 11, 26, tzinfo=UTC)
    return Delivery(
        1, "webhook", "evt_1", "order_shipped", {"data": {}}, at, 1, "claim", url=url, secret="whsec"
    )


def test_a_webhook_is_not_sent_where_its_host_resolves_to_this_machine(silent_server: int) -> None:
    """A subscription's host can be a name that resolves, or is later re-pointed, to a private
    address: the check is made again on the address the connection goes to."""
    channel = WebhookChannel(lambda: datetime(2026, 11, 26, tzinfo=UTC), timeout=5)
    started = time.monotonic()
    (outcome,) = channel.send([_delivery_to(f"http://localhost:{silent_server}/hook")])
    channel.close()
    assert not outcome.ok and "not a public address" in (outcome.error or "")
    assert time.monotonic() - started < 1  # refused before connecting: the silent server never waits


@pytest.mark.parametrize(
    ("host", "private"),
    [
        ("93.184.215.14", False),
        ("2606:4700:4700::1111", False),
        ("[2606:4700:4700::1111]", False),
        ("hooks.example.com", False),  # a name: checked on the address it resolves to, when sent
        ("1113216014", False),  # 66.90.84.14 in the integer form
        ("127.0.0.1", True),
        ("2130706433", True),
        ("0x7f.1", True),
        ("::ffff:10.0.0.1", True),
        ("fe80::1%eth0", True),
        ("192.0.2.1", True),  # documentation range: not reachable on the internet
        ("224.0.0.1", True),
        ("0.0.0.0", True),
        ("intranet.local", True),
    ],
)
def test_which_hosts_are_private(host: str, private: bool) -> None:
    assert is_private_host(host) is private
