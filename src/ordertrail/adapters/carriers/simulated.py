"""The demo's simulated carrier as a carrier that must be polled (`CarrierClient`).

It tells the same story as the push simulator (`services.simulator.route`): a parcel's scans are the
steps of its deterministic route that are due by now, counted from when its number was handed over.
Every answer repeats the scans given before; ingestion counts those as duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from ordertrail.domain.events import Location, ScanEvent
from ordertrail.services.ports_carriers import Parcel
from ordertrail.services.simulator import route

SLUG = "simulated"


class SimulatedCarrierClient:
    def __init__(self, clock: Callable[[], datetime], seconds_per_hop: float) -> None:
        self._clock = clock
        self._seconds_per_hop = seconds_per_hop

    def fetch(self, parcels: Sequence[Parcel]) -> list[ScanEvent]:
        now = self._clock()
        events: list[ScanEvent] = []
        for parcel in parcels:
            if parcel.handed_over_at is None:
                continue  # never handed over: the carrier has nothing to say yet
            number = parcel.tracking_number
            for step in route(number, parcel.destination or Location(), self._seconds_per_hop):
                at = parcel.handed_over_at + step.after
                if at > now:
                    break
                events.append(
                    ScanEvent(
                        tracking_number=number,
                        occurred_at=at,
                        status=step.status,
                        description=step.description,
                        carrier=SLUG,
                        carrier_code=step.code,
                        event_id=f"{number}-{step.code}-{int(step.after.total_seconds())}",
                        location=step.location,
                    )
                )
        return events
