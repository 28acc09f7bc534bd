"""The provider parsers against every recorded payload in shared/data/webhook_samples.

The expected output in golden/ was written by hand from the payloads (see each parser's docstring for
why times come out as they do); it is not a snapshot of what the parser happened to produce.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from ordertrail.adapters.carriers.providers import PROVIDERS, ParsedWebhook, PayloadError
from ordertrail.domain.carrier_table import CARRIERS
from ordertrail.domain.events import derive_state
from ordertrail.domain.statuses import ShipmentStatus

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "webhook_samples"
GOLDEN = Path(__file__).parent / "golden"

# AfterShip publishes no webhook body; the sample is a GET /trackings response whose data.tracking
# is what the webhook carries in `msg`. This id stands in for the envelope's event_id.
AFTERSHIP_EVENT_ID = "6f5b2e64-3b5a-4c1e-9d55-0c1f2b7a9e10"

WEBHOOK_SAMPLES = {
    "easypost_event_tracker_updated.json": "easypost",
    "easypost_tracker_retrieve.json": "easypost",
    "aftership_tracking_get_response.json": "aftership",
    "17track_tracking_updated.json": "17track",
    "shippo_track_updated_docs_example.json": "shippo",
    "shippo_track_object_api_response.json": "shippo",
}
# AfterShip's estimated-delivery-date prediction API, recorded beside the webhooks: not a webhook.
NOT_WEBHOOKS = {"aftership_edd_batch_predict_request.json", "aftership_edd_batch_predict_result.json"}


def webhook_body(sample: str) -> bytes:
    raw = (SAMPLES / sample).read_bytes()
    if sample != "aftership_tracking_get_response.json":
        return raw
    envelope = {
        "event": "tracking_update",
        "event_id": AFTERSHIP_EVENT_ID,
        "is_tracking_first_tag": False,
        "msg": json.loads(raw)["data"]["tracking"],
        "ts": 1534482646,
    }
    return json.dumps(envelope).encode()


def as_plain(parsed: ParsedWebhook) -> dict[str, Any]:
    def date_or_none(value: Any) -> Any:
        return value.isoformat() if value is not None else None

    def pod(value: Any) -> Any:
        return asdict(value) if value is not None else None

    return {
        "tracking_number": parsed.tracking_number,
        "carrier_slug": parsed.carrier_slug,
        "estimated_delivery": date_or_none(parsed.estimated_delivery),
        "proof_of_delivery": pod(parsed.proof_of_delivery),
        "unknown_codes": parsed.unknown_codes,
        "provider_event_id": parsed.provider_event_id,
        "events": [
            {
                "occurred_at": e.occurred_at.isoformat(),
                "offset_source": e.offset_source,
                "status": str(e.status),
                "substatus": e.substatus,
                "raw_status": e.raw_status,
                "description": e.description,
                "carrier_code": e.carrier_code,
                "carrier": e.carrier,
                "event_id": e.event_id,
                "location": asdict(e.location) if e.location is not None else None,
                "estimated_delivery": date_or_none(e.estimated_delivery),
                "proof_of_delivery": pod(e.proof_of_delivery),
            }
            for e in parsed.events
        ],
    }


def test_every_recorded_sample_is_covered_by_a_golden_test() -> None:
    recorded = {path.name for path in SAMPLES.glob("*.json")}
    assert recorded == set(WEBHOOK_SAMPLES) | NOT_WEBHOOKS
    assert {path.name for path in GOLDEN.glob("*.json")} == set(WEBHOOK_SAMPLES)


@pytest.mark.parametrize(("sample", "provider"), sorted(WEBHOOK_SAMPLES.items()))
def test_recorded_payload_parses_to_its_hand_written_golden_output(sample: str, provider: str) -> None:
    parsed = PROVIDERS[provider].parse(webhook_body(sample))
    expected = json.loads((GOLDEN / sample).read_text())
    actual = as_plain(parsed)
    assert actual["events"] == expected["events"]
    assert actual == expected


@pytest.mark.parametrize(("sample", "provider"), sorted(WEBHOOK_SAMPLES.items()))
def test_recorded_payload_events_keep_local_wall_clock_and_never_repeat(sample: str, provider: str) -> None:
    parsed = PROVIDERS[provider].parse(webhook_body(sample))
    assert parsed.events, "every recorded webhook has scans"
    assert [e.occurred_at_utc for e in parsed.events] == sorted(e.occurred_at_utc for e in parsed.events)
    assert len({e.content_hash for e in parsed.events}) == len(parsed.events)
    assert all(e.tracking_number == parsed.tracking_number for e in parsed.events)


@pytest.mark.parametrize("sample", sorted(NOT_WEBHOOKS))
def test_aftership_edd_prediction_files_are_refused_as_not_being_webhooks(sample: str) -> None:
    with pytest.raises(PayloadError, match=r"aftership: msg is missing: not an AfterShip webhook envelope"):
        PROVIDERS["aftership"].parse((SAMPLES / sample).read_bytes())


def test_every_carrier_slug_a_parser_emits_is_one_ordertrail_knows() -> None:
    known = {carrier.slug for carrier in CARRIERS}
    for sample, provider in WEBHOOK_SAMPLES.items():
        parsed = PROVIDERS[provider].parse(webhook_body(sample))
        assert {parsed.carrier_slug, *(e.carrier for e in parsed.events)} <= known | {None}, sample


def test_recorded_deliveries_fold_to_delivered_with_the_providers_proof_and_estimate() -> None:
    aftership = PROVIDERS["aftership"].parse(webhook_body("aftership_tracking_get_response.json"))
    state = derive_state(aftership.events)
    assert state.status is ShipmentStatus.DELIVERED
    assert state.proof_of_delivery is not None and state.proof_of_delivery.signed_by == "..KOSUTOKO"
    assert state.carrier_estimated_delivery == aftership.estimated_delivery
    assert state.delivered_at is not None and state.delivered_at.isoformat() == "2018-07-25T01:10:00+00:00"

    shippo = PROVIDERS["shippo"].parse(webhook_body("shippo_track_object_api_response.json"))
    assert derive_state(shippo.events).status is ShipmentStatus.DELIVERED
    # Pacific wall-clock 15:19 on 8 December, not 07:19 as a "Z" would have it.
    assert shippo.events[-1].occurred_at_utc.isoformat() == "2016-12-08T23:19:00+00:00"


def test_the_17track_registration_code_loses_to_the_carrier_that_produced_the_events() -> None:
    body = json.loads(webhook_body("17track_tracking_updated.json"))
    assert body["data"]["carrier"] == 3011  # China Post, for a UPS number
    assert PROVIDERS["17track"].parse(webhook_body("17track_tracking_updated.json")).carrier_slug == "ups"
