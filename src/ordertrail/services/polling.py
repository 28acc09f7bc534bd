"""Polling the carriers that push nothing: a sweep that asks them for the scans of due shipments.

Per polled carrier (`Deps.polled_carriers`), each run:
1. Retires the shipments followed for too long. A shipment whose tracking number was added more than
   `Deps.tracking_max_age` ago and is still not in a final status gets an `expired` event (substatus
   `max_tracking_age`), stamped now and ingested like any scan: the status stays a function of the
   events, the buyer's timeline says why tracking stopped, and the shipment leaves the active set, so
   it is polled no more. The poll row records the retirement, so a shipment that a carrier (or an
   aggregator's push) brings back to life afterwards is followed again and never retired twice.
2. Reads the due shipments: active, of this carrier, not polled within the carrier's interval,
   never-polled first and then the longest-waiting. It reads only as many as the rate limit lets
   this run ask about (tokens available x batch size).
3. Asks the carrier in batches of `batch_size` numbers, one request (one token) per batch, and ingests
   each batch's scans in one transaction. Scans for numbers that were not asked about are dropped.
4. Records the poll, with the error when the carrier failed: a failing carrier is asked again after
   the interval, not at every run, so an outage does not turn into a request storm.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from datetime import datetime

from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.services.context import Deps
from ordertrail.services.ingest import EventInput, ingest_events
from ordertrail.services.ports_carriers import CarrierUnavailable, PolledCarrier

log = logging.getLogger(__name__)

RETIRE_BATCH = 500
MAX_AGE_SUBSTATUS = "max_tracking_age"


def _normalise(number: str) -> str:
    return "".join(number.split()).upper()


def poll_carriers(deps: Deps, now: datetime) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for slug, plan in deps.polled_carriers.items():
        totals.update(retire_overdue(deps, slug, now))
        totals.update(poll_due(deps, slug, plan, now))
    return {key: totals[key] for key in ("polled", "requests", "accepted", "duplicates", "errors", "retired")}


def retire_overdue(deps: Deps, carrier: str, now: datetime) -> dict[str, int]:
    days = deps.tracking_max_age.days
    retired = 0
    while True:
        with deps.uow() as uow:
            overdue = uow.polls.overdue(carrier, now - deps.tracking_max_age, RETIRE_BATCH)
        if not overdue:
            return {"retired": retired}
        inputs = [
            (
                i,
                EventInput(
                    tracking_number=number,
                    occurred_at=now,
                    description=f"Tracking stopped: not delivered {days} days after the tracking number was added.",
                    status=ShipmentStatus.EXPIRED,
                    substatus=MAX_AGE_SUBSTATUS,
                    carrier=carrier,
                    raw_status=f"ordertrail:{MAX_AGE_SUBSTATUS}",
                ),
            )
            for i, (_, number) in enumerate(overdue)
        ]
        result = ingest_events(deps, inputs)
        with deps.uow() as uow:
            uow.polls.mark_retired(carrier, [shipment_id for shipment_id, _ in overdue], now)
            uow.commit()
        retired += len(overdue)
        if result.rejected:
            log.warning(
                "retiring %s shipments of %s: %s refused", len(overdue), carrier, len(result.rejected)
            )
        if len(overdue) < RETIRE_BATCH:
            return {"retired": retired}


def poll_due(deps: Deps, carrier: str, plan: PolledCarrier, now: datetime) -> dict[str, int]:
    counts: Counter[str] = Counter()
    requests = plan.bucket.available(now)
    if requests == 0:
        return counts
    with deps.uow() as uow:
        due = uow.polls.due(carrier, now - plan.every, requests * plan.batch_size)
    for start in range(0, len(due), plan.batch_size):
        if not plan.bucket.take(now):
            break  # the rest stay due, and the longest-waiting go first next time
        batch = due[start : start + plan.batch_size]
        error: str | None = None
        try:
            scans = plan.client.fetch([shipment.parcel for shipment in batch])
        except CarrierUnavailable as exc:
            scans, error = [], str(exc)[:500]
            counts["errors"] += 1
            log.warning("polling %s for %s shipments failed: %s", carrier, len(batch), error)
        asked = {_normalise(shipment.parcel.tracking_number) for shipment in batch}
        inputs = [
            (i, replace(EventInput.from_scan(scan), carrier=carrier))
            for i, scan in enumerate(scans)
            if _normalise(scan.tracking_number) in asked
        ]
        if inputs:
            result = ingest_events(deps, inputs)
            counts["accepted"] += result.accepted
            counts["duplicates"] += result.duplicates
        with deps.uow() as uow:
            uow.polls.mark_polled(carrier, [shipment.shipment_id for shipment in batch], now, error)
            uow.commit()
        counts["requests"] += 1
        counts["polled"] += len(batch)
    return counts
