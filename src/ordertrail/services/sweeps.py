"""The sweep schedule: periodic checks that find what needs telling, each taking `now`.

Each sweep is a service that runs as of a given time, batched and idempotent, and returns counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ordertrail.services.context import Deps

SweepFn = Callable[[Deps, datetime], dict[str, int]]


@dataclass(frozen=True)
class Sweep:
    name: str
    every: timedelta
    run: SweepFn


def complete_orders(deps: Deps, now: datetime) -> dict[str, int]:
    """Delivered orders whose reporting window has closed with no open case become completed."""
    with deps.uow() as uow:
        changed = uow.sweeps.complete_delivered_orders(now, now - deps.reporting_window)
        uow.commit()
    return {"completed": changed}


SCHEDULE: list[Sweep] = [
    Sweep("complete_orders", timedelta(hours=1), complete_orders),
]


@dataclass
class _LastRun:
    at: dict[str, datetime] = field(default_factory=dict)


_last = _LastRun()


def run_all(deps: Deps, now: datetime) -> dict[str, dict[str, int]]:
    return {s.name: s.run(deps, now) for s in SCHEDULE}


def run_due_sweeps(deps: Deps) -> None:
    now = deps.clock()
    for sweep in SCHEDULE:
        last = _last.at.get(sweep.name)
        if last is None or now - last >= sweep.every:
            sweep.run(deps, now)
            _last.at[sweep.name] = now
