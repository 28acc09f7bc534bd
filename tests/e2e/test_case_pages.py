"""The case pages over HTTP: reporting a problem with a photo, answering, deciding, and their errors."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ordertrail.adapters.db.tables_cases import case_attachments, cases
from ordertrail.bootstrap import Container
from ordertrail.entrypoints.web.app import create_app
from tests.conftest import FixedClock
from tests.e2e.conftest import Api, Party
from tests.e2e.page_session import sign_in

UPS = "1Z5R89390357567127"


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "#a0784f").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def person(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), raise_server_exceptions=False) as c:
        yield c


def delivered_order(api: Api, buyer: Party, seller: Party, clock: FixedClock) -> dict[str, Any]:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    clock.advance(days=3)
    api.events([{"tracking_number": UPS, "occurred_at": clock.now.isoformat(), "status": "delivered"}])
    clock.advance(hours=2)
    return order


def count(container: Container, table: Any) -> int:
    with container.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


REPORT = {"type": "damaged", "description": "The mug is chipped.", "requested_resolution": "refund"}


def reporting(
    person: TestClient, container: Container, api: Api, clock: FixedClock, buyer: Party, seller: Party
) -> Any:
    """Ana, signed in, at the report form of a delivered order: a poster of that form."""
    order = delivered_order(api, buyer, seller, clock)
    csrf = sign_in(person, container, "ana@example.com")

    def post(files: Any = None, **fields: str) -> Any:
        return person.post(
            f"/orders/{order['id']}/report", data=REPORT | {"csrf_token": csrf} | fields, files=files
        )

    return post


def test_a_report_with_a_file_that_is_not_a_photo_is_refused_beside_the_field_and_opens_no_case(
    person: TestClient, container: Container, api: Api, clock: FixedClock, buyer: Party, seller: Party
) -> None:
    post = reporting(person, container, api, clock, buyer, seller)
    r = post(files={"photo": ("photo.jpg", b"<html>not a photo</html>", "image/jpeg")})
    assert r.status_code == 422 and 'id="photo-error"' in r.text and "JPEG or PNG" in r.text
    assert "The mug is chipped." in r.text  # what was typed is kept
    assert count(container, cases) == 0


def test_a_report_outside_the_policy_window_says_why_at_the_problem_type(
    person: TestClient, container: Container, api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)  # not delivered: a damaged item cannot be reported yet
    csrf = sign_in(person, container, "ana@example.com")
    r = person.post(f"/orders/{order['id']}/report", data=REPORT | {"csrf_token": csrf})
    assert r.status_code == 422 and 'id="type-error"' in r.text and "from the delivery" in r.text
    assert count(container, cases) == 0


def test_a_report_with_a_photo_opens_the_case_with_its_evidence_and_deadline(
    person: TestClient, container: Container, api: Api, clock: FixedClock, buyer: Party, seller: Party
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    csrf = sign_in(person, container, "ana@example.com")
    r = person.post(
        f"/orders/{order['id']}/report",
        data=REPORT | {"csrf_token": csrf},
        files={"photo": ("chip.png", png(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=case_opened")
    page = person.get(r.headers["location"]).text
    assert "answer is due" in page and "2 days 0 h left" in page
    assert count(container, case_attachments) == 1
    image = person.get(page.split('<img src="', 1)[1].split('"', 1)[0])
    assert image.status_code == 200 and image.content == png()
    assert "Report a problem" in person.get(f"/orders/{order['id']}").text


def test_the_seller_answer_and_the_support_decision_refuse_bad_input_inline(
    person: TestClient, container: Container, api: Api, clock: FixedClock, buyer: Party, seller: Party
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = api.client.post(f"/v1/orders/{order['id']}/cases", json=REPORT, headers=buyer.auth).json()
    csrf = sign_in(person, container, "shop@example.com")
    api.run_worker()
    # The notice of the new case leads to the case itself; the API's items keep API.md's fields.
    assert f'href="/cases/{case["id"]}"' in person.get("/inbox").text
    (opened_notice,) = [n for n in api.inbox(seller) if n["type"] == "case_opened"]
    assert set(opened_notice) == {"id", "type", "title", "body", "order_id", "created_at", "read_at"}
    r = person.post(
        f"/cases/{case['id']}/response",
        data={
            "csrf_token": csrf,
            "action": "offer",
            "resolution": "partial_refund",
            "amount": "12,5",
            "message": "Half?",
        },
    )
    assert r.status_code == 422 and 'id="response-amount-error"' in r.text and "like 12.50" in r.text
    r = person.post(
        f"/cases/{case['id']}/response",
        data={
            "csrf_token": csrf,
            "action": "offer",
            "resolution": "partial_refund",
            "amount": "12.5",
            "message": "Half?",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert api.client.get(f"/v1/cases/{case['id']}", headers=buyer.auth).json()["offer"]["amount"] == 1250
    # Each side reads whose turn it is in its own words.
    assert "Waiting for the buyer" in person.get("/seller/cases").text
    with TestClient(create_app(container)) as ana:
        sign_in(ana, container, "ana@example.com")
        assert "Your turn" in ana.get("/cases").text
        page = ana.get(f"/cases/{case['id']}").text
        assert "Accept it below, or ask platform support to decide." in page

    api.client.post(f"/v1/cases/{case['id']}/escalate", json={}, headers=buyer.auth)
    support = api.user("support", "Sam Support", "sam@example.com")
    with TestClient(create_app(container)) as staff:
        token = sign_in(staff, container, "sam@example.com")
        queue = staff.get("/support").text
        assert "Ana Souza (buyer) and Sunny Gadgets (seller)" in queue
        second = api.client.post(
            f"/v1/orders/{order['id']}/cases",
            json={"type": "missing_items", "description": "One mug short.", "requested_resolution": "refund"},
            headers=buyer.auth,
        ).json()
        shown = staff.get(f"/cases/{case['id']}").text
        assert "Ana Souza (buyer) and Sunny Gadgets (seller)" in shown
        assert "Other cases on this order" in shown and f'href="/cases/{second["id"]}"' in shown
        r = staff.post(f"/cases/{case['id']}/decision", data={"csrf_token": token, "outcome": "refund"})
        assert r.status_code == 422 and 'id="decision-note-error"' in r.text
        assert "escalated" in api.client.get(f"/v1/cases/{case['id']}", headers=support.auth).json()["status"]
        r = staff.post(
            f"/cases/{case['id']}/decision",
            data={"csrf_token": token, "outcome": "refund", "note": "Transit damage."},
            follow_redirects=False,
        )
        assert r.status_code == 303
    assert api.client.get(f"/v1/cases/{case['id']}", headers=buyer.auth).json()["status"] == "resolved"


def test_a_stranger_cannot_see_a_case_and_sees_the_same_page_as_for_a_missing_one(
    person: TestClient, container: Container, api: Api, clock: FixedClock, buyer: Party, seller: Party
) -> None:
    order = delivered_order(api, buyer, seller, clock)
    case = api.client.post(f"/v1/orders/{order['id']}/cases", json=REPORT, headers=buyer.auth).json()
    api.user("buyer", "Ben Carter", "ben@example.com")
    sign_in(person, container, "ben@example.com")
    foreign, missing = person.get(f"/cases/{case['id']}"), person.get("/cases/cas_nothing")
    assert foreign.status_code == missing.status_code == 404
    assert "chipped" not in foreign.text


def test_a_report_past_the_forms_limits_names_each_field_and_opens_no_case(
    person: TestClient, container: Container, api: Api, clock: FixedClock, buyer: Party, seller: Party
) -> None:
    """Browsers keep to the textarea's maxlength; a client that does not gets the field and the limit."""
    post = reporting(person, container, api, clock, buyer, seller)
    r = post(description="x" * 5001, amount="9" * 21)
    assert r.status_code == 422 and "Please check the form" in r.text
    assert "description: String should have at most 5000 characters" in r.text
    assert "amount: String should have at most 20 characters" in r.text
    assert count(container, cases) == 0
    r = post(description="x" * 5000)
    assert r.status_code in (200, 303) and count(container, cases) == 1


def test_the_report_form_offers_only_the_problems_this_order_can_have_now_and_says_why_not(
    person: TestClient, container: Container, api: Api, clock: FixedClock, buyer: Party, seller: Party
) -> None:
    waiting = api.order(buyer, seller)
    delivered = delivered_order(api, buyer, seller, clock)
    sign_in(person, container, "ana@example.com")

    def choice(html: str, value: str) -> str:
        start = html.index(f'value="{value}"')
        return html[start : html.index("</label>", start)]

    before = person.get(f"/orders/{waiting['id']}/report").text
    assert " disabled" in choice(before, "damaged") and "has not recorded a delivery yet" in choice(
        before, "damaged"
    )
    after = person.get(f"/orders/{delivered['id']}/report").text
    assert " disabled" not in choice(after, "damaged")
    assert " disabled" in choice(after, "not_received") and "recorded the delivery" in choice(
        after, "not_received"
    )
