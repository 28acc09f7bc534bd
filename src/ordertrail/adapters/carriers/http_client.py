"""A carrier that must be polled over HTTP: 17TRACK's tracking API (`POST /track/v2.2/gettrackinfo`).

17TRACK follows numbers of thousands of carriers, so one client polls every carrier that pushes
nothing itself. Its answer lists, per number, the same object a 17TRACK push carries in `data`
(`number`, `carrier`, `track_info`), so the push parser reads it and both paths give the same events.

What the client guarantees, and why:
* Every request has a connect and a total timeout: a hung carrier API must not hold the worker.
* At most `MAX_NUMBERS` numbers per request (17TRACK's limit); the scheduler's rate limit counts
  requests, so `fetch` is given at most one batch at a time by `services.polling`.
* A failed request (timeout, connection error, HTTP error status, non-JSON or an error `code`)
  raises `CarrierUnavailable` with the reason; nothing is swallowed. A number 17TRACK rejects (not
  registered, for one) is logged and skipped; one unreadable tracking object is logged and skipped
  so the other numbers of the batch still count.
* Numbers must be registered with 17TRACK first (its `register` call), as for its push.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from ordertrail.adapters.carriers.providers import PayloadError, seventeentrack
from ordertrail.domain.events import ScanEvent
from ordertrail.services.ports_carriers import CarrierUnavailable, Parcel

log = logging.getLogger(__name__)

BASE_URL = "https://api.17track.net"
PATH = "/track/v2.2/gettrackinfo"
MAX_NUMBERS = 40
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class SeventeenTrackClient:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = BASE_URL,
        timeout: httpx.Timeout = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={"17token": api_key, "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def fetch(self, parcels: Sequence[Parcel]) -> list[ScanEvent]:
        events: list[ScanEvent] = []
        for start in range(0, len(parcels), MAX_NUMBERS):
            events += self._fetch_batch(parcels[start : start + MAX_NUMBERS])
        return events

    def _fetch_batch(self, parcels: Sequence[Parcel]) -> list[ScanEvent]:
        body = [{"number": parcel.tracking_number} for parcel in parcels]
        try:
            response = self._http.post(PATH, json=body)
        except httpx.TimeoutException as exc:
            raise CarrierUnavailable(f"17TRACK did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise CarrierUnavailable(f"17TRACK could not be reached: {exc}") from exc
        if response.status_code >= 400:
            raise CarrierUnavailable(f"17TRACK answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            answer = response.json()
        except ValueError:
            raise CarrierUnavailable("17TRACK answered with something that is not JSON") from None
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict) or answer.get("code") != 0:
            code = answer.get("code") if isinstance(answer, dict) else None
            raise CarrierUnavailable(f"17TRACK refused the request (code {code!r})")
        for rejected in _objects(data.get("rejected")):
            log.warning("17TRACK rejected %s: %s", rejected.get("number"), rejected.get("error"))
        events: list[ScanEvent] = []
        for item in _objects(data.get("accepted")):
            push = json.dumps({"event": "TRACKING_UPDATED", "data": item}).encode()
            try:
                events += seventeentrack.parse(push).events
            except PayloadError as exc:
                log.warning("17TRACK tracking object for %s unreadable: %s", item.get("number"), exc)
        return events


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
