"""The monitoring sweeps, end to end through the API with a fixed clock: each finding reaches the right
people once, and a new occurrence reaches them again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from ordertrail.config import Settings
from ordertrail.entrypoints.cli import app as cli
from ordertrail.services import monitoring
from ordertrail.services.context import Deps
from ordertrail.services.stall_learning import learn_stall_thresholds
from ordertrail.services.sweeps import SCHEDULE, run_due_sweeps
from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api

UPS = "1Z5R89390357567127"
UPS2 = "1Z879E930346834440"
UPS3 = "1Z410E7W0392751591"
UPS4 = "1Z8V92A70367203024"
TORONTO = {
    "name": "Ana Souza",
    "street_address": "301 Front St W",
    "city": "Toronto",
    "country_area": "ON",
    "postal_code": "M5V 2T6",
    "country_code": "CA",
}
MY_SWEEPS = {
    "ship_by_overdue",
    "no_first_scan",
    "learn_stall_thresholds",
    "shipments_stalled",
    "estimates_overdue",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def scan(
    number: str, when: datetime, status: str = "in_transit", description: str = "Departed facility"
) -> dict[str, Any]:
    return {
        "tracking_number": number,
        "occurred_at": when.isoformat(),
        "status": status,
        "description": description,
    }


def inbox_types(api: Api, party: Party) -> list[str]:
    api.run_worker()
    return [n["type"] for n in api.inbox(party)]


def tracking(api: Api, party: Party, order_id: str) -> dict[str, Any]:
    r = api.client.get(f"/v1/orders/{order_id}/tracking", headers=party.auth)
    assert r.status_code == 200, r.text
    return r.json()["shipments"][0]


def deps_with(api: Api, **policy: Any) -> Deps:
    deps = api.container.deps
    return replace(deps, monitoring_policy=replace(deps.monitoring_policy, **policy))


def test_an_order_not_shipped_by_its_deadline_is_flagged_once_to_the_seller_and_the_buyer(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    ship_by = at(order["ship_by"])
    deps = api.container.deps
    assert monitoring.ship_by_overdue(deps, ship_by - timedelta(minutes=1))["overdue"] == 0
    clock.now = ship_by + timedelta(hours=1)
    assert monitoring.ship_by_overdue(deps, clock.now) == {"overdue": 1, "notified": 2}
    clock.advance(hours=6)
    assert monitoring.ship_by_overdue(deps, clock.now) == {"overdue": 0, "notified": 0}
    assert inbox_types(api, seller).count("ship_by_overdue") == 1
    buyer_notes = [n for n in api.inbox(buyer) if n["type"] == "ship_by_overdue"]
    assert len(buyer_notes) == 1 and order["id"] in buyer_notes[0]["body"]
    assert (
        api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["status"]
        == "awaiting_shipment"
    )


def test_auto_cancel_after_the_ship_by_deadline_is_off_by_default_and_cancels_when_configured(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    clock.now = at(order["ship_by"]) + timedelta(days=10)
    assert "cancelled" not in monitoring.ship_by_overdue(api.container.deps, clock.now)
    assert (
        api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()["status"]
        == "awaiting_shipment"
    )

    counts = monitoring.ship_by_overdue(deps_with(api, ship_by_auto_cancel_business_days=3), clock.now)
    assert counts["cancelled"] == 1
    body = api.client.get(f"/v1/orders/{order['id']}", headers=buyer.auth).json()
    assert body["status"] == "cancelled" and body["cancellation"]["by"] == "system"
    assert inbox_types(api, buyer).count("order_cancelled") == 1
    assert inbox_types(api, seller).count("order_cancelled") == 1


def test_a_tracking_number_without_a_first_scan_tells_the_seller_once_per_number(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    clock.now = at("2026-11-30T10:00:00Z")  # Monday
    shipment = api.ship(order["id"], seller, UPS)
    deps = api.container.deps
    assert monitoring.no_first_scan(deps, at("2026-12-02T18:00:00Z"))["unscanned"] == 0  # 2 business days
    clock.now = at("2026-12-03T09:00:00Z")
    assert monitoring.no_first_scan(deps, clock.now) == {"unscanned": 1, "notified": 1}
    assert monitoring.no_first_scan(deps, clock.now + timedelta(hours=5))["unscanned"] == 0
    notes = [n for n in (api.run_worker(), api.inbox(seller))[1] if n["type"] == "no_first_scan"]
    assert len(notes) == 1 and UPS in notes[0]["body"]
    assert "no_first_scan" not in inbox_types(api, buyer)

    r = api.client.put(
        f"/v1/shipments/{shipment['id']}/tracking-number", json={"tracking_number": UPS2}, headers=seller.auth
    )
    assert r.status_code == 200, r.text
    clock.now = at("2026-12-08T09:00:00Z")
    assert monitoring.no_first_scan(deps, clock.now) == {"unscanned": 1, "notified": 1}
    assert inbox_types(api, seller).count("no_first_scan") == 2


def test_a_parcel_without_a_scan_for_too_long_is_stalled_until_its_next_scan_and_told_once_per_stall(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    clock.now = at("2026-11-30T13:00:00Z")
    api.events([scan(UPS, at("2026-11-30T12:00:00Z"))])
    deps = api.container.deps

    clock.now = at("2026-12-03T12:00:00Z")  # 3 business days without a scan: still normal
    assert monitoring.shipments_stalled(deps, clock.now)["stalled"] == 0
    clock.now = at("2026-12-04T09:00:00Z")  # the 4th
    assert monitoring.shipments_stalled(deps, clock.now) == {"stalled": 1, "notified": 2}
    assert tracking(api, buyer, order["id"])["stalled"] is True
    clock.advance(hours=3)
    assert monitoring.shipments_stalled(deps, clock.now) == {"stalled": 0, "notified": 0}
    assert inbox_types(api, buyer).count("shipment_stalled") == 1
    assert inbox_types(api, seller).count("shipment_stalled") == 1

    api.events([scan(UPS, at("2026-12-04T11:00:00Z"), description="Arrived at facility")])
    assert tracking(api, buyer, order["id"])["stalled"] is False
    clock.now = at("2026-12-10T09:00:00Z")  # stalled again after moving on: a new occurrence
    assert monitoring.shipments_stalled(deps, clock.now) == {"stalled": 1, "notified": 2}
    assert inbox_types(api, buyer).count("shipment_stalled") == 2


def test_the_stall_watch_keys_a_parcel_by_the_utc_day_of_its_last_scan(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    clock.now = at("2026-12-01T00:30:00Z")
    # 19:10 in Chicago is already the next day in UTC: the key is the UTC day.
    api.events([scan(UPS, datetime.fromisoformat("2026-11-30T19:10:00-05:00"))])
    with api.container.deps.read_uow() as uow:
        day = uow.conn.exec_driver_sql("SELECT last_event_on FROM shipments").scalar_one()
    assert str(day) == "2026-12-01"
    deps = api.container.deps
    # Stall thresholds count whole UTC days: scanned on Tuesday the 1st, three business days are
    # over on Monday the 7th (a key by the local day, Monday the 30th, would flag it on Friday).
    assert monitoring.shipments_stalled(deps, at("2026-12-04T23:59:00Z"))["stalled"] == 0
    assert monitoring.shipments_stalled(deps, at("2026-12-07T00:01:00Z"))["stalled"] == 1


def test_an_international_parcel_gets_seven_business_days_before_it_counts_as_stalled(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller, shipping_address=TORONTO)
    api.ship(order["id"], seller, UPS, carrier="ups")
    clock.now = at("2026-11-30T13:00:00Z")
    api.events([scan(UPS, at("2026-11-30T12:00:00Z"))])
    deps = api.container.deps
    assert monitoring.shipments_stalled(deps, at("2026-12-04T09:00:00Z"))["stalled"] == 0
    assert monitoring.shipments_stalled(deps, at("2026-12-09T09:00:00Z"))["stalled"] == 0  # 7th business day
    assert monitoring.shipments_stalled(deps, at("2026-12-10T09:00:00Z"))["stalled"] == 1


def test_learned_scan_gaps_of_a_carrier_replace_the_default_stall_threshold(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    # History: UPS parcels in transit are scanned every business day.
    clock.now = at("2026-11-30T08:00:00Z")
    for number in (UPS2, UPS3, UPS4):
        api.ship(api.order(buyer, seller)["id"], seller, number)
    days = [at("2026-12-01T08:00:00Z") + timedelta(days=d) for d in range(4)]  # Tuesday to Friday
    clock.now = at("2026-12-04T20:00:00Z")
    api.events(
        [scan(n, when, description=f"Scan {i}") for n in (UPS2, UPS3, UPS4) for i, when in enumerate(days)]
    )
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    clock.now = at("2026-12-07T13:00:00Z")
    api.events([scan(UPS, at("2026-12-07T12:00:00Z"))])
    deps = deps_with(api, stall_min_samples=5)
    # Two business days without a scan: normal by the default threshold (3)...
    assert monitoring.shipments_stalled(deps, at("2026-12-09T09:00:00Z"))["stalled"] == 0

    learned = learn_stall_thresholds(deps, at("2026-12-09T10:00:00Z"))
    assert (
        learned["gaps"] == 9 and learned["thresholds"] == 2
    )  # ups/in_transit/domestic and */in_transit/domestic
    # ...but long for a carrier that scans daily (the three history parcels stopped too).
    assert monitoring.shipments_stalled(deps, at("2026-12-09T11:00:00Z"))["stalled"] == 4
    assert tracking(api, buyer, order["id"])["stalled"] is True
    # A second refresh reads only what arrived since the first.
    assert learn_stall_thresholds(deps, at("2026-12-09T12:00:00Z"))["gaps"] == 0


def test_a_parcel_whose_estimate_passed_gets_a_later_window_and_one_delay_notice_with_the_reason(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)
    api.ship(order["id"], seller, UPS)
    promised_latest = datetime.fromisoformat(order["promised_delivery"]["latest"]).date()
    deps = api.container.deps
    day_after = datetime.combine(promised_latest + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert monitoring.estimates_overdue(deps, day_after - timedelta(hours=1))["re_estimated"] == 0

    clock.now = day_after + timedelta(hours=9)
    assert monitoring.estimates_overdue(deps, clock.now) == {
        "re_estimated": 1,
        "predicted_late": 1,
        "notified": 2,
    }
    shipment = tracking(api, buyer, order["id"])
    assert shipment["predicted_late"] is True
    new_earliest = datetime.fromisoformat(shipment["estimated_delivery"]["earliest"]).date()
    assert new_earliest > clock.now.date()
    delayed = [n for n in (api.run_worker(), api.inbox(buyer))[1] if n["type"] == "delivery_delayed"]
    assert len(delayed) == 1
    assert (
        new_earliest.strftime("%d %b") in delayed[0]["body"]
        and "not received the parcel" in delayed[0]["body"]
    )
    assert inbox_types(api, seller).count("delivery_delayed") == 1

    clock.now += timedelta(days=10)  # it slips again: the window moves, the buyer is not told twice
    assert monitoring.estimates_overdue(deps, clock.now)["notified"] == 0
    later = tracking(api, buyer, order["id"])["estimated_delivery"]["earliest"]
    assert datetime.fromisoformat(later).date() > clock.now.date()
    assert inbox_types(api, buyer).count("delivery_delayed") == 1


def test_each_due_sweep_runs_once_per_period_however_often_workers_ask(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    deps = api.container.deps
    first = run_due_sweeps(deps)
    assert set(first) >= MY_SWEEPS
    assert MY_SWEEPS.isdisjoint(run_due_sweeps(deps))
    clock.advance(minutes=15)
    again = run_due_sweeps(deps)
    assert "ship_by_overdue" in again and "shipments_stalled" not in again
    clock.advance(minutes=45)
    assert {"no_first_scan", "shipments_stalled", "estimates_overdue"} <= set(run_due_sweeps(deps))
    with deps.uow() as uow:
        nxt = clock.now + timedelta(hours=1)
        assert uow.sweep_runs.claim("shipments_stalled", clock.now, nxt, nxt) is False
    assert {s.name for s in SCHEDULE} >= MY_SWEEPS


def test_the_sweep_command_runs_every_sweep_as_of_the_given_time_and_prints_what_each_found(
    api: Api, buyer: Party, seller: Party, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = api.order(buyer, seller)
    monkeypatch.setenv("ORDERTRAIL_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("ORDERTRAIL_DATA_DIR", str(settings.data_dir))
    when = (at(order["ship_by"]) + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    result = CliRunner().invoke(cli, ["sweep", "--now", when])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.strip().splitlines())
    assert lines["ship_by_overdue"] == "overdue=1, notified=2"
    assert set(lines) >= MY_SWEEPS
    for wrong in ("yesterday", ""):  # an empty --now ran at the real time, as if none was given
        assert CliRunner().invoke(cli, ["sweep", "--now", wrong]).exit_code == 2


def test_two_learning_runs_over_the_same_events_count_them_once(api: Api) -> None:
    deps = api.container.deps
    row = [("ups", "in_transit", "domestic", at("2026-11-30T00:00:00Z").date(), 1, 10)]
    first, later = at("2026-12-01T00:00:00Z"), at("2026-12-01T01:00:00Z")
    with deps.uow() as uow:
        assert uow.stall_stats.add_counts(row, None, first) is True
        uow.commit()
    with deps.uow() as uow:  # a second run that had read "never learned" too
        assert uow.stall_stats.add_counts(row, None, first) is False
    with deps.uow() as uow:
        assert uow.stall_stats.add_counts(row, first, later) is True
        uow.commit()
    with deps.uow() as uow:  # and one that had read the old watermark
        assert uow.stall_stats.add_counts(row, first, later) is False
        assert uow.stall_stats.histograms(at("2026-11-01T00:00:00Z").date()) == {
            ("ups", "in_transit", "domestic"): {1: 20}
        }
