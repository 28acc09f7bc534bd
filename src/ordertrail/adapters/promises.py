"""The checkout promise from configured handling and transit times, on holiday-aware calendars.

This is the fresh-install policy; once lane history exists the learned estimator takes over the
transit part (see services.eta).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ordertrail.adapters.calendars import business_calendar
from ordertrail.domain.dispatch import checkout_promise, ship_by
from ordertrail.domain.eta.calendar import MONDAY_TO_FRIDAY, MONDAY_TO_SATURDAY


class ConfiguredPromises:
    def __init__(
        self,
        transit_business_days: Mapping[str, tuple[int, int]],
        handling_business_days: int = 2,
        seller_country: str = "US",
        seller_timezone: str = "UTC",
        cutoff_hour: int = 14,
    ) -> None:
        self.transit = dict(transit_business_days)
        self.handling_days = handling_business_days
        self.country = seller_country
        self.zone = ZoneInfo(seller_timezone)
        self.cutoff_hour = cutoff_hour

    def services(self) -> frozenset[str]:
        return frozenset(self.transit)

    def ship_by(self, placed_at: datetime, seller_id: str) -> datetime:
        calendar = business_calendar(self.country, None, MONDAY_TO_FRIDAY)
        return ship_by(placed_at, self.zone, self.cutoff_hour, calendar, self.handling_days)

    def promise(
        self, placed_at: datetime, ship_by: datetime, service: str, address: Mapping[str, str], seller_id: str
    ) -> tuple[date, date]:
        country = address.get("country_code") or self.country
        calendar = business_calendar(country, None, MONDAY_TO_SATURDAY)
        return checkout_promise(ship_by.astimezone(self.zone).date(), self.transit[service], calendar)
