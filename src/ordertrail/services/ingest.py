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
from datetime import date, datetime

from ordertrail.domain import notices
from ordertrail.domain.carrier_codes import status_for_code
from ordertrail.domain.errors import FieldError
from ordertrail.domain.events import (
    Location,
    OffsetSource,
    ProofOfDelivery,
    ScanEvent,
    ShipmentState,
    derive_state,
    fold,
    unique_events,
)
from ordertrail.domain.shipments import Shipment
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.services import estimates
from ordertrail.services.context import Deps
from ordertrail.services.notify import messages
from ordertrail.services.ports import OutboxMessage, StatusChange, UnitOfWork
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
    def from_scan(cls, e: ScanEvent) -> EventInput:
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


def _to_scan(inp: EventInput, carrier: str | None, tracking_number: str) -> ScanEvent | FieldError:
    """The stored event, under the shipment's own spelling of the number (built once: hot path)."""
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
    """Apply a batch of events; each bad event is refused alone and the rest applied together."""
    result = IngestResult(rejected=list(rejected))
    now = deps.clock()
    with deps.uow() as uow:
        numbers = {_normalise_number(inp.tracking_number) for _, inp in inputs}
        found = uow.shipments.by_tracking_numbers(numbers, for_update=True)
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
            scan = _to_scan(inp, shipment.carrier, shipment.tracking_number or inp.tracking_number)
            if isinstance(scan, FieldError):
                result.rejected.append((index, [scan]))
                continue
            rows.append((shipment.id, scan))
        result.rejected.sort(key=lambda r: r[0])
        if not rows:
            uow.commit()
            return result

        by_shipment: dict[str, list[ScanEvent]] = defaultdict(list)
        for sid, e in rows:
            by_shipment[sid].append(e)
        unique_rows = [(sid, e) for sid, evs in by_shipment.items() for e in unique_events(evs)]
        inserted = uow.events.insert_new(unique_rows, now, source_id)
        result.accepted = len(inserted)
        result.duplicates = len(rows) - len(inserted)
        if inserted:
            _apply_new_events(deps, uow, unique_rows, inserted, found, now)
        uow.commit()
    return result


def _apply_new_events(
    deps: Deps,
    uow: UnitOfWork,
    rows: Sequence[tuple[str, ScanEvent]],
    inserted: set[tuple[str, str]],
    found: dict[str, list[tuple[Shipment, str, str]]],
    now: datetime,
) -> None:
    shipments: dict[str, tuple[Shipment, str, str]] = {}
    for refs in found.values():
        for ref in refs:
            shipments[ref[0].id] = ref
    new_events: dict[str, list[ScanEvent]] = defaultdict(list)
    for sid, e in rows:
        if (sid, e.content_hash) in inserted:
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
        for sid, evs in uow.events.for_shipments(reload).items():
            states[sid] = derive_state(evs)

    changed: list[Shipment] = []
    history: list[StatusChange] = []
    outbox: list[OutboxMessage] = []
    orders_touched: set[str] = set()
    before: dict[str, tuple[object, ...]] = {}
    for sid, state in states.items():
        shipment, buyer_id, _seller_id = shipments[sid]
        if deps.eta is not None:
            before[sid] = estimates.estimate_inputs(deps.eta.setup, shipment)
        old_status = shipment.status
        _set_state(shipment, state)
        changed.append(shipment)
        if state.status != old_status:
            if order_class(state.status) != order_class(old_status):
                orders_touched.add(shipment.order_id)
            history.append(StatusChange(sid, now, old_status, state.status, "carrier event"))
            kind = NOTIFY_ON.get(state.status)
            if kind is not None:
                latest = max(new_events[sid], key=lambda e: e.occurred_at_utc)
                detail = latest.description or state.status.replace("_", " ")
                notice = notices.scan_notice(
                    kind, shipment.order_id, shipment.carrier, shipment.tracking_number, detail
                )
                # Keyed by the shipment's event count at the change, so a replay or a reload notifies once.
                outbox += messages(
                    notice,
                    shipment.order_id,
                    [buyer_id],
                    dedupe=f"{kind}:{sid}:{state.last_key and state.last_key[2]}",
                )
    # Estimates follow the new states before they are saved (the shipments carry them).
    outbox += estimates.after_events(deps, uow, [shipments[sid][0] for sid in states], now, before)
    uow.shipments.save_states(changed)
    if history:
        uow.history.shipment_changes(history)
    if outbox:
        uow.outbox.add(outbox, now)
    if orders_touched:
        refresh_orders(uow, sorted(orders_touched), now, deps.reporting_window, "carrier event")


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
