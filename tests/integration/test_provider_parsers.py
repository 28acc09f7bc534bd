"""The provider parsers against every recorded payload in shared/data/webhook_samples.

The expected output in golden/ was written by hand from the payloads (see each parser's docstring for
why times come out as they do); it is not a snapshot of what the parser happened to produce.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordertrail.adapters.carriers.providers import PROVIDERS, ParsedWebhook, PayloadError, zones
from ordertrail.domain.carrier_table import CARRIERS
from ordertrail.domain.events import Location, OffsetSource, derive_state
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


def test_easypost_published_signature_vector_verifies_over_the_fixture_body() -> None:
    # EasyPost's client-library fixtures pair secret "sécret" with this signature. It is over
    # event-body.json as published, without the newline the stored sample ends with.
    body = (SAMPLES / "easypost_event_tracker_updated.json").read_bytes().removesuffix(b"\n")
    signature = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"
    now = datetime(2024, 8, 2, 19, 27, tzinfo=UTC)
    assert PROVIDERS["easypost"].verify({"X-Hmac-Signature": signature}, body, "s\u00e9cret", now)
    assert not PROVIDERS["easypost"].verify({"X-Hmac-Signature": signature}, body + b"\n", "s\u00e9cret", now)


# --- unknown codes ---------------------------------------------------------------------------------


def aftership_body(tag: str, subtag: str, tracking_tag: str = "InTransit") -> bytes:
    checkpoint = {
        "slug": "fedex",
        "tag": tag,
        "subtag": subtag,
        "message": "Teleported",
        "checkpoint_time": "2026-11-20T09:00:00+01:00",
        "country_iso3": "DEU",
        "city": "Berlin",
    }
    tracking = {
        "tracking_number": "123456789012",
        "slug": "fedex",
        "tag": tracking_tag,
        "checkpoints": [checkpoint],
    }
    return json.dumps({"event": "tracking_update", "event_id": "e1", "msg": tracking}).encode()


def test_an_unknown_subtag_is_kept_raw_reported_and_mapped_by_its_tag() -> None:
    parsed = PROVIDERS["aftership"].parse(aftership_body("Exception", "Exception_099"))
    (event,) = parsed.events
    assert parsed.unknown_codes == ["Exception_099"]
    assert (event.status, event.substatus, event.raw_status) == (
        ShipmentStatus.EXCEPTION,
        None,
        "Exception_099",
    )


def test_an_unknown_tag_maps_to_in_transit_only_when_the_provider_says_the_parcel_is_moving() -> None:
    moving = PROVIDERS["aftership"].parse(
        aftership_body("Teleport", "Teleport_001", tracking_tag="InTransit")
    )
    assert moving.events[0].status is ShipmentStatus.IN_TRANSIT
    assert moving.events[0].substatus == "unrecognised_carrier_status"
    assert moving.unknown_codes == ["Teleport_001", "Teleport"]
    stopped = PROVIDERS["aftership"].parse(
        aftership_body("Teleport", "Teleport_001", tracking_tag="Delivered")
    )
    assert stopped.events[0].status is ShipmentStatus.EXCEPTION
    assert stopped.events[0].raw_status == "Teleport_001"


def test_easypost_unknown_detail_keeps_the_main_status_and_is_reported() -> None:
    tracker = json.loads(webhook_body("easypost_tracker_retrieve.json"))
    tracker["tracking_details"][1].update(status="in_transit", status_detail="sorted_by_robots")
    parsed = PROVIDERS["easypost"].parse(json.dumps(tracker).encode())
    assert parsed.unknown_codes == ["sorted_by_robots"]
    assert parsed.events[1].status is ShipmentStatus.IN_TRANSIT
    assert parsed.events[1].raw_status == "in_transit/sorted_by_robots"


def test_easypost_detail_overrides_a_moving_status_but_never_a_delivery() -> None:
    tracker = json.loads(webhook_body("easypost_tracker_retrieve.json"))
    tracker["tracking_details"][0].update(status="in_transit", status_detail="weather_delay")
    tracker["tracking_details"][1].update(status="delivered", status_detail="weather_delay")
    first, second = PROVIDERS["easypost"].parse(json.dumps(tracker).encode()).events
    assert (first.status, first.substatus) == (ShipmentStatus.DELAYED, "weather")
    assert (second.status, second.substatus) == (ShipmentStatus.DELIVERED, None)


def test_17track_undocumented_sub_status_maps_by_its_prefix_and_is_reported() -> None:
    push = json.loads(webhook_body("17track_tracking_updated.json"))
    events = push["data"]["track_info"]["tracking"]["providers"][0]["events"]
    events[2]["sub_status"] = "InTransit_TransportArrived"
    parsed = PROVIDERS["17track"].parse(json.dumps(push).encode())
    scan = next(e for e in parsed.events if e.description == "Arrived at Facility")
    assert (scan.status, scan.raw_status) == (ShipmentStatus.IN_TRANSIT, "InTransit_TransportArrived")
    assert parsed.unknown_codes == ["InTransit_TransportArrived"]


def test_17track_latest_status_names_the_newest_scan_even_without_a_stage() -> None:
    push = json.loads(webhook_body("17track_tracking_updated.json"))
    push["data"]["track_info"]["latest_status"] = {"status": "Exception", "sub_status": "Exception_Returning"}
    newest = push["data"]["track_info"]["tracking"]["providers"][0]["events"][0]
    newest.update(stage=None, description="Returning to shipper")
    parsed = PROVIDERS["17track"].parse(json.dumps(push).encode())
    assert parsed.events[-1].status is ShipmentStatus.RETURNING_TO_SENDER
    assert parsed.events[-1].raw_status == "Exception_Returning"


def test_shippo_unknown_substatus_keeps_the_main_status_and_is_reported() -> None:
    track = json.loads(webhook_body("shippo_track_object_api_response.json"))
    track["tracking_history"][3]["substatus"] = {
        "code": "drone_dispatched",
        "text": "?",
        "action_required": False,
    }
    track["tracking_history"][4]["status"] = "LEVITATING"
    parsed = PROVIDERS["shippo"].parse(json.dumps(track).encode())
    assert parsed.unknown_codes == ["drone_dispatched", "LEVITATING"]
    assert parsed.events[3].status is ShipmentStatus.IN_TRANSIT
    assert parsed.events[3].raw_status == "TRANSIT/drone_dispatched"
    # The shipment is DELIVERED, not moving, so an unknown main status is the safe `exception`.
    assert parsed.events[4].status is ShipmentStatus.EXCEPTION


# --- malformed payloads -----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body is not JSON"),
        (b"<html>502 Bad Gateway</html>", "body is not JSON"),
        (b"\xff\xfe\x00garbage", "body is not JSON"),
        (b"[1, 2, 3]", "body must be a JSON object, got list"),
        (b'"tracker.updated"', "body must be a JSON object, got str"),
        (b"[" * 100_000, "body is not JSON"),
    ],
)
def test_a_body_that_is_not_a_json_object_raises_a_payload_error(
    provider: str, body: bytes, message: str
) -> None:
    with pytest.raises(PayloadError, match=f"^{provider}: {message}"):
        PROVIDERS[provider].parse(body)


@pytest.mark.parametrize(
    ("provider", "body", "message"),
    [
        ("easypost", {"object": "Event", "description": "tracker.updated", "result": {"object": "Tracker"}},
         "easypost: result.tracking_code is missing"),
        ("easypost", {"object": "Event", "description": "batch.created", "result": {}},
         "easypost: description is 'batch.created'; only tracker.* events carry tracking"),
        ("easypost", {"object": "Tracker", "tracking_code": "EZ1", "tracking_details": "none"},
         "easypost: tracking_details must be a list, got str"),
        ("easypost", {"object": "Tracker", "tracking_code": "EZ1", "tracking_details": [{"status": "in_transit"}]},
         r"easypost: tracking_details\[0\].datetime is missing"),
        ("aftership", {"event": "tracking_update", "msg": {"slug": "ups"}}, "aftership: msg.tracking_number is missing"),
        ("aftership", {"event": "tracking_update", "msg": {"tracking_number": 42}},
         "aftership: msg.tracking_number must be a string, got int"),
        ("aftership", {"event": "tracking_update", "msg": {"tracking_number": "1", "checkpoints": [{"tag": "InTransit", "checkpoint_time": "yesterday"}]}},
         r"aftership: msg.checkpoints\[0\].checkpoint_time is not an ISO 8601 time: 'yesterday'"),
        ("17track", {"event": "TRACKING_UPDATED", "data": {"carrier": 100002}}, "17track: data.number is missing"),
        ("17track", {"event": "TRACKING_DELETED", "data": {}}, "17track: event must be TRACKING_UPDATED or TRACKING_STOPPED"),
        ("17track", {"event": "TRACKING_UPDATED", "data": {"number": "1Z", "carrier": "UPS"}},
         "17track: data.carrier must be an integer, got 'UPS'"),
        ("shippo", {"event": "track_updated", "data": {"carrier": "usps"}}, "shippo: data.tracking_number is missing"),
        ("shippo", {"event": "track_updated", "data": {"tracking_number": "string"}},
         "shippo: data.tracking_number is the documentation placeholder 'string'"),
        ("shippo", {"event": "transaction_created", "data": {}}, "shippo: event must be 'track_updated'"),
        ("shippo", {"tracking_number": "92055", "tracking_history": [{"status": "TRANSIT", "status_date": "0001-01-01T00:00:00Z"}]},
         r"shippo: tracking_history\[0\].status_date is out of range"),
    ],
)  # fmt: skip
def test_a_payload_of_the_wrong_shape_raises_a_payload_error_naming_the_path(
    provider: str, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(PayloadError, match=f"^{message}"):
        PROVIDERS[provider].parse(json.dumps(body).encode())


def test_17track_tracking_stopped_gives_no_events() -> None:
    body = {"event": "TRACKING_STOPPED", "data": {"number": "1Z2617V10397725789", "carrier": 100002}}
    parsed = PROVIDERS["17track"].parse(json.dumps(body).encode())
    assert (parsed.tracking_number, parsed.carrier_slug, parsed.events) == ("1Z2617V10397725789", "ups", [])


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(
        ["", "string", "Z", "2024-13-45", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
         "2026-03-08T02:30:00", "2026-11-01T01:30:00", "InTransit_001", "DELIVERED", "US", "CA", "USA", "100002"]
    )
)  # fmt: skip
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*here, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _paths(child, (*here, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


@pytest.mark.parametrize(("sample", "provider"), sorted(WEBHOOK_SAMPLES.items()))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_recorded_payload_parses_or_raises_payload_error_and_nothing_else(
    sample: str, provider: str, data: st.DataObject
) -> None:
    document = json.loads(webhook_body(sample))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(_paths(document)))
        document = _replace(document, path, data.draw(JSON_VALUES))
    try:
        parsed = PROVIDERS[provider].parse(json.dumps(document).encode())
    except PayloadError:
        return
    assert all(e.occurred_at.utcoffset() is not None for e in parsed.events)


# --- zones -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "carrier", "zone", "source"),
    [
        (Location(region="FL", country_code="US"), None, "America/New_York", OffsetSource.LOCATION),
        (Location(region="US-AZ", country_code="USA"), None, "America/Phoenix", OffsetSource.LOCATION),
        (Location(postal_code="32837", country_code="US"), None, "America/New_York", OffsetSource.LOCATION),
        (Location(postal_code="V6B 1A1", country_code="CA"), None, "America/Vancouver", OffsetSource.LOCATION),
        (Location(region="TX"), "usps", "America/Chicago", OffsetSource.LOCATION),
        (Location(region="AM", country_code="BR"), None, "America/Manaus", OffsetSource.LOCATION),
        (Location(region="PRI", country_code="RU"), None, "Asia/Vladivostok", OffsetSource.LOCATION),
        (Location(city="SAPPORO", country_code="JP"), "fedex", "Asia/Tokyo", OffsetSource.LOCATION),
        (Location(country_code="US"), "fedex", "America/Chicago", OffsetSource.CARRIER_DEFAULT),
        (None, "ups", "America/New_York", OffsetSource.CARRIER_DEFAULT),
        (Location(country_code="RU"), "ups", None, None),  # UPS's home zone says nothing about Russia
        (Location(country_code="AU"), None, None, None),
        (None, "s10_post", None, None),  # a "UTC" home is no knowledge
        (None, None, None, None),
    ],
)  # fmt: skip
def test_a_scans_zone_comes_from_its_place_then_its_carriers_home_country(
    location: Location | None, carrier: str | None, zone: str | None, source: str | None
) -> None:
    found = zones.zone_for(location, carrier)
    assert (str(found[0]), found[1]) == (zone, source) if found else (zone, source) == (None, None)


def test_a_wall_clock_time_keeps_its_date_even_when_nothing_is_known_about_its_zone() -> None:
    late = datetime.fromisoformat("2026-11-30T23:30:00")  # a wall clock: naive on purpose
    moment, source = zones.from_wall_clock(late, None, None)
    assert (moment.isoformat(), source) == ("2026-11-30T23:30:00+00:00", OffsetSource.ASSUMED_UTC)
    moment, source = zones.from_wall_clock(
        late.replace(tzinfo=UTC), Location(city="Oakland", region="CA", country_code="US"), None
    )
    assert (moment.isoformat(), source) == ("2026-11-30T23:30:00-08:00", OffsetSource.LOCATION)


def test_a_true_instant_is_shown_on_the_local_calendar_day_of_the_scan() -> None:
    instant = datetime(2024, 8, 2, 2, 46, 19, tzinfo=UTC)
    moment, source = zones.from_instant(
        instant, Location(city="KENLY", region="NC", country_code="US"), "fedex"
    )
    assert (moment.isoformat(), source) == ("2024-08-01T22:46:19-04:00", OffsetSource.LOCATION)
    assert moment == instant


def test_a_wall_clock_time_in_the_autumn_fold_takes_the_earlier_reading() -> None:
    moment, _ = zones.from_wall_clock(
        datetime.fromisoformat("2026-11-01T01:30"), Location(region="NY", country_code="US"), None
    )
    assert moment.isoformat() == "2026-11-01T01:30:00-04:00"


@pytest.mark.parametrize(
    ("given_code", "alpha2"), [("CHN", "CN"), ("jpn", "JP"), ("US", "US"), ("Germany", None), ("", None)]
)
def test_country_codes_are_normalised_to_alpha_2(given_code: str, alpha2: str | None) -> None:
    assert zones.country_code(given_code) == alpha2
