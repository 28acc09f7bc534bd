"""Ports of delivery estimation (issue 9): the stored estimate history and fitted models, and the
source of the model the running service estimates with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Protocol

from ordertrail.domain.eta import CalendarSource, EtaModel, FitConfig
from ordertrail.domain.statuses import ShipmentStatus


@dataclass(frozen=True, slots=True)
class EtaSetup:
    """Where the service's parcels start and which local day it is for them."""

    zone: tzinfo = UTC  # local dates of placement, scans and "today"
    origin_country: str = "US"
    origin_region: str = ""
    cutoff_hour: int = 14  # orders placed at or after this local hour start handling the next day
    lookahead_days: int = 7  # how far ahead a sweep looks for the next day an estimate would move
    # Shipments one sweep run re-estimates at most (about 5 s of work): a backlog (the first run after
    # an upgrade, a busy morning) is worked off over the next runs instead of holding up other sweeps.
    sweep_limit: int = 20_000
    # Expired windows re-estimated per `estimates_overdue` run (every 15 minutes): 40,000 an hour, twice
    # the share of a million parcels whose window ends at one midnight; the rest wait one run.
    overdue_limit: int = 10_000
    history_days: int = 400  # how far back `edd fit` learns from the service's own shipments


@dataclass(frozen=True, slots=True)
class OrderLane:
    """What an order says about where and how its parcels travel, and what was promised."""

    order_id: str
    buyer_id: str
    seller_id: str
    placed_at: datetime
    promised: tuple[date, date]
    shipping_service: str
    destination: Mapping[str, str] = field(default_factory=dict)  # country_code, country_area, postal_code


@dataclass(frozen=True, slots=True)
class EstimateSubject:
    """A shipment to re-estimate, with its stored estimate and its order's lane."""

    shipment_id: str
    order: OrderLane
    status: ShipmentStatus
    first_scan_at: datetime | None
    last_event_at: datetime | None
    delivered_at: datetime | None
    carrier_estimate: date | None
    estimated: tuple[date, date] | None
    predicted_late: bool
    event_count: int = 0


@dataclass(frozen=True, slots=True)
class EstimateChange:
    """One entry of an order's estimate history; `shipment_id` None for the promise at checkout."""

    order_id: str
    shipment_id: str | None
    at: datetime
    old: tuple[date, date] | None
    new: tuple[date, date]
    predicted_late: bool
    reason: str
    trigger: str  # order_placed | carrier_event | daily_check | estimate_passed


@dataclass(frozen=True, slots=True)
class PastShipment:
    """A shipment of the service's own history, as `edd fit` learns from it."""

    order: OrderLane
    first_scan_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredModel:
    id: int
    fitted_at: datetime
    as_of: date
    shipments: int
    data: dict[str, Any]


class EstimateRepository(Protocol):
    def order_lanes(self, order_ids: Sequence[str]) -> dict[str, OrderLane]: ...
    def subjects(self, shipment_ids: Sequence[str]) -> list[EstimateSubject]: ...
    def due(self, today: date, limit: int) -> list[EstimateSubject]:
        """Active shipments whose next estimate check is on or before today, the longest due first."""
        ...

    def expired(self, today: date, statuses: Sequence[str], limit: int) -> list[EstimateSubject]:
        """Active shipments in these statuses whose shown window ended before today, oldest first."""
        ...

    def save(self, rows: Sequence[tuple[str, int, date, date, bool, date]]) -> set[str]:
        """(shipment id, event count read, earliest, latest, predicted late, next check): written where
        no event arrived since the read; returns the ids written."""
        ...

    def set_next_checks(self, rows: Sequence[tuple[str, date]]) -> None: ...
    def record(self, changes: Sequence[EstimateChange]) -> None: ...
    def for_order(self, order_id: str) -> list[EstimateChange]: ...
    def past_shipments(self, placed_since: datetime, statuses: Sequence[str]) -> list[PastShipment]:
        """Shipments of orders placed since then, at these statuses (delivered ones and those
        still on their way), with their orders' lanes."""
        ...

    def store_model(
        self, data: Mapping[str, Any], fitted_at: datetime, as_of: date, shipments: int
    ) -> int: ...
    def latest_model_id(self) -> int | None: ...
    def model(self, model_id: int) -> StoredModel | None: ...


class EtaModels(Protocol):
    """The model the service estimates with: the latest stored fit, or the configured defaults."""

    setup: EtaSetup
    calendars: CalendarSource
    config: FitConfig  # how `edd fit` learns: the configured defaults and the promise policy

    def learned(self, store: EstimateRepository) -> EtaModel | None:
        """The latest fit (reloaded when a newer one is stored); None until history has been fitted."""
        ...

    def current(self, store: EstimateRepository) -> EtaModel:
        """The latest fit, or the model of the configured defaults."""
        ...

    def defaults(self) -> EtaModel: ...
    def refresh(self) -> None:
        """Look for a newer fit at the next use (after a fit in this process)."""
        ...
