"""Seller performance: rates computed from facts over a rolling window, each held to a threshold.

Defaults follow the marketplaces sellers already know (see reference/anchors.md a.10): late dispatch
at most 4% and valid tracking at least 95% (TikTok Shop, Amazon), on-time delivery at least 90%
(Amazon), and cases and seller-fault resolutions at most 1% of orders (Amazon's order defect rate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

LATE_DISPATCH = "late_dispatch_rate"
VALID_TRACKING = "valid_tracking_rate"
ON_TIME_DELIVERY = "on_time_delivery_rate"
CASE_RATE = "case_rate"
SELLER_FAULT = "seller_fault_resolution_rate"

FIGURES = (LATE_DISPATCH, VALID_TRACKING, ON_TIME_DELIVERY, CASE_RATE, SELLER_FAULT)

# What each figure counts, for the reader of the API response.
MEANING = {
    LATE_DISPATCH: "orders due to ship in the window whose first tracking number came after ship-by, "
    "or has not come and ship-by has passed",
    VALID_TRACKING: "shipments given a tracking number in the window whose first carrier scan came within "
    "the allowed days of it (shipments still inside those days and unscanned are not counted yet)",
    ON_TIME_DELIVERY: "shipments delivered in the window on or before the promise's latest date",
    CASE_RATE: "orders placed in the window on which the buyer opened a case",
    SELLER_FAULT: "orders placed in the window with a case resolved in the buyer's favour "
    "(refund, partial refund or replacement)",
}


@dataclass(frozen=True, slots=True)
class PerformancePolicy:
    window: timedelta = timedelta(days=30)
    valid_tracking_within: timedelta = timedelta(days=3)
    late_dispatch_max: float = 0.04
    valid_tracking_min: float = 0.95
    on_time_delivery_min: float = 0.90
    case_rate_max: float = 0.01
    seller_fault_max: float = 0.01

    def threshold(self, figure: str) -> tuple[float, bool]:
        """(threshold, True when the rate must stay at or below it)."""
        return {
            LATE_DISPATCH: (self.late_dispatch_max, True),
            VALID_TRACKING: (self.valid_tracking_min, False),
            ON_TIME_DELIVERY: (self.on_time_delivery_min, False),
            CASE_RATE: (self.case_rate_max, True),
            SELLER_FAULT: (self.seller_fault_max, True),
        }[figure]


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    numerator: int
    denominator: int
    threshold: float
    at_most: bool

    @property
    def rate(self) -> float | None:
        """None when there is nothing to measure: no orders is not a 0% or a 100% rate."""
        return self.numerator / self.denominator if self.denominator else None

    @property
    def meets_threshold(self) -> bool | None:
        rate = self.rate
        if rate is None:
            return None
        return rate <= self.threshold if self.at_most else rate >= self.threshold


def figures(counts: Mapping[str, tuple[int, int]], policy: PerformancePolicy) -> list[Figure]:
    """Each figure from its (numerator, denominator), with the threshold it is held to."""
    out = []
    for name in FIGURES:
        numerator, denominator = counts.get(name, (0, 0))
        threshold, at_most = policy.threshold(name)
        out.append(Figure(name, numerator, denominator, threshold, at_most))
    return out
