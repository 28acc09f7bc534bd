"""17TRACK v2 push: `{"event": "TRACKING_UPDATED" | "TRACKING_STOPPED", "data": {...}}`.

Quirks found in the recorded payload, and why the parser does what it does:

* Events come newest first, per carrier ("provider"), under `track_info.tracking.providers[]`;
  `latest_event` is a copy of the newest and is not parsed twice.
* `time_iso` carries the carrier's local offset and is kept (`OffsetSource.EVENT`); when it is null,
  `time_utc` is a true instant shown in the scan's zone; `time_raw` (date, time, timezone as the
  carrier wrote them) is the last resort.
* Most events have neither `stage` nor `sub_status`: `stage` marks only milestones (label, pickup,
  out for delivery, delivered...), and the status of the newest event is given once, at shipment
  level, in `latest_status`. So the newest event takes `latest_status.sub_status`, milestone events
  take their stage, and an event with no code at all ("Origin Scan", "Arrived at Facility") is a
  progress scan: `in_transit` once 17TRACK says the parcel has moved and the scan is after its label
  milestone, else `info_received`. Such events have no code, so nothing is reported as unknown.
* `sub_status` strings carry their main status as a prefix ("Exception_Returning"), so an unknown
  sub-status is still mapped by its main status. Public China Post histories show
  `InTransit_TransportArrived` / `InTransit_TransportDeparted`, which 17TRACK does not document:
  they map to in_transit by that rule and are reported in `unknown_codes`.
* `data.carrier` in the recorded push is 3011 (China Post) for a UPS number whose only provider is
  100002 (UPS): the registration code is not trustworthy when it names a carrier that produced no
  events, so the shipment's carrier is then the first known provider. Each event keeps the carrier
  that scanned it.
* `TRACKING_STOPPED` means 17TRACK stopped tracking; it carries no scans and gives no events.
* Signature: header `sign` = hex(SHA-256(raw body + "/" + API key)). A plain hash, not an HMAC.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

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
from ordertrail.domain.events import Location, ScanEvent
from ordertrail.domain.statuses import ShipmentStatus

S = ShipmentStatus
NAME = "17track"
SIGNATURE_HEADER = "sign"

# --- code tables ----------------------------------------------------------------------------------

MAIN: dict[str, ShipmentStatus] = {
    "NotFound": S.PENDING,
    "InfoReceived": S.INFO_RECEIVED,
    "InTransit": S.IN_TRANSIT,
    "Expired": S.EXPIRED,
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "DeliveryFailure": S.DELIVERY_ATTEMPTED,
    "Delivered": S.DELIVERED,
    "Exception": S.EXCEPTION,
}

# The 30 documented v2 sub-statuses.
SUB_STATUSES: dict[str, tuple[ShipmentStatus, str | None]] = {
    "NotFound_Other": (S.PENDING, None),
    "NotFound_InvalidCode": (S.PENDING, "invalid_number"),
    "InfoReceived": (S.INFO_RECEIVED, None),
    "InTransit_PickedUp": (S.IN_TRANSIT, "picked_up"),
    "InTransit_Other": (S.IN_TRANSIT, None),
    "InTransit_Departure": (S.IN_TRANSIT, "departed_origin_country"),
    "InTransit_Arrival": (S.IN_TRANSIT, "arrived_destination_country"),
    "InTransit_CustomsProcessing": (S.IN_TRANSIT, "customs_processing"),
    "InTransit_CustomsReleased": (S.IN_TRANSIT, "customs_released"),
    "InTransit_CustomsRequiringInformation": (S.ACTION_REQUIRED, "customs_info_required"),
    "Expired_Other": (S.EXPIRED, None),
    "AvailableForPickup_Other": (S.AVAILABLE_FOR_PICKUP, None),
    "OutForDelivery_Other": (S.OUT_FOR_DELIVERY, None),
    "DeliveryFailure_Other": (S.DELIVERY_ATTEMPTED, None),
    "DeliveryFailure_NoBody": (S.DELIVERY_ATTEMPTED, "recipient_unavailable"),
    "DeliveryFailure_Security": (S.DELIVERY_ATTEMPTED, "security_or_fee_issue"),
    # A refusal or a wrong address is not re-attempted: the first is an exception, the second
    # needs the buyer, whatever 17TRACK's grouping says.
    "DeliveryFailure_Rejected": (S.EXCEPTION, "refused"),
    "DeliveryFailure_InvalidAddress": (S.ACTION_REQUIRED, "address_correction"),
    "Delivered_Other": (S.DELIVERED, None),
    "Exception_Other": (S.EXCEPTION, None),
    "Exception_Returning": (S.RETURNING_TO_SENDER, None),
    "Exception_Returned": (S.RETURNED_TO_SENDER, None),
    "Exception_NoBody": (S.EXCEPTION, "recipient_unavailable"),
    "Exception_Security": (S.ACTION_REQUIRED, "security_or_customs_hold"),
    "Exception_Damage": (S.DAMAGED, None),
    "Exception_Rejected": (S.EXCEPTION, "refused"),
    "Exception_Delayed": (S.DELAYED, None),
    "Exception_Lost": (S.LOST, None),
    "Exception_Destroyed": (S.DISPOSED, None),
    "Exception_Cancel": (S.CANCELLED, None),
}

# Milestone names (`events[].stage`, `milestone[].key_stage`).
STAGES: dict[str, tuple[ShipmentStatus, str | None]] = {
    "InfoReceived": (S.INFO_RECEIVED, None),
    "PickedUp": (S.IN_TRANSIT, "picked_up"),
    "Departure": (S.IN_TRANSIT, "departed_origin_country"),
    "Arrival": (S.IN_TRANSIT, "arrived_destination_country"),
    "AvailableForPickup": (S.AVAILABLE_FOR_PICKUP, None),
    "OutForDelivery": (S.OUT_FOR_DELIVERY, None),
    "Delivered": (S.DELIVERED, None),
    "Returning": (S.RETURNING_TO_SENDER, None),
    "Returned": (S.RETURNED_TO_SENDER, None),
}

# 17TRACK carrier keys (its published carrier list) for the carriers ordertrail has slugs for.
CARRIERS: dict[int, str] = {
    100002: "ups",
    100398: "ups",  # UPS Mail Innovations
    21051: "usps",
    100003: "fedex",
    100001: "dhl",  # DHL Express; DHL Paket (7041) and DHL eCommerce (7047) are other networks
    100143: "amazon",  # Swiship
    100308: "amazon",  # Amazon Shipping + MCF
    3041: "canadapost",
    100146: "canpar",
    100007: "dpd",  # DPD (DE)
    100010: "dpd",  # DPD (UK)
    100072: "dpd",  # DPD (FR)
    100021: "landmark",
    100052: "lasership",
    100049: "ontrac",
    100042: "purolator",
    100447: "speedee",
    100017: "yodel",
    11031: "royal_mail",
    7044: "deutsche_post",
    6051: "la_poste",
    9071: "poste_italiane",
    19181: "correos",
    16101: "ctt",
    14041: "postnl",
    2061: "bpost",
    19251: "swiss_post",
    1161: "austrian_post",
    9051: "an_post",
    19241: "postnord_se",
    4011: "postnord_dk",
    14081: "posten_norge",
    6041: "posti",
    16081: "poczta_polska",
    18031: "russian_post",
    20111: "ptt",
    3011: "china_post",
    3013: "china_post",  # China EMS
    8011: "hongkong_post",
    10021: "japan_post",
    11051: "korea_post",
    19131: "singpost",
    9021: "india_post",
    20041: "thailand_post",
    1151: "australia_post",
    14061: "nz_post",
    2151: "correios",
    13141: "correos_mexico",
}


def classify_code(code: str, shipment: ShipmentStatus | None) -> tuple[ShipmentStatus, str | None, list[str]]:
    """(status, substatus, unknown codes) for a `sub_status` or `stage` code."""
    if code in SUB_STATUSES:
        return (*SUB_STATUSES[code], [])
    if code in STAGES:
        return (*STAGES[code], [])
    main = MAIN.get(code.partition("_")[0])
    if main is not None:
        return main, None, [code]
    return (*fallback(shipment), [code])


# --- parser ---------------------------------------------------------------------------------------


def _location(event: Node) -> Location | None:
    address = event.opt_child("address")
    if address is not None:
        location = Location(
            city=address.opt_text("city"),
            region=address.opt_text("state"),
            postal_code=address.opt_text("postal_code"),
            country_code=zones.country_code(address.opt_text("country")),
        )
    else:
        parts = [p.strip() for p in (event.opt_text("location") or "").split(",") if p.strip()]
        country = zones.country_code(parts[-1]) if parts else None
        city = parts[0] if parts and (len(parts) > 1 or country is None) else None
        location = Location(city=city, country_code=country)
    return None if location == Location() else location


def _occurred_at(event: Node, location: Location | None, carrier: str | None) -> tuple[datetime, str]:
    local = event.opt_time("time_iso")
    if local is not None:
        if local.utcoffset() is None:
            return zones.from_wall_clock(local, location, carrier)
        return zones.from_offset(local)
    instant = event.opt_time("time_utc")
    if instant is not None:
        return zones.from_instant(instant, location, carrier)
    raw = event.opt_child("time_raw")
    if raw is not None and (day := raw.opt_text("date")):
        moment = _raw_time(raw, day)
        if moment.utcoffset() is not None:
            return zones.from_offset(moment)
        return zones.from_wall_clock(moment, location, carrier)
    raise event.error("time_iso", "is missing, and so are time_utc and time_raw")


def _raw_time(raw: Node, day: str) -> datetime:
    """`time_raw` as the carrier wrote it. Its `timezone` is used only when it reads as an offset;
    a zone name ("GMT+8") leaves a wall-clock time for the scan's place to settle."""
    text = f"{day}T{raw.opt_text('time') or '00:00:00'}"
    for candidate in (text + (raw.opt_text("timezone") or ""), text):
        with contextlib.suppress(PayloadError):
            moment = Node(raw.provider, raw.path, {"date": candidate}).opt_time("date")
            if moment is not None:
                return moment
    raise raw.error("date", f"and time do not make a valid time: {text!r}")


def _carrier(data: Node, provider_slugs: list[str | None]) -> str | None:
    registered = CARRIERS.get(data.opt_int("carrier") or 0)
    known = [slug for slug in provider_slugs if slug]
    if registered is None or not known or registered in known:
        return registered or (known[0] if known else None)
    return known[0]


@dataclass(slots=True)
class _Scan:
    node: Node
    occurred_at: datetime
    offset_source: str
    location: Location | None
    carrier: str | None
    code: str | None = None
    status: ShipmentStatus = S.IN_TRANSIT
    substatus: str | None = None


def _read_scans(providers: list[Node]) -> list[_Scan]:
    scans: list[_Scan] = []
    for provider in providers:
        carrier_node = provider.opt_child("provider")
        slug = CARRIERS.get(carrier_node.opt_int("key") or 0) if carrier_node else None
        for event in provider.children("events"):
            location = _location(event)
            occurred_at, source = _occurred_at(event, location, slug)
            scans.append(_Scan(event, occurred_at, source, location, slug))
    return scans


def _classify(scans: list[_Scan], shipment: ShipmentStatus | None, latest_sub: str | None) -> list[str]:
    """Set each scan's status; return the unknown codes met."""
    unknown: list[str] = []
    newest = max((scan.occurred_at for scan in scans), key=lambda t: t.timestamp(), default=None)
    for scan in scans:
        code = scan.node.opt_text("sub_status")
        if code is None and scan.occurred_at == newest:
            code = latest_sub  # latest_status is the newest scan's status
        scan.code = code or scan.node.opt_text("stage")
        if scan.code is not None:
            scan.status, scan.substatus, new_unknown = classify_code(scan.code, shipment)
            unknown += new_unknown
    coded = [scan for scan in scans if scan.code is not None]
    moved = shipment not in (None, S.PENDING, S.INFO_RECEIVED) or any(
        scan.status not in (S.PENDING, S.INFO_RECEIVED) for scan in coded
    )
    labels = [scan.occurred_at.timestamp() for scan in coded if scan.status is S.INFO_RECEIVED]
    label_time = min(labels, default=None)
    for scan in scans:
        if scan.code is None:  # a progress scan between milestones
            after_label = label_time is None or scan.occurred_at.timestamp() > label_time
            scan.status = S.IN_TRANSIT if moved and after_label else S.INFO_RECEIVED
    return unknown


def parse(body: bytes) -> ParsedWebhook:
    root = load(NAME, body)
    kind = root.opt_text("event")
    if kind not in ("TRACKING_UPDATED", "TRACKING_STOPPED"):
        raise root.error("event", f"must be TRACKING_UPDATED or TRACKING_STOPPED, got {kind!r}")
    data = root.child("data")
    tracking_number = data.text("number")
    info = data.opt_child("track_info") if kind == "TRACKING_UPDATED" else None
    latest = info.opt_child("latest_status") if info else None
    tracking = info.opt_child("tracking") if info else None
    scans = _read_scans(tracking.children("providers") if tracking else [])
    unknown = _classify(
        scans,
        MAIN.get(latest.opt_text("status") or "") if latest else None,
        latest.opt_text("sub_status") if latest else None,
    )
    metrics = info.opt_child("time_metrics") if info else None
    estimate = metrics.opt_child("estimated_delivery_date") if metrics else None
    return finish(
        tracking_number=tracking_number,
        carrier_slug=_carrier(data, [scan.carrier for scan in scans]),
        events=[
            ScanEvent(
                tracking_number=tracking_number,
                occurred_at=scan.occurred_at,
                status=scan.status,
                description=scan.node.opt_text("description") or "",
                substatus=scan.substatus,
                carrier=scan.carrier,
                location=scan.location,
                offset_source=scan.offset_source,
                raw_status=scan.code,
            )
            for scan in scans
        ],
        estimated_delivery=(estimate.opt_date("to") or estimate.opt_date("from")) if estimate else None,
        proof_of_delivery=None,  # 17TRACK passes on no signature or photo
        unknown_codes=unknown,
        provider_event_id=None,  # the push has no delivery id; events are deduplicated by content
    )


# --- signature ------------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    return hashlib.sha256(body + b"/" + secret.encode()).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> bool:
    received = header(headers, SIGNATURE_HEADER)
    if not secret or not received:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), received.strip().lower().encode())


PROVIDER = Provider(name=NAME, signature_header=SIGNATURE_HEADER, parse=parse, verify=verify)

__all__ = ["CARRIERS", "MAIN", "PROVIDER", "STAGES", "SUB_STATUSES", "PayloadError", "classify_code", "parse"]
