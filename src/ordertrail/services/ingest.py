"""Carrier event ingestion: one transaction per batch, set-based dedupe, incremental merge.

The hot path of the service. Per batch it runs a fixed number of statements whatever the batch
size: resolve numbers (1), insert-or-ignore events (1), reload history only for shipments that got
an out-of-order event (0-1), update shipments (1), history and outbox (0-2), orders (2-3), and the
re-estimates of the changed shipments (their orders' lanes 1, estimate history 0-1, next checks 1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ordertrail.domain import notices
from ordertrail.domain.carrier_codes import status_for_code
from ordertrail.domain.errors import FieldError
from ordertrail.domain.events import (
    MAX_YEAR,
    MIN_YEAR,
    Location,
    OffsetSource,
    ProofOfDelivery,
    ScanEvent,
    ShipmentState,
    derive_state,
    fold,
    in_range,
    too_far_ahead,
    unique_events,
    within_limits,
)
from ordertrail.domain.shipments import Shipment
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.services import estimates
from ordertrail.services.context import Deps
from ordertrail.services.notify import messages
from ordertrail.services.ports import OutboxMessage, StatusChange, UnitOfWork
from ordertrail.services.ports_eta import EstimateChange
from ordertrail.services.status import order_class, refresh_orders

S = ShipmentStatus

MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class EventInput:
    """An event as a carrier sent it: the status may still have to come from the carrier's code."""

    tracking_number: str
    occurred_at: datetime
    description: str
    status: ShipmentStatus | None = None
    substatus: str | None = None
    code: str | None = None
    carrier: str | None = None
    event_id: str | None = None
    location: Location | None = None
    estimated_delivery: date | None = None
    proof_of_delivery: ProofOfDelivery | None = None
    offset_source: str = OffsetSource.EVENT
    raw_status: str | None = None

    @classmethod
    def from_scan(cls, scan: ScanEvent) -> EventInput:
        """A provider's or poller's scan, its texts cut to what the API would accept."""
        e = within_limits(scan)
        return cls(
            tracking_number=e.tracking_number,
            occurred_at=e.occurred_at,
            description=e.description,
            status=e.status,
            substatus=e.substatus,
            code=e.carrier_code,
            carrier=e.carrier,
            event_id=e.event_id,
            location=e.location,
            estimated_delivery=e.estimated_delivery,
            proof_of_delivery=e.proof_of_delivery,
            offset_source=e.offset_source,
            raw_status=e.raw_status,
        )


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, list[FieldError]]] = field(default_factory=list)
    # How the batch was planned: "ahead" (outside the write lock, written as planned), "again"
    # (planned ahead, something moved, planned again under the lock) or "locked" (under it only).
    plan: str = "locked"
    shared_by: int = 1  # batches committed in the same transaction as this one (services.write_groups)


NOTIFY_ON: dict[ShipmentStatus, str] = {
    S.OUT_FOR_DELIVERY: "out_for_delivery",
    S.DELIVERED: "delivered",
    S.DELIVERY_ATTEMPTED: "delivery_attempted",
    S.EXCEPTION: "shipment_exception",
    S.ACTION_REQUIRED: "shipment_exception",
    S.RETURNING_TO_SENDER: "shipment_exception",
    S.LOST: "shipment_exception",
    S.DAMAGED: "shipment_exception",
}


def _to_scan(
    inp: EventInput, carrier: str | None, tracking_number: str, now: datetime, max_ahead: timedelta | None
) -> ScanEvent | FieldError:
    """The stored event, under the shipment's own spelling of the number (built once: hot path)."""
    if not in_range(inp.occurred_at):
        return FieldError(
            "occurred_at",
            "out_of_range",
            f"A scan must be dated in the years {MIN_YEAR}-{MAX_YEAR}; check the carrier's clock.",
        )
    if max_ahead is not None and too_far_ahead(inp.occurred_at, now, max_ahead):
        return FieldError(
            "occurred_at",
            "in_future",
            f"This scan is dated {inp.occurred_at.astimezone(UTC):%a %d %b %Y, %H:%M} UTC, more than "
            f"{max_ahead.total_seconds() / 3600:g} hours after our clock "
            f"({now.astimezone(UTC):%d %b %H:%M} UTC); check the carrier's clock and time zone.",
        )
    if inp.estimated_delivery is not None and not in_range(inp.estimated_delivery):
        return FieldError(
            "estimated_delivery", "out_of_range", f"Give a date in the years {MIN_YEAR}-{MAX_YEAR}."
        )
    status, substatus = inp.status, inp.substatus
    if status is None:
        if not inp.code:
            return FieldError(
                "status", "required", "Give a status, or a code that maps to one for this carrier."
            )
        mapped = status_for_code(carrier, inp.code)
        if mapped is None:
            return FieldError(
                "code",
                "unknown_code",
                f"Code '{inp.code}' has no known meaning for carrier '{carrier}'; send a status.",
            )
        status, substatus = mapped[0], substatus or mapped[1]
    return ScanEvent(
        tracking_number=tracking_number,
        occurred_at=inp.occurred_at,
        status=status,
        description=inp.description,
        substatus=substatus,
        carrier=carrier,
        carrier_code=inp.code,
        event_id=inp.event_id,
        location=inp.location,
        offset_source=inp.offset_source,
        estimated_delivery=inp.estimated_delivery,
        proof_of_delivery=inp.proof_of_delivery,
        raw_status=inp.raw_status,
    )


def _normalise_number(number: str) -> str:
    return "".join(number.split()).upper()


def ingest_events(
    deps: Deps,
    inputs: Sequence[tuple[int, EventInput]],
    rejected: Sequence[tuple[int, list[FieldError]]] = (),
    source_id: int | None = None,
) -> IngestResult:
    """Apply a batch of events; each bad event is refused alone and the rest applied together.

    While `deps.writers_compete()` (another process writing to SQLite, whose writers take turns for
    the whole database) the batch is worked out in a read transaction first, outside the write
    lock, so that another process's batch can be written meanwhile; under the lock the shipments
    are read again and, if nothing they hold moved, the plan is written as it is. If something moved
    (another batch about the same parcel, a correction, an order change), or an event turns out to
    be stored already, the plan is dropped and the batch planned again under the lock, which is how
    a lone writer (and PostgreSQL, with its row locks) always works. On SQLite the batches that wait
    for the lock together in this process are written in one transaction (services.write_groups)."""
    now = deps.clock()
    if deps.writers_compete():
        with deps.read() as reader:
            plan = _plan(deps, reader, inputs, rejected, now)

        def work(uow: UnitOfWork) -> IngestResult:
            if not uow.shipments.still_as_read(plan.snapshot):
                return _plan_and_write(deps, uow, inputs, rejected, now, source_id, "again")
            stored = frozenset(uow.events.insert_new(plan.new_rows, now, source_id))
            if len(stored) != len(plan.new_rows):  # some were stored by another process meanwhile
                return _plan_and_write(deps, uow, inputs, rejected, now, source_id, "again", stored)
            _write(deps, uow, plan, now)
            plan.result.plan = "ahead"
            return plan.result

    else:

        def work(uow: UnitOfWork) -> IngestResult:
            return _plan_and_write(deps, uow, inputs, rejected, now, source_id, "locked")

    if deps.write_groups is None:
        with deps.uow() as uow:
            result = work(uow)
            uow.commit()
        return result
    result, shared_by = deps.write_groups.run(deps.uow, work)
    result.shared_by = shared_by
    return result


def _plan_and_write(
    deps: Deps,
    uow: UnitOfWork,
    inputs: Sequence[tuple[int, EventInput]],
    rejected: Sequence[tuple[int, list[FieldError]]],
    now: datetime,
    source_id: int | None,
    how: str,
    stored_by_us: frozenset[tuple[str, str]] = frozenset(),
) -> IngestResult:
    """Under the lock the events go in first: what the insert skipped is what was stored before
    (apart from `stored_by_us`, stored a moment ago in this transaction from a plan made ahead)."""
    plan = _plan(
        deps, uow, inputs, rejected, now, store_with=source_id, locked=True, stored_by_us=stored_by_us
    )
    _write(deps, uow, plan, now)
    plan.result.plan = how
    return plan.result


@dataclass
class _Plan:
    """What a batch changes, worked out from the database as it was read."""

    result: IngestResult
    snapshot: object  # the shipments as read: the plan holds while they still are
    new_rows: list[tuple[str, ScanEvent]] = field(default_factory=list)
    changed: list[Shipment] = field(default_factory=list)
    history: list[StatusChange] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    estimate_changes: list[EstimateChange] = field(default_factory=list)
    orders_touched: set[str] = field(default_factory=set)


def _plan(
    deps: Deps,
    uow: UnitOfWork,
    inputs: Sequence[tuple[int, EventInput]],
    rejected: Sequence[tuple[int, list[FieldError]]],
    now: datetime,
    *,
    store_with: int | None = None,
    locked: bool = False,
    stored_by_us: frozenset[tuple[str, str]] = frozenset(),
) -> _Plan:
    """Resolve the numbers, leave out the events stored before, fold the rest: reads only, unless
    `locked` (under the write lock), when the new events are stored at once (with their source)."""
    result = IngestResult(rejected=list(rejected))
    numbers = {_normalise_number(inp.tracking_number) for _, inp in inputs}
    found = uow.shipments.by_tracking_numbers(numbers, for_update=locked)
    plan = _Plan(result, uow.shipments.snapshot())
    rows: list[tuple[str, ScanEvent]] = []
    for index, inp in inputs:
        candidates = found.get(_normalise_number(inp.tracking_number), [])
        if inp.carrier:
            candidates = [c for c in candidates if c[0].carrier == inp.carrier.lower()]
        if not candidates:
            result.rejected.append(
                (
                    index,
                    [
                        FieldError(
                            "tracking_number",
                            "unknown_tracking_number",
                            "No shipment has this tracking number (and carrier); add it to an order first.",
                        )
                    ],
                )
            )
            continue
        shipment = candidates[0][0]  # the newest live shipment with the number
        number = shipment.tracking_number or inp.tracking_number
        scan = _to_scan(inp, shipment.carrier, number, now, deps.scan_max_ahead)
        if isinstance(scan, FieldError):
            result.rejected.append((index, [scan]))
            continue
        rows.append((shipment.id, scan))
    result.rejected.sort(key=lambda r: r[0])
    if not rows:
        return plan

    by_shipment: dict[str, list[ScanEvent]] = defaultdict(list)
    for sid, e in rows:
        by_shipment[sid].append(e)
    unique_rows = [(sid, e) for sid, evs in by_shipment.items() for e in unique_events(evs)]
    if locked:
        inserted = uow.events.insert_new(unique_rows, now, store_with) | stored_by_us
        plan.new_rows = [(sid, e) for sid, e in unique_rows if (sid, e.content_hash) in inserted]
    else:
        stored = uow.events.stored(unique_rows)
        plan.new_rows = [(sid, e) for sid, e in unique_rows if (sid, e.content_hash) not in stored]
    result.accepted = len(plan.new_rows)
    result.duplicates = len(rows) - len(plan.new_rows)
    if plan.new_rows:
        _fold_new_events(deps, uow, plan, found, now)
    return plan


def _write(deps: Deps, uow: UnitOfWork, plan: _Plan, now: datetime) -> None:
    """Store what the plan worked out, its new events stored already."""
    if not plan.new_rows:
        return
    uow.eta.record(plan.estimate_changes)
    uow.shipments.save_states(plan.changed)
    if plan.history:
        uow.history.shipment_changes(plan.history)
    if plan.outbox:
        uow.outbox.add(plan.outbox, now)
    if plan.orders_touched:
        refresh_orders(uow, sorted(plan.orders_touched), now, deps.reporting_window, "carrier event")


def _fold_new_events(
    deps: Deps,
    uow: UnitOfWork,
    plan: _Plan,
    found: dict[str, list[tuple[Shipment, str, str]]],
    now: datetime,
) -> None:
    shipments: dict[str, tuple[Shipment, str, str]] = {}
    for refs in found.values():
        for ref in refs:
            shipments[ref[0].id] = ref
    new_events: dict[str, list[ScanEvent]] = defaultdict(list)
    for sid, e in plan.new_rows:
        new_events[sid].append(e)

    states: dict[str, ShipmentState] = {}
    reload: list[str] = []
    for sid, evs in new_events.items():
        state = shipments[sid][0].state
        if state.can_append(evs):
            states[sid] = fold(state, evs)
        else:
            reload.append(sid)
    if reload:
        # All the events, folded from the start (the new ones may be stored already: derive_state
        # drops duplicates).
        stored = uow.events.for_shipments(reload)
        for sid in reload:
            states[sid] = derive_state([*stored.get(sid, []), *new_events[sid]])

    before: dict[str, tuple[object, ...]] = {}
    for sid, state in states.items():
        shipment, buyer_id, _seller_id = shipments[sid]
        if deps.eta is not None:
            before[sid] = estimates.estimate_inputs(deps.eta.setup, shipment)
        old_status = shipment.status
        _set_state(shipment, state)
        plan.changed.append(shipment)
        if state.status != old_status:
            if order_class(state.status) != order_class(old_status):
                plan.orders_touched.add(shipment.order_id)
            plan.history.append(StatusChange(sid, now, old_status, state.status, "carrier event"))
            kind = NOTIFY_ON.get(state.status)
            if kind is not None:
                latest = max(new_events[sid], key=lambda e: e.occurred_at_utc)
                detail = latest.description or state.status.replace("_", " ")
                carrier = deps.carrier_name(shipment.carrier) if shipment.carrier else None
                notice = notices.scan_notice(
                    kind, shipment.order_id, carrier, shipment.tracking_number, detail
                )
                # Keyed by the shipment's event count at the change, so a replay or a reload notifies once.
                plan.outbox += messages(
                    notice,
                    shipment.order_id,
                    [buyer_id],
                    dedupe=f"{kind}:{sid}:{state.last_key and state.last_key[2]}",
                )
    # Estimates follow the new states before they are saved (the shipments carry them).
    changes, delays = estimates.after_events(deps, uow, [shipments[sid][0] for sid in states], now, before)
    plan.estimate_changes = changes
    plan.outbox += delays


def _set_state(shipment: Shipment, state: ShipmentState) -> None:
    shipment.status = state.status
    shipment.substatus = state.substatus
    shipment.first_scan_at = state.first_scan_at
    shipment.last_event_at = state.last_event_at
    shipment.delivered_at = state.delivered_at
    shipment.carrier_estimated_delivery = state.carrier_estimated_delivery
    shipment.proof_of_delivery = state.proof_of_delivery
    shipment.last_key = state.last_key
    shipment.event_count = state.event_count
    shipment.stalled = False  # any new scan ends a stall
