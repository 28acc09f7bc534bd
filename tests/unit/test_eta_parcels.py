"""Re-estimating a followed parcel (domain.eta.parcels) and the defaults a fresh install starts from."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordertrail.domain.eta import (
    BusinessCalendar,
    Defaults,
    FixedCalendars,
    LaneContext,
    Milestone,
    default_model,
)
from ordertrail.domain.eta.fitting import range_prior
from ordertrail.domain.eta.lanes import pmf_from_hazard, prior_hazard
from ordertrail.domain.eta.parcels import (
    ParcelFacts,
    current_window,
    delay_reason,
    handling_start,
    milestone_since,
    next_check,
    reassess,
)
from ordertrail.domain.statuses import ShipmentStatus as S

WEEKDAYS = BusinessCalendar()
MONDAY = date(2026, 3, 2)
CTX = LaneContext("s1", "US", "", "US", "CA", "94043", service="standard")
MODEL = default_model(
    FixedCalendars(WEEKDAYS, WEEKDAYS), Defaults.from_ranges((0, 1), {"/standard": (2, 5)}, "/standard")
)


def quantile(pmf: list[float], level: float) -> int:
    total = 0.0
    for d, p in enumerate(pmf):
        total += p
        if total >= level - 1e-12:
            return d
    return len(pmf) - 1


@given(st.integers(0, 10), st.integers(0, 15))
def test_a_configured_range_becomes_a_default_whose_10_and_90_percent_quantiles_are_its_ends(
    low: int, extra: int
) -> None:
    high = low + extra
    pmf = pmf_from_hazard(prior_hazard(*range_prior(low, high)))
    assert (quantile(pmf, 0.1), quantile(pmf, 0.9)) == (low, high)


def test_an_inverted_range_is_refused() -> None:
    with pytest.raises(ValueError, match="low <= high"):
        range_prior(5, 2)


def test_a_fresh_install_estimates_a_parcel_handed_over_on_time_inside_the_configured_transit_range() -> None:
    facts = ParcelFacts(CTX, S.IN_TRANSIT, handling_start=MONDAY, accepted_on=MONDAY)
    _, window = current_window(MODEL, facts, MONDAY) or (None, None)
    assert window is not None
    assert (window.earliest, window.latest) == (
        WEEKDAYS.add_business_days(MONDAY, 2),
        WEEKDAYS.add_business_days(MONDAY, 5),
    )


def test_in_transit_counts_from_the_first_acceptance_scan_and_out_for_delivery_from_the_latest_scan() -> None:
    moving = ParcelFacts(
        CTX, S.IN_TRANSIT, MONDAY, accepted_on=MONDAY, last_scan_on=MONDAY + timedelta(days=3)
    )
    assert milestone_since(moving) == (Milestone.IN_TRANSIT, MONDAY)
    van = ParcelFacts(
        CTX, S.OUT_FOR_DELIVERY, MONDAY, accepted_on=MONDAY, last_scan_on=MONDAY + timedelta(days=3)
    )
    assert milestone_since(van) == (Milestone.OUT_FOR_DELIVERY, MONDAY + timedelta(days=3))
    waiting = ParcelFacts(CTX, S.INFO_RECEIVED, MONDAY, last_scan_on=MONDAY + timedelta(days=1))
    assert milestone_since(waiting) == (Milestone.AWAITING_HANDOVER, MONDAY)


def test_an_order_after_the_cut_off_starts_handling_the_next_day() -> None:
    assert handling_start(datetime(2026, 3, 2, 13, 59, tzinfo=UTC), 14) == MONDAY
    assert handling_start(datetime(2026, 3, 2, 14, 0, tzinfo=UTC), 14) == MONDAY + timedelta(days=1)


def test_a_stalled_parcel_moves_later_day_by_day_and_turns_late_once_when_its_median_passes_the_promise() -> (
    None
):
    facts = ParcelFacts(CTX, S.IN_TRANSIT, MONDAY, accepted_on=MONDAY)
    promised = WEEKDAYS.add_business_days(MONDAY, 5)
    shown, late, flips, latest_seen = None, False, [], []
    for ahead in range(0, 15):
        today = MONDAY + timedelta(days=ahead)
        found = reassess(MODEL, facts, today, promised, shown, late)
        assert found is not None and found.window.earliest >= today
        if found.became_late:
            flips.append(today)
        shown, late = found.estimated, found.predicted_late
        latest_seen.append(found.window.latest)
    assert latest_seen == sorted(latest_seen) and latest_seen[-1] > promised
    assert len(flips) == 1 and late is True
    found = reassess(MODEL, facts, flips[0], promised, None, False)
    assert found is not None and found.window.point > promised  # late means more likely late than not


def test_the_next_check_is_the_first_day_on_which_what_is_shown_would_move() -> None:
    facts = ParcelFacts(CTX, S.IN_TRANSIT, MONDAY, accepted_on=MONDAY)
    promised = WEEKDAYS.add_business_days(MONDAY, 5)
    found = reassess(MODEL, facts, MONDAY, promised, None, False, lookahead_days=10)
    assert found is not None and found.next_check > MONDAY

    def shown(day: date) -> tuple[date, date, bool]:
        _, window = current_window(MODEL, facts, day) or (None, None)
        assert window is not None
        return window.earliest, window.latest, window.point > promised

    for ahead in range(1, (found.next_check - MONDAY).days):
        assert shown(MONDAY + timedelta(days=ahead)) == shown(MONDAY)
    assert shown(found.next_check) != shown(MONDAY)
    assert next_check(MODEL, facts, MONDAY, promised, found.window, 1) == MONDAY + timedelta(days=1)


def test_a_delivered_parcel_shows_its_delivery_day_and_keeps_what_was_said_about_lateness() -> None:
    delivered = ParcelFacts(
        CTX, S.DELIVERED, MONDAY, accepted_on=MONDAY, delivered_on=MONDAY + timedelta(days=9)
    )
    found = reassess(MODEL, delivered, MONDAY + timedelta(days=9), MONDAY, (MONDAY, MONDAY), True)
    assert found is not None and found.estimated == (MONDAY + timedelta(days=9),) * 2
    assert found.predicted_late is True and found.became_late is False


def test_a_parcel_no_longer_expected_to_arrive_has_no_estimate() -> None:
    assert (
        reassess(MODEL, ParcelFacts(CTX, S.LOST, MONDAY, accepted_on=MONDAY), MONDAY, MONDAY, None, False)
        is None
    )


def test_the_delay_reason_says_where_the_parcel_is_stuck_with_the_estimators_figures() -> None:
    basis = "awaiting handover since 2026-03-02: 4 business days, usually 1"
    reason = delay_reason(Milestone.AWAITING_HANDOVER, basis)
    assert reason == f"the carrier has not received the parcel yet ({basis})."


def test_a_delay_the_carrier_reports_never_brings_the_estimate_forward() -> None:
    shown = (MONDAY + timedelta(days=7), MONDAY + timedelta(days=10))
    delayed = ParcelFacts(CTX, S.DELAYED, MONDAY, accepted_on=MONDAY)
    found = reassess(MODEL, delayed, MONDAY + timedelta(days=1), MONDAY + timedelta(days=9), shown, False)
    assert found is not None and found.estimated == shown and not found.changed
    assert found.window.earliest <= found.window.point <= found.window.latest
    assert found.window.basis.endswith("the carrier reports a delay")
    moving = reassess(
        MODEL, ParcelFacts(CTX, S.IN_TRANSIT, MONDAY, accepted_on=MONDAY), MONDAY, MONDAY, shown, False
    )
    assert moving is not None and moving.estimated < shown  # the same parcel without the carrier's word


@given(
    status=st.sampled_from([S.PENDING, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELAYED, S.DELIVERY_ATTEMPTED]),
    accepted_ago=st.integers(0, 30),
    carrier_says=st.one_of(st.none(), st.integers(-5, 20)),
    shown_ends_in=st.one_of(st.none(), st.integers(-3, 20)),
    lookahead=st.integers(0, 14),
)
def test_a_check_never_falls_after_the_day_after_the_shown_window_ends(
    status: S, accepted_ago: int, carrier_says: int | None, shown_ends_in: int | None, lookahead: int
) -> None:
    """The overdue sweep reads the due checks only (one index for both estimate sweeps)."""
    today = MONDAY + timedelta(days=30)
    accepted = today - timedelta(days=accepted_ago)
    facts = ParcelFacts(
        CTX,
        status,
        MONDAY,
        accepted_on=None if status is S.PENDING else accepted,
        last_scan_on=None if status is S.PENDING else accepted,
        carrier_estimate=None if carrier_says is None else today + timedelta(days=carrier_says),
    )
    shown = None
    if shown_ends_in is not None:
        end = today + timedelta(days=shown_ends_in)
        shown = (end - timedelta(days=2), end)
    found = reassess(MODEL, facts, today, today, shown, False, lookahead_days=lookahead)
    assert found is not None
    assert today < found.next_check <= max(today, found.window.latest) + timedelta(days=1)
