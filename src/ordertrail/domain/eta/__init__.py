"""Estimated delivery (DESIGN.md §4): business-day calendars, learned per-lane distributions,
calibrated promises and re-estimation after every scan. Pure: standard library only."""

from ordertrail.domain.eta.calendar import (
    MONDAY_TO_FRIDAY,
    MONDAY_TO_SATURDAY,
    BusinessCalendar,
    CalendarSource,
    FixedCalendars,
)
from ordertrail.domain.eta.calibration import Calibration
from ordertrail.domain.eta.estimator import EtaModel
from ordertrail.domain.eta.fitting import Defaults, FitConfig, calibrate, default_model, fit
from ordertrail.domain.eta.history import LeakageError, ShipmentHistory
from ordertrail.domain.eta.lanes import LaneContext
from ordertrail.domain.eta.windows import (
    DateDistribution,
    DeliveryWindow,
    Milestone,
    PromisePolicy,
    milestone_for_status,
)

__all__ = [
    "MONDAY_TO_FRIDAY",
    "MONDAY_TO_SATURDAY",
    "BusinessCalendar",
    "CalendarSource",
    "Calibration",
    "DateDistribution",
    "Defaults",
    "DeliveryWindow",
    "EtaModel",
    "FitConfig",
    "FixedCalendars",
    "LaneContext",
    "LeakageError",
    "Milestone",
    "PromisePolicy",
    "ShipmentHistory",
    "calibrate",
    "default_model",
    "fit",
    "milestone_for_status",
]
