"""Inputs at the edges that PostgreSQL refuses where SQLite takes anything: each a precise 4xx.

Found by probing the service on PostgreSQL: these were 500s there (docs/security.md)."""

from __future__ import annotations

import base64

import pytest

from ordertrail.entrypoints.web.json import dumps
from ordertrail.services.ports import OutboxMessage
from tests.conftest import Party
from tests.e2e.conftest import Api


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    ["0001-01-01T00:00:00+01:00|x", "9999-12-31T23:59:59-01:00|x", "2026-01-01T00:00:00+00:00|\x00"],
)
@pytest.mark.parametrize("path", ["/v1/orders", "/v1/notifications", "/v1/cases"])
def test_a_cursor_we_never_gave_out_is_refused_on_the_cursor_field(
    api: Api, buyer: Party, raw: str, path: str
) -> None:
    r = api.client.get(path, params={"cursor": cursor(raw)}, headers=buyer.auth)
    assert r.status_code == 422, r.text
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("cursor", "invalid_cursor")]


def test_numeric_cursors_take_plain_digits_that_fit_a_bigint(api: Api, buyer: Party, seller: Party) -> None:
    order = api.order(buyer, seller)
    shipment = api.ship(order["id"], seller, "1Z5R89390357567127")
    support = api.user("support", "Sam")
    for bad in ("²", "9" * 20, "-1"):
        r = api.client.get(
            f"/v1/shipments/{shipment['id']}/raw-payloads", params={"cursor": bad}, headers=support.auth
        )
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "invalid_cursor", bad
    sub = api.client.post(
        "/v1/webhook-subscriptions",
        json={"url": "https://hooks.example.com/x", "events": ["*"]},
        headers=seller.auth,
    ).json()
    for bad in ("2026-01-01T00:00:00+00:00|²", "2026-01-01T00:00:00+00:00|" + "9" * 20):
        r = api.client.get(
            f"/v1/webhook-subscriptions/{sub['id']}/deliveries",
            params={"cursor": cursor(bad)},
            headers=seller.auth,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["code"] == "invalid_cursor", bad


def test_an_email_too_long_once_lower_cased_is_refused_on_its_field(api: Api) -> None:
    email = "İ" * 310 + "@ex.co"  # 316 characters; "i̇" lower-cased is two each: 626
    r = api.client.post("/v1/users", json={"role": "buyer", "name": "X", "email": email}, headers=api.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"


@pytest.mark.parametrize(
    "url", ["https://[::1/", "https://example.com:99999/x", "https://" + "ß" * 70 + ".example/x"]
)
def test_a_webhook_url_no_request_could_be_sent_to_is_refused(api: Api, seller: Party, url: str) -> None:
    r = api.client.post("/v1/webhook-subscriptions", json={"url": url, "events": ["*"]}, headers=seller.auth)
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "field": "url",
        "code": "invalid_url",
        "message": "Give an absolute http:// or https:// URL.",
    }


def test_a_country_code_is_two_latin_letters(api: Api, buyer: Party, seller: Party) -> None:
    """ "ßx" upper-cases to "SSX", which PostgreSQL cut to "SS" without a word."""
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, "1Z5R89390357567127")
    events = [
        {
            "tracking_number": "1Z5R89390357567127",
            "occurred_at": f"2026-11-27T1{i}:00:00Z",
            "status": "in_transit",
            "location": {"city": "Memphis", "country_code": code},
        }
        for i, code in enumerate(["ßx", "😀😀", "U1", "us"])
    ]
    result = api.events(events)
    assert result["accepted"] == 1
    assert {(r["index"], r["errors"][0]["field"]) for r in result["rejected"]} == {
        (0, "location.country_code"),
        (1, "location.country_code"),
        (2, "location.country_code"),
    }


def test_a_lone_surrogate_stored_before_is_answered_as_a_question_mark() -> None:
    assert (
        dumps({"signed_by": "A \ud800SOUZA", "n": [1, "\udfff"]}) == b'{"signed_by":"A ?SOUZA","n":[1,"?"]}'
    )


def test_a_notice_whose_text_a_database_would_refuse_does_not_hold_up_the_others(
    api: Api, buyer: Party, seller: Party
) -> None:
    """The inbox rows of a batch go in one statement: one PostgreSQL refused (a NUL in a street a
    page let through) failed every batch after it, and no notice reached anyone."""
    deps = api.container.deps
    bad = OutboxMessage("address_changed", seller.id, None, {"title": "Address\x00", "body": "1 Main\x00 St"})
    good = OutboxMessage("address_changed", buyer.id, None, {"title": "Fine", "body": "All good"})
    with deps.uow() as uow:
        uow.outbox.add([bad, good], deps.clock())
        uow.commit()
    api.run_worker()
    assert [(n["title"], n["body"]) for n in api.inbox(seller)] == [("Address", "1 Main St")]
    assert [n["title"] for n in api.inbox(buyer)] == ["Fine"]
