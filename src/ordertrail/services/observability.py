"""What an operator watches, as of now: how far behind the outbox and deliveries are, and what each
sweep did last time. Read from the database, so that it is true whichever process did the work."""

from __future__ import annotations

from dataclasses import dataclass

from ordertrail.services.context import Deps
from ordertrail.services.ports_observability import Backlog, SweepRun


@dataclass(frozen=True)
class Figures:
    outbox: Backlog
    outbox_lag_seconds: float
    deliveries: dict[str, Backlog]
    delivery_lag_seconds: dict[str, float]
    sweeps: list[SweepRun]


def operational_figures(deps: Deps) -> Figures:
    now = deps.clock()
    with deps.uow() as uow:
        outbox = uow.figures.outbox_backlog()
        deliveries = uow.figures.delivery_backlogs()
        sweeps = uow.figures.sweep_runs()

    def lag(b: Backlog) -> float:
        return max(0.0, (now - b.oldest).total_seconds()) if b.oldest is not None else 0.0

    return Figures(outbox, lag(outbox), deliveries, {c: lag(b) for c, b in deliveries.items()}, sweeps)
