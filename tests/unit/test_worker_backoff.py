"""The worker's loops back off while a step keeps failing, and say so without flooding the log."""

from __future__ import annotations

import logging
import threading

import pytest

from ordertrail.entrypoints.worker import MAX_BACKOFF_SECONDS, _loop


class CountedStop(threading.Event):
    """Records each wait instead of sleeping; stops the loop after `limit` waits."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.waits: list[float] = []
        self.limit = limit

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        if len(self.waits) >= self.limit:
            self.set()
        return self.is_set()


def test_a_failing_step_is_retried_after_doubling_waits_and_logged_once_in_full(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes: list[bool | Exception] = [ConnectionError("database gone")] * 9 + [False]

    def step() -> bool:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    stop = CountedStop(limit=10)
    with caplog.at_level(logging.WARNING, logger="ordertrail.entrypoints.worker"):
        _loop("outbox", step, stop, poll=0.5)
    assert stop.waits == [
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        MAX_BACKOFF_SECONDS,
        MAX_BACKOFF_SECONDS,
        MAX_BACKOFF_SECONDS,
        0.5,
    ]
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1  # the first failure in full, then one line each
    assert "failed 9 times in a row (database gone)" in caplog.text
    assert "works again after 9 failures" in caplog.text
