"""The token bucket that paces requests to a carrier's API, on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ordertrail.domain.rate_limits import TokenBucket

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_a_new_bucket_allows_a_burst_of_its_capacity_and_then_refuses() -> None:
    bucket = TokenBucket(rate=1.0, capacity=3)
    assert [bucket.take(T0) for _ in range(4)] == [True, True, True, False]
    assert bucket.available(T0) == 0


def test_tokens_come_back_at_the_rate_and_never_beyond_the_capacity() -> None:
    bucket = TokenBucket(rate=2.0, capacity=4)
    for _ in range(4):
        bucket.take(T0)
    assert bucket.available(T0 + timedelta(seconds=0.4)) == 0
    assert bucket.available(T0 + timedelta(seconds=1)) == 2
    assert bucket.available(T0 + timedelta(hours=1)) == 4


def test_a_refused_take_consumes_nothing() -> None:
    bucket = TokenBucket(rate=1.0, capacity=2)
    assert bucket.take(T0, tokens=2)
    assert not bucket.take(T0 + timedelta(seconds=1), tokens=2)
    assert bucket.take(T0 + timedelta(seconds=2), tokens=2)


def test_a_clock_stepping_back_refills_nothing() -> None:
    bucket = TokenBucket(rate=1.0, capacity=1)
    assert bucket.take(T0)
    assert not bucket.take(T0 - timedelta(minutes=5))
    assert not bucket.take(T0 + timedelta(seconds=0.5))
    assert bucket.take(T0 + timedelta(seconds=1))


def test_a_bucket_needs_a_positive_rate_and_room_for_one_token() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0, capacity=1)
    with pytest.raises(ValueError):
        TokenBucket(rate=1, capacity=0.5)
