"""What an estimate is: a distribution over delivery dates, the window shown from it, the policy
that picks the window's dates, and the milestones a shipment moves through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ordertrail.domain.statuses import ShipmentStatus


class Milestone(StrEnum):
    AWAITING_HANDOVER = "awaiting_handover"  # placed, the carrier has not accepted the parcel yet
    IN_TRANSIT = "in_transit"  # accepted by the carrier
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"


_MILESTONE_OF_STATUS: dict[ShipmentStatus, Milestone] = {
    ShipmentStatus.PENDING: Milestone.AWAITING_HANDOVER,
    ShipmentStatus.INFO_RECEIVED: Milestone.AWAITING_HANDOVER,
    ShipmentStatus.IN_TRANSIT: Milestone.IN_TRANSIT,
    ShipmentStatus.DELAYED: Milestone.IN_TRANSIT,
    ShipmentStatus.ACTION_REQUIRED: Milestone.IN_TRANSIT,
    ShipmentStatus.EXCEPTION: Milestone.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY: Milestone.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERY_ATTEMPTED: Milestone.OUT_FOR_DELIVERY,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: Milestone.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERED: Milestone.DELIVERED,
}


def milestone_for_status(status: ShipmentStatus) -> Milestone | None:
    """The estimation milestone of a shipment status; None when no delivery is expected any more
    (returned, lost, cancelled...)."""
    return _MILESTONE_OF_STATUS.get(status)


@dataclass(frozen=True, slots=True)
class PromisePolicy:
    promise_on_time: float = 0.90  # share of parcels that should arrive by the promised date
    interval: tuple[float, float] = (0.10, 0.90)  # nominal quantiles of [earliest, latest]
    carrier_weight: float = 0.5  # weight of a carrier's own estimate in the point estimate
    cutoff_hour: int = 24  # orders placed at or after this local hour start handling the next day


@dataclass(frozen=True, slots=True)
class DeliveryWindow:
    earliest: date
    point: date
    latest: date
    promised: date  # the committed date (policy quantile); for a re-estimate, the same quantile now
    basis: str  # why the window is what it is, for the change history and delay notices


@dataclass(frozen=True, slots=True)
class DateDistribution:
    """P(delivery on `start + i` days) = pmf[i]."""

    start: date
    pmf: tuple[float, ...]

    def cdf(self) -> list[float]:
        out, total = [], 0.0
        for p in self.pmf:
            total += p
            out.append(total)
        return out

    def quantile(self, level: float, cdf: Sequence[float] | None = None) -> date:
        """The first date whose cumulative probability reaches `level`."""
        cdf = cdf if cdf is not None else self.cdf()
        for i, c in enumerate(cdf):
            if c >= level - 1e-12:
                return self.start + timedelta(days=i)
        return self.start + timedelta(days=len(cdf) - 1)

    def region_levels(self) -> list[float]:
        """For each date, the probability of the dates strictly more likely than it: the content of
        the smallest density region (highest-density set) that does not yet include it.

        Densities are first made unimodal (each date gets the lower of the highest densities on its
        left and on its right), so every region is an interval: a Sunday with no deliveries inside a
        window belongs to it. A date is in the region of content t exactly when its level is < t;
        the conformity score of an outcome is its date's level (see `calibration`)."""
        pmf = self.pmf
        n = len(pmf)
        # The last date carries the whole tail beyond the longest duration modelled: a lump, not a
        # density, which would otherwise pull every date before it into the region.
        dense = [*pmf[:-1], 0.0] if n > 1 else list(pmf)
        left, right = [0.0] * n, [0.0] * n
        high = 0.0
        for i, p in enumerate(dense):
            high = max(high, p)
            left[i] = high
        high = 0.0
        for i in range(n - 1, -1, -1):
            high = max(high, dense[i])
            right[i] = high
        density = [min(a, b) for a, b in zip(left, right, strict=True)]
        order = sorted(range(n), key=lambda i: -density[i])
        levels = [0.0] * n
        above = 0.0  # mass of dates strictly denser than the current one
        i = 0
        while i < n:
            j = i
            tied = 0.0
            while j < n and density[order[j]] == density[order[i]]:
                tied += pmf[order[j]]
                j += 1
            for k in range(i, j):
                levels[order[k]] = above
            above += tied
            i = j
        return levels

    def region(self, content: float, levels: Sequence[float] | None = None) -> tuple[date, date]:
        """The shortest window holding `content` of the probability (the dates whose level is below
        it); the most likely date alone when `content` is 0."""
        levels = levels if levels is not None else self.region_levels()
        inside = [i for i, level in enumerate(levels) if level < content] or [
            min(range(len(levels)), key=lambda i: levels[i])
        ]
        return self.start + timedelta(days=inside[0]), self.start + timedelta(days=inside[-1])

    def region_score(self, day: date, levels: Sequence[float] | None = None) -> float:
        """The level of `day` (1.0 off the distribution's support)."""
        i = (day - self.start).days
        levels = levels if levels is not None else self.region_levels()
        return levels[i] if 0 <= i < len(levels) else 1.0

    def cdf_before(self, day: date, cdf: Sequence[float] | None = None) -> float:
        """P(delivery < day)."""
        i = (day - self.start).days
        if i <= 0:
            return 0.0
        cdf = cdf if cdf is not None else self.cdf()
        return cdf[min(i, len(cdf)) - 1]
