"""The dispatch deadline (ship-by) and the checkout promise built on it (DESIGN.md §4-5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

from ordertrail.domain.eta.calendar import BusinessCalendar


def handling_start(placed_at: datetime, zone: tzinfo, cutoff_hour: int, calendar: BusinessCalendar) -> date:
    """The seller's first business day that counts: today if before the cut-off on a business day."""
    local = placed_at.astimezone(zone)
    day = local.date()
    if calendar.is_business_day(day) and local.hour < cutoff_hour:
        return day
    return calendar.add_business_days(day, 1)


def ship_by(
    placed_at: datetime, zone: tzinfo, cutoff_hour: int, calendar: BusinessCalendar, handling_days: int
) -> datetime:
    """End of the seller's local day on which the handling business days run out.

    The day of placement counts when the order came in before the cut-off on a business day.
    """
    start = handling_start(placed_at, zone, cutoff_hour, calendar)
    last = calendar.add_business_days(start, handling_days - 1) if handling_days > 1 else start
    return datetime.combine(last, time(23, 59, 59), tzinfo=zone).astimezone(UTC)


def checkout_promise(
    ship_by_day: date, transit: tuple[int, int], carrier_calendar: BusinessCalendar
) -> tuple[date, date]:
    """[earliest, latest] delivery dates: the transit range in the carrier's business days after ship-by."""
    low, high = transit
    return (
        carrier_calendar.add_business_days(ship_by_day, low),
        carrier_calendar.add_business_days(ship_by_day, high),
    )
