"""The estimator in the service, end to end (issue 9): the promise at checkout comes from the lanes'
history once `edd fit` has learned it, a parcel's estimate moves as it stalls (recorded, with one
delay notice), and the promise made at checkout is never overwritten."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from ordertrail.adapters.calendars import HolidayCalendars
from ordertrail.adapters.db.tables import orders, shipments
from ordertrail.adapters.db.tables_eta import eta_history
from ordertrail.adapters.eta_models import StoredEtaModels
from ordertrail.config import Settings
from ordertrail.domain.eta import EtaModel
from ordertrail.domain.eta.parcels import handling_start
from ordertrail.entrypoints.cli import app as cli
from ordertrail.services import estimates
from ordertrail.services.eta_learning import refit
from ordertrail.services.sweeps import run_all
from tests.conftest import ADDRESS, FixedClock, Party
from tests.e2e.conftest import Api

HISTORY_START = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
PLACED = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # the clock fixture's start


def number(n: int) -> str:
    return f"SIM{n:010d}"


def scan(
    api: Api, n: int, when: datetime, status: str = "in_transit", what: str = "Departed facility"
) -> None:
    api.events(
        [
            {
                "tracking_number": number(n),
                "occurred_at": when.isoformat(),
                "status": status,
                "description": what,
            }
        ]
    )


def order_view(api: Api, party: Party, order_id: str) -> dict[str, Any]:
    r = api.client.get(f"/v1/orders/{order_id}", headers=party.auth)
    assert r.status_code == 200, r.text
    return r.json()


def day(text: str) -> date:
    return date.fromisoformat(text)


def seed_fast_lane(api: Api, clock: FixedClock, buyer: Party, seller: Party, parcels: int = 36) -> None:
    """Delivered history on one lane: handed over the day of the order, delivered the next day."""
    for i in range(parcels):
        clock.now = HISTORY_START + timedelta(days=2 * i)
        order = api.order(buyer, seller)
        clock.now += timedelta(hours=1)
        api.ship(order["id"], seller, number(1000 + i), carrier="simulated")
        scan(api, 1000 + i, clock.now + timedelta(hours=4))
        scan(api, 1000 + i, clock.now + timedelta(days=1, hours=2), "delivered", "Delivered")


def test_a_fresh_install_promises_the_configured_window_and_says_so(
    api: Api, buyer: Party, seller: Party
) -> None:
    order = api.order(buyer, seller)
    assert order["promised_delivery"] == {"earliest": "2026-12-02", "latest": "2026-12-05"}
    (entry,) = order_view(api, buyer, order["id"])["estimate_history"]
    assert entry["trigger"] == "order_placed" and entry["shipment_id"] is None and entry["old"] is None
    assert entry["new"] == order["promised_delivery"]
    assert entry["reason"] == "configured standard transit time after the ship-by date"


def test_a_promise_at_checkout_comes_from_lane_history_once_history_exists(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    seed_fast_lane(api, clock, buyer, seller)
    clock.now = PLACED
    before = api.order(buyer, seller)  # history exists but nothing has learned from it yet
    assert before["promised_delivery"] == {"earliest": "2026-12-02", "latest": "2026-12-05"}

    deps = api.container.deps
    report = refit(deps, clock.now)
    assert report is not None and report.shipments == report.delivered == 36

    after = api.order(buyer, seller)
    promised = after["promised_delivery"]
    # What the stored fit promises for this lane, computed independently of the order service.
    with deps.read() as uow:
        stored = uow.eta.model(report.model_id)
    assert stored is not None and deps.eta is not None
    model = EtaModel.from_dict(stored.data, deps.eta.calendars)
    ctx = estimates.lane_context(deps.eta.setup, seller.id, "standard", ADDRESS)
    window = model.promise(ctx, handling_start(PLACED, deps.eta.setup.cutoff_hour))
    assert promised == {"earliest": window.earliest.isoformat(), "latest": window.promised.isoformat()}
    # The lane delivers the day after the order: the learned promise is days shorter than the default.
    assert day(promised["latest"]) <= day("2026-12-02") < day(before["promised_delivery"]["latest"])
    (entry,) = order_view(api, buyer, after["id"])["estimate_history"]
    assert entry["reason"] == "checkout estimate from lane history" and entry["new"] == promised


def test_edd_fit_learns_from_the_database_and_running_processes_switch_to_it_at_their_next_check(
    api: Api,
    buyer: Party,
    seller: Party,
    clock: FixedClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORDERTRAIL_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("ORDERTRAIL_DATA_DIR", str(settings.data_dir))
    deps = api.container.deps
    assert deps.eta is not None
    seconds = [1000.0]
    running = StoredEtaModels(deps.eta.setup, deps.eta.config, HolidayCalendars(), 60.0, lambda: seconds[0])
    with deps.read() as uow:
        assert running.learned(uow.eta) is None  # a fresh install: the configured defaults serve
    empty = CliRunner().invoke(cli, ["edd", "fit"])
    assert empty.exit_code == 1 and "configured defaults stay in use" in empty.output

    seed_fast_lane(api, clock, buyer, seller, parcels=12)
    # --out writes the fit to a file "instead of storing it", as its help says: nothing changes.
    written = settings.data_dir / "candidate.json"
    dry = CliRunner().invoke(cli, ["edd", "fit", "--out", str(written)])
    assert dry.exit_code == 0 and "the service's model is unchanged" in dry.output, dry.output
    assert json.loads(written.read_text())
    with deps.read() as uow:
        assert uow.eta.latest_model_id() is None
    not_a_file = CliRunner().invoke(cli, ["edd", "fit", "--out", str(settings.data_dir)])
    said = " ".join(not_a_file.output.replace("│", " ").split())  # unboxed from the error panel
    assert not_a_file.exit_code == 2 and "is a directory" in said, said
    result = CliRunner().invoke(cli, ["edd", "fit"])
    assert result.exit_code == 0, result.output
    assert "Fitted on 12 shipments (12 delivered, 0 from the export)" in result.output
    with deps.read() as uow:
        assert running.learned(uow.eta) is None  # checked a moment ago: not looked at again yet
        seconds[0] += 61
        learned = running.learned(uow.eta)
        stored = uow.eta.model(uow.eta.latest_model_id() or 0)
    assert learned is not None and stored is not None
    assert learned.to_dict() == stored.data and stored.shipments == 12


def test_an_estimate_moves_later_when_a_parcel_stalls_with_the_reason_recorded_and_one_delay_notice(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    promised = order["promised_delivery"]
    clock.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    api.ship(order["id"], seller, number(1), carrier="simulated")
    scan(api, 1, datetime(2026, 11, 27, 18, 0, tzinfo=UTC))  # accepted; then nothing more
    clock.now = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    first = order_view(api, buyer, order["id"])["shipments"][0]["estimated_delivery"]
    assert day(first["latest"]) <= day(promised["latest"])  # on schedule after the first scan

    deps = api.container.deps
    windows = [first]
    for morning in range(28, 38):  # a sweep run every morning; the parcel is never scanned again
        clock.now = datetime(2026, 11, 1, 6, 0, tzinfo=UTC) + timedelta(days=morning - 1)
        run_all(deps, clock.now)
        windows.append(order_view(api, buyer, order["id"])["shipments"][0]["estimated_delivery"])
        assert day(windows[-1]["earliest"]) >= clock.now.date()  # never a day that has passed

    lasts = [day(w["latest"]) for w in windows]
    assert lasts == sorted(lasts) and lasts[-1] > day(promised["latest"])  # only ever later
    shipment = order_view(api, buyer, order["id"])["shipments"][0]
    assert shipment["predicted_late"] is True

    history = order_view(api, buyer, order["id"])["estimate_history"]
    moves = [h for h in history if h["shipment_id"] == shipment["id"]]
    assert moves[0]["trigger"] == "carrier_event" and moves[0]["reason"].startswith(
        "in transit since 2026-11-27"
    )
    assert len(moves) >= 3 and all(m["old"] is not None and m["new"] != m["old"] for m in moves[1:])
    assert {m["trigger"] for m in moves[1:]} <= {"daily_check", "estimate_passed"}
    assert any("business days, usually" in m["reason"] for m in moves[1:])
    assert moves[-1]["new"] == shipment["estimated_delivery"]

    api.run_worker()
    delayed = [n for n in api.inbox(buyer) if n["type"] == "delivery_delayed"]
    assert len(delayed) == 1
    assert (
        "taking longer than usual" in delayed[0]["body"]
        and "in transit since 2026-11-27" in delayed[0]["body"]
    )
    announced = next(m for m in moves if m["predicted_late"])["new"]
    assert day(announced["earliest"]).strftime("%d %b") in delayed[0]["body"]
    assert [n["type"] for n in api.inbox(seller)].count("delivery_delayed") == 1


def test_the_promise_made_at_checkout_is_never_overwritten(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    promised = order["promised_delivery"]
    moved = dict(ADDRESS, street_address="1 Infinite Loop", city="Cupertino", postal_code="95014")
    r = api.client.put(f"/v1/orders/{order['id']}/shipping-address", json=moved, headers=buyer.auth)
    assert r.status_code == 200 and r.json()["promised_delivery"] == promised

    api.ship(order["id"], seller, number(2), carrier="simulated")
    deps = api.container.deps
    refit(deps, clock.now)  # a fit in the meantime changes later promises, not this one
    for hours in (30, 60, 150, 250):  # a slow parcel, sweeps in between, delivered late
        clock.now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC) + timedelta(hours=hours)
        if hours == 60:
            scan(api, 2, clock.now - timedelta(hours=1))
        run_all(deps, clock.now)
    scan(api, 2, clock.now, "delivered", "Delivered")

    view = order_view(api, buyer, order["id"])
    assert view["promised_delivery"] == promised
    assert view["shipments"][0]["status"] == "delivered" and view["shipments"][0]["predicted_late"] is True
    with deps.read() as uow:
        stored = uow.eta.for_order(order["id"])
    assert [c.trigger for c in stored if c.shipment_id is None] == ["order_placed"]
    assert stored[0].new == (day(promised["earliest"]), day(promised["latest"]))
    assert len(stored) > 3  # the estimate itself did move, several times
    with api.container.engine.connect() as conn:
        row = conn.execute(
            select(orders.c.promised_earliest, orders.c.promised_latest).where(orders.c.id == order["id"])
        ).one()
    assert (row.promised_earliest.isoformat(), row.promised_latest.isoformat()) == (
        promised["earliest"],
        promised["latest"],
    )


def test_an_event_batch_re_estimates_only_the_shipments_it_changed(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    ids = []
    for n in (11, 12, 13):
        order = api.order(buyer, seller)
        ids.append(api.ship(order["id"], seller, number(n), carrier="simulated")["id"])
    scan(api, 11, clock.now + timedelta(hours=1))
    clock.advance(hours=2)
    batch = [
        {"tracking_number": number(11), "occurred_at": (clock.now - timedelta(hours=1)).isoformat(),
         "status": "in_transit", "description": "Departed facility"},  # already seen: changes nothing
        {"tracking_number": number(12), "occurred_at": clock.now.isoformat(), "status": "in_transit",
         "description": "Accepted"},
    ]  # fmt: skip
    assert api.events(batch)["accepted"] == 1
    with api.container.engine.connect() as conn:
        rows = conn.execute(select(eta_history.c.shipment_id, eta_history.c.trigger)).all()
        due = dict(
            conn.execute(
                select(shipments.c.id, shipments.c.estimate_due_on).where(shipments.c.id.in_(ids))
            ).all()
        )
    assert sorted(r.shipment_id for r in rows if r.trigger == "carrier_event") == sorted(ids[:2])
    # Looked at again tomorrow; the shipment without news waits for the sweep, due since it was added.
    assert due[ids[0]] == due[ids[1]] == clock.now.date() + timedelta(days=1)
    assert due[ids[2]] == date(1970, 1, 1)


def test_a_sweep_run_re_estimates_at_most_its_limit_and_the_next_runs_work_off_the_rest(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    for n in (21, 22, 23):
        api.ship(api.order(buyer, seller)["id"], seller, number(n), carrier="simulated")
    deps = api.container.deps
    assert deps.eta is not None
    deps.eta.setup = replace(deps.eta.setup, sweep_limit=2)
    clock.advance(days=1)
    runs = [estimates.reestimate_deliveries(deps, clock.now)["checked"] for _ in range(3)]
    assert runs == [2, 1, 0]  # each new shipment is looked at once, then when its estimate would move


def test_an_overdue_run_re_estimates_at_most_its_limit_the_longest_expired_first(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    ids = []
    for n in (31, 32, 33):
        ids.append(api.ship(api.order(buyer, seller)["id"], seller, number(n), carrier="simulated")["id"])
    ends = [date(2026, 11, 30), date(2026, 11, 28), date(2026, 11, 29)]  # windows that ended, each a day
    with api.container.engine.begin() as conn:
        for sid, end in zip(ids, ends, strict=True):
            conn.execute(
                shipments.update()
                .where(shipments.c.id == sid)
                .values(estimated_earliest=end - timedelta(days=2), estimated_latest=end)
            )
    deps = api.container.deps
    assert deps.eta is not None
    deps.eta.setup = replace(deps.eta.setup, overdue_limit=2)
    clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    first = estimates.overdue(deps, clock.now)
    with api.container.engine.connect() as conn:
        latest = dict(conn.execute(select(shipments.c.id, shipments.c.estimated_latest)).all())
    assert first["re_estimated"] == 2
    assert latest[ids[0]] == ends[0] and latest[ids[1]] >= clock.now.date() <= latest[ids[2]]
    assert estimates.overdue(deps, clock.now)["re_estimated"] == 1  # the next run: the one left
    assert estimates.overdue(deps, clock.now)["re_estimated"] == 0
