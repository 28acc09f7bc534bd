"""A carrier simulator for the demo: moves parcels of the `simulated` carrier through realistic scans.

Each parcel follows a route of scans (label, origin, hubs, out for delivery, delivered) with the odd
failed attempt and weather delay; `advance` emits the scans that are due by `now`, through the same
ingestion path as a real carrier's events.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from ordertrail.domain.events import Location
from ordertrail.domain.statuses import ShipmentStatus as S
from ordertrail.services.context import Deps
from ordertrail.services.ingest import EventInput, IngestResult, ingest_events

HUBS = [
    Location("Memphis", "TN", "38118", "US"),
    Location("Louisville", "KY", "40209", "US"),
    Location("Indianapolis", "IN", "46241", "US"),
    Location("Ontario", "CA", "91761", "US"),
    Location("Dallas", "TX", "75261", "US"),
]
ORIGIN = Location("Newark", "NJ", "07114", "US")


@dataclass(frozen=True)
class Step:
    after: timedelta
    status: S
    code: str
    description: str
    location: Location | None


def route(number: str, destination: Location, seconds_per_hop: float) -> list[Step]:
    """A deterministic route per tracking number, so re-running the demo replays the same story."""
    seed = int(hashlib.sha256(number.encode()).hexdigest(), 16)
    hop = timedelta(seconds=seconds_per_hop)
    hubs = random.Random(seed).sample(HUBS, 1 + seed % 3)  # a parcel passes a hub once
    steps = [
        Step(hop * 0, S.INFO_RECEIVED, "OC", "Shipment information sent to carrier", ORIGIN),
        Step(hop * 1, S.IN_TRANSIT, "PU", "Picked up", ORIGIN),
    ]
    t = 2
    for hub in hubs:
        steps.append(Step(hop * t, S.IN_TRANSIT, "AR", "Arrived at sort facility", hub))
        steps.append(Step(hop * (t + 0.5), S.IN_TRANSIT, "DP", "Departed sort facility", hub))
        t += 1
    if seed % 7 == 0:
        steps.append(Step(hop * t, S.DELAYED, "CD", "Weather delay: severe storms in the area", hubs[-1]))
        t += 2
    steps.append(Step(hop * t, S.IN_TRANSIT, "AR", "Arrived at destination facility", destination))
    steps.append(Step(hop * (t + 1), S.OUT_FOR_DELIVERY, "OD", "On vehicle for delivery", destination))
    t += 2
    if seed % 5 == 0:
        steps.append(
            Step(
                hop * t,
                S.DELIVERY_ATTEMPTED,
                "DE",
                "Delivery attempted: recipient not available",
                destination,
            )
        )
        steps.append(Step(hop * (t + 1), S.OUT_FOR_DELIVERY, "OD", "On vehicle for delivery", destination))
        t += 2
    steps.append(Step(hop * t, S.DELIVERED, "DL", "Delivered, left at front door", destination))
    return steps


def advance(
    deps: Deps, parcels: list[tuple[str, datetime, Location]], now: datetime, seconds_per_hop: float
) -> IngestResult:
    """Post every scan that is due by `now`; already-posted scans come back as harmless duplicates."""
    inputs: list[tuple[int, EventInput]] = []
    for number, started, destination in parcels:
        for step in route(number, destination, seconds_per_hop):
            at = started + step.after
            if at > now:
                break
            inputs.append(
                (
                    len(inputs),
                    EventInput(
                        tracking_number=number,
                        occurred_at=at,
                        description=step.description,
                        code=step.code,
                        location=step.location,
                        event_id=f"{number}-{step.code}-{int(step.after.total_seconds())}",
                    ),
                )
            )
    return ingest_events(deps, inputs) if inputs else IngestResult()
