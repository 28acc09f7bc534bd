"""Ingest batches that arrive together in one process share a transaction (SQLite, services.write_groups).

Each batch must still get its own answer, as if the batches had been written one after another: an
event sent in two of them is accepted once and a duplicate once, every event is stored once, and
the parcels end in the state of all their scans.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ordertrail.adapters.db.tables import shipment_status_history, shipments, tracking_events
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.services.context import Deps
from ordertrail.services.ingest import EventInput, IngestResult, ingest_events
from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api

T = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
NUMBERS = ["SIM0000000771", "SIM0000000772", "SIM0000000773"]


def scan(number: str, hours: int, status: str = "in_transit", what: str = "Departed facility") -> EventInput:
    return EventInput(number, T + timedelta(hours=hours), what, status=ShipmentStatus(status))


def first_holds_until(deps: Deps, waiting: int) -> Deps:
    """Deps whose first transaction starts only once `waiting` more batches wait in line for it (as
    when another process holds the write lock)."""
    groups = deps.write_groups
    assert groups is not None
    first = [True]

    def uow() -> Any:
        if first.pop() if first else False:
            deadline = time.monotonic() + 10
            while len(groups._queue) < waiting and time.monotonic() < deadline:
                time.sleep(0.001)
        return deps.uow()

    return dataclasses.replace(deps, uow=uow)


def test_batches_that_share_a_transaction_each_get_their_own_answer(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    if api.container.deps.write_groups is None:
        pytest.skip("PostgreSQL writers do not take turns for the whole database: each batch commits alone")
    clock.now = T - timedelta(hours=2)
    ids = [api.ship(api.order(buyer, seller)["id"], seller, n, carrier="simulated")["id"] for n in NUMBERS]
    clock.now = T + timedelta(hours=12)
    one, two, three = NUMBERS
    accepted_two = scan(two, 0, what="Accepted")
    batches = {
        "lead": [scan(three, 0, what="Accepted")],
        "a": [scan(one, 0, what="Accepted"), accepted_two],
        "b": [scan(one, 3), accepted_two],  # the same scan of parcel two as in "a"
        "c": [scan(one, 6, "out_for_delivery", "On vehicle"), scan(three, 2)],
    }
    deps = first_holds_until(api.container.deps, waiting=3)
    results: dict[str, IngestResult] = {}

    def post(name: str) -> None:
        results[name] = ingest_events(deps, list(enumerate(batches[name])))

    lead = threading.Thread(target=post, args=("lead",))
    lead.start()
    while not deps.write_groups._leading:  # type: ignore[union-attr]
        time.sleep(0.001)
    others = [threading.Thread(target=post, args=(n,)) for n in "abc"]
    for t in others:
        t.start()
    for t in [lead, *others]:
        t.join(30)

    # The three that queued while the lead waited for the database joined its transaction.
    assert [results[n].shared_by for n in ("lead", "a", "b", "c")] == [4, 4, 4, 4]
    assert results["c"].accepted == 2 and results["c"].duplicates == 0
    # Parcel two's first scan: accepted in whichever of "a" and "b" ran first, a duplicate in the other.
    assert sorted((results[n].accepted, results[n].duplicates) for n in "ab") == [(1, 1), (2, 0)]
    with api.container.engine.connect() as c:
        stored = dict(
            c.execute(
                select(tracking_events.c.shipment_id, func.count()).group_by(tracking_events.c.shipment_id)
            ).all()
        )
        rows = {r.id: r for r in c.execute(select(shipments).where(shipments.c.id.in_(ids)))}
        changes = dict(
            c.execute(
                select(shipment_status_history.c.shipment_id, func.count())
                .where(shipment_status_history.c.shipment_id.in_(ids))
                .group_by(shipment_status_history.c.shipment_id)
            ).all()
        )
    assert [stored[i] for i in ids] == [3, 1, 2]
    assert [(rows[i].status, rows[i].event_count) for i in ids] == [
        ("out_for_delivery", 3),
        ("in_transit", 1),
        ("in_transit", 2),
    ]
    assert rows[ids[0]].estimated_latest is not None  # re-estimated in the shared transaction too
    # Parcel one: to in transit, then out for delivery, each change once (or straight to out for
    # delivery when batch "c" ran first in the group and the earlier scans came after it).
    assert changes[ids[0]] in (1, 2)
