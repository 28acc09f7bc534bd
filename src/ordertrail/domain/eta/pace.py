"""Pace recalibration: how much faster or slower each region's parcels move *now* than the fitted
hazards say, learned from the most recent days of a calibration window.

Conformal level maps (see `calibration`) need delivered parcels to score, and the parcels a
slow-down delays are exactly the ones not delivered yet. Pace uses every at-risk business day of
every parcel instead, each weighted by how recent *that day* is: when the network slows down, the
days parcels spend in transit stop ending in deliveries, and that shows within days.
"""

from __future__ import annotations

import math
from datetime import date

from ordertrail.domain.eta.calendar import BusinessCalendar
from ordertrail.domain.eta.estimator import EtaModel
from ordertrail.domain.eta.history import ShipmentHistory
from ordertrail.domain.eta.lanes import destination_group, origin_group

HANDLING, TRANSIT = 0, 1


class PaceEstimator:
    """How much faster or slower each group's parcels move now than the fitted hazards say.

    Recalibrates a stage's hazards by one exponent per group, h' = 1 - (1 - h) ** theta (a
    proportional-hazards shift on the complementary log-log scale): theta < 1 slows every day of
    the stage down, theta > 1 speeds it up. Each at-risk day of each calibration parcel counts,
    weighted by how recent *that day* is, so a network slow-down shows in the last weeks' days at
    once, long before the parcels it delays are delivered and can be scored.
    """

    def __init__(self) -> None:
        # group -> {rounded hazard: [weight of days with an event, weight of days without]}
        self._bins: dict[str, dict[float, list[float]]] = {}

    def add(self, group: str, hazard: float, event: bool, weight: float) -> None:
        if weight <= 0.0 or not 0.0 < hazard < 1.0:
            return
        bins = self._bins.setdefault(group, {})
        cell = bins.get(key := round(hazard, 3))
        if cell is None:
            cell = bins[key] = [0.0, 0.0]
        cell[0 if event else 1] += weight

    def add_weights(self, group: str, hazard_bin: float, events: float, non_events: float) -> None:
        cell = self._bins.setdefault(group, {}).setdefault(hazard_bin, [0.0, 0.0])
        cell[0] += events
        cell[1] += non_events

    def groups(self) -> list[str]:
        return sorted(self._bins)

    def events(self, group: str) -> float:
        return sum(c[0] for c in self._bins.get(group, {}).values())

    def theta(self, group: str, prior_theta: float = 1.0, prior_events: float = 0.0) -> float:
        """Maximum-likelihood exponent, shrunk towards `prior_theta` (on the log scale) as if that
        prior had been seen over `prior_events` delivery events."""
        bins = self._bins.get(group)
        if not bins:
            return prior_theta
        cells = [(math.log1p(-h), ev, no) for h, (ev, no) in bins.items()]
        n_events = sum(ev for _, ev, _ in cells)
        if n_events <= 0.0:
            return prior_theta

        def slope(log_theta: float) -> float:
            theta = math.exp(log_theta)
            total = 0.0
            for log_survive, ev, no in cells:
                survive = math.exp(theta * log_survive)
                # d/dtheta of ev*log(1 - S^theta) + no*theta*log(S), with S = 1 - h.
                total += no * log_survive - ev * survive * log_survive / max(1.0 - survive, 1e-12)
            return total * theta

        low, high = math.log(0.05), math.log(20.0)
        for _ in range(30):  # brackets log(theta) to within 1e-8
            mid = (low + high) / 2
            if slope(mid) > 0:
                low = mid
            else:
                high = mid
        log_mle = (low + high) / 2
        w = n_events / (n_events + prior_events) if prior_events > 0 else 1.0
        return math.exp(w * log_mle + (1 - w) * math.log(prior_theta))


def thetas(estimator: PaceEstimator, strength: float) -> dict[str, float]:
    """The overall exponent ("*") and each group's, shrunk towards the overall one."""
    overall = estimator.theta("*")
    out = {"*": overall}
    for group in estimator.groups():
        if group != "*":
            out[group] = estimator.theta(group, overall, strength)
    return out


class PaceTracker:
    """Pace exponents as of any day, from parcels whose days are revealed as time passes.

    Each at-risk business day of each parcel is kept with the date it happened, a delivery with the
    date it happened. `paces_as_of(day)` reads only what had happened by the end of `day`: an outcome
    dated later cannot change its answer, whatever records were added. Queries in increasing date
    order are incremental (running exponentially weighted sums).
    """

    def __init__(self, model: EtaModel, half_life_days: float, strength: float) -> None:
        self._model = model
        self._rate = math.log(2.0) / half_life_days if half_life_days > 0 else 0.0
        self._strength = strength
        self._observations: list[tuple[int, int, str, float, bool]] = []  # ordinal, stage, group, h, event
        self._sorted = True
        self._reset()

    def _reset(self) -> None:
        self._next = 0
        self._sums: dict[tuple[int, str, float], list[float]] = {}
        self._base = self._observations[0][0] if self._observations else 0

    def add(self, record: ShipmentHistory, known_until: date) -> None:
        """A parcel as known on `known_until` (a stage still open then counts as open)."""
        record.check_known_on(known_until)
        ctx, model = record.ctx, self._model
        self._stage(
            HANDLING,
            origin_group(ctx),
            model.handling.hazard(ctx.handling_path()),
            model.calendars.handling(ctx),
            record.placed_on,
            record.handed_over_on,
            known_until,
        )
        if record.handed_over_on is not None:
            self._stage(
                TRANSIT,
                destination_group(ctx),
                model.transit.hazard(ctx.transit_path()),
                model.calendars.transit(ctx),
                record.handed_over_on,
                record.delivered_on,
                known_until,
            )

    def _stage(
        self,
        stage: int,
        group: str,
        hazard: list[float],
        calendar: BusinessCalendar,
        start: date,
        end: date | None,
        known_until: date,
    ) -> None:
        days = min(len(hazard) - 2, max(0, calendar.business_days_between(start, end or known_until)))
        offsets = calendar.business_day_offsets(start, days)
        first = start.toordinal()
        for d in range(days + 1):
            h = round(hazard[d], 3)  # binned: the solver then works on a few hundred cells
            if not 0.0 < h < 1.0:
                continue  # a certain or impossible day says nothing about pace
            event = end is not None and d == days
            # A Saturday delivery happened on the Saturday, not on the business day it counts as.
            ordinal = end.toordinal() if event and end is not None else first + offsets[d]
            self._observations.append((ordinal, stage, group, h, event))
        self._sorted = False

    def paces_as_of(self, day: date) -> tuple[dict[str, float], dict[str, float]]:
        """(handling, transit) exponents by group from what had happened by the end of `day`."""
        cutoff = day.toordinal()
        if not self._sorted:
            self._observations.sort(key=lambda o: o[0])
            self._sorted = True
            self._reset()
        elif self._next and self._observations[self._next - 1][0] > cutoff:
            self._reset()
        rate, base, sums = self._rate, self._base, self._sums
        observations = self._observations
        while self._next < len(observations) and observations[self._next][0] <= cutoff:
            ordinal, stage, group, h, event = observations[self._next]
            grow = math.exp(rate * (ordinal - base))
            for key in ((stage, group, h), (stage, "*", h)):
                cell = sums.get(key)
                if cell is None:
                    cell = sums[key] = [0.0, 0.0]
                cell[0 if event else 1] += grow
            self._next += 1
        shrink = math.exp(-rate * (cutoff - base))
        estimators = (PaceEstimator(), PaceEstimator())
        for (stage, group, h), (events, non_events) in sums.items():
            estimators[stage].add_weights(group, h, events * shrink, non_events * shrink)
        return thetas(estimators[HANDLING], self._strength), thetas(estimators[TRANSIT], self._strength)


def paces_as_of(
    model: EtaModel, records: list[ShipmentHistory], as_of: date, half_life_days: float, strength: float
) -> tuple[dict[str, float], dict[str, float]]:
    """(handling, transit) pace exponents from records as known at the end of `as_of`."""
    tracker = PaceTracker(model, half_life_days, strength)
    for record in records:
        tracker.add(record, as_of)
    return tracker.paces_as_of(as_of)
