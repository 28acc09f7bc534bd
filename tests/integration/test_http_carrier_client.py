"""The 17TRACK polling client over `httpx.MockTransport`: what it sends, what it reads, how it fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ordertrail.adapters.carriers.http_client import MAX_NUMBERS, PATH, SeventeenTrackClient
from ordertrail.adapters.carriers.providers import seventeentrack
from ordertrail.services.ports_carriers import CarrierUnavailable, Parcel
from tests.integration.test_provider_parsers import SAMPLES

PUSH = json.loads((SAMPLES / "17track_tracking_updated.json").read_bytes())
NUMBER = PUSH["data"]["number"]


def answer(accepted: list[dict[str, Any]], rejected: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"code": 0, "data": {"accepted": accepted, "rejected": rejected or []}}


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> SeventeenTrackClient:
    return SeventeenTrackClient(
        "api-key-17", base_url="https://api.test", transport=httpx.MockTransport(handler)
    )


def test_it_posts_the_numbers_with_its_key_and_reads_the_same_events_as_the_push() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer([PUSH["data"]]))

    events = client_for(handler).fetch([Parcel(NUMBER)])
    [request] = seen
    assert (request.method, request.url.path, request.headers["17token"]) == ("POST", PATH, "api-key-17")
    assert json.loads(request.content) == [{"number": NUMBER}]
    assert events == seventeentrack.parse((SAMPLES / "17track_tracking_updated.json").read_bytes()).events
    assert len(events) == 5


def test_every_request_carries_a_connect_and_a_total_timeout() -> None:
    timeouts: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, json=answer([]))

    client_for(handler).fetch([Parcel(NUMBER)])
    assert timeouts == [{"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}]


def test_more_numbers_than_one_request_takes_are_split_into_batches() -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sizes.append(len(json.loads(request.content)))
        return httpx.Response(200, json=answer([]))

    client_for(handler).fetch([Parcel(f"RB{i:09d}GB") for i in range(MAX_NUMBERS * 2 + 1)])
    assert sizes == [MAX_NUMBERS, MAX_NUMBERS, 1]


def test_a_rejected_number_and_an_unreadable_tracking_object_are_skipped_but_the_rest_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = {"number": "1ZBROKEN", "track_info": {"tracking": {"providers": "not a list"}}}

    def handler(request: httpx.Request) -> httpx.Response:
        rejected = [{"number": "RB000000000GB", "error": {"code": -18019909, "message": "no registration"}}]
        return httpx.Response(200, json=answer([broken, PUSH["data"]], rejected))

    events = client_for(handler).fetch([Parcel(NUMBER), Parcel("1ZBROKEN"), Parcel("RB000000000GB")])
    assert {e.tracking_number for e in events} == {NUMBER}
    assert "RB000000000GB" in caplog.text and "no registration" in caplog.text
    assert "1ZBROKEN" in caplog.text


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (lambda r: httpx.Response(503, text="maintenance"), "HTTP 503"),
        (lambda r: httpx.Response(401, json={"code": -18010002}), "HTTP 401"),
        (lambda r: httpx.Response(200, text="<html>"), "not JSON"),
        (lambda r: httpx.Response(200, json={"code": -18019901, "data": {}}), "code -18019901"),
        (lambda r: httpx.Response(200, json=[1, 2]), "code None"),
    ],
    ids=["server_error", "bad_key", "not_json", "error_code", "wrong_shape"],
)
def test_a_failed_answer_raises_carrier_unavailable_with_the_reason(
    handler: Callable[[httpx.Request], httpx.Response], reason: str
) -> None:
    with pytest.raises(CarrierUnavailable, match=reason):
        client_for(handler).fetch([Parcel(NUMBER)])


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.ReadTimeout("slow"), "did not answer in time"),
        (httpx.ConnectError("refused"), "could not be reached"),
    ],
)
def test_a_timeout_or_a_connection_error_raises_carrier_unavailable(error: Exception, reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(CarrierUnavailable, match=reason):
        client_for(handler).fetch([Parcel(NUMBER)])
