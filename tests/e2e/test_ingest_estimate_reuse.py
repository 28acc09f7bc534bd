"""Ingest re-estimates a parcel only when what its estimate depends on changed (issue 2's hot path):
a hub scan that leaves the milestone as it was keeps the estimate computed today; a new milestone, or
a new day once the estimate is due, recomputes it. And the stored state after a batch is exactly the
folded state, whichever of the shipment's indexed columns the batch changed (SQLite writes only those)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ordertrail.adapters.db.tables import shipments
from ordertrail.adapters.db.tables_eta import eta_history
from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api

NUMBER = "SIM0000000777"


def scan(api: Api, when: datetime, status: str = "in_transit", what: str = "Departed facility") -> None:
    event = {
        "tracking_number": NUMBER,
        "occurred_at": when.isoformat(),
        "status": status,
        "description": what,
    }
    assert api.events([event])["accepted"] == 1


def stored(api: Api, shipment_id: str) -> Any:
    with api.container.engine.connect() as conn:
        row = conn.execute(select(shipments).where(shipments.c.id == shipment_id)).one()
        moves = conn.execute(
            select(func.count()).select_from(eta_history).where(eta_history.c.shipment_id == shipment_id)
        ).scalar_one()
    return row, moves


def test_a_hub_scan_keeps_todays_estimate_and_a_new_milestone_or_a_new_day_recomputes_it(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    sid = api.ship(order["id"], seller, NUMBER, carrier="simulated")["id"]
    clock.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    scan(api, clock.now - timedelta(hours=1), what="Accepted at origin")
    accepted, moves = stored(api, sid)
    assert moves == 1 and accepted.estimate_due_on == date(2026, 11, 28)

    clock.now += timedelta(hours=3)
    scan(api, clock.now - timedelta(hours=1))  # the next hub, same day: nothing it depends on moved
    hub, moves_after_hub = stored(api, sid)
    assert hub.event_count == 2 and hub.last_event_at > accepted.last_event_at
    assert (hub.estimated_earliest, hub.estimated_latest, hub.estimate_due_on) == (
        accepted.estimated_earliest,
        accepted.estimated_latest,
        accepted.estimate_due_on,
    )
    assert moves_after_hub == moves

    clock.now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # the estimate's check is due today
    scan(api, clock.now - timedelta(hours=1))
    next_day, _ = stored(api, sid)
    assert next_day.estimate_due_on == date(2026, 11, 29)  # looked at again, so due again tomorrow

    scan(api, clock.now, "out_for_delivery", "On vehicle for delivery")  # a new milestone, same day
    out, moves_after_out = stored(api, sid)
    assert out.status == "out_for_delivery" and out.estimated_latest < next_day.estimated_latest
    assert moves_after_out > moves_after_hub

    scan(api, clock.now + timedelta(hours=4), "delivered", "Delivered")
    delivered, _ = stored(api, sid)
    assert delivered.status == "delivered" and delivered.active is False and delivered.stalled is False
    assert delivered.estimated_earliest == delivered.estimated_latest == date(2026, 11, 28)
    assert delivered.first_scan_at == accepted.first_scan_at and delivered.event_count == 5


def test_a_stall_ends_with_the_next_scan_and_an_out_of_order_scan_leaves_the_newest_state(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    sid = api.ship(order["id"], seller, NUMBER, carrier="simulated")["id"]
    scan(api, clock.now + timedelta(hours=1), what="Accepted at origin")
    with api.container.engine.begin() as conn:  # what the stall sweep writes
        conn.execute(shipments.update().where(shipments.c.id == sid).values(stalled=True))
    clock.advance(days=3)
    scan(api, clock.now - timedelta(hours=2))
    assert stored(api, sid)[0].stalled is False

    newest, _ = stored(api, sid)
    scan(api, clock.now - timedelta(days=2), what="A late report of an earlier hub")
    after, _ = stored(api, sid)
    assert after.event_count == newest.event_count + 1
    assert (after.status, after.last_event_at, after.first_scan_at) == (
        newest.status,
        newest.last_event_at,
        newest.first_scan_at,
    )
