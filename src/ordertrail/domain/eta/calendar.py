"""Business-day calendars: which days a seller ships and a carrier moves or delivers parcels.

Delivery estimates count handling and transit in *business* days, so the calendar arithmetic sits on
the hot path of fitting and scoring (hundreds of thousands of look-ups). Each calendar therefore
precomputes, over a span of years, the running count of business days per date ordinal; counting
days between two dates and adding N business days are then two list look-ups instead of a walk.
The span grows on demand when a date falls outside it.

Counting convention, used everywhere in `domain/eta`: `business_days_between(a, b)` is the number of
business days d with a < d <= b, so a parcel handed over on Friday and delivered on Monday took one
business day, and one delivered on Saturday (outside a Monday-Friday calendar) took zero.
`add_business_days(a, n)` is the inverse: the first date whose count from `a` is n.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ordertrail.domain.eta.lanes import LaneContext

MONDAY_TO_FRIDAY: frozenset[int] = frozenset(range(5))
MONDAY_TO_SATURDAY: frozenset[int] = frozenset(range(6))

_DEFAULT_FIRST_YEAR = 2015
_DEFAULT_LAST_YEAR = 2035


class BusinessCalendar:
    """Working days (`weekdays`, Monday = 0) minus `holidays`."""

    __slots__ = ("_base", "_bdays", "_cum", "_end", "_offsets", "holidays", "name", "weekdays")

    def __init__(
        self,
        weekdays: Iterable[int] = MONDAY_TO_FRIDAY,
        holidays: Iterable[date] = (),
        name: str = "",
    ) -> None:
        self.weekdays = frozenset(weekdays)
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("a calendar needs at least one working weekday in 0..6")
        self.holidays = frozenset(holidays)
        self.name = name
        self._offsets: dict[tuple[int, int], tuple[int, ...]] = {}
        years = [d.year for d in self.holidays]
        first = min([*years, _DEFAULT_FIRST_YEAR])
        last = max([*years, _DEFAULT_LAST_YEAR])
        self._build(date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal())

    def _build(self, base: int, end: int) -> None:
        # _cum[i] = business days in [base, base + i]; _bdays[k - 1] = ordinal of the k-th of them.
        cum: list[int] = []
        bdays: list[int] = []
        count = 0
        weekdays = self.weekdays
        holidays = {d.toordinal() for d in self.holidays}
        for ordinal in range(base, end + 1):
            # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the weekday.
            if (ordinal - 1) % 7 in weekdays and ordinal not in holidays:
                count += 1
                bdays.append(ordinal)
            cum.append(count)
        self._base, self._end, self._cum, self._bdays = base, end, cum, bdays
        self._offsets = {}

    def _ensure(self, ordinal: int, margin_days: int = 0) -> None:
        low, high = ordinal - margin_days, ordinal + margin_days
        if low < self._base or high > self._end:
            self._build(min(self._base, low - 3660), max(self._end, high + 3660))

    def is_business_day(self, day: date) -> bool:
        ordinal = day.toordinal()
        self._ensure(ordinal)
        i = ordinal - self._base
        return self._cum[i] != (self._cum[i - 1] if i else 0)

    def business_days_between(self, start: date, end: date) -> int:
        """Business days d with start < d <= end (negative when end is before start)."""
        a, b = start.toordinal(), end.toordinal()
        self._ensure(a)
        self._ensure(b)
        return self._cum[b - self._base] - self._cum[a - self._base]

    def add_business_days(self, start: date, days: int) -> date:
        """The first date whose `business_days_between(start, ·)` is `days` (`start` itself for 0)."""
        if days == 0:
            return start
        ordinal = start.toordinal()
        # A business day is at least every 7 days unless holidays cluster; the margin covers both.
        self._ensure(ordinal, margin_days=abs(days) * 7 + 400)
        k = self._cum[ordinal - self._base]
        if days > 0:
            return date.fromordinal(self._bdays[k + days - 1])
        # Going back: the |days|-th business day strictly before `start`.
        own = 1 if self.is_business_day(start) else 0
        return date.fromordinal(self._bdays[k - own + days])

    def next_business_day(self, day: date) -> date:
        """`day` itself when it is a business day, else the first business day after it."""
        return day if self.is_business_day(day) else self.add_business_days(day, 1)

    def business_day_offsets(self, start: date, max_days: int) -> tuple[int, ...]:
        """Calendar-day offsets from `start` of `add_business_days(start, n)` for n = 0..max_days.

        Estimation maps whole distributions of business days to dates at once, for the same few
        hundred dates over and over; the slices are cached (bounded, cleared when full).
        """
        ordinal = start.toordinal()
        key = (ordinal, max_days)
        cached = self._offsets.get(key)
        if cached is not None:
            return cached
        self._ensure(ordinal, margin_days=max_days * 7 + 400)
        k = self._cum[ordinal - self._base]
        offsets = (0, *(o - ordinal for o in self._bdays[k : k + max_days]))
        if len(self._offsets) > 50_000:
            self._offsets.clear()
        self._offsets[key] = offsets
        return offsets

    def __repr__(self) -> str:
        return f"BusinessCalendar(name={self.name!r}, weekdays={sorted(self.weekdays)}, holidays={len(self.holidays)})"


class CalendarSource(Protocol):
    """Which calendar a lane's seller ships on and its carrier delivers on; the adapter builds them
    from public-holiday data (adapters.calendars.HolidayCalendars). A calendar depends on the lane's
    countries, regions, carrier and service only (EtaModel.reestimate reuses windows on that basis)."""

    def handling(self, ctx: LaneContext) -> BusinessCalendar: ...

    def transit(self, ctx: LaneContext) -> BusinessCalendar: ...


@dataclass(frozen=True, slots=True)
class FixedCalendars:
    """The same two calendars for every lane (tests, single-country installs without holidays)."""

    handling_calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    transit_calendar: BusinessCalendar = field(default_factory=BusinessCalendar)

    def handling(self, ctx: LaneContext) -> BusinessCalendar:
        return self.handling_calendar

    def transit(self, ctx: LaneContext) -> BusinessCalendar:
        return self.transit_calendar
