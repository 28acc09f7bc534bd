"""Business-day calendars built from public-holiday data (the `holidays` package).

Carriers do not follow a country's statutory list exactly. In Brazil, Carnival Monday/Tuesday and
Corpus Christi are only "optional" holidays in `holidays`, yet Correios and sellers stop on them
(the Olist history has no carrier hand-overs on those days), while Ash Wednesday is a working day
(hundreds of hand-overs) and Public Servants' Day, Christmas Eve and New Year's Eve are not
closures. `OBSERVED_OPTIONAL` lists, per country, the optional holidays that do close business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache

import holidays

from ordertrail.domain.eta.calendar import MONDAY_TO_FRIDAY, BusinessCalendar
from ordertrail.domain.eta.lanes import LaneContext

# Optional-category holidays that are closures in practice, by English name.
OBSERVED_OPTIONAL: Mapping[str, frozenset[str]] = {
    "BR": frozenset({"Carnival", "Carnival Monday", "Carnival Tuesday", "Corpus Christi"}),
}

_YEARS = range(2015, 2036)


@lru_cache(maxsize=512)
def holiday_dates(country: str, subdiv: str | None = None) -> frozenset[date]:
    """Public holidays of a country (and state/province subdivision, when known) for 2015-2035."""
    country = country.upper()
    try:
        public = holidays.country_holidays(country, subdiv=subdiv, years=_YEARS, language="en_US")
    except NotImplementedError:
        if subdiv is None:
            return frozenset()
        # An unknown subdivision still has the national holidays.
        return holiday_dates(country, None)
    days = set(public)
    wanted = OBSERVED_OPTIONAL.get(country)
    if wanted:
        optional = holidays.country_holidays(
            country, subdiv=subdiv, years=_YEARS, categories=("optional",), language="en_US"
        )
        days.update(
            d for d, name in optional.items() if any(part.strip() in wanted for part in name.split(";"))
        )
    return frozenset(days)


@lru_cache(maxsize=1024)
def business_calendar(
    country: str, subdiv: str | None = None, weekdays: Iterable[int] = MONDAY_TO_FRIDAY
) -> BusinessCalendar:
    """Cached: building one precomputes ~20 years of day counts."""
    subdiv = subdiv or None
    return BusinessCalendar(
        frozenset(weekdays), holiday_dates(country, subdiv), name=f"{country}-{subdiv or '*'}"
    )


class HolidayCalendars:
    """`CalendarSource` for the estimator: sellers work on their own state's calendar; carriers
    deliver on the destination state's calendar, on the weekdays configured for the carrier
    (default Monday-Friday; e.g. {"ups/saturday": MONDAY_TO_SATURDAY})."""

    def __init__(self, carrier_weekdays: Mapping[str, Iterable[int]] | None = None) -> None:
        self._carrier_weekdays = {key: frozenset(days) for key, days in (carrier_weekdays or {}).items()}

    def handling(self, ctx: LaneContext) -> BusinessCalendar:
        return business_calendar(ctx.origin_country, ctx.origin_region, MONDAY_TO_FRIDAY)

    def transit(self, ctx: LaneContext) -> BusinessCalendar:
        weekdays = (
            self._carrier_weekdays.get(f"{ctx.carrier}/{ctx.service}")
            or self._carrier_weekdays.get(ctx.carrier)
            or MONDAY_TO_FRIDAY
        )
        return business_calendar(ctx.destination_country, ctx.destination_region, frozenset(weekdays))
