"""The native webhooks of EasyPost, AfterShip, 17TRACK and Shippo, end to end over HTTP.

Each recorded sample in shared/data/webhook_samples is posted, signed the way its provider signs, to a
shipment created through the API with the sample's tracking number and carrier; the tracking timeline
must then show every event of the sample, compared with the hand-written golden output of the parser
tests. Three samples carry numbers our check-digit validation rightly refuses (EasyPost's fixture
number "1", EasyPost's test-mode code EZ1000000001, and AfterShip's SDK number 111111111111, which
fails FedEx's check digit); their shipments are created with `tracked_by`, the documented allowance
for numbers an aggregator already tracks (domain.carriers, rule 4).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ordertrail.adapters.carriers.providers import aftership, easypost, seventeentrack, shippo
from ordertrail.adapters.db.tables import tracking_events
from ordertrail.adapters.db.tables_carriers import inbound_payloads
from ordertrail.bootstrap import Container
from ordertrail.config import Settings
from ordertrail.services.webhooks_inbound import purge_inbound_payloads
from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api
from tests.integration.test_provider_parsers import SAMPLES, WEBHOOK_SAMPLES, webhook_body

GOLDEN = Path(__file__).resolve().parents[1] / "integration" / "golden"

SECRETS = {
    "easypost": "sécret-of-easypost",
    "aftership": "aftership-webhook-secret",
    "17track": "17track-api-key",
    "shippo": "shippo-webhook-secret",
}

# Samples whose number fails our validation for its carrier, and why (see the module docstring).
REFUSED_NUMBERS = {
    "easypost_event_tracker_updated.json": "invalid_format",  # "1": the fixture's placeholder
    "easypost_tracker_retrieve.json": "invalid_format",  # EZ1000000001: EasyPost test mode
    "aftership_tracking_get_response.json": "invalid_check_digit",  # 111111111111 as FedEx
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={f"webhook_secret_{name}": secret for name, secret in SECRETS.items()})


def signed(provider: str, body: bytes, now: datetime, secret: str | None = None) -> dict[str, str]:
    key = SECRETS[provider] if secret is None else secret
    if provider == "easypost":
        return {easypost.SIGNATURE_HEADER: easypost.sign(body, key)}
    if provider == "aftership":
        return {aftership.SIGNATURE_HEADER: aftership.sign(body, key)}
    if provider == "17track":
        return {seventeentrack.SIGNATURE_HEADER: seventeentrack.sign(body, key)}
    return {shippo.SIGNATURE_HEADER: shippo.sign(body, key, int(now.timestamp()))}


def post(client: TestClient, provider: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(
        f"/v1/webhooks/inbound/{provider}",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )


def easypost_parcel(api: Api, buyer: Party, seller: Party) -> tuple[dict[str, Any], str]:
    """An order whose UPS parcel EasyPost tracks for us: the order and its tracking number."""
    order = api.order(buyer, seller)
    number = "1Z5R89390357567127"
    r = api.client.post(
        f"/v1/orders/{order['id']}/shipments",
        json={"tracking_number": number, "carrier": "ups", "tracked_by": "easypost"},
        headers=seller.auth,
    )
    assert r.status_code == 201, r.text
    return order, number


def golden(sample: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / sample).read_text())
    return data


def ship_sample(api: Api, buyer: Party, seller: Party, sample: str) -> tuple[dict[str, Any], dict[str, Any]]:
    expected = golden(sample)
    order = api.order(buyer, seller)
    body: dict[str, Any] = {
        "tracking_number": expected["tracking_number"],
        "carrier": expected["carrier_slug"],
    }
    if sample in REFUSED_NUMBERS:
        body["tracked_by"] = WEBHOOK_SAMPLES[sample]
    r = api.client.post(f"/v1/orders/{order['id']}/shipments", json=body, headers=seller.auth)
    assert r.status_code == 201, r.text
    return order, r.json()


def counts(container: Container) -> tuple[int, int]:
    with container.engine.connect() as conn:
        payloads = conn.execute(select(func.count()).select_from(inbound_payloads)).scalar_one()
        events = conn.execute(select(func.count()).select_from(tracking_events)).scalar_one()
    return payloads, events


def timeline(api: Api, order_id: str, party: Party) -> dict[str, Any]:
    r = api.client.get(f"/v1/orders/{order_id}/tracking", headers=party.auth)
    assert r.status_code == 200, r.text
    shipment: dict[str, Any] = r.json()["shipments"][0]
    return shipment


# --- every provider, every recorded sample ---------------------------------------------------------


@pytest.mark.parametrize(("sample", "provider"), sorted(WEBHOOK_SAMPLES.items()))
def test_a_signed_sample_puts_every_one_of_its_events_on_the_shipments_timeline(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, sample: str, provider: str
) -> None:
    order, _ = ship_sample(api, buyer, seller, sample)
    body = webhook_body(sample)
    r = post(api.client, provider, body, signed(provider, body, clock.now))
    assert r.status_code == 202, r.text
    expected = golden(sample)
    assert r.json()["accepted"] == len(expected["events"])
    assert (r.json()["duplicates"], r.json()["rejected"], r.json()["replayed"]) == (0, [], False)

    shipment = timeline(api, order["id"], buyer)
    shown = Counter((e["local_time"], e["status"], e["description"]) for e in shipment["events"])
    assert shown == Counter((e["occurred_at"], e["status"], e["description"]) for e in expected["events"])
    assert [e["occurred_at"] for e in shipment["events"]] == sorted(
        (e["occurred_at"] for e in shipment["events"]), reverse=True
    )
    newest = max(expected["events"], key=lambda e: datetime.fromisoformat(e["occurred_at"]))
    assert shipment["status"] == newest["status"]


@pytest.mark.parametrize(
    ("sample", "provider"),
    [(s, p) for s, p in sorted(WEBHOOK_SAMPLES.items()) if golden(s)["estimated_delivery"]],
)
def test_the_providers_estimated_delivery_date_reaches_the_shipment(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, sample: str, provider: str
) -> None:
    order, _ = ship_sample(api, buyer, seller, sample)
    body = webhook_body(sample)
    assert post(api.client, provider, body, signed(provider, body, clock.now)).status_code == 202
    shipment = timeline(api, order["id"], seller)
    assert shipment["carrier_estimated_delivery"] == golden(sample)["estimated_delivery"]


def test_aftership_proof_of_delivery_reaches_the_delivered_shipment(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    sample = "aftership_tracking_get_response.json"
    order, _ = ship_sample(api, buyer, seller, sample)
    body = webhook_body(sample)
    assert post(api.client, "aftership", body, signed("aftership", body, clock.now)).status_code == 202
    shipment = timeline(api, order["id"], buyer)
    assert shipment["status"] == "delivered"
    assert shipment["proof_of_delivery"] == {"type": "signature", "signed_by": "..KOSUTOKO"}
    assert shipment["delivered_at"] == "2018-07-25T01:10:00Z"
    public = api.client.get(f"/v1/track/{shipment['tracking_number']}").json()
    assert public["proof_of_delivery"] == {"type": "signature"}  # the signer's name is personal


@pytest.mark.parametrize("sample", sorted(REFUSED_NUMBERS))
def test_a_sample_number_failing_its_carriers_check_is_refused_unless_an_aggregator_tracks_it(
    api: Api, buyer: Party, seller: Party, sample: str
) -> None:
    expected = golden(sample)
    order = api.order(buyer, seller)
    url = f"/v1/orders/{order['id']}/shipments"
    plain = {"tracking_number": expected["tracking_number"], "carrier": expected["carrier_slug"]}
    r = api.client.post(url, json=plain, headers=seller.auth)
    assert r.status_code == 422
    assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["code"]) == (
        "tracking_number",
        REFUSED_NUMBERS[sample],
    )
    tracked = {"tracking_number": expected["tracking_number"], "tracked_by": WEBHOOK_SAMPLES[sample]}
    r = api.client.post(url, json=tracked, headers=seller.auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "carrier"
    r = api.client.post(url, json={**plain, **tracked}, headers=seller.auth)
    assert r.status_code == 201, r.text
    assert (r.json()["carrier"], r.json()["tracking_number"]) == (
        expected["carrier_slug"],
        expected["tracking_number"],
    )


def test_an_aggregator_tracked_number_must_still_be_letters_and_digits(
    api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    body = {"tracking_number": "EZ-10000/0001", "carrier": "usps", "tracked_by": "easypost"}
    r = api.client.post(f"/v1/orders/{order['id']}/shipments", json=body, headers=seller.auth)
    assert r.status_code == 422
    assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["code"]) == (
        "tracking_number",
        "invalid_format",
    )


# --- signatures ------------------------------------------------------------------------------------

PROVIDER_SAMPLE = {
    "easypost": "easypost_event_tracker_updated.json",
    "aftership": "aftership_tracking_get_response.json",
    "17track": "17track_tracking_updated.json",
    "shippo": "shippo_track_object_api_response.json",
}


def tampered(body: bytes) -> bytes:
    """The same delivery with one field added: still a payload the parser reads, so only the
    signature can tell."""
    data = json.loads(body)
    data["tampered"] = True
    return json.dumps(data).encode()


@pytest.mark.parametrize("provider", sorted(PROVIDER_SAMPLE))
@pytest.mark.parametrize(
    "attack", ["tampered_body", "wrong_secret", "missing_header", "no_secret_configured"]
)
def test_a_delivery_without_a_valid_signature_is_refused_with_401_and_nothing_is_stored(
    api: Api,
    buyer: Party,
    seller: Party,
    clock: FixedClock,
    container: Container,
    provider: str,
    attack: str,
) -> None:
    sample = PROVIDER_SAMPLE[provider]
    order, _ = ship_sample(api, buyer, seller, sample)
    body = webhook_body(sample)
    headers = signed(provider, body, clock.now)
    if attack == "tampered_body":
        body = tampered(body)
    elif attack == "wrong_secret":
        headers = signed(provider, body, clock.now, secret="not-the-secret")
    elif attack == "missing_header":
        headers = {}
    else:
        setattr(container.settings, f"webhook_secret_{provider}", None)
    r = post(api.client, provider, body, headers)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert counts(container) == (0, 0)
    assert timeline(api, order["id"], buyer)["events"] == []


def test_a_shippo_signature_older_than_the_tolerance_is_refused(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, container: Container
) -> None:
    sample = PROVIDER_SAMPLE["shippo"]
    ship_sample(api, buyer, seller, sample)
    body = webhook_body(sample)
    headers = signed("shippo", body, clock.now)
    clock.advance(minutes=6)
    assert post(api.client, "shippo", body, headers).status_code == 401
    assert counts(container) == (0, 0)


@pytest.mark.parametrize("provider", sorted(PROVIDER_SAMPLE))
def test_a_replayed_delivery_is_all_duplicates_and_stores_nothing_new(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, container: Container, provider: str
) -> None:
    sample = PROVIDER_SAMPLE[provider]
    order, _ = ship_sample(api, buyer, seller, sample)
    body = webhook_body(sample)
    first = post(api.client, provider, body, signed(provider, body, clock.now)).json()
    before = counts(container)
    shown = timeline(api, order["id"], buyer)
    clock.advance(minutes=1)
    again = post(api.client, provider, body, signed(provider, body, clock.now))
    assert again.status_code == 202, again.text
    assert again.json()["replayed"] is True
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, first["accepted"])
    assert again.json()["payload_id"] == first["payload_id"]
    assert counts(container) == before
    assert timeline(api, order["id"], buyer) == shown


# --- refusals --------------------------------------------------------------------------------------


def test_an_unknown_provider_is_404(api: Api) -> None:
    r = post(api.client, "fedex", b"{}", {})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_a_signed_body_that_is_not_json_is_400_and_stores_nothing(
    api: Api, clock: FixedClock, container: Container
) -> None:
    body = b'{"object": "Event", '
    r = post(api.client, "easypost", body, signed("easypost", body, clock.now))
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"  # as on every endpoint
    assert counts(container) == (0, 0)


def test_a_signed_payload_of_the_wrong_shape_is_422_naming_the_path_and_stores_nothing(
    api: Api, clock: FixedClock, container: Container
) -> None:
    body = json.dumps({"event": "TRACKING_UPDATED", "data": {"track_info": {}}}).encode()
    r = post(api.client, "17track", body, signed("17track", body, clock.now))
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert (error["field"], error["code"]) == ("body", "invalid_payload")
    assert error["message"] == "17track: data.number is missing"
    assert counts(container) == (0, 0)


def test_a_delivery_for_a_number_no_shipment_has_is_kept_and_its_events_rejected(
    api: Api, clock: FixedClock, container: Container
) -> None:
    body = webhook_body(PROVIDER_SAMPLE["17track"])
    r = post(api.client, "17track", body, signed("17track", body, clock.now))
    assert r.status_code == 202
    assert r.json()["accepted"] == 0
    assert {e["errors"][0]["code"] for e in r.json()["rejected"]} == {"unknown_tracking_number"}
    assert counts(container) == (1, 0)


# --- unknown codes, tracing and retention -----------------------------------------------------------


def metric(client: TestClient, provider: str) -> float:
    line = f'ordertrail_unknown_carrier_codes_total{{provider="{provider}"}} '
    for text in client.get("/metrics").text.splitlines():
        if text.startswith(line):
            return float(text[len(line) :])
    return 0.0


def test_an_unknown_provider_code_is_kept_raw_logged_and_counted_in_metrics(
    api: Api,
    buyer: Party,
    seller: Party,
    clock: FixedClock,
    container: Container,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sample = PROVIDER_SAMPLE["easypost"]
    order, _ = ship_sample(api, buyer, seller, sample)
    data = json.loads(webhook_body(sample))
    data["result"]["tracking_details"][-1]["status_detail"] = "teleported"
    body = json.dumps(data).encode()
    before = metric(api.client, "easypost")
    r = post(api.client, "easypost", body, signed("easypost", body, clock.now))
    assert r.status_code == 202
    assert r.json()["unknown_codes"] == ["teleported"]
    assert metric(api.client, "easypost") == before + 1
    assert "teleported" in caplog.text
    with container.engine.connect() as conn:
        raw = conn.execute(
            select(tracking_events.c.raw_status).where(tracking_events.c.raw_status.like("%teleported"))
        ).all()
    assert [r.raw_status for r in raw] == ["in_transit/teleported"]
    newest = timeline(api, order["id"], buyer)["events"][0]
    assert (newest["description"], newest["status"]) == ("Arrived at FedEx location", "in_transit")


def test_support_sees_the_raw_payloads_behind_a_shipments_events_and_others_do_not(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    sample = PROVIDER_SAMPLE["shippo"]
    _, shipment = ship_sample(api, buyer, seller, sample)
    body = webhook_body(sample)
    posted = post(api.client, "shippo", body, signed("shippo", body, clock.now)).json()
    support = api.user("support", "Sam Support")
    url = f"/v1/shipments/{shipment['id']}/raw-payloads"
    r = api.client.get(url, headers=support.auth)
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert (item["id"], item["provider"], item["events"]) == (
        posted["payload_id"],
        "shippo",
        posted["accepted"],
    )
    assert item["body"] == json.loads((SAMPLES / sample).read_bytes())
    # The database numbers payloads 1, 2, 3 ...; the ids shown are keyed, not in sequence (API.md).
    again = post(api.client, "shippo", body, signed("shippo", body, clock.now)).json()
    assert again["payload_id"] == posted["payload_id"] and again["replayed"]  # the same payload
    assert posted["payload_id"].startswith("pay_") and len(posted["payload_id"]) == 20
    assert item["outcome"] == {"accepted": posted["accepted"], "duplicates": 0, "rejected": 0}
    assert r.json()["next_cursor"] is None
    assert api.client.get(url, headers=api.admin).status_code == 200
    assert api.client.get(url, headers=buyer.auth).status_code == 403
    assert api.client.get(url, headers=seller.auth).status_code == 403
    assert api.client.get("/v1/shipments/shp_nope/raw-payloads", headers=support.auth).status_code == 404


def test_each_payload_is_listed_with_the_events_it_produced_newest_first_in_pages(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    sample = PROVIDER_SAMPLE["easypost"]
    _, shipment = ship_sample(api, buyer, seller, sample)
    full = json.loads(webhook_body(sample))
    first = json.loads(json.dumps(full))
    first["result"]["tracking_details"] = first["result"]["tracking_details"][:3]
    ids = []
    for data in (first, full):
        body = json.dumps(data).encode()
        ids.append(
            post(api.client, "easypost", body, signed("easypost", body, clock.now)).json()["payload_id"]
        )
    support = api.user("support")
    url = f"/v1/shipments/{shipment['id']}/raw-payloads"
    page = api.client.get(url, params={"limit": 1}, headers=support.auth).json()
    assert [(i["id"], i["events"]) for i in page["items"]] == [(ids[1], 4)]
    rest = api.client.get(
        url, params={"limit": 1, "cursor": page["next_cursor"]}, headers=support.auth
    ).json()
    assert [(i["id"], i["events"]) for i in rest["items"]] == [(ids[0], 3)]
    assert rest["next_cursor"] is None


def test_payloads_past_the_retention_period_are_purged_and_their_events_stay(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, container: Container
) -> None:
    sample = PROVIDER_SAMPLE["17track"]
    order, shipment = ship_sample(api, buyer, seller, sample)
    body = webhook_body(sample)
    post(api.client, "17track", body, signed("17track", body, clock.now))
    assert container.deps.inbound_payload_retention.days == 30
    assert purge_inbound_payloads(container.deps, clock.advance(days=29)) == {"purged": 0}
    assert purge_inbound_payloads(container.deps, clock.advance(days=2)) == {"purged": 1}
    assert counts(container) == (0, len(golden(sample)["events"]))
    support = api.user("support")
    listed = api.client.get(f"/v1/shipments/{shipment['id']}/raw-payloads", headers=support.auth).json()
    assert listed["items"] == []
    assert len(timeline(api, order["id"], buyer)["events"]) == len(golden(sample)["events"])


def test_a_nul_character_in_a_providers_text_is_dropped_and_the_events_stored(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    """PostgreSQL cannot store NUL: refusing the payload would make the provider resend it for days."""
    sample, provider = "shippo_track_updated_docs_example.json", "shippo"
    assert WEBHOOK_SAMPLES[sample] == provider
    order, _ = ship_sample(api, buyer, seller, sample)
    payload = json.loads(webhook_body(sample))
    payload["data"]["tracking_history"][0]["status_details"] = "Delivered\u0000 to the mailbox"
    body = json.dumps(payload).encode()
    assert b"\\u0000" in body
    r = post(api.client, provider, body, signed(provider, body, clock.now))
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] >= 1 and r.json()["rejected"] == []
    descriptions = [e["description"] for e in timeline(api, order["id"], buyer)["events"]]
    assert "Delivered to the mailbox" in descriptions


def test_a_shippo_timestamp_that_is_not_plain_digits_is_refused_as_unsigned(api: Api) -> None:
    """'²' passes isdigit() and int() refused it; so did a 4,301-digit number: both were 500s."""
    for stamp in ("²".encode("latin-1"), b"9" * 4301, "１２３".encode()):
        r = api.client.post(
            "/v1/webhooks/inbound/shippo",
            content=b"{}",
            headers={shippo.SIGNATURE_HEADER: b"t=" + stamp + b",v1=00", "Content-Type": "application/json"},
        )
        assert r.status_code == 401, stamp[:10]


def test_a_lone_surrogate_in_a_providers_text_is_stored_as_a_question_mark_and_the_order_still_reads(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    """PostgreSQL refused the half character (500, the payload kept and every resend failing again),
    or, inside proof of delivery, stored it so that every later read of the order failed."""
    order, number = easypost_parcel(api, buyer, seller)
    body = (
        '{"object":"Event","id":"evt_\\ud800","description":"tracker.updated","result":{"object":"Tracker",'
        f'"tracking_code":"{number}","carrier":"UPS","status":"delivered","signed_by":"A \\ud800SOUZA",'
        '"tracking_details":[{"datetime":"2026-11-28T10:00:00Z","status":"in_transit",'
        '"status_detail":"arrived_at_facility","message":"Arrived","carrier_code":"A\\ud800R"},'
        '{"datetime":"2026-11-28T16:00:00Z","status":"delivered","message":"Delivered"}]}}'
    ).encode()
    clock.advance(days=2)  # the provider reports the scans of the 28th on the day
    r = post(api.client, "easypost", body, signed("easypost", body, clock.now))
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 2
    shipment = timeline(api, order["id"], buyer)
    assert shipment["status"] == "delivered" and shipment["proof_of_delivery"]["signed_by"] == "A ?SOUZA"
    assert {e["carrier_code"] for e in shipment["events"]} == {"A?R", None}
    for path in (f"/v1/orders/{order['id']}", "/v1/orders"):
        assert api.client.get(path, headers=buyer.auth).status_code == 200


def test_a_providers_overlong_texts_are_cut_to_the_apis_limits_alike_on_both_databases(
    api: Api, buyer: Party, seller: Party, container: Container
) -> None:
    """PostgreSQL's columns used to cut them silently while SQLite kept them whole."""
    _, number = easypost_parcel(api, buyer, seller)
    long = "X" * 3000
    body = json.dumps(
        {
            "object": "Event",
            "id": "evt_long",
            "description": "tracker.updated",
            "result": {
                "object": "Tracker",
                "tracking_code": number,
                "carrier": "UPS",
                "status": "in_transit",
                "tracking_details": [
                    {
                        "datetime": "2026-11-26T08:00:00Z",
                        "status": "in_transit",
                        "status_detail": "arrived_at_facility",
                        "message": long,
                        "carrier_code": long,
                        "tracking_location": {"city": long, "state": long, "zip": long, "country": "US"},
                    }
                ],
            },
        }
    ).encode()
    r = post(api.client, "easypost", body, signed("easypost", body, container.deps.clock()))
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    with container.engine.connect() as c:
        (row,) = c.execute(select(tracking_events)).all()
    assert (
        len(row.description),
        len(row.carrier_code),
        len(row.city),
        len(row.region),
        len(row.postal_code),
    ) == (
        1000,
        64,
        120,
        120,
        20,
    )
    # The same delivery again (a provider's retry, a new delivery id) is the same scan, not a second one.
    again = body.replace(b"evt_long", b"evt_long_retry")
    r = post(api.client, "easypost", again, signed("easypost", again, container.deps.clock()))
    assert r.json()["duplicates"] == 1 and r.json()["accepted"] == 0, r.text
