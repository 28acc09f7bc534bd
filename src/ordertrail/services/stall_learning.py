"""Learning what "unusually long without a scan" means, per carrier, milestone and lane.

Every gap between two consecutive scans of a shipment is counted in the carrier's business days,
under the status the parcel waited at, per week. The stall threshold of a (carrier, status, lane) is
the policy's quantile (P95) of the last weeks' gaps; with too little history it falls back to the
status's quantile over all carriers, then to the configured defaults (3 business days domestic,
7 international). The refresh is incremental: it reads only events received since the last one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from ordertrail.domain import monitoring as rules
from ordertrail.domain.monitoring import WATCHED_FOR_STALL
from ordertrail.services.context import Deps
from ordertrail.services.monitoring import carrier_calendar

# Events may commit a little after the instant they were stamped with; reading up to a few minutes
# ago keeps the watermark from passing events still in flight.
SETTLE = timedelta(minutes=5)
EVENTS_PER_BATCH = 20_000
_WATCHED = {s.value for s in WATCHED_FOR_STALL}


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def learn_stall_thresholds(deps: Deps, now: datetime) -> dict[str, int]:
    policy = deps.monitoring_policy
    until = now - SETTLE
    history_start = _week(now.date()) - timedelta(weeks=policy.stall_history_weeks)
    gaps_counted = 0
    with deps.uow() as uow:
        stored = uow.stall_stats.learned_until()
    learned = stored or datetime.combine(history_start, datetime.min.time(), tzinfo=now.tzinfo)
    while learned < until:
        with deps.uow() as uow:
            batch = uow.stall_stats.new_gaps(learned, until, EVENTS_PER_BATCH)
            counts: Counter[tuple[str, str, str, date, int]] = Counter()
            for gap in batch.gaps:
                if gap.status not in _WATCHED:
                    continue
                days = carrier_calendar(deps, gap.carrier).business_days_between(gap.from_day, gap.to_day)
                lane = rules.lane(gap.destination_country, policy.origin_country)
                counts[(gap.carrier, gap.status, lane, _week(gap.from_day), days)] += gap.count
            assert batch.learned_until is not None
            if not uow.stall_stats.add_counts(
                [(*k, n) for k, n in counts.items()], stored, batch.learned_until
            ):
                break  # another run is learning the same events; its counts stand
            uow.commit()
        gaps_counted += sum(counts.values())
        learned = stored = batch.learned_until
    with deps.uow() as uow:
        histograms = uow.stall_stats.histograms(history_start)
        by_status: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
        rows: list[tuple[str, str, str, int, int]] = []
        for (carrier, status, lane), histogram in histograms.items():
            by_status[(status, lane)].update(histogram)
            threshold = rules.stall_threshold(histogram, policy)
            if threshold is not None:
                rows.append((carrier, status, lane, threshold, sum(histogram.values())))
        for (status, lane), histogram in by_status.items():
            threshold = rules.stall_threshold(histogram, policy)
            if threshold is not None:
                rows.append((rules.ANY_CARRIER, status, lane, threshold, sum(histogram.values())))
        uow.stall_stats.replace_thresholds(rows, now)
        uow.stall_stats.drop_counts_before(history_start)
        uow.commit()
    return {"gaps": gaps_counted, "thresholds": len(rows)}
