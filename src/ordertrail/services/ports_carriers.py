"""Ports of the carrier integrations: inbound webhook providers, carriers that must be polled, and
the storage both need. Adapters implement them; `UnitOfWork` exposes the repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from ordertrail.domain.events import Location, ProofOfDelivery, ScanEvent
from ordertrail.domain.rate_limits import TokenBucket

# --- inbound webhooks -----------------------------------------------------------------------------


class ParsedDelivery(Protocol):
    """One webhook delivery, normalised by its provider's parser (events oldest first)."""

    @property
    def tracking_number(self) -> str: ...
    @property
    def carrier_slug(self) -> str | None: ...
    @property
    def events(self) -> list[ScanEvent]: ...
    @property
    def estimated_delivery(self) -> date | None: ...
    @property
    def proof_of_delivery(self) -> ProofOfDelivery | None: ...
    @property
    def unknown_codes(self) -> list[str]: ...
    @property
    def provider_event_id(self) -> str | None: ...


class WebhookProvider(Protocol):
    """A tracking aggregator that pushes native webhooks (EasyPost, AfterShip, 17TRACK, Shippo).

    `parse` raises `ValueError` (and nothing else) for a payload it cannot read; `verify` does no I/O
    and compares in constant time.
    """

    @property
    def name(self) -> str: ...
    @property
    def signature_header(self) -> str: ...
    def parse(self, body: bytes) -> ParsedDelivery: ...
    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class NewPayload:
    provider: str
    body: bytes
    body_sha256: str
    received_at: datetime
    tracking_number: str | None
    delivery_id: str | None
    unknown_codes: list[str]


class InboundPayloadRepository(Protocol):
    def find_or_add(self, payload: NewPayload) -> tuple[int, bool]:
        """The id of the stored payload with these bytes, and whether it was stored just now."""
        ...

    def record_outcome(self, payload_id: int, accepted: int, duplicates: int, rejected: int) -> None:
        """Keep the outcome of the first ingestion that finished; later replays do not overwrite it."""
        ...

    def for_shipment(self, shipment_id: str, limit: int, before_id: int | None) -> list[dict[str, Any]]:
        """Payloads that produced the shipment's events, newest first, with the count of each's events."""
        ...

    def purge(self, received_before: datetime, limit: int) -> int: ...


# --- polling --------------------------------------------------------------------------------------


class CarrierUnavailable(Exception):
    """The carrier's API could not answer (timeout, 5xx, refused credentials, unreadable answer)."""


@dataclass(frozen=True, slots=True)
class Parcel:
    """What a carrier's tracking API may ask for beside the number (some verify the destination
    postcode or take the ship date)."""

    tracking_number: str
    handed_over_at: datetime | None = None
    destination: Location | None = None


class CarrierClient(Protocol):
    """A carrier (or aggregator) that must be asked for scans because it does not push them.

    `fetch` returns every scan it knows for the parcels, in any order, possibly including ones it
    returned before (ingestion deduplicates); it raises `CarrierUnavailable` when the carrier failed.
    """

    def fetch(self, parcels: Sequence[Parcel]) -> list[ScanEvent]: ...


@dataclass(frozen=True)
class PolledCarrier:
    """How one carrier is polled: each shipment at most every `every`, `batch_size` numbers per
    request, requests paced by `bucket` (per process; divide the rate among worker processes)."""

    client: CarrierClient
    every: timedelta
    batch_size: int
    bucket: TokenBucket


@dataclass(frozen=True, slots=True)
class DueShipment:
    shipment_id: str
    parcel: Parcel


class CarrierPollRepository(Protocol):
    def due(self, carrier: str, polled_before: datetime, limit: int) -> list[DueShipment]:
        """Active shipments of the carrier not polled since `polled_before`, never-polled and oldest first."""
        ...

    def mark_polled(
        self, carrier: str, shipment_ids: Sequence[str], at: datetime, error: str | None
    ) -> None: ...

    def overdue(self, carrier: str, added_before: datetime, limit: int) -> list[tuple[str, str]]:
        """(shipment id, tracking number) of active shipments whose number was added before the cutoff
        and that were never retired before."""
        ...

    def mark_retired(self, carrier: str, shipment_ids: Sequence[str], at: datetime) -> None: ...
