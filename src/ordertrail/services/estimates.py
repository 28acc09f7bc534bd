"""Estimated delivery in the service (issue 9, DESIGN.md §4).

* At checkout the promise comes from the estimator once lane history has been fitted (`ordertrail
  edd fit`), and from the configured transit ranges until then. It is stored on the order and never
  changed again: it is what the order is judged by.
* A shipment's estimate is recomputed after each carrier event that changed it (in the ingest
  transaction, pure computation over the batch) and as time passes (the `reestimate_deliveries`
  sweep, on the day each estimate would next move). Every change is recorded with its reason; a
  shipment whose estimate's median passes the promise is flagged `predicted_late`, and the buyer and
  the seller get one `delivery_delayed` notice naming the new window and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ordertrail.domain import monitoring as rules
from ordertrail.domain.eta import EtaModel, LaneContext, parcels
from ordertrail.domain.eta.parcels import ParcelFacts, Reassessment, delay_reason, handling_start, reassess
from ordertrail.domain.orders import Order
from ordertrail.domain.shipments import Shipment
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.services.context import Deps
from ordertrail.services.notify import messages
from ordertrail.services.ports import OutboxMessage, UnitOfWork
from ordertrail.services.ports_eta import EstimateChange, EstimateSubject, EtaSetup, OrderLane

ORDER_PLACED, CARRIER_EVENT, DAILY_CHECK, ESTIMATE_PASSED = (
    "order_placed",
    "carrier_event",
    "daily_check",
    "estimate_passed",
)


def local_day(setup: EtaSetup, at: datetime) -> date:
    return at.astimezone(setup.zone).date()


def lane_context(
    setup: EtaSetup, seller_id: str, service: str, destination: Mapping[str, str]
) -> LaneContext:
    """The estimator's lane of an order: the seller, origin and destination regions, and the shipping
    service (the carrier is left out: the promise is made before the seller picks one)."""
    return LaneContext(
        seller_id=seller_id,
        origin_country=setup.origin_country.upper(),
        origin_region=setup.origin_region.upper(),
        destination_country=(destination.get("country_code") or setup.origin_country).upper(),
        destination_region=(destination.get("country_area") or "").upper(),
        destination_postal_code=(destination.get("postal_code") or "").replace(" ", "").upper(),
        service=service,
    )


def parcel_facts(
    setup: EtaSetup,
    order: OrderLane,
    status: ShipmentStatus,
    first_scan_at: datetime | None,
    last_event_at: datetime | None,
    delivered_at: datetime | None,
    carrier_estimate: date | None,
) -> ParcelFacts:
    return ParcelFacts(
        ctx=lane_context(setup, order.seller_id, order.shipping_service, order.destination),
        status=status,
        handling_start=handling_start(order.placed_at.astimezone(setup.zone), setup.cutoff_hour),
        accepted_on=local_day(setup, first_scan_at) if first_scan_at else None,
        last_scan_on=local_day(setup, last_event_at) if last_event_at else None,
        delivered_on=local_day(setup, delivered_at) if delivered_at else None,
        carrier_estimate=carrier_estimate,
    )


# -- the promise at checkout -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Promise:
    earliest: date
    latest: date
    basis: str


def checkout_promise(
    deps: Deps,
    uow: UnitOfWork,
    placed_at: datetime,
    ship_by: datetime,
    service: str,
    address: Mapping[str, str],
    seller_id: str,
) -> Promise:
    """[earliest, promised] of the latest fit for this lane; the configured promise until a fit exists."""
    model = deps.eta.learned(uow.eta) if deps.eta is not None else None
    if model is None or deps.eta is None:
        earliest, latest = deps.promises.promise(placed_at, ship_by, service, address, seller_id)
        return Promise(earliest, latest, f"configured {service} transit time after the ship-by date")
    setup = deps.eta.setup
    ctx = lane_context(setup, seller_id, service, address)
    window = model.promise(ctx, handling_start(placed_at.astimezone(setup.zone), setup.cutoff_hour))
    return Promise(window.earliest, window.promised, window.basis)


def record_promise(uow: UnitOfWork, order: Order, basis: str) -> None:
    """The first entry of the order's estimate history: what was promised, and from what."""
    window = (order.promised_earliest, order.promised_latest)
    uow.eta.record(
        [EstimateChange(order.id, None, order.placed_at, None, window, False, basis, ORDER_PLACED)]
    )


# -- re-estimation -----------------------------------------------------------------------------


def _delay_messages(order: OrderLane, shipment_id: str, found: Reassessment) -> list[OutboxMessage]:
    reason = delay_reason(found.milestone, found.window.basis)
    notice = rules.delivery_delayed(order.order_id, order.promised, found.estimated, reason)
    notice.data["shipment_id"] = shipment_id
    # Once per shipment: a parcel that slips again later, or recovers and slips, is not announced twice.
    return messages(
        notice, order.order_id, [order.buyer_id, order.seller_id], dedupe=f"delivery_delayed:{shipment_id}"
    )


def _change(
    order: OrderLane,
    shipment_id: str,
    shown: tuple[date, date] | None,
    found: Reassessment,
    now: datetime,
    trigger: str,
) -> EstimateChange:
    return EstimateChange(
        order.order_id,
        shipment_id,
        now,
        shown,
        found.estimated,
        found.predicted_late,
        found.window.basis,
        trigger,
    )


def estimate_inputs(setup: EtaSetup, shipment: Shipment) -> tuple[object, ...]:
    """`parcels.estimate_inputs` of a shipment, in its lane's local dates."""
    return parcels.estimate_inputs(
        shipment.status,
        local_day(setup, shipment.first_scan_at) if shipment.first_scan_at else None,
        local_day(setup, shipment.last_event_at) if shipment.last_event_at else None,
        local_day(setup, shipment.delivered_at) if shipment.delivered_at else None,
        shipment.carrier_estimated_delivery,
    )


def after_events(
    deps: Deps,
    uow: UnitOfWork,
    changed: Sequence[Shipment],
    now: datetime,
    before: Mapping[str, tuple[object, ...]] | None = None,
) -> tuple[list[EstimateChange], list[OutboxMessage]]:
    """Re-estimate shipments whose events changed them in this ingest batch: sets their estimate,
    flag and next check on the `Shipment` objects, and returns the changes to record and the delay
    notices (ingest writes all three). One query for the batch's orders, whatever its size; no
    writes, so that ingest can work a batch out before it takes the write lock. A shipment whose
    `estimate_inputs` are what they were `before` the batch keeps its estimate when that estimate is
    still good today (its next check is after today)."""
    if deps.eta is None or not changed:
        return [], []
    setup = deps.eta.setup
    today = local_day(setup, now)
    if before is not None:
        changed = [
            s
            for s in changed
            if s.estimated_earliest is None
            or s.estimate_due_on is None
            or s.estimate_due_on <= today
            or before.get(s.id) != estimate_inputs(setup, s)
        ]
        if not changed:
            return [], []
    lanes = uow.eta.order_lanes([s.order_id for s in changed])
    model = deps.eta.current(uow.eta)
    changes: list[EstimateChange] = []
    out: list[OutboxMessage] = []
    for shipment in changed:
        order = lanes.get(shipment.order_id)
        if order is None:
            continue
        facts = parcel_facts(
            setup,
            order,
            shipment.status,
            shipment.first_scan_at,
            shipment.last_event_at,
            shipment.delivered_at,
            shipment.carrier_estimated_delivery,
        )
        shown = (
            (shipment.estimated_earliest, shipment.estimated_latest)
            if shipment.estimated_earliest and shipment.estimated_latest
            else None
        )
        found = reassess(model, facts, today, order.promised[1], shown, shipment.predicted_late)
        if found is None:
            continue
        shipment.estimate_due_on = found.next_check
        if found.changed or found.predicted_late != shipment.predicted_late:
            changes.append(_change(order, shipment.id, shown, found, now, CARRIER_EVENT))
        shipment.estimated_earliest, shipment.estimated_latest = found.estimated
        shipment.predicted_late = found.predicted_late
        if found.became_late:
            out += _delay_messages(order, shipment.id, found)
    return changes, out


@dataclass
class Refreshed:
    checked: int = 0
    moved: int = 0
    became_late: int = 0
    notified: int = 0  # outbox rows queued (set by the sweeps, which write the outbox)
    outbox: list[OutboxMessage] = field(default_factory=list)


def refresh(
    deps: Deps, uow: UnitOfWork, subjects: Iterable[EstimateSubject], now: datetime, trigger: str
) -> Refreshed:
    """Re-estimate stored shipments as of `now` and write the results, each with the next day its
    estimate would move by itself (looked for up to `setup.lookahead_days` ahead)."""
    result = Refreshed()
    if deps.eta is None:
        return result
    setup = deps.eta.setup
    model: EtaModel = deps.eta.current(uow.eta)
    today = local_day(setup, now)
    idle = today + timedelta(days=setup.lookahead_days)
    rows: list[tuple[str, int, date, date, bool, date]] = []
    found_by_id: dict[str, tuple[EstimateSubject, Reassessment]] = {}
    checks: list[tuple[str, date]] = []
    for s in subjects:
        result.checked += 1
        facts = parcel_facts(
            setup, s.order, s.status, s.first_scan_at, s.last_event_at, s.delivered_at, s.carrier_estimate
        )
        found = reassess(
            model, facts, today, s.order.promised[1], s.estimated, s.predicted_late, setup.lookahead_days
        )
        if found is None:  # no delivery expected (returning, lost...): nothing to estimate for a while
            checks.append((s.shipment_id, idle))
            continue
        rows.append((s.shipment_id, s.event_count, *found.estimated, found.predicted_late, found.next_check))
        found_by_id[s.shipment_id] = (s, found)
    uow.eta.set_next_checks(checks)
    written = uow.eta.save(rows)
    changes: list[EstimateChange] = []
    for sid in sorted(written):
        s, found = found_by_id[sid]
        if found.changed or found.predicted_late != s.predicted_late:
            result.moved += found.changed
            changes.append(_change(s.order, sid, s.estimated, found, now, trigger))
        if found.became_late:
            result.became_late += 1
            result.outbox += _delay_messages(s.order, sid, found)
    uow.eta.record(changes)
    return result


def reestimate_deliveries(deps: Deps, now: datetime) -> dict[str, int]:
    """The sweep: shipments whose estimate time alone has moved since it was last computed, the
    longest due first, at most `setup.sweep_limit` per run."""
    if deps.eta is None:
        return {}
    today = local_day(deps.eta.setup, now)
    done = _work_off(deps, now, deps.eta.setup.sweep_limit, lambda uow, n: uow.eta.due(today, n), DAILY_CHECK)
    return {
        "checked": done.checked,
        "moved": done.moved,
        "predicted_late": done.became_late,
        "notified": done.notified,
    }


def overdue(deps: Deps, now: datetime) -> dict[str, int]:
    """Shipments whose shown window ended before today undelivered, re-estimated at once (the
    `estimates_overdue` sweep, every 15 minutes, the longest expired first, at most
    `setup.overdue_limit` per run): an estimate never stays in the past until its daily check."""
    assert deps.eta is not None
    today = local_day(deps.eta.setup, now)
    statuses = [s.value for s in rules.EXPECTING_DELIVERY]
    done = _work_off(
        deps,
        now,
        deps.eta.setup.overdue_limit,
        lambda uow, n: uow.eta.expired(today, statuses, n),
        ESTIMATE_PASSED,
    )
    return {"re_estimated": done.checked, "predicted_late": done.became_late, "notified": done.notified}


def _work_off(
    deps: Deps,
    now: datetime,
    limit: int,
    fetch: Callable[[UnitOfWork, int], list[EstimateSubject]],
    trigger: str,
) -> Refreshed:
    """Re-estimate what `fetch` reads, a transaction a batch, until it runs dry or `limit` is reached."""
    total = Refreshed()
    batch_size = deps.monitoring_policy.batch_size
    while total.checked < limit:
        want = min(batch_size, limit - total.checked)
        with deps.uow() as uow:
            batch = fetch(uow, want)
            done = refresh(deps, uow, batch, now, trigger)
            total.notified += uow.outbox.add(done.outbox, now)
            uow.commit()
        total.checked += done.checked
        total.moved += done.moved
        total.became_late += done.became_late
        if len(batch) < want:
            break
    return total
