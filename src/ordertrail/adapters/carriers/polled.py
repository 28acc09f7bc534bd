"""Which carriers the worker polls, and how hard: built from the settings in bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ordertrail.adapters.carriers.simulated import SLUG as SIMULATED
from ordertrail.adapters.carriers.simulated import SimulatedCarrierClient
from ordertrail.config import Settings
from ordertrail.domain.rate_limits import TokenBucket
from ordertrail.services.ports_carriers import PolledCarrier


def polled_carriers(settings: Settings, clock: Callable[[], datetime]) -> dict[str, PolledCarrier]:
    plans: dict[str, PolledCarrier] = {}
    if settings.poll_simulated_carrier:
        plans[SIMULATED] = PolledCarrier(
            client=SimulatedCarrierClient(clock, settings.simulated_seconds_per_hop),
            every=timedelta(seconds=settings.simulated_poll_seconds),
            batch_size=50,
            bucket=TokenBucket(rate=5.0, capacity=10),
        )
    return plans
