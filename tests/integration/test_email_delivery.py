"""E-mail against a real SMTP server on loopback (aiosmtpd): content, unsubscribe, preferences, TLS,
authentication, and retries when the server is down."""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trustme
from fastapi.testclient import TestClient
from sqlalchemy import select

from ordertrail.adapters.db.tables_monitoring import deliveries
from ordertrail.adapters.notifiers.email import SmtpMailer, build_message
from ordertrail.bootstrap import build
from ordertrail.config import Settings
from ordertrail.entrypoints.web.app import create_app
from tests.conftest import FixedClock
from tests.e2e.conftest import Api
from tests.receivers import Sink, free_port, smtp_server

UPS = "1Z5R89390357567127"


@contextmanager
def api_with(settings: Settings, clock: FixedClock, **over: object) -> Iterator[Api]:
    container = build(settings.model_copy(update=over), clock=clock)
    try:
        with TestClient(create_app(container), raise_server_exceptions=False) as client:
            yield Api(client, container)
    finally:
        container.close()


@pytest.fixture
def mail(settings: Settings, clock: FixedClock) -> Iterator[tuple[Api, Sink]]:
    with smtp_server() as (sink, port), api_with(settings, clock, smtp_url=f"smtp://127.0.0.1:{port}") as api:
        yield api, sink


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_an_order_confirmation_names_the_order_items_totals_and_delivery_window_in_html_and_text(
    mail: tuple[Api, Sink],
) -> None:
    api, sink = mail
    buyer, seller = api.user("buyer", "Ana Souza", "ana@example.com"), api.user("seller", "Sunny")
    order = api.order(buyer, seller)
    api.run_worker()
    (msg,) = sink.received()
    assert msg["To"] == "ana@example.com" and order["id"] in msg["Subject"]
    text, html = parts(msg)
    latest = order["promised_delivery"]["latest"]
    for body in (text, html):
        assert order["id"] in body
        assert "Logo T-shirt" in body and "TSHIRT-M" in body
        assert "39.98 USD" in body and "4.99 USD" in body and "44.97 USD" in body
        assert f"{latest[8:10]} " in body and "Delivery window" in body
    assert html.lstrip().startswith("<!doctype html>")
    assert msg["List-Unsubscribe"].startswith("<http://testserver/v1/email/unsubscribe?token=")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_shipped_email_carries_the_tracking_number_and_the_carriers_tracking_link(
    mail: tuple[Api, Sink],
) -> None:
    api, sink = mail
    buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
    order = api.order(buyer, seller)
    shipment = api.ship(order["id"], seller, UPS)
    api.run_worker()
    shipped = [m for m in sink.received() if m["X-Ordertrail-Type"] == "order_shipped"]
    assert len(shipped) == 1
    text, html = parts(shipped[0])
    assert UPS in text and shipment["tracking_url"] in text
    assert UPS in html and f'href="{shipment["tracking_url"]}"' in html.replace("&amp;", "&")


def test_the_unsubscribe_link_works_without_signing_in_and_stops_only_that_type(
    mail: tuple[Api, Sink],
) -> None:
    api, sink = mail
    buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
    api.order(buyer, seller)
    api.run_worker()
    link = sink.received()[0]["List-Unsubscribe"].strip("<>")
    target = urlsplit(link)
    path = f"{target.path}?{target.query}"
    page = api.client.get(path)  # no Authorization header
    assert page.status_code == 200 and "Unsubscribe" in page.text and "order confirmed" in page.text
    done = api.client.post(path)
    assert done.status_code == 200 and "no more" in done.text
    prefs = api.client.get("/v1/me/email-preferences", headers=buyer.auth).json()
    assert prefs["disabled_types"] == ["order_confirmed"]

    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    api.run_worker()
    assert [m["X-Ordertrail-Type"] for m in sink.received()] == ["order_confirmed", "order_shipped"]
    assert sum(n["type"] == "order_confirmed" for n in api.inbox(buyer)) == 2  # the inbox keeps everything

    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert api.client.post(tampered).status_code == 404


def test_buyers_turn_email_off_per_type_and_the_inbox_still_gets_every_notice(mail: tuple[Api, Sink]) -> None:
    api, sink = mail
    buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
    assert api.client.get("/v1/me/email-preferences").status_code == 401
    r = api.client.put(
        "/v1/me/email-preferences", json={"disabled_types": ["order_shipped", "nope"]}, headers=buyer.auth
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "disabled_types.1"
    r = api.client.put(
        "/v1/me/email-preferences", json={"disabled_types": ["order_shipped"]}, headers=buyer.auth
    )
    assert r.status_code == 200 and r.json()["disabled_types"] == ["order_shipped"]
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    api.run_worker()
    assert [m["X-Ordertrail-Type"] for m in sink.received()] == ["order_confirmed"]
    assert {n["type"] for n in api.inbox(buyer)} == {"order_confirmed", "order_shipped"}

    r = api.client.put("/v1/me/email-preferences", json={"disabled_types": ["*"]}, headers=buyer.auth)
    assert r.json()["all_disabled"] is True
    api.order(buyer, seller)
    api.run_worker()
    assert len(sink.received()) == 1


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_mail_goes_over_starttls_with_authentication_and_never_logs_in_in_clear_text(
    ca: trustme.CA, tmp_path: Path
) -> None:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with smtp_server(tls_context=server_ctx, credentials=("shop", "s3cret")) as (sink, port):
        SmtpMailer(f"smtp://shop:s3cret@127.0.0.1:{port}", "orders@shop.example", cafile=str(ca_file)).send(
            "ana@example.com", "Hello", "plain body", "<p>html body</p>"
        )
        assert sink.logins == ["shop"] and sink.received()[0]["Subject"] == "Hello"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            SmtpMailer(f"smtp://shop:wrong@127.0.0.1:{port}", "o@x", cafile=str(ca_file)).send(
                "a@b", "x", "y"
            )
        with pytest.raises(ssl.SSLCertVerificationError):  # a certificate we do not trust is refused
            SmtpMailer(f"smtp://shop:s3cret@127.0.0.1:{port}", "o@x").send("a@b", "x", "y")
    with smtp_server() as (plain, port):  # no STARTTLS offered: the password stays home
        with pytest.raises(smtplib.SMTPNotSupportedError):
            SmtpMailer(f"smtp://shop:s3cret@127.0.0.1:{port}", "o@x").send("a@b", "x", "y")
        assert plain.received() == []


def test_one_connection_carries_a_batch_of_messages() -> None:
    with smtp_server() as (sink, port):
        mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", "orders@shop.example")
        with mailer.session() as session:
            for i in range(3):
                session.send(build_message(mailer.sender, f"buyer{i}@example.com", f"n{i}", "body"))
        assert [m["To"] for m in sink.received()] == [f"buyer{i}@example.com" for i in range(3)]


def test_mail_to_a_server_that_is_down_is_retried_with_backoff_then_fails_keeping_the_error(
    settings: Settings, clock: FixedClock
) -> None:
    with api_with(settings, clock, smtp_url=f"smtp://127.0.0.1:{free_port()}") as api:
        buyer, seller = api.user("buyer", "Ana", "ana@example.com"), api.user("seller", "Sunny")
        api.order(buyer, seller)
        api.run_worker()
        assert [n["type"] for n in api.inbox(buyer)] == [
            "order_confirmed"
        ]  # the inbox does not wait for SMTP
        waits = []
        policy = api.container.deps.delivery_policy
        for attempt in range(1, policy.email_max_attempts + 1):
            with api.container.engine.connect() as c:
                row = c.execute(select(deliveries).where(deliveries.c.channel == "email")).one()
            assert row.attempts == attempt and row.last_error
            if attempt == policy.email_max_attempts:
                assert row.state == "failed"
                break
            assert row.state == "pending"
            waits.append((row.available_at - clock.now).total_seconds())
            clock.now = row.available_at
            api.run_worker()
        assert waits == [policy.retry_base_seconds * 2**i for i in range(len(waits))]
        assert re.search(r"refused|Errno", row.last_error or "")
