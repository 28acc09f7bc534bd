"""The window shown to buyers: the shortest one holding the calibrated share of the distribution."""

import json
from datetime import date, timedelta

from ordertrail.domain.eta import (
    BusinessCalendar,
    DateDistribution,
    EtaModel,
    FixedCalendars,
    LaneContext,
    Milestone,
    ShipmentHistory,
    calibrate,
    fit,
)

START = date(2018, 3, 5)
WEEKDAYS = BusinessCalendar()
CALENDARS = FixedCalendars(WEEKDAYS, WEEKDAYS)


def _skewed() -> DateDistribution:
    # Most parcels in days 2-5, a long thin tail, a Sunday with nothing on it, and the lump the
    # last modelled day carries for everything slower.
    pmf = [0.02, 0.08, 0.2, 0.22, 0.0, 0.16, 0.1, 0.06, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0.0, 0.03]
    return DateDistribution(START, tuple(pmf))


def test_the_density_region_is_shorter_than_the_central_window_and_holds_its_share() -> None:
    dist = _skewed()
    earliest, latest = dist.region(0.8)
    held = sum(p for i, p in enumerate(dist.pmf) if earliest <= START + timedelta(days=i) <= latest)
    assert held >= 0.8
    central = (dist.quantile(0.1), dist.quantile(0.9))
    assert (latest - earliest).days < (central[1] - central[0]).days
    # The empty day inside is part of the window; the tail lump does not drag the window to it.
    assert earliest < START + timedelta(days=4) < latest
    assert latest < START + timedelta(days=15)


def test_an_outcome_is_in_the_region_of_content_t_exactly_when_its_score_is_below_t() -> None:
    dist = _skewed()
    levels = dist.region_levels()
    for content in (0.3, 0.5, 0.8, 0.95):
        earliest, latest = dist.region(content, levels)
        for i in range(len(dist.pmf)):
            day = START + timedelta(days=i)
            assert (earliest <= day <= latest) == (dist.region_score(day, levels) < content)
    assert dist.region_score(START - timedelta(days=1)) == 1.0


def _records(placed_from: date, days: int, slow: bool) -> list[ShipmentHistory]:
    ctx = LaneContext("s1", "BR", "SP", "BR", "RJ", "20040")
    out = []
    for i in range(days):
        placed = placed_from + timedelta(days=i)
        for k in range(6):
            handed = WEEKDAYS.add_business_days(placed, k % 2)
            transit = (2, 3, 3, 4, 6, 11)[k] + (2 if slow else 0)
            out.append(ShipmentHistory(ctx, placed, handed, WEEKDAYS.add_business_days(handed, transit)))
    return out


def test_a_model_stored_before_density_regions_existed_still_loads_with_central_windows() -> None:
    as_of, cal_end = date(2017, 12, 31), date(2018, 2, 28)
    train = [k for h in _records(date(2017, 10, 1), 80, slow=False) if (k := h.as_known_on(as_of))]
    model = fit(train, as_of, CALENDARS)
    recent = [k for h in _records(date(2018, 1, 1), 50, slow=True) if (k := h.as_known_on(cal_end))]
    model = calibrate(model, recent, cal_end)
    data = json.loads(json.dumps(model.to_dict()))
    calibration = data["calibration"]
    for maps in (calibration["by_milestone"], calibration["by_destination"]):
        for table in maps.values():
            del table["region"]
    old = EtaModel.from_dict(data, CALENDARS)
    ctx = LaneContext("s1", "BR", "SP", "BR", "RJ", "20040")
    new_window, old_window = model.promise(ctx, START), old.promise(ctx, START)
    assert (new_window.point, new_window.promised) == (old_window.point, old_window.promised)
    levels = old.calibration.level_map(Milestone.AWAITING_HANDOVER, ctx)
    dist = old.distribution(ctx, Milestone.AWAITING_HANDOVER, START)
    assert old_window.latest == max(old_window.point, dist.quantile(levels.upper_level(0.9)))
