"""The port for the figures an operator watches: backlogs and the last run of each sweep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    oldest: datetime | None  # when the oldest pending row became due


@dataclass(frozen=True, slots=True)
class SweepRun:
    name: str
    started_at: datetime | None
    finished_at: datetime | None
    counts: Mapping[str, int]
    failed: bool


class OperationalFigures(Protocol):
    def outbox_backlog(self) -> Backlog: ...
    def delivery_backlogs(self) -> dict[str, Backlog]:
        """Pending e-mail and webhook deliveries, by channel."""
        ...

    def sweep_runs(self) -> list[SweepRun]: ...
