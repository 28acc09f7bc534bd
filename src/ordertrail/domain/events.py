"""Carrier scan events and the pure rules that merge them into a shipment's state (DESIGN.md §3).

Merging is a fold over the events sorted by a *total* key: carrier time first, then the status's
place in the delivery progression, then the content hash. DESIGN.md says "ties by arrival", but an
arrival-order tie-break would make the final state depend on the order in which events arrive,
which the same section forbids; a content-derived tie-break keeps both promises (ADR 0002).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ordertrail.domain.statuses import SCANNED, ShipmentStatus

S = ShipmentStatus

# A scan or a carrier's date outside these years is a broken clock or payload; refusing it also keeps
# every time derived from it in range (near year 1 or 9999, moving a time to UTC overflows, and the
# stored sort keys assume four-digit years).
MIN_YEAR, MAX_YEAR = 1970, 2199


def in_range(moment: date) -> bool:
    return MIN_YEAR <= moment.year <= MAX_YEAR


def too_far_ahead(occurred_at: datetime, now: datetime, bound: timedelta) -> bool:
    """Whether a scan is dated more than `bound` ahead of our clock, when a deployment sets a bound
    (Deps.scan_max_ahead; API.md sets none, so by default any date is taken). Carriers' clocks drift
    and their feeds mislabel local times as UTC (at most 14 hours off), but a scan days ahead is a
    wrong date: kept, it sorts after the real scans that follow it, so the timeline ends on it."""
    return occurred_at - now > bound


@dataclass(frozen=True, slots=True)
class Location:
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country_code: str | None = None

    def as_tuple(self) -> tuple[str, str, str, str]:
        return (self.city or "", self.region or "", self.postal_code or "", self.country_code or "")


@dataclass(frozen=True, slots=True)
class ProofOfDelivery:
    type: str  # "photo" | "signature"
    url: str | None = None
    signed_by: str | None = None


# The most of each text a scan keeps: what `POST /v1/carrier-events` accepts (it refuses longer)
# and what the columns hold. A provider's longer text is cut to it instead, since refusing the
# payload would make the provider resend it for days, and both databases then keep the same text.
SCAN_TEXT_LIMITS = {
    "event_id": 128,
    "description": 1000,
    "substatus": 64,
    "carrier_code": 64,
    "raw_status": 128,
}
PLACE_TEXT_LIMITS = {"city": 120, "region": 120, "postal_code": 20}
PROOF_TEXT_LIMITS = {"url": 2000, "signed_by": 200}


def _cut(obj: Any, limits: dict[str, int]) -> dict[str, Any]:
    """The fields of `obj` longer than their limit, cut to it."""
    out = {}
    for name, limit in limits.items():
        value = getattr(obj, name)
        if value is not None and len(value) > limit:
            out[name] = value[:limit]
    return out


def within_limits(scan: ScanEvent) -> ScanEvent:
    """`scan` with every text cut to SCAN_TEXT_LIMITS (the same object when nothing is too long)."""
    changes = _cut(scan, SCAN_TEXT_LIMITS)
    if scan.location is not None and (place := _cut(scan.location, PLACE_TEXT_LIMITS)):
        changes["location"] = replace(scan.location, **place)
    if scan.proof_of_delivery is not None and (proof := _cut(scan.proof_of_delivery, PROOF_TEXT_LIMITS)):
        changes["proof_of_delivery"] = replace(scan.proof_of_delivery, **proof)
    return replace(scan, **changes) if changes else scan


class OffsetSource:
    """Where the UTC offset of an event's local time came from."""

    EVENT = "event"  # the carrier sent the offset with the time
    LOCATION = "location"  # taken from the zone of the event's location
    CARRIER_DEFAULT = "carrier_default"  # the carrier's home zone
    ASSUMED_UTC = "assumed_utc"  # nothing known; the time is treated as UTC


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """One carrier scan, already normalised to the taxonomy.

    `occurred_at` is timezone-aware and keeps the carrier's local offset (its wall-clock time is the
    carrier's local time); `offset_source` says where that offset came from.
    """

    tracking_number: str
    occurred_at: datetime
    status: ShipmentStatus
    description: str = ""
    substatus: str | None = None
    carrier: str | None = None
    carrier_code: str | None = None
    event_id: str | None = None
    location: Location | None = None
    offset_source: str = OffsetSource.EVENT
    estimated_delivery: date | None = None
    proof_of_delivery: ProofOfDelivery | None = None
    raw_status: str | None = None  # the provider's own status/sub-status text, kept for tracing
    # Derived once at construction: ingestion sorts, dedupes and stores by these many times over.
    occurred_at_utc: datetime = field(init=False, compare=False, repr=False)
    content_hash: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        if not in_range(self.occurred_at):
            raise ValueError(f"occurred_at must be in the years {MIN_YEAR}-{MAX_YEAR}")
        utc = self.occurred_at.astimezone(UTC)
        object.__setattr__(self, "occurred_at_utc", utc)
        object.__setattr__(
            self,
            "content_hash",
            content_hash(self.tracking_number, utc, self.status, self.location, self.description),
        )

    @property
    def utc_offset_minutes(self) -> int:
        offset = self.occurred_at.utcoffset()
        assert offset is not None
        return int(offset.total_seconds() // 60)


def content_hash(
    tracking_number: str,
    occurred_at_utc: datetime,
    status: str,
    location: Location | None,
    description: str,
) -> str:
    """The dedupe key of DESIGN.md §3: (number, time, status, location, description)."""
    loc = "|".join(location.as_tuple()) if location else ""
    text = "\x1f".join(
        (
            tracking_number.upper(),
            occurred_at_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            str(status),
            loc.casefold(),
            " ".join(description.split()).casefold(),
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# Place in the delivery progression; used only to break ties between events with the same time,
# so that "out for delivery" and "delivered" stamped in the same minute end on "delivered".
PROGRESSION: dict[ShipmentStatus, int] = {
    S.PENDING: 0,
    S.INFO_RECEIVED: 1,
    S.IN_TRANSIT: 2,
    S.DELAYED: 3,
    S.ACTION_REQUIRED: 4,
    S.EXCEPTION: 5,
    S.OUT_FOR_DELIVERY: 6,
    S.DELIVERY_ATTEMPTED: 7,
    S.AVAILABLE_FOR_PICKUP: 8,
    S.DELIVERED: 9,
    S.RETURNING_TO_SENDER: 10,
    S.RETURNED_TO_SENDER: 11,
    S.LOST: 12,
    S.DAMAGED: 13,
    S.DISPOSED: 14,
    S.CANCELLED: 15,
    S.EXPIRED: 16,
}

# After a delivery, only these can change the status (a carrier quirk re-sends progress scans
# after "delivered"); once one of them has, a new delivery cycle may follow.
AFTER_DELIVERY = frozenset(
    {S.RETURNING_TO_SENDER, S.RETURNED_TO_SENDER, S.EXCEPTION, S.LOST, S.DAMAGED, S.DISPOSED}
)

SortKey = tuple[datetime, int, str]


def sort_key(event: ScanEvent) -> SortKey:
    return (event.occurred_at_utc, PROGRESSION[event.status], event.content_hash)


@dataclass(frozen=True, slots=True)
class ShipmentState:
    """Everything about a shipment that follows from its events alone."""

    status: ShipmentStatus = S.PENDING
    substatus: str | None = None
    last_event_at: datetime | None = None
    first_scan_at: datetime | None = None
    delivered_at: datetime | None = None
    carrier_estimated_delivery: date | None = None
    proof_of_delivery: ProofOfDelivery | None = None
    last_key: SortKey | None = field(default=None, compare=False)
    event_count: int = 0

    def can_append(self, events: Iterable[ScanEvent]) -> bool:
        """True when every event sorts after the last one folded, so folding them on is exact."""
        return self.last_key is None or all(sort_key(e) > self.last_key for e in events)


INITIAL = ShipmentState()


def _apply(state: ShipmentState, event: ScanEvent) -> ShipmentState:
    at = event.occurred_at_utc
    status, substatus = state.status, state.substatus
    delivered_at, pod = state.delivered_at, state.proof_of_delivery
    if state.status is S.DELIVERED and event.status not in AFTER_DELIVERY and event.status is not S.DELIVERED:
        # A progress scan after delivery (carrier quirk) changes nothing but the record of it.
        if event.proof_of_delivery is not None and pod is None:
            pod = event.proof_of_delivery
    else:
        status, substatus = event.status, event.substatus
        if event.status is S.DELIVERED:
            delivered_at, pod = at, event.proof_of_delivery or pod
        else:
            delivered_at = None
    first_scan = state.first_scan_at
    if event.status in SCANNED and (first_scan is None or at < first_scan):
        first_scan = at
    last = state.last_event_at
    return ShipmentState(
        status=status,
        substatus=substatus,
        last_event_at=at if last is None or at > last else last,
        first_scan_at=first_scan,
        delivered_at=delivered_at,
        carrier_estimated_delivery=event.estimated_delivery or state.carrier_estimated_delivery,
        proof_of_delivery=pod,
        last_key=(at, PROGRESSION[event.status], event.content_hash),
        event_count=state.event_count + 1,
    )


def fold(state: ShipmentState, events: Iterable[ScanEvent]) -> ShipmentState:
    """Fold events (which must all sort after `state.last_key`) onto a state."""
    for event in sorted(events, key=sort_key):
        state = _apply(state, event)
    return state


def unique_events(events: Iterable[ScanEvent]) -> list[ScanEvent]:
    """Drop duplicates: a provider event id seen before, or the same content hash."""
    seen_ids: set[tuple[str | None, str]] = set()
    seen_hashes: set[str] = set()
    out: list[ScanEvent] = []
    for e in events:
        h = e.content_hash
        if h in seen_hashes or (e.event_id is not None and (e.carrier, e.event_id) in seen_ids):
            continue
        seen_hashes.add(h)
        if e.event_id is not None:
            seen_ids.add((e.carrier, e.event_id))
        out.append(e)
    return out


def derive_state(events: Iterable[ScanEvent]) -> ShipmentState:
    """The shipment's state from all its events, in any order and with any duplicates."""
    return fold(INITIAL, unique_events(events))
