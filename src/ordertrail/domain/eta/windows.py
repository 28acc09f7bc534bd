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
    # Nominal quantiles of [earliest, latest], each end calibrated on its own: an 80% window with
    # 5% of parcels before it and 15% after. Delivery times are right-skewed, so a window leaning
    # towards the likely early dates is narrower than the 10-90% one at the same coverage (docs/edd.md).
    interval: tuple[float, float] = (0.05, 0.85)
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

    def cdf_before(self, day: date, cdf: Sequence[float] | None = None) -> float:
        """P(delivery < day)."""
        i = (day - self.start).days
        if i <= 0:
            return 0.0
        cdf = cdf if cdf is not None else self.cdf()
        return cdf[min(i, len(cdf)) - 1]
