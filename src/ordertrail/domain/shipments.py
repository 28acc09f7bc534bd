"""Shipments: one parcel of an order, with its carrier, number and the state its events give it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from ordertrail.domain.events import ProofOfDelivery, ShipmentState, SortKey
from ordertrail.domain.statuses import TERMINAL, ShipmentStatus

# The substatus of a replacement shipment until the seller gives its tracking number.
AWAITING_TRACKING = "awaiting_tracking"


@dataclass(slots=True)
class Shipment:
    id: str
    order_id: str
    carrier: str | None
    tracking_number: str | None
    items: list[tuple[str, int]] | None
    status: ShipmentStatus
    substatus: str | None
    created_at: datetime
    tracking_added_at: datetime | None = None
    ship_by: datetime | None = None
    first_scan_at: datetime | None = None
    last_event_at: datetime | None = None
    delivered_at: datetime | None = None
    carrier_estimated_delivery: date | None = None
    estimated_earliest: date | None = None
    estimated_latest: date | None = None
    predicted_late: bool = False
    stalled: bool = False
    proof_of_delivery: ProofOfDelivery | None = None
    last_key: SortKey | None = None
    event_count: int = 0
    # The day the delivery estimate is next due to be looked at (None: not loaded, leave as stored).
    estimate_due_on: date | None = None

    @property
    def state(self) -> ShipmentState:
        return ShipmentState(
            status=self.status,
            substatus=self.substatus,
            last_event_at=self.last_event_at,
            first_scan_at=self.first_scan_at,
            delivered_at=self.delivered_at,
            carrier_estimated_delivery=self.carrier_estimated_delivery,
            proof_of_delivery=self.proof_of_delivery,
            last_key=self.last_key,
            event_count=self.event_count,
        )

    @property
    def active(self) -> bool:
        return self.status not in TERMINAL


def encode_sort_key(key: SortKey | None) -> str | None:
    if key is None:
        return None
    at, rank, digest = key
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}|{rank:02d}|{digest}"


def decode_sort_key(text: str | None) -> SortKey | None:
    if not text:
        return None
    at, rank, digest = text.split("|")
    return (datetime.fromisoformat(at).replace(tzinfo=UTC), int(rank), digest)
