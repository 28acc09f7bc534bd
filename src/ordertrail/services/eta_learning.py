"""Learning delivery estimates from the service's own history (`ordertrail edd fit`).

Every shipment of the last `history_days` that was delivered or is still on its way is a
`ShipmentHistory` as known today: a parcel still moving is a censored observation (it has taken at
least this long), not a missing one, so a slow-down shows in the fit before its parcels arrive.
Parcels that will never be delivered (lost, returned, cancelled...) say nothing about delivery times
and are left out. The fit is stored in the database; every process switches to it at its next check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from ordertrail.domain.eta import ShipmentHistory, milestone_for_status
from ordertrail.domain.eta.parcels import handling_start
from ordertrail.domain.statuses import TERMINAL, ShipmentStatus
from ordertrail.services.context import Deps
from ordertrail.services.edd_evaluation import fit_from_records
from ordertrail.services.estimates import lane_context, local_day
from ordertrail.services.ports_eta import EtaSetup, PastShipment

# Delivered, or still expected to be: the statuses a shipment teaches delivery times at.
LEARNING_STATUSES = tuple(
    s.value
    for s in ShipmentStatus
    if milestone_for_status(s) is not None and (s is ShipmentStatus.DELIVERED or s not in TERMINAL)
)


@dataclass(frozen=True, slots=True)
class FitReport:
    model_id: int
    as_of: date
    shipments: int  # learned from, the export's included
    delivered: int
    from_export: int


def history_record(setup: EtaSetup, past: PastShipment, as_of: date) -> ShipmentHistory | None:
    """A stored shipment as a learning record in the lane's local dates, as known at `as_of`."""
    order = past.order
    placed = handling_start(order.placed_at.astimezone(setup.zone), setup.cutoff_hour)
    handed = local_day(setup, past.first_scan_at) if past.first_scan_at else None
    delivered = local_day(setup, past.delivered_at) if past.delivered_at and handed else None
    # Clocks disagree now and then (a scan stamped before the order): no stage takes negative time.
    if handed is not None and handed < placed:
        handed = placed
    if delivered is not None and handed is not None and delivered < handed:
        delivered = handed
    ctx = lane_context(setup, order.seller_id, order.shipping_service, order.destination)
    return ShipmentHistory(ctx, placed, handed, delivered).as_known_on(as_of)


def learn(
    deps: Deps, now: datetime, exported: Sequence[ShipmentHistory] = ()
) -> tuple[dict[str, Any], FitReport] | None:
    """A model fitted on the service's history (and past shipments from an export), not stored (its
    report's model_id is 0); None when there is nothing to learn from."""
    if deps.eta is None:
        raise ValueError("this service has no delivery estimator configured")
    setup = deps.eta.setup
    as_of = local_day(setup, now)
    with deps.read() as uow:
        past = uow.eta.past_shipments(now - timedelta(days=setup.history_days), LEARNING_STATUSES)
    own = [r for p in past if (r := history_record(setup, p, as_of)) is not None]
    extra = [r for h in exported if (r := h.as_known_on(as_of)) is not None]
    records = own + extra
    if not records:
        return None
    model = fit_from_records(records, as_of, deps.eta.calendars, deps.eta.config)
    delivered = sum(1 for r in records if r.delivered_on is not None)
    return model.to_dict(), FitReport(0, as_of, len(records), delivered, len(extra))


def refit(deps: Deps, now: datetime, exported: Sequence[ShipmentHistory] = ()) -> FitReport | None:
    """Fit as `learn` does, store the model and switch this process to it (other processes within
    `eta_model_check_seconds`); None when there is nothing to learn from (the defaults stay)."""
    learned = learn(deps, now, exported)
    if learned is None:
        return None
    model, report = learned
    with deps.uow() as uow:
        model_id = uow.eta.store_model(model, now, report.as_of, report.shipments)
        uow.commit()
    assert deps.eta is not None  # learn refused otherwise
    deps.eta.refresh()
    return replace(report, model_id=model_id)
