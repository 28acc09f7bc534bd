from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ordertrail.domain.eta.calendar import MONDAY_TO_FRIDAY, MONDAY_TO_SATURDAY, BusinessCalendar

CARNIVAL = frozenset({date(2018, 2, 12), date(2018, 2, 13)})  # Monday and Tuesday
BR = BusinessCalendar(MONDAY_TO_FRIDAY, CARNIVAL | {date(2018, 3, 30)})


def test_counting_business_days_skips_weekends_and_holidays() -> None:
    friday = date(2018, 2, 9)
    # Sat, Sun, Carnival Mon/Tue are not counted; Wed 14th is the first business day after.
    assert BR.business_days_between(friday, date(2018, 2, 13)) == 0
    assert BR.business_days_between(friday, date(2018, 2, 14)) == 1
    assert BR.business_days_between(friday, date(2018, 2, 16)) == 3


def test_a_parcel_delivered_on_saturday_took_as_many_business_days_as_one_delivered_on_friday() -> None:
    monday = date(2018, 3, 5)
    assert BR.business_days_between(monday, date(2018, 3, 10)) == BR.business_days_between(
        monday, date(2018, 3, 9)
    )


def test_adding_business_days_lands_on_the_next_working_day_after_a_holiday_weekend() -> None:
    assert BR.add_business_days(date(2018, 2, 9), 1) == date(2018, 2, 14)
    assert BR.add_business_days(date(2018, 3, 29), 1) == date(2018, 4, 2)  # Good Friday, weekend
    assert BR.add_business_days(date(2018, 2, 9), 0) == date(2018, 2, 9)


def test_going_back_in_business_days_skips_holidays_too() -> None:
    assert BR.add_business_days(date(2018, 2, 14), -1) == date(2018, 2, 9)
    assert BR.add_business_days(date(2018, 2, 12), -1) == date(2018, 2, 9)  # from a holiday


def test_saturday_service_counts_saturdays_as_delivery_days() -> None:
    saturdays = BusinessCalendar(MONDAY_TO_SATURDAY)
    assert saturdays.is_business_day(date(2018, 3, 10))
    assert not BR.is_business_day(date(2018, 3, 10))
    assert saturdays.add_business_days(date(2018, 3, 9), 1) == date(2018, 3, 10)


def test_dates_far_outside_the_precomputed_span_still_work() -> None:
    cal = BusinessCalendar(MONDAY_TO_FRIDAY)
    assert cal.add_business_days(date(2090, 1, 6), 1) == date(2090, 1, 9)  # Fri -> Mon
    assert cal.business_days_between(date(1990, 1, 1), date(1990, 1, 8)) == 5


def test_offsets_of_a_run_of_business_days_match_adding_them_one_by_one() -> None:
    start = date(2018, 2, 8)
    offsets = BR.business_day_offsets(start, 10)
    assert [start + timedelta(days=o) for o in offsets] == [BR.add_business_days(start, n) for n in range(11)]


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    st.integers(min_value=-60, max_value=60),
)
def test_adding_then_counting_business_days_round_trips(start: date, days: int) -> None:
    end = BR.add_business_days(start, days)
    if days >= 0:
        assert BR.business_days_between(start, end) == days
        assert days == 0 or BR.is_business_day(end)
    else:
        # The |days|-th business day strictly before start: the ones in between, plus start itself.
        assert BR.business_days_between(end, start) == -days - 1 + int(BR.is_business_day(start))
        assert BR.is_business_day(end)
