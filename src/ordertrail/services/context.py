"""What every use case is given: a unit-of-work factory, the clock and the rule providers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from ordertrail.domain.cases import CasePolicy
from ordertrail.domain.eta.calendar import BusinessCalendar
from ordertrail.domain.monitoring import DeliveryPolicy, MonitoringPolicy
from ordertrail.domain.performance import PerformancePolicy
from ordertrail.services.ports import AddressBook, Clock, EvidenceStore, Mailer, PromisePolicy, UnitOfWork
from ordertrail.services.ports_carriers import PolledCarrier
from ordertrail.services.ports_credentials import CredentialCache
from ordertrail.services.ports_eta import EtaModels
from ordertrail.services.write_groups import WriteGroups

if TYPE_CHECKING:
    from ordertrail.domain.carriers import CarrierDirectory


@dataclass(frozen=True)
class Deps:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    carriers: CarrierDirectory
    addresses: AddressBook
    promises: PromisePolicy
    mailer: Mailer | None = None
    reporting_window: timedelta = timedelta(days=30)
    # Scans dated further ahead of the clock are refused (None: any date is taken, as API.md sets no bound).
    scan_max_ahead: timedelta | None = None
    base_url: str = "http://127.0.0.1:8000"
    case_policy: CasePolicy = field(default_factory=CasePolicy)
    performance_policy: PerformancePolicy = field(default_factory=PerformancePolicy)
    evidence: EvidenceStore | None = None
    monitoring_policy: MonitoringPolicy = field(default_factory=MonitoringPolicy)
    delivery_policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    # Business days by country (public holidays); weekdays only when not given.
    business_calendar: Callable[[str], BusinessCalendar] | None = None
    # Read-only transactions for pages that only look (SQLite: no write lock); `uow` when not given.
    read_uow: Callable[[], UnitOfWork] | None = None
    # Carrier integrations: raw webhook payloads are kept this long; carriers that must be asked for
    # scans, by slug; how long a polled shipment is followed without a delivery.
    inbound_payload_retention: timedelta = timedelta(days=30)
    polled_carriers: Mapping[str, PolledCarrier] = field(default_factory=dict)
    tracking_max_age: timedelta = timedelta(days=60)
    # The delivery estimator (services.estimates); None: configured promises only, no re-estimates.
    eta: EtaModels | None = None
    # Users by API-key hash for a moment, so that authentication costs no query (None: no cache).
    credentials: CredentialCache | None = None
    # Whether another process has been writing lately to a database whose writers take turns for
    # all of it (SQLite): then ingest works each batch out before taking the write lock
    # (services.ingest), so that several API processes overlap.
    writers_compete: Callable[[], bool] = lambda: False
    # Where writers take turns for the whole database (SQLite), ingest batches that arrive together
    # in this process share a transaction (services.write_groups); None: each its own.
    write_groups: WriteGroups | None = None

    def carrier_name(self, slug: str) -> str:
        """The carrier as people know it ("UPS"), for notices and messages; a slug the directory
        does not know stays as it is."""
        carrier = self.carriers.get(slug)
        return carrier.name if carrier else slug

    def read(self) -> UnitOfWork:
        """A unit of work for a use case that only reads."""
        return (self.read_uow or self.uow)()

    def tracking_url(self, carrier: str | None, number: str | None) -> str | None:
        """The carrier's page for a number; a carrier without one points at our public page."""
        if not carrier or not number:
            return None
        url = self.carriers.tracking_url(carrier, number)
        if url and url.startswith("/"):
            return self.base_url.rstrip("/") + url
        return url
