"""AfterShip: the webhook envelope `{"event", "event_id", "is_tracking_first_tag", "msg", "ts"}`, where
`msg` is a Tracking object (event `tracking_update`, `edd_revise` or `tracking_pending_time`).

Quirks found in the recorded payloads, and why the parser does what it does:

* `checkpoint_time` carries the carrier's local offset ("2018-07-23T16:58:00+08:00" in Dongguan,
  "+09:00" in Narita): it is kept as sent (`OffsetSource.EVENT`). A checkpoint time without an offset
  is local wall-clock time and gets its zone from the checkpoint's place.
* The first FedEx checkpoint of a China->Japan parcel says "-05:00" and has no place: it is an
  electronic message stamped in FedEx's US system time. It is kept as sent; it is what FedEx said.
* Tracking-level `shipment_pickup_date` / `shipment_delivery_date` ("2018-07-25T01:10:00") are UTC
  instants written *without* an offset (the delivery checkpoint is 10:10+09:00). Read naively they
  would be nine hours off, so the parser does not use them; the checkpoints say the same thing.
* Checkpoints often have `city` null and the place only in free text (`location` "NARITA-SHI JP"):
  the city is taken from that text minus a trailing country code, so the public page has a city.
  Countries come as ISO alpha-3 (`country_iso3`, `country_region` from 2024) and become alpha-2.
* The estimate: `latest_estimated_delivery` (AfterShip's current one, whatever its source), then
  `expected_delivery`, then `aftership_estimated_delivery_date`. For a range the *latest* date is
  used, so a promise is never made earlier than the provider's. `custom_estimated_delivery_date` and
  `order_promised_delivery_date` are the merchant's promises, not the carrier's, and are ignored.
* Proof of delivery is `signed_by` (a name such as "..KOSUTOKO", kept verbatim).
* The fixture's `shipment_tags: ["Returned"]` contradicts `return_to_sender: false` and a delivered
  checkpoint; tags are merchant labels, so they are ignored.
* Signature: header `aftership-hmac-sha256` = base64(HMAC-SHA256(raw body, secret)).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import date, datetime

from ordertrail.adapters.carriers.providers import zones
from ordertrail.adapters.carriers.providers.base import (
    Node,
    ParsedWebhook,
    PayloadError,
    Provider,
    fallback,
    finish,
    header,
    load,
)
from ordertrail.adapters.carriers.providers.carriers import slug_for
from ordertrail.domain.events import Location, ProofOfDelivery, ScanEvent
from ordertrail.domain.statuses import ShipmentStatus

S = ShipmentStatus
NAME = "aftership"
SIGNATURE_HEADER = "aftership-hmac-sha256"

# --- code table -----------------------------------------------------------------------------------

TAGS: dict[str, ShipmentStatus] = {
    "Pending": S.PENDING,
    "InfoReceived": S.INFO_RECEIVED,
    "InTransit": S.IN_TRANSIT,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "AttemptFail": S.DELIVERY_ATTEMPTED,
    "Delivered": S.DELIVERED,
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP,
    "Exception": S.EXCEPTION,
    "Expired": S.EXPIRED,
}

# Every documented subtag (tracking API 2026-07). A subtag always belongs to the tag it is named
# after, so its entry gives the full status; Exception_* is a family of very different outcomes.
SUBTAGS: dict[str, tuple[ShipmentStatus, str | None]] = {
    **{f"Pending_00{i}": (S.PENDING, None) for i in range(1, 7)},  # no carrier data yet, for all six
    "InfoReceived_001": (S.INFO_RECEIVED, None),
    "InTransit_001": (S.IN_TRANSIT, None),
    "InTransit_002": (S.IN_TRANSIT, "picked_up"),  # acceptance scan
    "InTransit_003": (S.IN_TRANSIT, "arrived_at_facility"),  # arrival scan
    "InTransit_004": (S.IN_TRANSIT, "arrived_destination_country"),
    "InTransit_005": (S.IN_TRANSIT, "customs_released"),
    "InTransit_006": (S.IN_TRANSIT, "customs_processing"),
    "InTransit_007": (S.IN_TRANSIT, "departed_facility"),  # departure scan
    "InTransit_008": (S.IN_TRANSIT, "problem_resolved"),
    "InTransit_009": (S.IN_TRANSIT, "forwarded"),
    # 011-013 were added with the 2026 subtags; their labels could not be confirmed, so no reason.
    "InTransit_011": (S.IN_TRANSIT, None),
    "InTransit_012": (S.IN_TRANSIT, None),
    "InTransit_013": (S.IN_TRANSIT, None),
    "OutForDelivery_001": (S.OUT_FOR_DELIVERY, None),
    "OutForDelivery_003": (S.OUT_FOR_DELIVERY, "customer_contacted"),
    "OutForDelivery_004": (S.OUT_FOR_DELIVERY, "appointment_scheduled"),
    "AvailableForPickup_001": (S.AVAILABLE_FOR_PICKUP, None),
    "AttemptFail_001": (S.DELIVERY_ATTEMPTED, None),
    "AttemptFail_002": (S.DELIVERY_ATTEMPTED, "recipient_unavailable"),
    "AttemptFail_003": (S.DELIVERY_ATTEMPTED, "business_closed"),
    "Delivered_001": (S.DELIVERED, None),
    "Delivered_002": (S.DELIVERED, "picked_up_by_customer"),
    "Delivered_003": (S.DELIVERED, "signed"),
    "Delivered_004": (S.DELIVERED, "cod_collected"),
    "Delivered_005": (S.DELIVERED, "to_neighbor"),
    "Exception_001": (S.EXCEPTION, None),
    "Exception_002": (S.EXCEPTION, "customer_moved"),
    "Exception_003": (S.EXCEPTION, "refused"),
    "Exception_004": (S.DELAYED, "customs_delay"),
    "Exception_005": (S.DELAYED, "external_factors"),
    "Exception_006": (S.ACTION_REQUIRED, "payment_due"),
    "Exception_007": (S.ACTION_REQUIRED, "address_correction"),
    "Exception_008": (S.EXCEPTION, "unclaimed"),  # pick-up missed
    "Exception_009": (S.EXCEPTION, "rejected_by_carrier"),
    "Exception_010": (S.RETURNING_TO_SENDER, None),
    "Exception_011": (S.RETURNED_TO_SENDER, None),
    "Exception_012": (S.DAMAGED, None),
    "Exception_013": (S.LOST, None),
    "Exception_016": (S.DELAYED, "carrier_processing"),
    "Exception_017": (S.DELAYED, "weather"),
    "Exception_018": (S.ACTION_REQUIRED, "documents_missing"),
    "Exception_019": (S.DELAYED, "late_flight"),
    "Exception_020": (S.CANCELLED, None),
    "Exception_021": (S.DISPOSED, None),
    "Expired_001": (S.EXPIRED, "no_info_30d"),
}


def classify(
    tag: str | None, subtag: str | None, tracking_tag: ShipmentStatus | None
) -> tuple[ShipmentStatus, str | None, list[str]]:
    """(status, substatus, unknown codes) for one checkpoint."""
    if subtag and subtag in SUBTAGS:
        status, reason = SUBTAGS[subtag]
        return status, reason, []
    unknown = [code for code in (subtag, None if tag in TAGS else tag) if code]
    main = TAGS.get(tag or "") or TAGS.get((subtag or "").partition("_")[0])
    if main is not None:
        return main, None, unknown
    status, reason = fallback(tracking_tag)
    return status, reason, unknown


# --- parser ---------------------------------------------------------------------------------------


def _location(checkpoint: Node) -> Location | None:
    country = zones.country_code(checkpoint.opt_text("country_iso3") or checkpoint.opt_text("country_region"))
    city = checkpoint.opt_text("city")
    if city is None and (text := checkpoint.opt_text("location")):
        first = text.split(",")[0].strip()
        words = first.split()
        if country and len(words) > 1 and zones.country_code(words[-1]) == country:
            first = " ".join(words[:-1])
        city = first if zones.country_code(first) is None else None
    location = Location(
        city=city,
        region=checkpoint.opt_text("state"),
        postal_code=checkpoint.opt_text("zip"),
        country_code=country,
    )
    return None if location == Location() else location


def _occurred_at(checkpoint: Node, location: Location | None, carrier: str | None) -> tuple[datetime, str]:
    moment = checkpoint.opt_time("checkpoint_time")
    if moment is None:
        raise checkpoint.error("checkpoint_time", "is missing")
    if moment.utcoffset() is None:
        return zones.from_wall_clock(moment, location, carrier)
    return zones.from_offset(moment)


def _estimate(tracking: Node) -> date | None:
    for key in ("latest_estimated_delivery", "expected_delivery", "aftership_estimated_delivery_date"):
        value = tracking.data.get(key)
        if isinstance(value, str):
            if (found := tracking.opt_date(key)) is not None:
                return found
            continue
        estimate = tracking.opt_child(key)
        if estimate is None:
            continue
        for field in ("datetime_max", "datetime", "estimated_delivery_date_max", "estimated_delivery_date"):
            if (found := estimate.opt_date(field)) is not None:
                return found
    return None


def parse(body: bytes) -> ParsedWebhook:
    root = load(NAME, body)
    if not root.has("msg"):
        hint = " (this is an estimated-delivery-date prediction, not a webhook)" if root.has("data") else ""
        raise root.error("msg", f"is missing: not an AfterShip webhook envelope{hint}")
    tracking = root.child("msg")
    tracking_number = tracking.text("tracking_number")
    carrier = slug_for(tracking.opt_text("slug"))
    tracking_tag = TAGS.get(tracking.opt_text("tag") or "")
    events: list[ScanEvent] = []
    unknown: list[str] = []
    for checkpoint in tracking.children("checkpoints"):
        event_carrier = slug_for(checkpoint.opt_text("slug")) or carrier
        location = _location(checkpoint)
        occurred_at, source = _occurred_at(checkpoint, location, event_carrier)
        tag, subtag = checkpoint.opt_text("tag"), checkpoint.opt_text("subtag")
        status, substatus, new_unknown = classify(tag, subtag, tracking_tag)
        unknown += new_unknown
        events.append(
            ScanEvent(
                tracking_number=tracking_number,
                occurred_at=occurred_at,
                status=status,
                description=checkpoint.opt_text("message") or "",
                substatus=substatus,
                carrier=event_carrier,
                carrier_code=checkpoint.opt_text("raw_tag"),
                event_id=checkpoint.opt_text("hash"),
                location=location,
                offset_source=source,
                raw_status=subtag or tag,
            )
        )
    signed_by = tracking.opt_text("signed_by")
    return finish(
        tracking_number=tracking_number,
        carrier_slug=carrier,
        events=events,
        estimated_delivery=_estimate(tracking),
        proof_of_delivery=ProofOfDelivery(type="signature", signed_by=signed_by) if signed_by else None,
        unknown_codes=unknown,
        provider_event_id=root.opt_text("event_id"),
    )


# --- signature ------------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> bool:
    received = header(headers, SIGNATURE_HEADER)
    if not secret or not received:
        return False
    try:
        digest = base64.b64decode(received.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(hmac.new(secret.encode(), body, hashlib.sha256).digest(), digest)


PROVIDER = Provider(name=NAME, signature_header=SIGNATURE_HEADER, parse=parse, verify=verify)

__all__ = ["PROVIDER", "SUBTAGS", "TAGS", "PayloadError", "classify", "parse", "sign", "verify"]
