"""Past shipments as learning input, and the rule that keeps the future out of learning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ordertrail.domain.eta.lanes import LaneContext


class LeakageError(ValueError):
    """A record carries information from after the as-of date it is being learned at."""


@dataclass(frozen=True, slots=True)
class ShipmentHistory:
    """One past shipment: when handling started (local date, after the cut-off), and when the
    carrier accepted it and delivered it, if it had by the time the record describes."""

    ctx: LaneContext
    placed_on: date
    handed_over_on: date | None = None
    delivered_on: date | None = None

    def as_known_on(self, as_of: date) -> ShipmentHistory | None:
        """This record as it looked at the end of `as_of`; None if it had not been placed yet."""
        if self.placed_on > as_of:
            return None
        handed = (
            self.handed_over_on if self.handed_over_on is not None and self.handed_over_on <= as_of else None
        )
        delivered = (
            self.delivered_on
            if handed is not None and self.delivered_on is not None and self.delivered_on <= as_of
            else None
        )
        if handed is self.handed_over_on and delivered is self.delivered_on:
            return self
        return ShipmentHistory(self.ctx, self.placed_on, handed, delivered)

    def check_known_on(self, as_of: date) -> None:
        for label, day in (
            ("placed", self.placed_on),
            ("handed over", self.handed_over_on),
            ("delivered", self.delivered_on),
        ):
            if day is not None and day > as_of:
                raise LeakageError(
                    f"a record {label} on {day.isoformat()} cannot be learned from as of {as_of.isoformat()}"
                )
