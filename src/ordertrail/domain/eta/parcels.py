"""Re-estimating a parcel the service follows: the milestone it is at and since when, its current
window, whether it now looks late, and the next day on which time alone will move its estimate.

The service stores a shipment's estimate as the calibrated 80% window [earliest, latest] and
flags it `predicted_late` when the window's median passes the promise's latest date: a parcel
more likely late than not. (The window's end passing the promise is no such sign: a promise is
itself a 90% date, so that happens to parcels that are merely a day behind.)

Time alone moves an estimate: each business day spent at a milestone without the next scan shifts
the remaining-time distribution later, and no estimate may sit on a day that has passed. The
service therefore looks at each parcel again on the day its estimate would next change, found by
trying the days ahead (`next_check`), so a daily sweep costs what it changes, not what it follows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from ordertrail.domain.eta.estimator import EtaModel
from ordertrail.domain.eta.lanes import LaneContext
from ordertrail.domain.eta.windows import DeliveryWindow, Milestone, milestone_for_status
from ordertrail.domain.statuses import ShipmentStatus


@dataclass(frozen=True, slots=True)
class ParcelFacts:
    """What a re-estimate needs to know of a shipment, in the local dates of its lane."""

    ctx: LaneContext
    status: ShipmentStatus
    handling_start: date  # the order's first handling day (placement, or the next day after the cut-off)
    accepted_on: date | None = None  # the carrier's first physical scan
    last_scan_on: date | None = None
    delivered_on: date | None = None
    carrier_estimate: date | None = None


def handling_start(placed_local: datetime, cutoff_hour: int) -> date:
    """The day handling starts: the day of placement, or the next one for orders after the cut-off."""
    day = placed_local.date()
    return day + timedelta(days=1) if placed_local.hour >= cutoff_hour else day


def milestone_since(facts: ParcelFacts) -> tuple[Milestone, date] | None:
    """The milestone and the day it was reached; None when no delivery is expected any more.

    In transit counts from the first acceptance scan, not the latest scan: the time spent at the
    milestone is what tells a slow parcel from one on schedule. Out for delivery counts from the
    latest scan (the vehicle run or the failed attempt that started it)."""
    found = _milestone_reached(facts.status, facts.accepted_on, facts.last_scan_on, facts.delivered_on)
    if found is None:
        return None
    milestone, since = found
    return milestone, since or facts.handling_start


def _milestone_reached(
    status: ShipmentStatus, accepted_on: date | None, last_scan_on: date | None, delivered_on: date | None
) -> tuple[Milestone, date | None] | None:
    milestone = milestone_for_status(status)
    if milestone is None:
        return None
    if milestone is Milestone.DELIVERED:
        return milestone, delivered_on or last_scan_on
    if milestone is Milestone.OUT_FOR_DELIVERY:
        return milestone, last_scan_on or accepted_on
    if milestone is Milestone.IN_TRANSIT:
        return milestone, accepted_on or last_scan_on
    return milestone, None  # awaiting handover: since the order's handling start


def estimate_inputs(
    status: ShipmentStatus,
    accepted_on: date | None,
    last_scan_on: date | None,
    delivered_on: date | None,
    carrier_estimate: date | None,
) -> tuple[object, ...]:
    """What a parcel's re-estimate depends on besides its order's lane and the day: its status, the
    milestone it is at and since when, and the carrier's own estimate. A scan that leaves these as they
    were (the next hub scan of a parcel in transit, most scans) leaves the estimate as it was."""
    return (status, carrier_estimate, _milestone_reached(status, accepted_on, last_scan_on, delivered_on))


def current_window(
    model: EtaModel, facts: ParcelFacts, today: date
) -> tuple[Milestone, DeliveryWindow] | None:
    found = milestone_since(facts)
    if found is None:
        return None
    milestone, since = found
    if milestone is Milestone.DELIVERED:
        return milestone, model.reestimate(facts.ctx, milestone, since, today)
    # A scan stamped after today (a carrier clock ahead of ours) has not happened yet for counting.
    since = min(since, today)
    return milestone, model.reestimate(facts.ctx, milestone, since, today, facts.carrier_estimate)


@dataclass(frozen=True, slots=True)
class Reassessment:
    milestone: Milestone
    window: DeliveryWindow
    predicted_late: bool
    changed: bool  # the shown window [earliest, latest] moved
    became_late: bool  # predicted late now, and not before: the buyer and the seller are told
    next_check: date  # when time alone would move the estimate next

    @property
    def estimated(self) -> tuple[date, date]:
        return self.window.earliest, self.window.latest


def reassess(
    model: EtaModel,
    facts: ParcelFacts,
    today: date,
    promised_latest: date,
    shown: tuple[date, date] | None,
    was_late: bool,
    lookahead_days: int = 0,
) -> Reassessment | None:
    """The parcel's estimate as of `today` against what is shown. With `lookahead_days` 0 the next
    check is tomorrow; otherwise the first of the next `lookahead_days` days on which what is shown
    would differ (the last of them when none does); never after the day after the window ends, nor
    before tomorrow."""
    found = current_window(model, facts, today)
    if found is None:
        return None
    milestone, window = found
    if facts.status is ShipmentStatus.DELAYED and shown is not None:
        # The carrier says the parcel is late: whatever the lane's history, not sooner than shown.
        earliest, latest = max(window.earliest, shown[0]), max(window.latest, shown[1])
        window = replace(
            window,
            earliest=earliest,
            point=min(max(window.point, earliest), latest),
            latest=latest,
            basis=f"{window.basis}; the carrier reports a delay",
        )
    # Once delivered, lateness is a fact of the delivery date, no longer a prediction to revise.
    late = was_late if milestone is Milestone.DELIVERED else window.point > promised_latest
    nxt = today + timedelta(days=1)
    if lookahead_days > 0 and milestone is not Milestone.DELIVERED:
        nxt = next_check(model, facts, today, promised_latest, window, lookahead_days)
    # Never checked later than the day after the window ends: the overdue sweep finds expired windows
    # among the due checks (one index for both sweeps).
    nxt = max(today + timedelta(days=1), min(nxt, window.latest + timedelta(days=1)))
    return Reassessment(
        milestone=milestone,
        window=window,
        predicted_late=late,
        changed=(window.earliest, window.latest) != shown,
        became_late=late and not was_late,
        next_check=nxt,
    )


def next_check(
    model: EtaModel,
    facts: ParcelFacts,
    today: date,
    promised_latest: date,
    window: DeliveryWindow,
    horizon: int,
) -> date:
    """The first day after `today`, within `horizon` days, on which what is shown moves if nothing is
    scanned meanwhile: the window, or whether its median is past the promise."""
    shown = (window.earliest, window.latest, window.point > promised_latest)
    for ahead in range(1, horizon + 1):
        day = today + timedelta(days=ahead)
        found = current_window(model, facts, day)
        if found is None or (found[1].earliest, found[1].latest, found[1].point > promised_latest) != shown:
            return day
    return today + timedelta(days=horizon)


_WHY = {
    Milestone.AWAITING_HANDOVER: "the carrier has not received the parcel yet",
    Milestone.IN_TRANSIT: "the parcel is taking longer than usual on its way",
    Milestone.OUT_FOR_DELIVERY: "the parcel was out for delivery but has not been delivered",
}


def delay_reason(milestone: Milestone, basis: str) -> str:
    """Why a parcel now looks late, in words for the buyer, with the estimator's figures."""
    why = _WHY.get(milestone, "the delivery estimate moved")
    return f"{why} ({basis})."
