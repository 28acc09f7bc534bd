"""The monitoring sweeps (DESIGN.md §1 row 7): find what needs telling before anyone has to ask.

Each sweep runs as of `now`, reads its findings in batches through one index range each (see
`adapters.db.monitoring`), writes the outbox in the same transaction, and returns counts. Running a
sweep twice changes nothing the second time: a condition that persists notifies once, through a flag
(`stalled`, `predicted_late`) or the outbox's dedupe key; a new occurrence has a new key (a stall
after a new scan, a corrected tracking number).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from ordertrail.domain import monitoring as rules
from ordertrail.domain import notices
from ordertrail.domain.eta.calendar import BusinessCalendar
from ordertrail.domain.monitoring import DOMESTIC, INTERNATIONAL, WATCHED_FOR_STALL
from ordertrail.services import estimates
from ordertrail.services.context import Deps
from ordertrail.services.notify import messages
from ordertrail.services.ports import OutboxMessage
from ordertrail.services.ports_monitoring import StallCutoffs


@lru_cache(maxsize=64)
def _weekdays_only() -> BusinessCalendar:
    return BusinessCalendar()


def country_calendar(deps: Deps, country: str) -> BusinessCalendar:
    return deps.business_calendar(country) if deps.business_calendar else _weekdays_only()


def carrier_calendar(deps: Deps, carrier: str | None) -> BusinessCalendar:
    """The business days a carrier moves parcels on: its holiday country's, else the origin's."""
    info = deps.carriers.get(carrier) if carrier else None
    country = (info.holiday_country or info.country_code) if info else None
    return country_calendar(deps, country or deps.monitoring_policy.origin_country)


def ship_by_overdue(deps: Deps, now: datetime) -> dict[str, int]:
    """Orders not shipped by their ship-by deadline: the seller and the buyer are told, once."""
    policy = deps.monitoring_policy
    since = now - timedelta(days=policy.lookback_days)
    found = notified = 0
    while True:
        with deps.uow() as uow:
            batch = uow.monitoring.overdue_orders(now, since, policy.batch_size)
            out: list[OutboxMessage] = []
            for o in batch:
                key = f"ship_by_overdue:{o.order_id}"
                seller = rules.ship_by_overdue(o.order_id, o.ship_by, to_seller=True)
                buyer = rules.ship_by_overdue(o.order_id, o.ship_by, to_seller=False)
                out += messages(seller, o.order_id, [o.seller_id], dedupe=key)
                out += messages(buyer, o.order_id, [o.buyer_id], dedupe=key)
            notified += uow.outbox.add(out, now)
            uow.commit()
        found += len(batch)
        if len(batch) < policy.batch_size:
            break
    counts = {"overdue": found, "notified": notified}
    if policy.ship_by_auto_cancel_business_days is not None:
        counts["cancelled"] = _auto_cancel(deps, now, policy.ship_by_auto_cancel_business_days)
    return counts


def _auto_cancel(deps: Deps, now: datetime, business_days: int) -> int:
    policy = deps.monitoring_policy
    cutoff = rules.waited_cutoff(now, business_days, country_calendar(deps, policy.origin_country))
    since = cutoff - timedelta(days=policy.lookback_days)
    reason = f"not shipped within {business_days} business days after the ship-by deadline"
    cancelled = 0
    while True:
        with deps.uow() as uow:
            batch = uow.monitoring.cancel_unshipped(cutoff, since, now, reason, policy.batch_size)
            out: list[OutboxMessage] = []
            for o in batch:
                notice = notices.order_cancelled(o.order_id, "system", reason)
                out += messages(
                    notice, o.order_id, [o.buyer_id, o.seller_id], dedupe=f"auto_cancel:{o.order_id}"
                )
            uow.outbox.add(out, now)
            uow.commit()
        cancelled += len(batch)
        if len(batch) < policy.batch_size:
            return cancelled


def no_first_scan(deps: Deps, now: datetime) -> dict[str, int]:
    """Tracking numbers the carrier has not scanned within N business days: the seller is told, once
    per number (a corrected number starts again)."""
    policy = deps.monitoring_policy
    days = policy.no_first_scan_business_days
    # The first scan happens where the parcel is handed over: count the origin's business days.
    cutoff = rules.waited_cutoff(now, days, country_calendar(deps, policy.origin_country))
    since = cutoff - timedelta(days=policy.lookback_days)
    found = notified = 0
    while True:
        with deps.uow() as uow:
            batch = uow.monitoring.unscanned(cutoff, since, policy.batch_size)
            out: list[OutboxMessage] = []
            for s in batch:
                assert s.tracking_added_at is not None and s.tracking_number is not None
                notice = rules.no_first_scan(
                    s.order_id, s.carrier or "", s.tracking_number, s.tracking_added_at, days
                )
                notice.data["shipment_id"] = s.shipment_id
                key = f"no_first_scan:{s.shipment_id}:{s.tracking_number}"
                out += messages(notice, s.order_id, [s.seller_id], dedupe=key)
            notified += uow.outbox.add(out, now)
            uow.commit()
        found += len(batch)
        if len(batch) < policy.batch_size:
            return {"unscanned": found, "notified": notified}


def stall_cutoffs(
    deps: Deps, now: datetime, thresholds: dict[tuple[str, str, str], int]
) -> list[StallCutoffs]:
    """Per watched status, the instant before which a last scan means a stall, per carrier and lane:
    learned thresholds counted in the carrier's business days where its history suffices; elsewhere
    the status's learned or default threshold in the origin's business days. (Every carrier in real
    use has history, so the origin calendar only serves a carrier's first weeks.)"""
    policy = deps.monitoring_policy
    origin = country_calendar(deps, policy.origin_country)
    carriers = {c for c, _, _ in thresholds if c != rules.ANY_CARRIER}
    out = []
    for status in WATCHED_FOR_STALL:
        days_by_lane = {
            lane: thresholds.get((rules.ANY_CARRIER, status, lane), rules.default_stall_days(lane, policy))
            for lane in (DOMESTIC, INTERNATIONAL)
        }
        by_lane = {lane: rules.waited_cutoff(now, d, origin) for lane, d in days_by_lane.items()}
        by_carrier_lane = {}
        for carrier in sorted(carriers):
            calendar = carrier_calendar(deps, carrier)
            for lane in (DOMESTIC, INTERNATIONAL):
                days = thresholds.get((carrier, status, lane), days_by_lane[lane])
                cut = rules.waited_cutoff(now, days, calendar)
                if cut != by_lane[lane]:  # only what differs from the default: a short CASE
                    by_carrier_lane[(carrier, lane)] = cut
        out.append(StallCutoffs(status, by_carrier_lane, by_lane, policy.origin_country))
    return out


def shipments_stalled(deps: Deps, now: datetime) -> dict[str, int]:
    """Parcels without a scan for unusually long for their carrier, milestone and lane: flagged
    `stalled` until their next scan, and the buyer and the seller told once per stall."""
    policy = deps.monitoring_policy
    since = now - timedelta(days=policy.lookback_days)
    with deps.uow() as uow:
        thresholds = uow.stall_stats.thresholds()
    stalled = notified = 0
    for cutoffs in stall_cutoffs(deps, now, thresholds):
        while True:
            with deps.uow() as uow:
                batch = uow.monitoring.stall_candidates(cutoffs, since, policy.batch_size)
                flagged = uow.monitoring.mark_stalled([s.shipment_id for s in batch], cutoffs.latest)
                out: list[OutboxMessage] = []
                for s in batch:
                    if s.shipment_id not in flagged or s.last_event_at is None:
                        continue
                    days = rules.business_days_waited(s.last_event_at, now, carrier_calendar(deps, s.carrier))
                    notice = rules.shipment_stalled(
                        s.order_id, s.carrier, s.tracking_number, s.status, s.last_event_at, days
                    )
                    notice.data["shipment_id"] = s.shipment_id
                    key = f"shipment_stalled:{s.shipment_id}:{s.event_count}"
                    out += messages(notice, s.order_id, [s.buyer_id, s.seller_id], dedupe=key)
                notified += uow.outbox.add(out, now)
                uow.commit()
            stalled += len(flagged)
            if len(batch) < policy.batch_size:
                break
    return {"stalled": stalled, "notified": notified}


def estimates_overdue(deps: Deps, now: datetime) -> dict[str, int]:
    """Parcels whose estimated window passed undelivered get a later window (time alone reveals that a
    parcel which has not moved will be late); those now past the promise are flagged `predicted_late`
    and the buyer and the seller get one delay notice with the new window and the reason. The
    estimator does it (services.estimates); without one there are no estimates to move."""
    if deps.eta is None:
        return {"re_estimated": 0, "predicted_late": 0, "notified": 0}
    return estimates.overdue(deps, now)
