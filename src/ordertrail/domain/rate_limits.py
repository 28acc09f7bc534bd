"""A token bucket: how often ordertrail may call a carrier's API.

Carriers publish limits as "N requests per second (or minute), bursts up to M". The bucket holds up to
`capacity` tokens, refills at `rate` tokens per second of the clock it is given, and every request
takes one. Time comes in as an argument (never read from the system clock), so a test moves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float = field(default=-1.0)  # starts full
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for at least one token")
        if self.tokens < 0:
            self.tokens = self.capacity

    def _refill(self, now: datetime) -> None:
        if self.updated_at is not None and now > self.updated_at:
            elapsed = (now - self.updated_at).total_seconds()
            self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        # A clock that steps backwards refills nothing, and the bucket waits for it to catch up.
        if self.updated_at is None or now > self.updated_at:
            self.updated_at = now

    def available(self, now: datetime) -> int:
        self._refill(now)
        return int(self.tokens)

    def take(self, now: datetime, tokens: int = 1) -> bool:
        """Take tokens if there are enough; otherwise take none and say so."""
        self._refill(now)
        if self.tokens >= tokens:
            self.tokens -= tokens
            return True
        return False
