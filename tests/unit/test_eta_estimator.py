import json
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from ordertrail.domain.eta import (
    BusinessCalendar,
    Defaults,
    EtaModel,
    FitConfig,
    FixedCalendars,
    LaneContext,
    LeakageError,
    Milestone,
    ShipmentHistory,
    calibrate,
    default_model,
    fit,
    milestone_for_status,
)
from ordertrail.domain.eta.pace import PaceTracker, paces_as_of
from ordertrail.domain.statuses import ShipmentStatus

WEEKDAYS = BusinessCalendar()
CALENDARS = FixedCalendars(WEEKDAYS, WEEKDAYS)
MONDAY = date(2018, 3, 5)


def lane(seller: str = "s1", origin: str = "SP", dest: str = "RJ", postal: str = "20040") -> LaneContext:
    return LaneContext(seller, "BR", origin, "BR", dest, postal)


def shipment(ctx: LaneContext, placed: date, handling: int, transit: int) -> ShipmentHistory:
    handed = WEEKDAYS.add_business_days(placed, handling)
    return ShipmentHistory(ctx, placed, handed, WEEKDAYS.add_business_days(handed, transit))


def history(
    ctx: LaneContext, n: int, start: date, handling: tuple[int, int], transit: tuple[int, int], seed: int = 1
) -> list[ShipmentHistory]:
    rng = random.Random(seed)
    return [
        shipment(
            ctx, start + timedelta(days=rng.randrange(60)), rng.randint(*handling), rng.randint(*transit)
        )
        for _ in range(n)
    ]


def transit_days(model: EtaModel, ctx: LaneContext, handover: date = MONDAY) -> int:
    window = model.reestimate(ctx, Milestone.IN_TRANSIT, handover, handover)
    return WEEKDAYS.business_days_between(handover, window.point)


def test_a_fresh_install_promises_from_the_configured_defaults() -> None:
    model = default_model(CALENDARS, Defaults(handling_days=2, transit_days=5))
    window = model.promise(lane(), MONDAY)
    assert 5 <= WEEKDAYS.business_days_between(MONDAY, window.point) <= 9
    assert window.earliest <= window.point <= window.latest
    assert "defaults" in window.basis


def test_once_history_exists_the_promise_comes_from_lane_history() -> None:
    ctx = lane()
    records = history(ctx, 300, date(2017, 10, 1), handling=(1, 1), transit=(10, 10))
    model = fit(records, date(2018, 1, 31), CALENDARS)
    window = model.promise(ctx, MONDAY)
    assert WEEKDAYS.business_days_between(MONDAY, window.point) == 11
    assert "lane history" in window.basis
    assert window.point > default_model(CALENDARS).promise(ctx, MONDAY).point


def test_configured_transit_days_per_service_apply_until_history_exists() -> None:
    defaults = Defaults(transit_days=5, transit_days_by_service={"correios/sedex": 1})
    model = default_model(CALENDARS, defaults)
    express = LaneContext("s1", "BR", "SP", "BR", "RJ", carrier="correios", service="sedex")
    assert transit_days(model, express) < transit_days(model, lane())


def test_a_lane_with_few_parcels_backs_off_to_its_region_pair() -> None:
    busy, rare, unseen = lane(postal="20040"), lane(postal="28000"), lane(postal="29000")
    records = history(busy, 400, date(2017, 10, 1), (1, 1), (9, 11))
    records += history(rare, 3, date(2017, 10, 1), (1, 1), (2, 2), seed=2)
    model = fit(records, date(2018, 1, 31), CALENDARS)
    assert transit_days(model, busy) == 10
    assert transit_days(model, rare) >= 7  # three fast parcels do not make a lane fast
    assert transit_days(model, unseen) == 10


def test_a_seller_who_always_ships_late_is_promised_later() -> None:
    prompt, slow = lane(seller="prompt"), lane(seller="slow")
    records = history(prompt, 150, date(2017, 10, 1), (1, 1), (3, 3))
    records += history(slow, 150, date(2017, 10, 1), (6, 6), (3, 3), seed=2)
    model = fit(records, date(2018, 1, 31), CALENDARS)
    gap = WEEKDAYS.business_days_between(
        model.promise(prompt, MONDAY).point, model.promise(slow, MONDAY).point
    )
    assert gap == 5


def test_lanes_share_a_window_only_when_what_was_learnt_about_them_is_the_same() -> None:
    fast, slow = lane(seller="fast", postal="20040"), lane(seller="slow", dest="MG", postal="30100")
    records = history(fast, 200, date(2017, 10, 1), (1, 1), (2, 3))
    records += history(slow, 200, date(2017, 10, 1), (4, 5), (8, 12), seed=2)
    model = fit(records, date(2018, 1, 31), CALENDARS)
    rng = random.Random(7)
    for _ in range(300):
        ctx = lane(
            seller=rng.choice(["fast", "slow", "new1", "new2"]),
            dest=rng.choice(["RJ", "MG", "BA"]),
            postal=rng.choice(["20040", "20100", "30100", "40000"]),
        )
        milestone = rng.choice(
            [Milestone.AWAITING_HANDOVER, Milestone.IN_TRANSIT, Milestone.OUT_FOR_DELIVERY]
        )
        since = MONDAY + timedelta(days=rng.randrange(5))
        today = since + timedelta(days=rng.randrange(8))
        # A model that has worked out no window before: nothing shared with other lanes.
        alone = model.with_policy(model.policy).reestimate(ctx, milestone, since, today)
        assert model.reestimate(ctx, milestone, since, today) == alone


def test_estimating_ever_new_lanes_keeps_the_model_small() -> None:
    model = default_model(CALENDARS)
    for i in range(5000):
        ctx = lane(seller=f"seller-{i}", postal=f"{i % 1000:03d}00")
        model.reestimate(ctx, Milestone.IN_TRANSIT, MONDAY, MONDAY + timedelta(days=i % 3))
    # Nothing was learnt about any of these lanes: they all share the defaults' hazards and windows.
    assert len(model._hazards) == 1
    assert len(model._windows) == 3


def test_parcels_still_moving_at_the_cut_off_count_as_slow_not_as_missing() -> None:
    ctx, as_of = lane(), date(2018, 1, 31)
    delivered = history(ctx, 100, date(2017, 11, 1), (1, 1), (3, 3))
    still_moving = [
        ShipmentHistory(ctx, d, d + timedelta(days=1), None)
        for d in (date(2018, 1, 10) + timedelta(days=i % 5) for i in range(100))
    ]
    naive = fit(delivered, as_of, CALENDARS)
    honest = fit(delivered + still_moving, as_of, CALENDARS)
    assert transit_days(naive, ctx) == 3
    assert transit_days(honest, ctx) > 3


def test_the_estimate_moves_later_when_a_parcel_sits_in_transit_longer_than_usual() -> None:
    ctx = lane()
    model = fit(history(ctx, 300, date(2017, 10, 1), (1, 1), (2, 4)), date(2018, 1, 31), CALENDARS)
    fresh = model.reestimate(ctx, Milestone.IN_TRANSIT, MONDAY, MONDAY)
    stalled_today = MONDAY + timedelta(days=9)
    stalled = model.reestimate(ctx, Milestone.IN_TRANSIT, MONDAY, stalled_today)
    assert fresh.point <= MONDAY + timedelta(days=4)
    assert stalled.point >= stalled_today > fresh.point
    assert stalled.basis == "in transit since 2018-03-05: 7 business days, usually 3"


@pytest.mark.parametrize(
    "milestone", [Milestone.AWAITING_HANDOVER, Milestone.IN_TRANSIT, Milestone.OUT_FOR_DELIVERY]
)
def test_an_estimate_is_never_a_date_that_has_already_passed(milestone: Milestone) -> None:
    ctx = lane()
    model = fit(history(ctx, 200, date(2017, 10, 1), (1, 3), (2, 6)), date(2018, 1, 31), CALENDARS)
    for waited in range(0, 60, 3):
        today = MONDAY + timedelta(days=waited)
        window = model.reestimate(ctx, milestone, MONDAY, today)
        assert today <= window.earliest <= window.point <= window.latest


def test_out_for_delivery_means_today_or_within_a_couple_of_days() -> None:
    window = default_model(CALENDARS).reestimate(lane(), Milestone.OUT_FOR_DELIVERY, MONDAY, MONDAY)
    assert window.earliest == window.point == MONDAY
    assert window.latest <= MONDAY + timedelta(days=2)


def test_a_delivered_shipment_has_its_delivery_date_as_its_whole_window() -> None:
    window = default_model(CALENDARS).reestimate(
        lane(), Milestone.DELIVERED, MONDAY, MONDAY + timedelta(days=3)
    )
    assert window.earliest == window.point == window.latest == MONDAY


def test_a_carrier_estimate_pulls_the_point_towards_it() -> None:
    ctx = lane()
    model = fit(history(ctx, 200, date(2017, 10, 1), (1, 1), (3, 3)), date(2018, 1, 31), CALENDARS)
    own = model.reestimate(ctx, Milestone.IN_TRANSIT, MONDAY, MONDAY)
    carrier = own.point + timedelta(days=10)
    blended = model.reestimate(ctx, Milestone.IN_TRANSIT, MONDAY, MONDAY, carrier_estimate=carrier)
    assert own.point < blended.point < carrier
    assert blended.latest >= blended.point
    assert "carrier estimate" in blended.basis


def _synthetic(
    ctxs: list[LaneContext], start: date, days: int, transit: tuple[int, int], seed: int
) -> list[ShipmentHistory]:
    rng = random.Random(seed)
    out = []
    for i in range(days):
        for ctx in ctxs:
            placed = start + timedelta(days=i)
            out.append(shipment(ctx, placed, rng.randint(0, 2), rng.randint(*transit)))
    return out


def test_calibration_on_a_recent_window_restores_nominal_coverage_after_a_slow_down() -> None:
    ctxs = [lane(dest=d, postal=p) for d, p in (("RJ", "20040"), ("MG", "30100"), ("BA", "40000"))]
    config = FitConfig()
    train = _synthetic(ctxs, date(2017, 6, 1), 120, (2, 6), seed=1)
    model = fit(
        [k for h in train if (k := h.as_known_on(date(2017, 9, 28))) is not None],
        date(2017, 9, 28),
        CALENDARS,
    )
    # From October on the network is slower; calibration sees October-November, test is December.
    cal_end = date(2017, 11, 30)
    recent = _synthetic(ctxs, date(2017, 10, 1), 61, (5, 11), seed=2)
    recent = [k for h in recent if (k := h.as_known_on(cal_end)) is not None]
    calibrated = calibrate(model, recent, cal_end, config)
    test = _synthetic(ctxs, date(2017, 12, 1), 31, (5, 11), seed=3)

    def coverage(m: EtaModel) -> float:
        windows = [(h, m.promise(h.ctx, h.placed_on)) for h in test]
        return sum(w.earliest <= h.delivered_on <= w.latest for h, w in windows if h.delivered_on) / len(
            windows
        )

    assert coverage(model) < 0.6
    assert 0.74 <= coverage(calibrated) <= 0.88
    on_time = sum(
        h.delivered_on <= calibrated.promise(h.ctx, h.placed_on).promised for h in test if h.delivered_on
    ) / len(test)
    assert on_time >= calibrated.policy.promise_on_time - 0.06


def test_each_end_of_the_window_misses_its_own_share_of_parcels() -> None:
    # Right-skewed transit times in a steady network: the 80% window leans early, with about 5% of
    # parcels arriving before it and 15% after it (policy.interval = (0.05, 0.85)).
    ctxs = [lane(dest=d, postal=p) for d, p in (("RJ", "20040"), ("MG", "30100"), ("BA", "40000"))]

    def skewed(start: date, days: int, seed: int) -> list[ShipmentHistory]:
        rng = random.Random(seed)
        return [
            shipment(
                ctx, start + timedelta(days=i), rng.randint(0, 2), min(40, int(rng.lognormvariate(1.6, 0.6)))
            )
            for i in range(days)
            for ctx in ctxs
            for _ in range(3)
        ]

    fit_end, cal_end = date(2017, 9, 30), date(2017, 11, 30)
    model = fit(
        [k for h in skewed(date(2017, 5, 1), 150, 1) if (k := h.as_known_on(fit_end))], fit_end, CALENDARS
    )
    recent = [k for h in skewed(date(2017, 10, 1), 61, 2) if (k := h.as_known_on(cal_end))]
    model = calibrate(model, recent, cal_end)
    test = skewed(date(2017, 12, 1), 31, 3)
    windows = [(h.delivered_on, model.promise(h.ctx, h.placed_on)) for h in test if h.delivered_on]
    early = sum(day < w.earliest for day, w in windows) / len(windows)
    late = sum(day > w.latest for day, w in windows) / len(windows)
    assert model.policy.interval == (0.05, 0.85)
    assert early <= 0.09
    assert 0.10 <= late <= 0.21


def test_a_fitted_model_survives_a_json_round_trip() -> None:
    ctxs = [lane(), lane(dest="MG", postal="30100"), lane(seller="other", dest="BA", postal="40000")]
    records = [
        h for i, c in enumerate(ctxs) for h in history(c, 80, date(2017, 10, 1), (0, 3), (2, 9), seed=i)
    ]
    model = fit(records, date(2017, 12, 31), CALENDARS)
    recent = history(ctxs[1], 60, date(2018, 1, 1), (0, 3), (3, 10), seed=7)
    model = calibrate(
        model, [k for h in recent if (k := h.as_known_on(date(2018, 2, 20)))], date(2018, 2, 20)
    )
    restored = EtaModel.from_dict(json.loads(json.dumps(model.to_dict())), CALENDARS)
    assert restored.to_dict() == model.to_dict()
    for ctx in [*ctxs, lane(seller="new", dest="AM", postal="69000")]:
        assert restored.promise(ctx, MONDAY) == model.promise(ctx, MONDAY)
        assert restored.reestimate(
            ctx, Milestone.IN_TRANSIT, MONDAY, MONDAY + timedelta(days=6)
        ) == model.reestimate(ctx, Milestone.IN_TRANSIT, MONDAY, MONDAY + timedelta(days=6))


def test_learning_refuses_records_dated_after_its_as_of_date() -> None:
    ctx = lane()
    late = shipment(ctx, date(2018, 1, 20), 1, 10)  # delivered in February
    with pytest.raises(LeakageError):
        fit([late], date(2018, 1, 31), CALENDARS)
    model = fit([], date(2017, 12, 31), CALENDARS)
    with pytest.raises(LeakageError):
        calibrate(model, [late], date(2018, 1, 31))
    with pytest.raises(LeakageError):
        calibrate(model, [shipment(ctx, date(2017, 12, 1), 1, 2)], date(2018, 1, 31))  # fitted period


def test_a_record_as_known_on_a_past_day_hides_what_happened_later() -> None:
    record = shipment(lane(), date(2018, 1, 20), 1, 10)
    assert record.as_known_on(date(2018, 1, 19)) is None
    on_23rd = record.as_known_on(date(2018, 1, 23))
    assert (
        on_23rd is not None
        and on_23rd.handed_over_on == record.handed_over_on
        and on_23rd.delivered_on is None
    )
    assert record.as_known_on(date(2018, 3, 1)) == record


def test_shipment_statuses_map_to_estimation_milestones() -> None:
    assert milestone_for_status(ShipmentStatus.INFO_RECEIVED) is Milestone.AWAITING_HANDOVER
    assert milestone_for_status(ShipmentStatus.DELAYED) is Milestone.IN_TRANSIT
    assert milestone_for_status(ShipmentStatus.DELIVERY_ATTEMPTED) is Milestone.OUT_FOR_DELIVERY
    assert milestone_for_status(ShipmentStatus.DELIVERED) is Milestone.DELIVERED
    assert milestone_for_status(ShipmentStatus.RETURNED_TO_SENDER) is None


def test_pace_recalibration_slows_a_region_whose_parcels_stopped_arriving() -> None:
    rj, mg = lane(dest="RJ", postal="20040"), lane(dest="MG", postal="30100")
    fast = history(rj, 300, date(2017, 10, 1), (1, 1), (2, 8)) + history(
        mg, 300, date(2017, 10, 1), (1, 1), (2, 8), 2
    )
    model = fit(fast, date(2017, 12, 31), CALENDARS)
    # In January and February Rio's parcels take twice as long; Minas Gerais is unchanged.
    recent = history(rj, 300, date(2018, 1, 1), (1, 1), (6, 14), seed=3)
    recent += history(mg, 300, date(2018, 1, 1), (1, 1), (2, 8), seed=4)
    as_of = date(2018, 2, 28)
    calibrated = calibrate(model, [k for h in recent if (k := h.as_known_on(as_of))], as_of)
    pace = calibrated.calibration.transit_pace
    assert pace["BR-RJ"] < 0.6 * pace["BR-MG"]
    assert transit_days(model, rj) <= 5 < 8 <= transit_days(calibrated, rj)
    assert transit_days(calibrated, mg) <= 6


def test_the_pace_known_on_a_day_ignores_everything_that_happened_after_it() -> None:
    ctx = lane()
    model = fit(history(ctx, 200, date(2017, 10, 1), (1, 1), (3, 4)), date(2017, 12, 31), CALENDARS)
    night = date(2018, 1, 31)
    before = history(ctx, 100, date(2018, 1, 1), (1, 1), (3, 12), seed=5)
    # The same parcels, but every one delivered after that night now takes a month longer.
    after = [
        h
        if h.delivered_on is None or h.delivered_on <= night
        else replace(h, delivered_on=h.delivered_on + timedelta(days=30))
        for h in before
    ]
    answers = []
    for records in (before, after):
        tracker = PaceTracker(model, half_life_days=10, strength=50)
        for h in records:
            tracker.add(h, max(d for d in (h.placed_on, h.handed_over_on, h.delivered_on) if d))
        answers.append(tracker.paces_as_of(night))
    assert answers[0] == answers[1]
    static = paces_as_of(model, [k for h in before if (k := h.as_known_on(night))], night, 10, 50)
    assert static == answers[0]
