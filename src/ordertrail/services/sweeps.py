"""The sweep schedule: periodic checks that find what needs telling, each taking `now`.

Each sweep is a service that runs as of a given time, batched and idempotent, and returns counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ordertrail.services import estimates, monitoring
from ordertrail.services.case_actions import escalate_overdue_cases
from ordertrail.services.context import Deps
from ordertrail.services.polling import poll_carriers
from ordertrail.services.stall_learning import learn_stall_thresholds
from ordertrail.services.webhooks_inbound import purge_inbound_payloads

log = logging.getLogger(__name__)

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
    Sweep("escalate_overdue_cases", timedelta(minutes=5), escalate_overdue_cases),
    Sweep("ship_by_overdue", timedelta(minutes=15), monitoring.ship_by_overdue),
    Sweep("no_first_scan", timedelta(hours=1), monitoring.no_first_scan),
    Sweep("learn_stall_thresholds", timedelta(hours=1), learn_stall_thresholds),
    Sweep("shipments_stalled", timedelta(hours=1), monitoring.shipments_stalled),
    Sweep("estimates_overdue", timedelta(minutes=15), monitoring.estimates_overdue),
    Sweep("reestimate_deliveries", timedelta(minutes=15), estimates.reestimate_deliveries),
    Sweep("poll_carriers", timedelta(seconds=15), poll_carriers),
    Sweep("purge_inbound_payloads", timedelta(hours=1), purge_inbound_payloads),
]


# A sweep that runs longer than this may be started again by another worker (sweeps are idempotent).
SWEEP_LEASE = timedelta(minutes=15)


def run_all(deps: Deps, now: datetime) -> dict[str, dict[str, int]]:
    """Every sweep once as of `now`, whatever the schedule says (`ordertrail sweep --now`)."""
    return {s.name: s.run(deps, now) for s in SCHEDULE}


def run_due_sweeps(deps: Deps) -> dict[str, dict[str, int]]:
    """Run the sweeps that are due and that this worker claimed; several workers never run the same
    sweep at the same time, and each due run happens once (see `adapters.db.sweep_runs`)."""
    now = deps.clock()
    by_name = {s.name: s for s in SCHEDULE}
    with deps.uow() as uow:
        uow.sweep_runs.ensure(list(by_name), now)
        due = [n for n in uow.sweep_runs.due(now) if n in by_name]
        uow.commit()
    results: dict[str, dict[str, int]] = {}
    for name in due:
        sweep = by_name[name]
        with deps.uow() as uow:
            mine = uow.sweep_runs.claim(name, now, now + sweep.every, now + SWEEP_LEASE)
            uow.commit()
        if not mine:
            continue
        counts: dict[str, int] | None = None
        error = None
        try:
            counts = sweep.run(deps, now)
            results[name] = counts
        except Exception as exc:  # recorded on the schedule row; the next period tries again
            log.exception("sweep %s failed", name)
            error = f"{type(exc).__name__}: {exc}"[:2000]
        with deps.uow() as uow:
            uow.sweep_runs.finish(name, deps.clock(), counts, error)
            uow.commit()
    return results
