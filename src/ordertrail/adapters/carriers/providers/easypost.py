"""EasyPost: `tracker.created` / `tracker.updated` webhook Events, or a bare Tracker object.

Quirks found in the recorded payloads (data/webhook_samples), and why the parser does what it does:

* `tracking_details[].datetime` ends in "Z" and is a true UTC instant. EasyPost's own fixture proves
  it: its last scan, read as US-Eastern wall-clock time, would fall three hours *after* the Event that
  reports it was created. So the instant is kept and shown in the scan's local zone (from the state,
  or the ZIP prefix when the state is null) instead of keeping "Z". EasyPost has a beta that sends
  the local offset instead; a non-zero offset is therefore kept as sent, and a time with no offset at
  all is read as local wall-clock time.
* `est_delivery_date` is a date dressed as a midnight-UTC timestamp ("2024-08-05T00:00:00Z"); in a
  US zone that instant is the evening before. `carrier_detail.est_delivery_date_local` is preferred,
  and otherwise the date part is taken as written, never converted.
* In test mode `est_delivery_date` is just the tracker's creation time; it is passed on as given.
* `status_detail` is independent of `status` and sometimes contradicts it (FedEx "Picked up" arrives
  as `arrived_at_facility`). The detail refines or, for problems (delays, holds, losses), overrides a
  non-final status; it never overrides delivered / return_to_sender / cancelled.
* `status` "error" means EasyPost could not fetch tracking, not that the parcel is in trouble: it
  maps to `pending` so buyers are not told about a problem that is only in the API.
* Locations come with any of city/state/country null (a USPS scan in "HOUSTON, TX" with country
  null); the Location keeps exactly what was sent, and the zone lookup reads a bare state in the
  carrier's home country.
* The signature is `X-Hmac-Signature: hmac-sha256-hex=<hex>`, HMAC-SHA256 of the raw body keyed with
  the NFKD-normalised secret (EasyPost's libraries normalise, so "sécret" typed either way works).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Mapping
from datetime import datetime

from ordertrail.adapters.carriers.providers import zones
from ordertrail.adapters.carriers.providers.base import (
    Code,
    Node,
    ParsedWebhook,
    PayloadError,
    Provider,
    classify_pair,
    finish,
    header,
    load,
)
from ordertrail.adapters.carriers.providers.carriers import slug_for
from ordertrail.domain.events import Location, ProofOfDelivery, ScanEvent
from ordertrail.domain.statuses import ShipmentStatus

S = ShipmentStatus
NAME = "easypost"
SIGNATURE_HEADER = "X-Hmac-Signature"
_SIGNATURE_PREFIX = "hmac-sha256-hex="

# --- code table -----------------------------------------------------------------------------------

STATUSES: dict[str, ShipmentStatus] = {
    "unknown": S.PENDING,
    "pre_transit": S.INFO_RECEIVED,
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "delivered": S.DELIVERED,
    "available_for_pickup": S.AVAILABLE_FOR_PICKUP,
    "return_to_sender": S.RETURNING_TO_SENDER,  # EasyPost does not say whether it has arrived back
    "failure": S.EXCEPTION,
    "cancelled": S.CANCELLED,
    "canceled": S.CANCELLED,  # both spellings appear in EasyPost's own clients
    "error": S.PENDING,
}
_FINAL = frozenset({"delivered", "return_to_sender", "cancelled", "canceled"})

# All 28 documented `status_detail` values (the newer API also prefixes five with "substatus_").
DETAILS: dict[str, Code] = {
    "address_correction": (S.ACTION_REQUIRED, "address_correction"),
    "arrived_at_destination": (None, "arrived_at_destination"),
    "arrived_at_facility": (None, "arrived_at_facility"),
    "arrived_at_pickup_location": (S.AVAILABLE_FOR_PICKUP, "at_pickup_point"),
    "awaiting_information": (S.ACTION_REQUIRED, "awaiting_information"),
    "cancelled": (S.CANCELLED, None),
    "damaged": (S.DAMAGED, None),
    "delayed": (S.DELAYED, "carrier_delay"),
    "delivery_exception": (S.EXCEPTION, "delivery_exception"),
    "departed_facility": (None, "departed_facility"),
    "departed_origin_facility": (None, "departed_origin_facility"),
    "expired": (S.EXPIRED, "stopped_tracking"),
    "failure": (None, None),
    "held": (S.ACTION_REQUIRED, "held"),
    "in_transit": (None, None),
    "label_created": (None, "label_created"),
    "lost": (S.LOST, None),
    "missorted": (S.EXCEPTION, "missorted"),
    "out_for_delivery": (S.OUT_FOR_DELIVERY, None),
    "received_at_destination_facility": (None, "received_at_destination_facility"),
    "received_at_origin_facility": (None, "received_at_origin_facility"),
    "refused": (S.EXCEPTION, "refused"),
    "return": (S.RETURNING_TO_SENDER, None),
    "status_update": (None, None),
    "transferred_to_destination_carrier": (None, "handed_to_last_mile"),
    "transit_exception": (S.EXCEPTION, "transit_exception"),
    "unknown": (None, None),
    "weather_delay": (S.DELAYED, "weather"),
}
for _generic in ("cancelled", "failure", "in_transit", "out_for_delivery", "unknown"):
    DETAILS[f"substatus_{_generic}"] = DETAILS[_generic]


def classify(
    status: str | None, detail: str | None, tracker_status: ShipmentStatus | None
) -> tuple[ShipmentStatus, str | None, list[str]]:
    """(status, substatus, unknown codes) for one tracking detail."""
    return classify_pair(status, detail, tracker_status, statuses=STATUSES, sub_codes=DETAILS, final=_FINAL)


# --- parser ---------------------------------------------------------------------------------------


def _tracker(root: Node) -> tuple[Node, str | None]:
    kind = root.opt_text("object")
    if kind == "Tracker" or (kind is None and root.has("tracking_code")):
        return root, None
    if kind != "Event":
        raise root.error("object", f"must be 'Event' or 'Tracker', got {kind!r}")
    description = root.opt_text("description") or ""
    if not description.startswith("tracker."):
        raise root.error("description", f"is {description!r}; only tracker.* events carry tracking")
    result = root.child("result")
    if result.opt_text("object") not in (None, "Tracker"):
        raise result.error("object", f"must be 'Tracker', got {result.opt_text('object')!r}")
    return result, root.opt_text("id")


def _location(detail: Node) -> Location | None:
    where = detail.opt_child("tracking_location")
    if where is None:
        return None
    location = Location(
        city=where.opt_text("city"),
        region=where.opt_text("state"),
        postal_code=where.opt_text("zip"),
        country_code=where.opt_text("country"),
    )
    return None if location == Location() else location


def _occurred_at(detail: Node, location: Location | None, carrier: str | None) -> tuple[datetime, str]:
    moment = detail.opt_time("datetime")
    if moment is None:
        raise detail.error("datetime", "is missing")
    offset = moment.utcoffset()
    if offset is None:
        return zones.from_wall_clock(moment, location, carrier)
    if offset:
        return zones.from_offset(moment)
    return zones.from_instant(moment, location, carrier)


def parse(body: bytes) -> ParsedWebhook:
    tracker, event_id = _tracker(load(NAME, body))
    tracking_number = tracker.text("tracking_code")
    carrier = slug_for(tracker.opt_text("carrier"))
    tracker_status = STATUSES.get(tracker.opt_text("status") or "")
    events: list[ScanEvent] = []
    unknown: list[str] = []
    for detail in tracker.children("tracking_details"):
        location = _location(detail)
        occurred_at, source = _occurred_at(detail, location, carrier)
        raw_status, raw_detail = detail.opt_text("status"), detail.opt_text("status_detail")
        status, substatus, new_unknown = classify(raw_status, raw_detail, tracker_status)
        unknown += new_unknown
        events.append(
            ScanEvent(
                tracking_number=tracking_number,
                occurred_at=occurred_at,
                status=status,
                description=detail.opt_text("message") or detail.opt_text("description") or "",
                substatus=substatus,
                carrier=slug_for(detail.opt_text("source")) or carrier,
                carrier_code=detail.opt_text("carrier_code"),
                location=location,
                offset_source=source,
                estimated_delivery=detail.opt_date("est_delivery_date"),
                raw_status="/".join(p for p in (raw_status, raw_detail) if p) or None,
            )
        )
    carrier_detail = tracker.opt_child("carrier_detail")
    estimate = carrier_detail.opt_date("est_delivery_date_local") if carrier_detail else None
    signed_by = tracker.opt_text("signed_by")
    return finish(
        tracking_number=tracking_number,
        carrier_slug=carrier,
        events=events,
        estimated_delivery=estimate or tracker.opt_date("est_delivery_date"),
        proof_of_delivery=ProofOfDelivery(type="signature", signed_by=signed_by) if signed_by else None,
        unknown_codes=unknown,
        provider_event_id=event_id,
    )


# --- signature ------------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    """The header value EasyPost would send for `body`; also what `verify` compares against."""
    key = unicodedata.normalize("NFKD", secret).encode()
    return _SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> bool:
    """EasyPost signs no timestamp, so `now` is unused; replays are harmless because of dedupe."""
    received = header(headers, SIGNATURE_HEADER)
    if not secret or not received:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), received.strip().lower().encode())


PROVIDER = Provider(name=NAME, signature_header=SIGNATURE_HEADER, parse=parse, verify=verify)

__all__ = ["DETAILS", "PROVIDER", "STATUSES", "PayloadError", "classify", "parse", "sign", "verify"]
