"""What the pages say about a parcel: milestones, windows, delay reasons, deadlines, brand colours."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ordertrail.domain.deadlines import is_overdue, time_left
from ordertrail.domain.progress import LatestScan, delay_notice, milestones, order_window
from ordertrail.domain.statuses import ShipmentStatus as S
from ordertrail.entrypoints.web.pages.branding import brand_css, contrast, readable_on_white

PROMISED = (date(2026, 12, 2), date(2026, 12, 5))
SCAN = LatestScan("Weather delay: severe storms", "Memphis, TN", "Tue 01 Dec, 08:10 UTC−6")


def states(status: S) -> list[str]:
    return [step.state for step in milestones(status)]


def test_a_parcel_in_transit_has_passed_ordered_and_shipped_and_is_at_in_transit() -> None:
    assert states(S.IN_TRANSIT) == ["done", "done", "current", "todo", "todo"]


def test_a_delivered_parcel_has_every_milestone_reached() -> None:
    assert states(S.DELIVERED) == ["done", "done", "done", "done", "current"]


def test_a_failed_attempt_marks_the_last_mile_step_as_trouble_with_its_own_label() -> None:
    step = milestones(S.DELIVERY_ATTEMPTED)[3]
    assert step.state == "current" and step.trouble and step.label == "Delivery attempted"


def test_the_order_window_spans_its_parcels_and_is_late_when_it_ends_after_the_promise() -> None:
    window, late = order_window(PROMISED, [(date(2026, 12, 3), date(2026, 12, 4)), None])
    assert window == (date(2026, 12, 3), date(2026, 12, 4)) and not late
    window, late = order_window(PROMISED, [(date(2026, 12, 3), date(2026, 12, 8))])
    assert window[1] == date(2026, 12, 8) and late


def test_an_order_without_parcel_estimates_shows_its_promise() -> None:
    assert order_window(PROMISED, []) == (PROMISED, False)


def test_a_late_parcel_delayed_by_the_carrier_says_what_the_carrier_reported_and_the_promise() -> None:
    notice = delay_notice(
        S.DELAYED,
        stalled=False,
        predicted_late=True,
        promised=PROMISED,
        estimated=(date(2026, 12, 6), date(2026, 12, 8)),
        latest=SCAN,
    )
    assert notice is not None and notice.level == "warning"
    assert "Running late" in notice.title and "Sun 06 Dec" in notice.title
    assert (
        "severe storms (Memphis, TN, Tue 01 Dec, 08:10 UTC−6)" in notice.reason
        and "promised Wed 02 Dec – Sat 05 Dec" in notice.reason
    )


def test_a_late_stalled_parcel_says_since_when_it_was_not_scanned() -> None:
    notice = delay_notice(
        S.IN_TRANSIT, stalled=True, predicted_late=True, promised=PROMISED, estimated=None, latest=SCAN
    )
    assert notice is not None and "has not been scanned since" in notice.reason


def test_a_lost_parcel_is_a_problem_that_points_at_reporting_it() -> None:
    notice = delay_notice(
        S.LOST, stalled=False, predicted_late=False, promised=PROMISED, estimated=PROMISED, latest=SCAN
    )
    assert notice is not None and notice.level == "problem" and "report a problem" in notice.reason


def test_an_on_time_parcel_and_a_delivered_one_have_no_banner() -> None:
    on_time = {"stalled": False, "predicted_late": False, "promised": PROMISED, "estimated": PROMISED}
    assert delay_notice(S.IN_TRANSIT, latest=SCAN, **on_time) is None  # type: ignore[arg-type]
    assert delay_notice(S.DELIVERED, latest=SCAN, **(on_time | {"predicted_late": True})) is None  # type: ignore[arg-type]


def test_time_left_counts_down_and_then_says_how_long_overdue() -> None:
    deadline = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert time_left(deadline, datetime(2026, 11, 27, 6, 30, tzinfo=UTC)) == "1 day 3 h left"
    assert time_left(deadline, datetime(2026, 11, 28, 9, 35, tzinfo=UTC)) == "25 min left"
    assert time_left(deadline, datetime(2026, 11, 28, 13, 10, tzinfo=UTC)) == "overdue by 3 h 10 min"
    assert is_overdue(deadline, deadline) and not is_overdue(deadline, datetime(2026, 11, 28, tzinfo=UTC))


def test_a_pale_shop_colour_gets_dark_text_and_a_darkened_link_colour_that_reads_on_white() -> None:
    css = brand_css("#ffd54f")
    assert "--on-brand:#111111" in css
    assert contrast(readable_on_white("#ffd54f"), "#ffffff") >= 4.5


def test_a_shop_colour_that_is_not_a_hex_colour_falls_back_to_the_default() -> None:
    assert "--brand:#0b5fff" in brand_css("red;}body{display:none")
