"""Ports of monitoring and delivery: what the sweeps, the outbox fan-out and the senders need from
storage and from the outside world. Adapters implement them; `UnitOfWork` exposes the repositories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

EMAIL = "email"
WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class NewDelivery:
    channel: str
    dedupe_key: str
    event_id: str
    type: str
    payload: Mapping[str, Any]
    created_at: datetime
    outbox_id: int | None = None
    subscription_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed delivery: its lease is `claim_token` until the results are recorded."""

    id: int
    channel: str
    event_id: str
    type: str
    payload: Mapping[str, Any]
    created_at: datetime
    attempts: int  # including this one
    claim_token: str
    subscription_id: str | None = None
    user_id: str | None = None
    url: str | None = None
    secret: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False  # retrying cannot help (e.g. 410 Gone, a refused address)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    delivery: Delivery
    outcome: Outcome
    attempted_at: datetime
    next_attempt_at: datetime | None  # None: final (done or failed)


class Channel(Protocol):
    """Sends claimed deliveries of one channel and reports one outcome per delivery, in order."""

    name: str

    def send(self, batch: Sequence[Delivery]) -> list[Outcome]: ...


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    owner_id: str
    owner_role: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    consecutive_failures: int = 0
    failing_since: datetime | None = None

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class DeliveryRepository(Protocol):
    def add(self, rows: Sequence[NewDelivery], at: datetime) -> int:
        """Insert deliveries; one whose dedupe key exists is skipped. Returns how many were added."""
        ...

    def claim(self, channel: str, now: datetime, limit: int, lease_seconds: float) -> list[Delivery]: ...
    def record(self, results: Sequence[DeliveryResult]) -> None:
        """Write outcomes and attempts of deliveries still held under their claim token."""
        ...

    def states(self) -> dict[str, int]: ...


class WebhookRepository(Protocol):
    def add(self, subscription: Subscription) -> None: ...
    def get(self, subscription_id: str) -> Subscription | None: ...
    def owned_by(
        self, owner_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Subscription], str | None]:
        """Newest first; all of them for owner None."""
        ...

    def delete(self, subscription_id: str) -> None: ...
    def enabled_for(self, seller_ids: Iterable[str]) -> list[Subscription]:
        """Enabled subscriptions of admins, and of these sellers."""
        ...

    def sellers_of(self, order_ids: Iterable[str]) -> dict[str, str]: ...
    def note_successes(self, subscription_ids: Iterable[str]) -> None: ...
    def note_failures(self, failures: Mapping[str, int], at: datetime) -> list[Subscription]:
        """Add failed attempts to each subscription's streak; returns the subscriptions as updated."""
        ...

    def disable(self, subscription_id: str, at: datetime, reason: str) -> None:
        """Switch off and park the pending deliveries."""
        ...

    def enable(self, subscription_id: str, at: datetime) -> int:
        """Switch on and queue the parked deliveries again; returns how many."""
        ...

    def attempts(
        self, subscription_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]: ...


@dataclass(frozen=True, slots=True)
class OverdueOrder:
    order_id: str
    buyer_id: str
    seller_id: str
    ship_by: datetime


@dataclass(frozen=True, slots=True)
class WatchedShipment:
    """What a sweep needs to know of a shipment it found, with its order's parties and destination."""

    shipment_id: str
    order_id: str
    buyer_id: str
    seller_id: str
    carrier: str | None
    tracking_number: str | None
    status: str
    event_count: int
    last_event_at: datetime | None = None
    tracking_added_at: datetime | None = None
    destination_country: str | None = None
    estimated: tuple[date, date] | None = None
    promised: tuple[date, date] | None = None
    predicted_late: bool = False


@dataclass(frozen=True, slots=True)
class StallCutoffs:
    """Per-status stall cut-offs: a shipment last scanned before its cut-off is stalled."""

    status: str
    by_carrier_lane: Mapping[tuple[str, str], datetime]
    by_lane: Mapping[str, datetime]  # carriers without their own threshold
    origin_country: str

    @property
    def latest(self) -> datetime:
        return max([*self.by_carrier_lane.values(), *self.by_lane.values()])


class MonitoringQueries(Protocol):
    """The sweeps' reads and writes: each an index range over the rows that may need acting on."""

    def overdue_orders(self, now: datetime, since: datetime, limit: int) -> list[OverdueOrder]:
        """Orders still awaiting shipment whose ship-by passed in [since, now), not yet notified."""
        ...

    def cancel_unshipped(
        self, ship_by_before: datetime, since: datetime, at: datetime, reason: str, limit: int
    ) -> list[OverdueOrder]: ...
    def unscanned(self, added_before: datetime, since: datetime, limit: int) -> list[WatchedShipment]:
        """Active shipments without a carrier scan whose number was added in [since, added_before), not yet notified."""
        ...

    def stall_candidates(
        self, cutoffs: StallCutoffs, since: datetime, limit: int
    ) -> list[WatchedShipment]: ...
    def mark_stalled(self, shipment_ids: Sequence[str], before: datetime) -> set[str]:
        """Flag as stalled those still unflagged and unscanned since `before`; returns the ids flagged."""
        ...


@dataclass(frozen=True, slots=True)
class ScanGap:
    """`count` gaps between consecutive scans from one UTC day to another, of one carrier, status
    waited at, and destination."""

    carrier: str
    status: str
    destination_country: str | None
    from_day: date
    to_day: date
    count: int = 1


@dataclass
class GapBatch:
    gaps: list[ScanGap] = field(default_factory=list)
    learned_until: datetime | None = None  # everything received up to here has been read


class StallStatistics(Protocol):
    def learned_until(self) -> datetime | None: ...
    def new_gaps(self, after: datetime, until: datetime, limit: int) -> GapBatch:
        """Gaps closed by events received in (after, until], at most about `limit` events' worth."""
        ...

    def add_counts(
        self,
        rows: Sequence[tuple[str, str, str, date, int, int]],
        read_from: datetime | None,
        learned_until: datetime,
    ) -> bool:
        """Add (carrier, status, lane, week, business days, count) rows and move the watermark from
        `read_from` (None: never learned) to `learned_until`; False, adding nothing, when another run
        moved it meanwhile."""
        ...

    def histograms(self, since_week: date) -> dict[tuple[str, str, str], dict[int, int]]: ...
    def drop_counts_before(self, week: date) -> None: ...
    def replace_thresholds(self, rows: Sequence[tuple[str, str, str, int, int]], at: datetime) -> None:
        """(carrier, status, lane, business days, samples)."""
        ...

    def thresholds(self) -> dict[tuple[str, str, str], int]: ...


class SweepSchedule(Protocol):
    def ensure(self, names: Sequence[str], now: datetime) -> None: ...
    def due(self, now: datetime) -> list[str]: ...
    def claim(self, name: str, now: datetime, next_run_at: datetime, lease_until: datetime) -> bool:
        """Take the run that is due; False when another worker took it or it is not due."""
        ...

    def finish(
        self, name: str, at: datetime, counts: Mapping[str, int] | None, error: str | None
    ) -> None: ...


class EmailPreferences(Protocol):
    def set_opt_out(self, user_id: str, types: Iterable[str]) -> None: ...
