"""The demo's simulated carrier: each parcel's route is fixed by its number and passes a hub once."""

from __future__ import annotations

from ordertrail.domain.events import Location
from ordertrail.services.simulator import route

HOME = Location("Austin", "TX", "78701", "US")


def test_a_route_passes_each_hub_once_and_is_the_same_every_time() -> None:
    lengths = set()
    for n in range(300):
        number = f"SIM{n:010d}"
        steps = route(number, HOME, 20)
        hubs = [s.location for s in steps if s.description == "Arrived at sort facility"]
        assert len(hubs) == len(set(hubs)), (number, [h.city for h in hubs if h])  # no Louisville twice
        assert steps == route(number, HOME, 20)
        lengths.add(len(hubs))
    assert lengths == {1, 2, 3}
