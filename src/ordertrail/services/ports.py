"""The ports through which use cases reach storage and the outside world.

Adapters implement these; services see only the protocols, so the rules can be read (and tested)
without a database. Repository methods are set-oriented where a hot path needs them (ingest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any, NamedTuple, Protocol

from ordertrail.domain.case_records import Attachment, CaseMessage, Refund
from ordertrail.domain.cases import Case, CaseEvent
from ordertrail.domain.events import ScanEvent
from ordertrail.domain.orders import LineItem, Order, OrderStatus
from ordertrail.domain.shipments import Shipment
from ordertrail.domain.statuses import Role, ShipmentStatus
from ordertrail.domain.users import User
from ordertrail.services.ports_carriers import CarrierClient as CarrierClient  # the polling port
from ordertrail.services.ports_carriers import CarrierPollRepository, InboundPayloadRepository
from ordertrail.services.ports_eta import EstimateRepository
from ordertrail.services.ports_monitoring import (
    DeliveryRepository,
    EmailPreferences,
    MonitoringQueries,
    StallStatistics,
    SweepSchedule,
    WebhookRepository,
)
from ordertrail.services.ports_observability import OperationalFigures
from ordertrail.services.ports_privacy import PersonalData

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    type: str
    recipient_id: str | None
    order_id: str | None
    payload: Mapping[str, Any]
    dedupe_key: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    id: int
    type: str
    recipient_id: str | None
    order_id: str | None
    payload: Mapping[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StatusChange:
    subject_id: str
    at: datetime
    old: str | None
    new: str
    reason: str


class ShipmentFacts(NamedTuple):
    """The little of a shipment that its order's status depends on."""

    status: ShipmentStatus
    delivered_at: datetime | None
    items: list[tuple[str, int]] | None


@dataclass(frozen=True, slots=True)
class OrderStatusInputs:
    status: OrderStatus
    cancelled: bool
    items: list[LineItem]  # only loaded when a shipment carries part of the order
    has_open_case: bool
    shipments: list[ShipmentFacts]


class UserRepository(Protocol):
    def add(self, user: User, api_key_hash: str) -> None: ...
    def get(self, user_id: str) -> User | None: ...
    def by_api_key_hash(self, key_hash: str) -> User | None: ...
    def by_email(self, email: str) -> User | None: ...
    def many(self, ids: Iterable[str]) -> dict[str, User]: ...
    def set_key(self, user_id: str, api_key_hash: str) -> bool: ...  # False: no such (unerased) user


class OrderRepository(Protocol):
    def add(self, order: Order, idempotency_key: str | None, request_hash: str | None) -> None: ...
    def get(self, order_id: str, *, for_update: bool = False) -> Order | None: ...
    def by_idempotency_key(self, buyer_id: str, key: str) -> tuple[Order, str | None] | None: ...
    def list(
        self,
        *,
        buyer_id: str | None,
        seller_id: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page: ...
    def update_address(self, order_id: str, address: Mapping[str, str], at: datetime) -> None: ...
    def cancel(self, order_id: str, reason: str, by: Role, at: datetime) -> None: ...
    def set_statuses(
        self, changes: Sequence[tuple[str, OrderStatus, datetime | None]], at: datetime
    ) -> None: ...
    def status_inputs(self, order_ids: Sequence[str]) -> dict[str, OrderStatusInputs]: ...


class ShipmentRepository(Protocol):
    def add(self, shipment: Shipment) -> None: ...
    def get(self, shipment_id: str, *, for_update: bool = False) -> Shipment | None: ...
    def for_orders(self, order_ids: Sequence[str]) -> dict[str, list[Shipment]]: ...
    def open_with_number(self, carrier: str, tracking_number: str) -> list[tuple[str, str]]:
        """(shipment id, order id) of shipments with this number on orders not cancelled/completed."""
        ...

    def carriers_used_by(self, seller_id: str) -> frozenset[str]: ...
    def set_tracking(self, shipment_id: str, carrier: str, tracking_number: str, at: datetime) -> None: ...
    def by_tracking_numbers(
        self, numbers: Iterable[str], *, for_update: bool = False
    ) -> dict[str, list[tuple[Shipment, str, str]]]:
        """Shipments by number with their order's buyer and seller ids, newest live one first.

        `for_update` locks the shipments until the transaction ends: two batches about the same parcel
        then take turns, and the second folds its events onto the state the first saved."""
        ...

    def by_tracking_number(self, number: str) -> Shipment | None: ...
    def save_states(self, shipments: Sequence[Shipment]) -> None: ...
    def snapshot(self) -> object:
        """What `by_tracking_numbers` read in this unit of work, to compare with later."""
        ...

    def still_as_read(self, snapshot: object) -> bool:
        """Whether the same numbers still find the same shipments and orders, unchanged since the
        snapshot was taken (in another unit of work); if so, this unit of work saves them as if it
        had read them itself."""
        ...


class EventRepository(Protocol):
    def insert_new(
        self, rows: Sequence[tuple[str, ScanEvent]], received_at: datetime, source_id: int | None
    ) -> set[tuple[str, str]]:
        """Insert (shipment id, event) rows, ignoring duplicates; returns the (shipment id, event id) inserted."""
        ...

    def stored(self, rows: Sequence[tuple[str, ScanEvent]]) -> set[tuple[str, str]]:
        """The (shipment id, event id) of the rows stored already."""
        ...

    def for_shipments(self, shipment_ids: Sequence[str]) -> dict[str, list[ScanEvent]]: ...


class HistoryRepository(Protocol):
    def shipment_changes(self, changes: Sequence[StatusChange]) -> None: ...
    def order_changes(self, changes: Sequence[StatusChange]) -> None: ...
    def for_order(self, order_id: str) -> list[dict[str, Any]]: ...


class OutboxRepository(Protocol):
    def add(self, messages: Sequence[OutboxMessage], at: datetime) -> int:
        """Queue messages; one whose dedupe key was used before is dropped. Returns how many were queued."""
        ...

    def claim_locked(self, now: datetime, limit: int, order_id: str | None = None) -> list[ClaimedMessage]:
        """Due rows (of one order, if given), locked until this transaction ends (SKIP LOCKED: other
        workers take others)."""
        ...

    def done(self, ids: Sequence[int], at: datetime) -> None: ...
    def retry(self, message_id: int, error: str, at: datetime, final: bool) -> None:
        """Count a failed attempt; pending again from `at`, or `failed` (keeping the error) when final."""
        ...

    def pending_count(self) -> int: ...


class InboxRepository(Protocol):
    def deliver(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert inbox rows keyed by outbox id; a row already delivered is skipped."""
        ...

    def list(self, user_id: str, limit: int, cursor: str | None) -> Page: ...
    def mark_read(self, user_id: str, notification_id: str, at: datetime) -> dict[str, Any] | None: ...


class TrackingQueries(Protocol):
    """The lean read side: views shaped for the API in one or two queries."""

    def order_tracking(self, order_id: str) -> dict[str, Any] | None: ...


class SweepQueries(Protocol):
    def complete_delivered_orders(self, now: datetime, delivered_before: datetime) -> int: ...


class SignInRepository(Protocol):
    """One-time sign-in links and web sessions, found by the SHA-256 of their secret."""

    def add_link(
        self, token_hash: str, user_id: str, next_path: str | None, at: datetime, expires_at: datetime
    ) -> None: ...
    def use_link(self, token_hash: str, at: datetime) -> tuple[str, str | None] | None:
        """Mark an unused, unexpired link used and return (user id, next path); None otherwise."""
        ...

    def add_session(
        self, id_hash: str, user_id: str, csrf_token: str, at: datetime, expires_at: datetime
    ) -> None: ...
    def session(self, id_hash: str, at: datetime) -> tuple[str, str] | None:
        """(user id, CSRF token) of a live session."""
        ...

    def end_session(self, id_hash: str) -> None: ...
    def purge_expired(self, before: datetime) -> None: ...


class PageQueries(Protocol):
    """Read models of the web pages that the API does not need."""

    def to_ship(self, seller_id: str, limit: int) -> list[dict[str, Any]]:
        """The seller's orders still waiting for (some) tracking, earliest ship-by first."""
        ...

    def tracking_version(self, order_id: str) -> str | None:
        """A value that changes whenever what the order's tracking page shows changes."""
        ...

    def order_cases(self, buyer_id: str, order_id: str) -> list[dict[str, Any]]:
        """The cases opened on an order (id, type, status, opened_at), newest first."""
        ...


class CaseRepository(Protocol):
    """Cases with their messages, evidence, history, and the refunds they paid."""

    def add(self, case: Case) -> None: ...
    def get(self, case_id: str, *, for_update: bool = False) -> Case | None: ...
    def save(self, case: Case) -> None: ...
    def has_open(self, order_id: str, case_type: str) -> bool: ...
    def for_order(self, order_id: str) -> list[Case]: ...
    def add_history(self, entries: Sequence[CaseEvent]) -> None: ...
    def history(self, case_id: str) -> list[CaseEvent]: ...
    def add_message(self, message: CaseMessage) -> None: ...
    def messages(self, case_id: str) -> list[CaseMessage]: ...
    def add_attachment(self, attachment: Attachment) -> None: ...
    def attachments(self, case_id: str) -> list[Attachment]: ...
    def add_refund(self, refund: Refund) -> None: ...
    def refunds(self, case_id: str) -> list[Refund]: ...
    def refunded_total(self, order_id: str) -> int: ...
    def escalate_overdue(self, now: datetime, limit: int) -> list[Case]:
        """Escalate, in one statement, cases left awaiting the seller past respond_by; returns them."""
        ...

    def lapse_unanswered(self, now: datetime, limit: int) -> list[Case]:
        """Close cases left awaiting the buyer past the escalation window; returns them."""
        ...

    # Last: a method named `list` would shadow the builtin in the annotations below it.
    def list(
        self,
        *,
        buyer_id: str | None,
        seller_id: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """Newest first; the escalated ones oldest escalation first (the support queue)."""
        ...


class PerformanceQueries(Protocol):
    def seller_figures(
        self, seller_id: str, since: datetime, now: datetime, scan_within: timedelta
    ) -> dict[str, tuple[int, int]]:
        """(numerator, denominator) of each figure of domain.performance, one query per figure."""
        ...


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class EvidenceStore(Protocol):
    """Where evidence files live (a directory; an object store could take its place)."""

    def put(self, key: str, chunks: Iterable[bytes]) -> StoredFile:
        """Store the chunks under key; if the chunks raise, nothing is kept and the error propagates."""
        ...

    def read(self, key: str) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...


class IncomingFile(Protocol):
    """An upload still arriving from the client: nothing is read until a service asks."""

    def begin(self) -> str | None:
        """Read up to the start of the file's bytes; returns the name the client gave it."""
        ...

    def chunks(self) -> Iterator[bytes]: ...


class UnitOfWork(Protocol):
    users: UserRepository
    orders: OrderRepository
    shipments: ShipmentRepository
    events: EventRepository
    history: HistoryRepository
    outbox: OutboxRepository
    inbox: InboxRepository
    tracking: TrackingQueries
    sweeps: SweepQueries
    sign_ins: SignInRepository
    pages: PageQueries
    cases: CaseRepository
    performance: PerformanceQueries
    deliveries: DeliveryRepository
    webhooks: WebhookRepository
    monitoring: MonitoringQueries
    stall_stats: StallStatistics
    sweep_runs: SweepSchedule
    email_preferences: EmailPreferences
    inbound: InboundPayloadRepository
    polls: CarrierPollRepository
    personal_data: PersonalData
    figures: OperationalFigures
    eta: EstimateRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


class AddressBook(Protocol):
    """Validates and normalises a postal address by its country's rules."""

    def normalize(self, address: Mapping[str, str], field_prefix: str) -> dict[str, str]: ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None: ...


class PromisePolicy(Protocol):
    """The dispatch deadline and delivery promise made at checkout (DESIGN.md §4)."""

    def services(self) -> frozenset[str]: ...

    def ship_by(self, placed_at: datetime, seller_id: str) -> datetime: ...
    def promise(
        self, placed_at: datetime, ship_by: datetime, service: str, address: Mapping[str, str], seller_id: str
    ) -> tuple[date, date]: ...
