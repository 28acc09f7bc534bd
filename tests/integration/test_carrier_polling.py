"""The polling sweep against a migrated database: due shipments, batches per carrier, rate limits,
failures, retirement after the maximum age, and the demo's simulated carrier as a polled client."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import select

from ordertrail.adapters.carriers.simulated import SimulatedCarrierClient
from ordertrail.adapters.db.tables_carriers import carrier_polls
from ordertrail.bootstrap import Container
from ordertrail.domain.events import Location, ScanEvent
from ordertrail.domain.orders import LineItem
from ordertrail.domain.rate_limits import TokenBucket
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.ingest import EventInput, ingest_events
from ordertrail.services.orders import PlaceOrder, place_order
from ordertrail.services.polling import poll_carriers
from ordertrail.services.ports_carriers import CarrierUnavailable, Parcel, PolledCarrier
from ordertrail.services.shipments import add_shipment
from ordertrail.services.simulator import route
from ordertrail.services.sweeps import SCHEDULE
from ordertrail.services.users import create_user
from tests.conftest import ADDRESS, FixedClock


@dataclass
class RecordingCarrier:
    """A carrier API that answers one in-transit scan per number, and remembers what it was asked."""

    clock: FixedClock
    requests: list[list[str]] = field(default_factory=list)
    down: bool = False
    extra: list[str] = field(default_factory=list)  # numbers it also answers about, unasked

    def fetch(self, parcels: Sequence[Parcel]) -> list[ScanEvent]:
        self.requests.append([p.tracking_number for p in parcels])
        if self.down:
            raise CarrierUnavailable("HTTP 503 from the carrier")
        return [
            ScanEvent(
                number, self.clock.now - timedelta(hours=1), ShipmentStatus.IN_TRANSIT, "Departed facility"
            )
            for number in [p.tracking_number for p in parcels] + self.extra
        ]


@dataclass
class Shop:
    deps: Deps
    seller: User
    buyer: User

    def ship(self, carrier: str, number: str) -> str:
        order, _ = place_order(
            self.deps,
            self.buyer,
            PlaceOrder(
                seller_id=self.seller.id,
                items=[LineItem("MUG-01", "Mug", 1, 1450)],
                currency="USD",
                shipping_fee=0,
                shipping_address=ADDRESS,
                shipping_service="standard",
            ),
        )
        tracked_by = None if carrier == "simulated" else "easypost"
        return add_shipment(self.deps, self.seller, order.id, number, carrier, None, tracked_by).id

    def shipment(self, shipment_id: str) -> tuple[ShipmentStatus, int]:
        with self.deps.uow() as uow:
            s = uow.shipments.get(shipment_id)
        assert s is not None
        return s.status, s.event_count


def plan(
    client: object, every: float = 600, batch: int = 3, rate: float = 1.0, burst: int = 2
) -> PolledCarrier:
    return PolledCarrier(client, timedelta(seconds=every), batch, TokenBucket(rate=rate, capacity=burst))  # type: ignore[arg-type]


def shop_with(container: Container, **polled: PolledCarrier) -> Shop:
    deps = replace(container.deps, polled_carriers=polled)
    seller = create_user(deps, "seller", "Sunny", "shop@example.com").user
    buyer = create_user(deps, "buyer", "Ana", "ana@example.com").user
    return Shop(deps, seller, buyer)


def test_both_carrier_sweeps_are_on_the_schedule() -> None:
    assert {"poll_carriers", "purge_inbound_payloads"} <= {s.name for s in SCHEDULE}


def test_due_shipments_are_polled_in_batches_of_one_carrier_within_its_rate_limit(
    container: Container, clock: FixedClock
) -> None:
    ups, dhl = RecordingCarrier(clock), RecordingCarrier(clock)
    shop = shop_with(container, ups=plan(ups, batch=3, burst=2), dhl=plan(dhl, batch=3, burst=2))
    ups_numbers = [f"UPSTEST{i:04d}" for i in range(7)]
    for number in ups_numbers:
        shop.ship("ups", number)
    shop.ship("dhl", "DHLTEST0001")

    first = poll_carriers(shop.deps, clock.now)
    assert [len(r) for r in ups.requests] == [3, 3]  # two tokens: two requests of three
    assert dhl.requests == [["DHLTEST0001"]]
    assert all(n.startswith("UPS") for r in ups.requests for n in r)
    assert (first["requests"], first["polled"], first["accepted"]) == (3, 7, 7)

    # One second later one token is back: the seventh shipment, which waited, goes next; the six
    # polled ones are not due again before the interval.
    clock.advance(seconds=1)
    poll_carriers(shop.deps, clock.now)
    assert ups.requests[2] == [n for n in ups_numbers if n not in ups.requests[0] + ups.requests[1]]
    clock.advance(seconds=5)
    assert poll_carriers(shop.deps, clock.now)["requests"] == 0


def test_a_shipment_is_polled_again_once_its_carriers_interval_has_passed(
    container: Container, clock: FixedClock
) -> None:
    ups = RecordingCarrier(clock)
    shop = shop_with(container, ups=plan(ups, every=600))
    shipment_id = shop.ship("ups", "UPSTEST0001")
    poll_carriers(shop.deps, clock.now)
    clock.advance(seconds=599)
    poll_carriers(shop.deps, clock.now)
    assert len(ups.requests) == 1
    clock.advance(seconds=1)
    again = poll_carriers(shop.deps, clock.now)
    assert len(ups.requests) == 2
    assert again["accepted"] == 1  # the carrier's scan is an hour before each poll: a new scan
    assert shop.shipment(shipment_id) == (ShipmentStatus.IN_TRANSIT, 2)


def test_scans_for_numbers_that_were_not_asked_about_are_dropped(
    container: Container, clock: FixedClock
) -> None:
    ups = RecordingCarrier(clock, extra=["UPSTEST0001", "UPSTEST0002"])
    shop = shop_with(container, ups=plan(ups, batch=1, burst=1))
    shipments = {
        "UPSTEST0001": shop.ship("ups", "UPSTEST0001"),
        "UPSTEST0002": shop.ship("ups", "UPSTEST0002"),
    }
    first = poll_carriers(shop.deps, clock.now)
    [[asked]] = ups.requests
    [unasked] = set(shipments) - {asked}
    assert first["accepted"] == 1
    assert shop.shipment(shipments[asked]) == (ShipmentStatus.IN_TRANSIT, 1)
    assert shop.shipment(shipments[unasked]) == (ShipmentStatus.PENDING, 0)


def test_a_failing_carrier_is_recorded_and_asked_again_after_the_interval_not_at_every_run(
    container: Container, clock: FixedClock
) -> None:
    ups = RecordingCarrier(clock, down=True)
    shop = shop_with(container, ups=plan(ups, every=300, burst=5))
    shipment_id = shop.ship("ups", "UPSTEST0001")
    assert poll_carriers(shop.deps, clock.now)["errors"] == 1
    with container.engine.connect() as conn:
        row = conn.execute(select(carrier_polls).where(carrier_polls.c.shipment_id == shipment_id)).one()
    assert (row.polls, row.last_error) == (1, "HTTP 503 from the carrier")
    clock.advance(seconds=60)
    poll_carriers(shop.deps, clock.now)
    assert len(ups.requests) == 1
    ups.down = False
    clock.advance(seconds=240)
    assert poll_carriers(shop.deps, clock.now)["accepted"] == 1
    assert shop.shipment(shipment_id) == (ShipmentStatus.IN_TRANSIT, 1)


def test_a_shipment_past_the_maximum_age_is_retired_as_expired_once_and_polled_no_more(
    container: Container, clock: FixedClock
) -> None:
    ups = RecordingCarrier(clock)
    shop = shop_with(container, ups=plan(ups, every=3600, burst=10))
    shop.deps = replace(shop.deps, tracking_max_age=timedelta(days=60))
    old = shop.ship("ups", "UPSTEST0001")
    poll_carriers(shop.deps, clock.now)
    clock.advance(days=30)
    young = shop.ship("ups", "UPSTEST0002")
    clock.advance(days=30, seconds=1)
    result = poll_carriers(shop.deps, clock.now)
    assert result["retired"] == 1
    assert shop.shipment(old)[0] is ShipmentStatus.EXPIRED
    assert shop.shipment(young)[0] is ShipmentStatus.IN_TRANSIT
    assert ups.requests[-1] == ["UPSTEST0002"]
    with shop.deps.uow() as uow:
        view = uow.tracking.order_tracking(uow.shipments.get(old).order_id)  # type: ignore[union-attr]
    newest = view["shipments"][0]["events"][0]  # type: ignore[index]
    assert (newest["status"], newest["substatus"]) == ("expired", "max_tracking_age")
    assert "60 days" in newest["description"]

    # The carrier speaks again (a push): the shipment is followed again, and never retired twice.
    later = clock.advance(hours=2)
    pushed = ingest_events(
        shop.deps, [(0, EventInput("UPSTEST0001", later, "Arrived at facility", ShipmentStatus.IN_TRANSIT))]
    )
    assert pushed.accepted == 1
    clock.advance(hours=2)
    again = poll_carriers(shop.deps, clock.now)
    assert again["retired"] == 0
    assert shop.shipment(old)[0] is ShipmentStatus.IN_TRANSIT
    assert sorted(ups.requests[-1]) == ["UPSTEST0001", "UPSTEST0002"]


def test_the_simulated_carrier_polled_moves_a_parcel_along_its_route_to_delivered(
    container: Container, clock: FixedClock
) -> None:
    hop = 60.0
    client = SimulatedCarrierClient(clock, seconds_per_hop=hop)
    shop = shop_with(container, simulated=plan(client, every=30, batch=50, rate=5, burst=10))
    number = "SIM0000000042"
    shipment_id = shop.ship("simulated", number)
    started = clock.now
    destination = Location(
        ADDRESS["city"], ADDRESS["country_area"], ADDRESS["postal_code"], ADDRESS["country_code"]
    )
    steps = route(number, destination, hop)

    assert poll_carriers(shop.deps, clock.now)["accepted"] == 1  # the label, at hand-over
    seen = 1
    while clock.now < started + steps[-1].after:
        clock.advance(seconds=30)
        result = poll_carriers(shop.deps, clock.now)
        due = sum(1 for step in steps if started + step.after <= clock.now)
        assert result["accepted"] == due - seen
        assert result["duplicates"] == seen
        seen = due
    assert shop.shipment(shipment_id) == (ShipmentStatus.DELIVERED, len(steps))
    clock.advance(seconds=30)
    assert poll_carriers(shop.deps, clock.now)["polled"] == 0  # delivered: no longer active


def test_the_simulated_carrier_knows_nothing_of_a_parcel_never_handed_over(clock: FixedClock) -> None:
    client = SimulatedCarrierClient(clock, seconds_per_hop=60)
    assert client.fetch([Parcel("SIM0000000042", None, None)]) == []
