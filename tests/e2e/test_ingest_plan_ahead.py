"""Ingest planned before the write lock (several API processes on SQLite, services.ingest).

A batch is worked out in a read transaction, then written under the lock only if the shipments are
still as read and none of its new events was stored meanwhile; otherwise it is planned again under
the lock. Here another writer slips in exactly between the two, and the result must be what taking
turns would have given. Runs on both databases: the rule is the service's, whatever the engine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ordertrail.adapters.db.tables import shipment_status_history, shipments, tracking_events
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.services import ingest
from ordertrail.services.context import Deps
from ordertrail.services.ingest import EventInput, IngestResult, ingest_events
from ordertrail.services.ports import UnitOfWork
from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api

NUMBER = "SIM0000000888"
T = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def event(hours: int, status: str = "in_transit", what: str = "Departed facility") -> EventInput:
    return EventInput(NUMBER, T + timedelta(hours=hours), what, status=ShipmentStatus(status))


def planning_deps(deps: Deps, meanwhile: Callable[[], None] | None) -> Deps:
    """Deps that plan ahead and run `meanwhile` once, after the plan's read and before the write."""
    pending = [meanwhile] if meanwhile else []

    @contextmanager
    def read() -> Iterator[UnitOfWork]:
        with deps.read() as uow:
            yield uow
        while pending:
            pending.pop()()

    return dataclasses.replace(deps, writers_compete=lambda: True, read_uow=read)  # type: ignore[arg-type]


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per plan worked out: True when it was planned under the write lock."""
    seen: list[bool] = []
    original = ingest._plan

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("locked", False))
        return original(*args, **kwargs)

    monkeypatch.setattr(ingest, "_plan", counting)
    return seen


def stored(api: Api, sid: str) -> tuple[Any, int, int]:
    with api.container.engine.connect() as c:
        row = c.execute(select(shipments).where(shipments.c.id == sid)).one()
        events = c.execute(
            select(func.count()).select_from(tracking_events).where(tracking_events.c.shipment_id == sid)
        ).scalar_one()
        changes = c.execute(
            select(func.count())
            .select_from(shipment_status_history)
            .where(shipment_status_history.c.shipment_id == sid)
        ).scalar_one()
    return row, events, changes


def shipment(api: Api, buyer: Party, seller: Party, clock: FixedClock) -> str:
    clock.now = T - timedelta(hours=2)
    order = api.order(buyer, seller)
    sid: str = api.ship(order["id"], seller, NUMBER, carrier="simulated")["id"]
    clock.now = T + timedelta(hours=12)
    return sid


def test_a_plan_whose_shipments_did_not_move_is_written_as_planned(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, plans: list[bool]
) -> None:
    sid = shipment(api, buyer, seller, clock)
    deps = planning_deps(api.container.deps, None)
    result = ingest_events(deps, [(0, event(0, what="Accepted")), (1, event(3))])
    assert (result.accepted, result.duplicates, result.plan, plans) == (2, 0, "ahead", [False])
    row, events, _ = stored(api, sid)
    assert (row.status, row.event_count, events) == ("in_transit", 2, 2)
    assert row.estimated_latest is not None  # the estimate planned outside the lock was saved


def test_a_parcel_scanned_by_another_writer_in_between_is_planned_again_under_the_lock(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, plans: list[bool]
) -> None:
    sid = shipment(api, buyer, seller, clock)
    other: list[IngestResult] = []
    # Between our read and our write, another process stores the first scan and out for delivery.
    deps = planning_deps(
        api.container.deps,
        lambda: other.append(
            ingest_events(
                api.container.deps,
                [(0, event(0, what="Accepted")), (1, event(6, "out_for_delivery", "On vehicle"))],
            )
        ),
    )
    result = ingest_events(deps, [(0, event(3))])  # a hub scan between the two
    assert other[0].accepted == 2
    assert (result.accepted, result.duplicates, result.plan) == (1, 0, "again")
    assert other[0].plan == "locked"
    assert plans == [False, True, True]  # ours ahead, the other's, ours again: both under the lock
    row, events, changes = stored(api, sid)
    # The state of all three scans: the later out-for-delivery stays the status, three events.
    assert (row.status, row.event_count, events) == ("out_for_delivery", 3, 3)
    assert changes == 1  # the other batch: to out for delivery; the older hub scan changes no status


def test_an_event_stored_by_another_writer_in_between_counts_as_a_duplicate_once(
    api: Api, buyer: Party, seller: Party, clock: FixedClock, plans: list[bool]
) -> None:
    sid = shipment(api, buyer, seller, clock)
    same = event(0, what="Accepted")
    ingest_events(api.container.deps, [(0, event(1))])  # the parcel has a scan already
    plans.clear()
    other: list[IngestResult] = []
    deps = planning_deps(
        api.container.deps, lambda: other.append(ingest_events(api.container.deps, [(0, same)]))
    )
    result = ingest_events(deps, [(0, same), (1, event(2))])
    assert other[0].accepted == 1
    assert (result.accepted, result.duplicates, result.plan) == (1, 1, "again")
    assert plans[0] is False and plans[-1] is True  # planned ahead, then again under the lock
    row, events, _ = stored(api, sid)
    assert (row.event_count, events) == (3, 3)
