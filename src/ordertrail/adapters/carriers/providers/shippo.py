"""Shippo: the `track_updated` webhook `{"event": "track_updated", "test": bool, "data": <Track>}`, or a
bare Track object (what GET /tracks returns, and what the webhook carries in `data`).

Quirks found in the recorded payloads, and why the parser does what it does:

* `status_date` ends in "Z" but is the carrier's *local* wall-clock time. In the recorded USPS track
  read as UTC, the parcel would be "out for delivery" in Berkeley at 02:29 and delivered to a mailbox
  at 07:19; read as Pacific time it is 10:29 and 15:19, and every scan still precedes the moment
  Shippo recorded it (`object_created`). Shippo's maintainers confirmed the bug
  (goshippo/shippo-php-client#29). So the clock reading is kept and the zone of the scan's place
  attached (`OffsetSource.LOCATION`); a scan with no place takes the carrier's home zone.
* `eta` is a date dressed as midnight UTC ("2016-12-08T00:00:00Z"; FedEx's own "-06:00" was lost the
  same way, goshippo/shippo-node-client#52): the date is taken as written, never converted.
* Old tracks have `status` "UNKNOWN" on pre-transit scans and no `substatus` at all; they map to
  `pending` and never override the later TRANSIT scans.
* `substatus.code` is independent of `status` and can contradict it (the docs example pairs
  DELIVERED with `information_received`): it refines or, for problems, overrides a non-final status
  and never overrides DELIVERED or RETURNED. The raw pair is kept on the event.
* `tracking_status` repeats the newest `tracking_history` entry, under a *different* `object_id`
  in the recorded track; it is added only if neither its id nor its status, time and text are
  already in the history, or the delivery would be reported twice.
* The docs example is an OpenAPI sample with the placeholder "string" in `object_id`, `transaction`,
  `messages`, ... Decision: the literal "string" is treated as absent in every optional field, so the
  example parses; as the tracking number it is refused with a PayloadError, because a shipment keyed
  "string" would be silently wrong.
* Shippo webhooks carry no delivery id, so `provider_event_id` is None; scans carry `object_id`.
* Signature (optional at Shippo): `Shippo-Auth-Signature: t=<unix>,v1=<hex>` with hex =
  HMAC-SHA256(secret, "<t>.<raw body>"); a `t` more than `tolerance` from `now` is refused so a
  captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta

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
from ordertrail.domain.events import Location, ScanEvent
from ordertrail.domain.statuses import ShipmentStatus

S = ShipmentStatus
NAME = "shippo"
SIGNATURE_HEADER = "Shippo-Auth-Signature"
TOLERANCE = timedelta(seconds=300)
PLACEHOLDER = "string"

# --- code table -----------------------------------------------------------------------------------

STATUSES: dict[str, ShipmentStatus] = {
    "PRE_TRANSIT": S.INFO_RECEIVED,
    "TRANSIT": S.IN_TRANSIT,
    "DELIVERED": S.DELIVERED,
    "RETURNED": S.RETURNING_TO_SENDER,  # Shippo does not say whether it has arrived back
    "FAILURE": S.EXCEPTION,
    "UNKNOWN": S.PENDING,
}
_FINAL = frozenset({"DELIVERED", "RETURNED"})

# Every documented `substatus.code`.
SUBSTATUSES: dict[str, Code] = {
    "information_received": (S.INFO_RECEIVED, None),
    "address_issue": (S.ACTION_REQUIRED, "address_correction"),
    "contact_carrier": (S.ACTION_REQUIRED, "contact_carrier"),
    "delayed": (S.DELAYED, "carrier_delay"),
    "delivery_attempted": (S.DELIVERY_ATTEMPTED, None),
    "delivery_rescheduled": (S.DELAYED, "delivery_rescheduled"),
    "delivery_scheduled": (None, "delivery_scheduled"),
    "location_inaccessible": (S.DELIVERY_ATTEMPTED, "access_issue"),
    "notice_left": (S.DELIVERY_ATTEMPTED, "notice_left"),
    "out_for_delivery": (S.OUT_FOR_DELIVERY, None),
    "package_accepted": (S.IN_TRANSIT, "picked_up"),
    "package_arrived": (None, "arrived_at_facility"),
    "package_damaged": (S.DAMAGED, None),
    "package_departed": (None, "departed_facility"),
    "package_disposed": (S.DISPOSED, None),
    "package_forwarded": (None, "forwarded"),
    "package_held": (S.ACTION_REQUIRED, "held"),
    "package_lost": (S.LOST, None),
    "package_processed": (None, "processed"),
    "package_processing": (None, "processing"),
    "package_unclaimed": (None, "unclaimed"),
    "package_undeliverable": (S.EXCEPTION, "undeliverable"),
    "pickup_available": (S.AVAILABLE_FOR_PICKUP, None),
    "reschedule_delivery": (S.ACTION_REQUIRED, "reschedule_delivery"),
    "return_to_sender": (S.RETURNING_TO_SENDER, None),
    "delivered": (S.DELIVERED, None),
    "other": (None, None),
}


def classify(
    status: str | None, substatus: str | None, shipment: ShipmentStatus | None
) -> tuple[ShipmentStatus, str | None, list[str]]:
    """(status, substatus, unknown codes) for one tracking_history entry."""
    return classify_pair(status, substatus, shipment, statuses=STATUSES, sub_codes=SUBSTATUSES, final=_FINAL)


# --- parser ---------------------------------------------------------------------------------------


def _real(node: Node, key: str) -> str | None:
    value = node.opt_text(key)
    return None if value == PLACEHOLDER else value


def _location(entry: Node) -> Location | None:
    where = entry.opt_child("location")
    if where is None:
        return None
    location = Location(
        city=_real(where, "city"),
        region=_real(where, "state"),
        postal_code=_real(where, "zip"),
        country_code=zones.country_code(_real(where, "country")),
    )
    return None if location == Location() else location


def _track(root: Node) -> Node:
    if root.has("tracking_number") and not root.has("data"):
        return root
    kind = root.opt_text("event")
    if kind != "track_updated":
        raise root.error("event", f"must be 'track_updated', got {kind!r}")
    return root.child("data")


def _history(track: Node) -> list[Node]:
    entries = track.children("tracking_history")
    latest = track.opt_child("tracking_status")
    if latest is None:
        return entries

    def content(entry: Node) -> tuple[str | None, ...]:
        return (entry.opt_text("status"), entry.opt_text("status_date"), entry.opt_text("status_details"))

    seen_ids = {_real(entry, "object_id") for entry in entries} - {None}
    if _real(latest, "object_id") not in seen_ids and content(latest) not in {content(e) for e in entries}:
        entries.append(latest)
    return entries


def parse(body: bytes) -> ParsedWebhook:
    track = _track(load(NAME, body))
    tracking_number = track.text("tracking_number")
    if tracking_number == PLACEHOLDER:
        raise track.error("tracking_number", "is the documentation placeholder 'string'")
    carrier = slug_for(_real(track, "carrier"))
    latest = track.opt_child("tracking_status")
    shipment = STATUSES.get(latest.opt_text("status") or "") if latest else None
    events: list[ScanEvent] = []
    unknown: list[str] = []
    for entry in _history(track):
        location = _location(entry)
        moment = entry.opt_time("status_date")
        if moment is None:
            raise entry.error("status_date", "is missing")
        occurred_at, source = zones.from_wall_clock(moment, location, carrier)
        sub_node = entry.opt_child("substatus")
        raw_status, raw_sub = entry.opt_text("status"), _real(sub_node, "code") if sub_node else None
        status, substatus, new_unknown = classify(raw_status, raw_sub, shipment)
        unknown += new_unknown
        events.append(
            ScanEvent(
                tracking_number=tracking_number,
                occurred_at=occurred_at,
                status=status,
                description=_real(entry, "status_details") or "",
                substatus=substatus,
                carrier=carrier,
                event_id=_real(entry, "object_id"),
                location=location,
                offset_source=source,
                raw_status="/".join(p for p in (raw_status, raw_sub) if p) or None,
            )
        )
    return finish(
        tracking_number=tracking_number,
        carrier_slug=carrier,
        events=events,
        estimated_delivery=track.opt_date("eta"),
        proof_of_delivery=None,  # a Track object has no signature or photo
        unknown_codes=unknown,
        provider_event_id=None,
    )


# --- signature ------------------------------------------------------------------------------------


def sign(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    headers: Mapping[str, str], body: bytes, secret: str, now: datetime, tolerance: timedelta = TOLERANCE
) -> bool:
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    received = header(headers, SIGNATURE_HEADER)
    if not secret or not received:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in received.split(","):
        key, _, value = part.strip().partition("=")
        # Unix seconds in ASCII digits ('²' is a digit to isdigit, and int() caps at 4,300 digits).
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.lower())
    if timestamp is None or not candidates:
        return False
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    expected = sign(body, secret, timestamp).rpartition("v1=")[2].encode()
    # Check every v1 (a rotated secret can be announced with two) without stopping early.
    matches = [hmac.compare_digest(expected, candidate.encode()) for candidate in candidates]
    return any(matches)


PROVIDER = Provider(name=NAME, signature_header=SIGNATURE_HEADER, parse=parse, verify=verify)

__all__ = ["PROVIDER", "STATUSES", "SUBSTATUSES", "PayloadError", "classify", "parse", "sign", "verify"]
