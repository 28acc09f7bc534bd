"""The pure rules of monitoring and delivery: stall thresholds, business-day cut-offs, the fallback
re-estimate, retry backoff, when a webhook endpoint is switched off; and the signed tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ordertrail.adapters.notifiers.unsubscribe import UnsubscribeTokens
from ordertrail.adapters.notifiers.webhooks import sign, verify
from ordertrail.domain.eta.calendar import BusinessCalendar
from ordertrail.domain.monitoring import (
    DOMESTIC,
    INTERNATIONAL,
    MonitoringPolicy,
    backoff,
    business_days_waited,
    gap_quantile,
    lane,
    should_disable_webhook,
    stall_threshold,
    waited_cutoff,
)

WEEKDAYS = BusinessCalendar()
WED = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


def test_the_stall_threshold_is_the_p95_of_scan_gaps_and_at_least_one_business_day() -> None:
    policy = MonitoringPolicy(stall_min_samples=20)
    histogram = {0: 60, 1: 30, 2: 6, 5: 4}  # 100 gaps
    assert gap_quantile(histogram, 0.95) == 2
    assert stall_threshold(histogram, policy) == 2
    assert stall_threshold({0: 100}, policy) == 1
    assert stall_threshold({3: 19}, policy) is None  # too little history: the defaults apply


@given(st.dictionaries(st.integers(0, 30), st.integers(1, 50), min_size=1), st.floats(0.01, 1.0))
def test_a_quantile_is_a_value_of_the_histogram_with_at_least_that_share_at_or_below_it(
    histogram: dict[int, int], q: float
) -> None:
    value = gap_quantile(histogram, q)
    assert value in histogram
    below = sum(n for d, n in histogram.items() if d <= value)
    assert below >= q * sum(histogram.values()) - 1e-9


def test_a_parcel_last_scanned_before_the_cutoff_has_waited_more_than_the_threshold() -> None:
    cutoff = waited_cutoff(WED, 3, WEEKDAYS)
    assert cutoff == datetime(2026, 12, 4, tzinfo=UTC)  # Wed minus 3 business days: Fri 4 Dec
    assert business_days_waited(cutoff - timedelta(seconds=1), WED, WEEKDAYS) == 4
    assert business_days_waited(cutoff, WED, WEEKDAYS) == 3


def test_a_lane_is_international_when_the_destination_is_another_country() -> None:
    assert lane("US", "US") == DOMESTIC and lane("us", "US") == DOMESTIC and lane(None, "US") == DOMESTIC
    assert lane("CA", "US") == INTERNATIONAL


def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(40) == timedelta(hours=6)


def test_a_webhook_is_switched_off_after_enough_failures_over_enough_time_only() -> None:
    since = WED - timedelta(hours=30)
    day = timedelta(hours=24)
    assert should_disable_webhook(10, since, WED, 10, day)
    assert not should_disable_webhook(9, since, WED, 10, day)
    assert not should_disable_webhook(50, WED - timedelta(minutes=5), WED, 10, day)  # a short outage
    assert not should_disable_webhook(50, None, WED, 10, day)


def test_an_unsubscribe_token_names_its_user_and_type_and_cannot_be_forged() -> None:
    tokens = UnsubscribeTokens("server-secret")
    token = tokens.make("usr_1", "shipment_stalled")
    assert tokens.read(token) == ("usr_1", "shipment_stalled")
    body, sig = token.split(".")
    assert tokens.read(f"{body}.{'0' * len(sig)}") is None
    assert UnsubscribeTokens("another-secret").read(token) is None
    assert tokens.read("garbage") is None and tokens.read("") is None


def test_a_webhook_signature_covers_the_timestamp_and_the_exact_body() -> None:
    header = sign("whsec_x", 1_800_000_000, b'{"a":1}')
    assert header.startswith("t=1800000000,v1=")
    assert verify("whsec_x", header, b'{"a":1}', 1_800_000_100)
    assert not verify("whsec_x", header, b'{"a":2}', 1_800_000_100)
    assert not verify("whsec_y", header, b'{"a":1}', 1_800_000_100)
    assert not verify("whsec_x", header, b'{"a":1}', 1_800_001_000)  # too old: a replay
