"""The web pages over HTTP: sign-in, sessions, CSRF, the buyer's and seller's pages, security headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from ordertrail.adapters.db.tables import orders, shipments
from ordertrail.bootstrap import Container
from ordertrail.domain.progress import window_text
from ordertrail.entrypoints.cli import app as cli
from ordertrail.entrypoints.web.app import create_app
from ordertrail.entrypoints.web.pages.security import CSP
from tests.conftest import FixedClock
from tests.e2e.conftest import Api, Party
from tests.e2e.page_session import csrf_of, sign_in, use_link

UPS = "1Z5R89390357567127"


@pytest.fixture
def browser(container: Container) -> Iterator[TestClient]:
    """A second client with its own cookie jar: a person using the pages."""
    with TestClient(create_app(container), raise_server_exceptions=False) as c:
        yield c


def mails(container: Container) -> list[bytes]:
    folder = Path(container.settings.data_dir) / "mail"
    return [p.read_bytes() for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def link_in(mail: bytes) -> str:
    body = message_from_bytes(mail).get_payload(decode=True).decode()  # type: ignore[union-attr]
    match = re.search(r"http://\S+/login/\S+", body)
    assert match, body
    return match.group(0)


def scan(
    api: Api, number: str, at: str, status: str = "in_transit", description: str = "Arrived at facility"
) -> None:
    api.events(
        [
            {
                "tracking_number": number,
                "occurred_at": at,
                "status": status,
                "description": description,
                "location": {"city": "Memphis", "region": "TN", "postal_code": "38118", "country_code": "US"},
            }
        ]
    )


def address_form(csrf: str, **fields: str) -> dict[str, str]:
    """The buyer's address form, in Cupertino unless `fields` say otherwise."""
    return {
        "csrf_token": csrf,
        "name": "Ana Souza",
        "street_address": "1 Infinite Loop",
        "city": "Cupertino",
        "country_area": "CA",
        "postal_code": "95014",
        "country_code": "US",
    } | fields


# --- sign-in -------------------------------------------------------------------------------------


def test_the_sign_in_form_e_mails_a_one_time_link_that_signs_the_buyer_in(
    browser: TestClient, container: Container, buyer: Party
) -> None:
    form = browser.get("/login")
    r = browser.post("/login", data={"email": "ANA@example.com", "csrf_token": csrf_of(form.text)})
    assert r.status_code == 200 and "Check your e-mail" in r.text
    (mail,) = mails(container)
    assert message_from_bytes(mail)["To"] == "ana@example.com"
    home = use_link(browser, link_in(mail))
    assert home == "/orders"
    cookie = next(h for h in browser.cookies.jar if h.name == "ot_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and not cookie.secure
    page = browser.get("/orders")
    assert page.status_code == 200 and "Your orders" in page.text and "Ana Souza" in page.text


def test_the_session_cookie_is_http_only_same_site_lax_and_secure_under_https(
    container: Container, buyer: Party
) -> None:
    with TestClient(create_app(container), base_url="https://testserver") as c:
        from ordertrail.services.sign_in import issue_link

        link = issue_link(container.deps, "ana@example.com")
        assert link is not None
        path = link.url.split("testserver", 1)[1]
        token = csrf_of(c.get(path).text)
        r = c.post(path, data={"csrf_token": token}, follow_redirects=False)
    set_cookie = r.headers["set-cookie"].lower()
    assert "ot_session=" in set_cookie and "httponly" in set_cookie
    assert "samesite=lax" in set_cookie and "secure" in set_cookie


def test_a_sign_in_link_works_only_once(browser: TestClient, container: Container, buyer: Party) -> None:
    from ordertrail.services.sign_in import issue_link

    link = issue_link(container.deps, "ana@example.com")
    assert link is not None
    use_link(browser, link.url)
    browser.cookies.clear()
    path = "/login/" + link.url.rsplit("/", 1)[1]
    again = browser.post(path, data={"csrf_token": csrf_of(browser.get(path).text)}, follow_redirects=False)
    assert again.status_code == 400 and "no longer works" in again.text
    assert "ot_session" not in again.headers.get("set-cookie", "")


def test_a_sign_in_link_expires_after_15_minutes(
    browser: TestClient, container: Container, clock: FixedClock, buyer: Party
) -> None:
    from ordertrail.services.sign_in import issue_link

    link = issue_link(container.deps, "ana@example.com")
    assert link is not None
    clock.advance(minutes=15, seconds=1)
    path = "/login/" + link.url.rsplit("/", 1)[1]
    r = browser.post(path, data={"csrf_token": csrf_of(browser.get(path).text)}, follow_redirects=False)
    assert r.status_code == 400 and "expired or was already used" in r.text


def test_asking_for_a_link_for_an_unknown_address_answers_the_same_and_sends_nothing(
    browser: TestClient, container: Container, buyer: Party
) -> None:
    token = csrf_of(browser.get("/login").text)
    known = browser.post("/login", data={"email": "ana@example.com", "csrf_token": token})
    unknown = browser.post("/login", data={"email": "nobody@example.com", "csrf_token": token})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("ana@example.com", "X") == unknown.text.replace("nobody@example.com", "X")
    assert len(mails(container)) == 1


def test_the_sign_in_form_refuses_a_post_without_its_csrf_token(
    browser: TestClient, container: Container, buyer: Party
) -> None:
    r = browser.post("/login", data={"email": "ana@example.com"})
    assert r.status_code == 403 and mails(container) == []


def test_the_cli_prints_a_sign_in_link_that_signs_the_user_in(
    browser: TestClient,
    container: Container,
    clock: FixedClock,
    buyer: Party,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime

    monkeypatch.setenv("ORDERTRAIL_DATABASE_URL", container.settings.resolved_database_url)
    monkeypatch.setenv("ORDERTRAIL_DATA_DIR", str(container.settings.data_dir))
    monkeypatch.setenv("ORDERTRAIL_BASE_URL", "http://testserver")
    result = CliRunner().invoke(cli, ["users", "login-link", "--email", "ana@example.com"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("http://testserver/login/")
    clock.now = datetime.now(UTC)  # the CLI stamped the link with the real time
    assert use_link(browser, url) == "/orders"
    missing = CliRunner().invoke(cli, ["users", "login-link", "--email", "nobody@example.com"])
    assert missing.exit_code == 2


def test_a_page_needing_sign_in_sends_the_visitor_to_sign_in_and_back_afterwards(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    r = browser.get(f"/orders/{order['id']}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/orders/{order['id']}"
    form = browser.get(r.headers["location"])
    browser.post(
        "/login",
        data={"email": "ana@example.com", "next": f"/orders/{order['id']}", "csrf_token": csrf_of(form.text)},
    )
    assert use_link(browser, link_in(mails(container)[0])) == f"/orders/{order['id']}"


def test_signing_out_ends_the_session_for_good(
    browser: TestClient, container: Container, buyer: Party
) -> None:
    csrf = sign_in(browser, container, "ana@example.com")
    old = browser.cookies.get("ot_session")
    r = browser.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert (
        r.status_code == 303
        and "ot_session=" in r.headers["set-cookie"]
        and "Max-Age=0" in r.headers["set-cookie"]
    )
    browser.cookies.set("ot_session", old or "")
    assert browser.get("/orders", follow_redirects=False).status_code == 303


# --- buyer ---------------------------------------------------------------------------------------


def test_the_buyer_sees_the_order_confirmation_timeline_and_delay_reason(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    scan(api, UPS, "2026-11-26T08:10:00-06:00", "in_transit", "Arrived at facility")
    scan(api, UPS, "2026-11-26T09:40:00-06:00", "delayed", "Weather delay: severe storms")
    sign_in(browser, container, "ana@example.com")
    listing = browser.get("/orders").text
    # The scans re-estimated the delivery (issue 9): the page shows that window, not the promise.
    shipment = api.client.get(f"/v1/orders/{order['id']}/tracking", headers=buyer.auth).json()["shipments"][0]
    arrives = window_text(
        tuple(date.fromisoformat(shipment["estimated_delivery"][k]) for k in ("earliest", "latest"))
    )
    assert order["id"] in listing and "In transit" in listing and f"Arrives {arrives}" in listing
    page = browser.get(f"/orders/{order['id']}").text
    for shown in (order["id"], "Logo T-shirt", "44.97 USD", "1600 Amphitheatre Pkwy", UPS, "UPS"):
        assert shown in page
    assert "Thu 26 Nov, 08:10 UTC−6" in page and "Memphis, TN, US" in page  # the carrier's local time
    assert (
        "The carrier reports a delay" in page
        and "Weather delay: severe storms (Memphis, TN, Thu 26 Nov, 09:40 UTC−6)" in page
    )
    assert 'aria-current="step"' in page


def test_a_buyer_cannot_open_another_buyers_order(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    api.user("buyer", "Ben Carter", "ben@example.com")
    sign_in(browser, container, "ben@example.com")
    r = browser.get(f"/orders/{order['id']}")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"] and order["id"] in r.text
    assert "Amphitheatre" not in r.text


def test_the_address_form_puts_each_error_beside_its_field_and_stores_nothing(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    csrf = sign_in(browser, container, "ana@example.com")
    form = address_form(csrf, street_address="1 Main St", city="Mountain View", postal_code="10001")
    r = browser.post(f"/orders/{order['id']}/address", data=form)
    assert r.status_code == 422
    field = re.search(r'<p class="error" id="f-postal_code-error">(.*?)</p>', r.text, re.S)
    assert field and "does not belong to CA" in field.group(1)
    assert 'id="f-postal_code" name="postal_code" type="text" value="10001"' in r.text
    with container.engine.connect() as c:
        stored = c.execute(select(orders.c.shipping_address).where(orders.c.id == order["id"])).scalar_one()
    assert stored["street_address"] == "1600 Amphitheatre Pkwy"


def test_the_address_can_be_corrected_until_the_carrier_scans_the_parcel(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    csrf = sign_in(browser, container, "ana@example.com")
    form = address_form(csrf)
    r = browser.post(f"/orders/{order['id']}/address", data=form, follow_redirects=False)
    assert r.status_code == 303
    page = browser.get(r.headers["location"]).text
    assert "Your new address is saved" in page and "1 Infinite Loop" in page and "Change address" in page
    api.run_worker()
    assert any(n["type"] == "address_changed" for n in api.inbox(seller))
    api.ship(order["id"], seller, UPS)
    scan(api, UPS, "2026-11-26T08:10:00-06:00")
    assert "Change address" not in browser.get(f"/orders/{order['id']}").text
    late = browser.post(f"/orders/{order['id']}/address", data=form | {"street_address": "2 Elm St"})
    assert late.status_code == 409 and "already scanned" in late.text


def test_a_signed_in_form_without_its_csrf_token_is_refused_and_changes_nothing(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    sign_in(browser, container, "ana@example.com")
    form = {"name": "Mallory", "street_address": "1 Evil St", "city": "Cupertino", "country_area": "CA"}
    r = browser.post(
        f"/orders/{order['id']}/address", data=form | {"postal_code": "95014", "country_code": "US"}
    )
    assert r.status_code == 403 and "expired" in r.text
    with container.engine.connect() as c:
        stored = c.execute(select(orders.c.shipping_address).where(orders.c.id == order["id"])).scalar_one()
    assert stored["name"] == "Ana Souza"


def test_the_inbox_lists_the_buyers_notifications_and_marks_them_read(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    api.run_worker()
    csrf = sign_in(browser, container, "ana@example.com")
    page = browser.get("/inbox").text
    assert f"Order {order['id']} confirmed" in page and "Mark as read" in page
    (note,) = api.inbox(buyer)
    r = browser.post(f"/inbox/{note['id']}/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and "Mark as read" not in browser.get("/inbox").text


# --- seller --------------------------------------------------------------------------------------


def test_the_to_ship_queue_puts_the_earliest_ship_by_first_and_marks_overdue_orders(
    browser: TestClient, container: Container, api: Api, clock: FixedClock, buyer: Party, seller: Party
) -> None:
    from datetime import datetime, timedelta

    first = api.order(buyer, seller)
    clock.advance(days=2)
    second = api.order(buyer, seller)
    shipped = api.order(buyer, seller)
    api.ship(shipped["id"], seller, UPS)
    clock.now = datetime.fromisoformat(first["ship_by"].replace("Z", "+00:00")) + timedelta(hours=1)
    assert datetime.fromisoformat(second["ship_by"].replace("Z", "+00:00")) > clock.now
    sign_in(browser, container, "shop@example.com")
    page = browser.get("/seller").text
    assert page.index(first["id"]) < page.index(second["id"]) and shipped["id"] not in page
    rows = page.split('<li class="card queue-row')[1:]
    assert "is-overdue" in rows[0] and "Overdue" in rows[0] and "overdue by" in rows[0]
    assert "Overdue" not in rows[1] and "left" in rows[1]
    # An order that has left the queue is still one click away, with its tracking number.
    everything = browser.get("/seller/orders").text
    assert max(everything.index(shipped["id"]), everything.index(second["id"])) < everything.index(
        first["id"]
    )
    assert f'UPS <span class="mono">{UPS}</span>' in everything
    assert f'href="/seller/orders/{shipped["id"]}"' in everything


def test_adding_a_mistyped_tracking_number_shows_the_error_inline_and_stores_nothing(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    csrf = sign_in(browser, container, "shop@example.com")
    r = browser.post(
        f"/seller/orders/{order['id']}/shipments",
        data={"csrf_token": csrf, "tracking_number": "1Z5R89390357567128", "carrier": "ups"},
    )
    assert r.status_code == 422
    error = re.search(r'<p class="error" id="add-number-error">(.*?)</p>', r.text, re.S)
    assert error and "check digit" in error.group(1).lower()
    assert 'value="1Z5R89390357567128"' in r.text
    with container.engine.connect() as c:
        assert c.execute(select(shipments.c.id)).first() is None
    ok = browser.post(
        f"/seller/orders/{order['id']}/shipments",
        data={"csrf_token": csrf, "tracking_number": UPS, "carrier": ""},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert "Tracking added" in browser.get(ok.headers["location"]).text


def test_a_seller_corrects_a_tracking_number_and_the_buyer_is_told(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    shipment = api.ship(order["id"], seller, "1Z879E930346834440")
    csrf = sign_in(browser, container, "shop@example.com")
    r = browser.post(
        f"/seller/shipments/{shipment['id']}/tracking-number",
        data={"csrf_token": csrf, "order_id": order["id"], "tracking_number": UPS, "carrier": "ups"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "Tracking number corrected" in browser.get(r.headers["location"]).text
    api.run_worker()
    assert any(n["type"] == "tracking_number_changed" and UPS in n["body"] for n in api.inbox(buyer))


def test_carrier_detection_names_the_carrier_and_explains_a_mistyped_number(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    sign_in(browser, container, "shop@example.com")
    found = browser.get("/seller/detect-carrier", params={"number": UPS, "order_id": order["id"]}).json()
    assert found["carrier"] == "ups" and found["name"] == "UPS" and found["problem"] is None
    typo = browser.get("/seller/detect-carrier", params={"number": "1Z5R89390357567128"}).json()
    assert typo["carrier"] is None and "check digit" in typo["problem"]["message"]


def test_seller_pages_are_not_for_buyers(browser: TestClient, container: Container, buyer: Party) -> None:
    sign_in(browser, container, "ana@example.com")
    assert browser.get("/seller").status_code == 403
    assert browser.get("/seller/detect-carrier", params={"number": UPS}).status_code == 403


# --- public page and security --------------------------------------------------------------------


def test_the_public_tracking_page_shows_the_journey_and_no_personal_data(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    scan(api, UPS, "2026-11-26T08:10:00-06:00")
    with container.engine.begin() as c:
        c.execute(update(shipments).values(proof_of_delivery={"type": "signature", "signed_by": "Ana Souza"}))
    page = browser.get(f"/track/{UPS.lower()}")
    assert page.status_code == 200 and "Arrived at facility" in page.text and "Memphis, TN, US" in page.text
    for personal in (
        "Ana",
        "Souza",
        "Amphitheatre",
        "94043",
        "Logo T-shirt",
        "19.99",
        "44.97",
        order["id"],
        "@",
    ):
        assert personal not in page.text
    assert (
        browser.get("/track", params={"number": " 1z5r 8939 0357 5671 27"}, follow_redirects=False).headers[
            "location"
        ]
        == f"/track/{UPS}"
    )
    assert browser.get("/track/1Z0000000000000000").status_code == 404


def test_the_tracking_page_wears_the_shops_name_and_colour(container: Container) -> None:
    container.settings.shop_name = "Sunny Gadgets"
    container.settings.shop_color = "#ff6600"
    with TestClient(create_app(container)) as c:
        assert "Sunny Gadgets" in c.get("/track").text
        assert "--brand:#ff6600" in c.get("/brand.css").text


def test_pages_send_security_headers_and_carry_no_inline_script_or_style(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    assert "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
    sign_in(browser, container, "ana@example.com")
    pages = [
        "/login",
        "/track",
        f"/track/{UPS}",
        "/orders",
        f"/orders/{order['id']}",
        "/inbox",
        f"/orders/{order['id']}/address",
    ]
    for path in pages:
        r = browser.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] in ("same-origin", "no-referrer")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), path
        assert "<style" not in r.text and " style=" not in r.text, path
        if path.startswith(("/orders", "/inbox")):
            assert r.headers["cache-control"] == "no-store"


def test_order_pages_show_addresses_without_a_phone_or_a_state(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    """The templates read every address field strictly: a missing phone or state was a 500."""
    london = {
        "name": "Ana Souza",
        "street_address": "10 Downing St",
        "city": "London",
        "postal_code": "SW1A 2AA",
        "country_code": "GB",
    }
    order = api.order(buyer, seller, shipping_address=london)
    assert "phone" not in order["shipping_address"] and "country_area" not in order["shipping_address"]
    sign_in(browser, container, "shop@example.com")
    seller_page = browser.get(f"/seller/orders/{order['id']}")
    assert seller_page.status_code == 200 and "10 DOWNING ST" in seller_page.text.upper()
    browser.cookies.clear()
    sign_in(browser, container, "ana@example.com")
    buyer_page = browser.get(f"/orders/{order['id']}")
    assert buyer_page.status_code == 200 and "LONDON" in buyer_page.text.upper()


def test_a_nul_in_a_multipart_form_field_is_refused_and_nothing_is_stored(
    browser: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    """Every page form also takes multipart, which the NUL guard leaves to the pages (files may hold
    NUL bytes): a NUL street was stored, and its notice then stopped every later notification."""
    order = api.order(buyer, seller)
    csrf = sign_in(browser, container, "ana@example.com")
    fields = address_form(csrf)
    del fields["street_address"]  # sent as a multipart part below
    r = browser.post(
        f"/orders/{order['id']}/address",
        data=fields,
        files={"street_address": (None, "1 Infinite\x00 Loop")},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "street_address: Text must not contain the NUL character." in r.text
    with container.engine.connect() as c:
        stored = c.execute(select(orders.c.shipping_address).where(orders.c.id == order["id"])).scalar_one()
    assert stored["street_address"] == "1600 Amphitheatre Pkwy"
    r = browser.post(
        f"/orders/{order['id']}/address",
        data=fields,
        files={"street_address": (None, "1 Infinite Loop")},
        follow_redirects=False,
    )
    assert r.status_code == 303  # the same form without the NUL goes through


def test_a_wrong_address_shows_a_browser_a_page_and_the_api_its_problem_json(browser: TestClient) -> None:
    page = browser.get("/no-such-page", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text and "check the link" in page.text
    for path, accept in (("/no-such-page", "*/*"), ("/v1/no-such-thing", "text/html")):
        r = browser.get(path, headers={"Accept": accept})
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
