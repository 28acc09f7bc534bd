"""The estimator the running service uses: the latest fit stored in the database, kept in memory.

A stored fit is a few megabytes of JSON, so each process loads it once and keeps it; whether a newer
fit exists (another process ran `ordertrail edd fit`) is one indexed look-up, made at most every
`check_seconds`. Until a fit exists the model of the configured defaults serves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from ordertrail.adapters.calendars import HolidayCalendars
from ordertrail.domain.eta import (
    MONDAY_TO_SATURDAY,
    Defaults,
    EtaModel,
    FitConfig,
    PromisePolicy,
    default_model,
)
from ordertrail.services.ports_eta import EstimateRepository, EtaSetup


class StoredEtaModels:
    def __init__(
        self,
        setup: EtaSetup,
        config: FitConfig,
        calendars: HolidayCalendars,
        check_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.setup = setup
        self.config = config
        self.calendars = calendars
        self._check_seconds = check_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._default = default_model(calendars, config.defaults, config.policy)
        self._model: EtaModel | None = None
        self._model_id: int | None = None
        self._checked_at: float | None = None

    def defaults(self) -> EtaModel:
        return self._default

    def refresh(self) -> None:
        with self._lock:
            self._checked_at = None

    def learned(self, store: EstimateRepository) -> EtaModel | None:
        now = self._monotonic()
        with self._lock:
            if self._checked_at is not None and now - self._checked_at < self._check_seconds:
                return self._model
            self._checked_at = now
            latest = store.latest_model_id()
            if latest is not None and latest != self._model_id:
                stored = store.model(latest)
                if stored is not None:
                    self._model = EtaModel.from_dict(stored.data, self.calendars)
                    self._model_id = latest
            return self._model

    def current(self, store: EstimateRepository) -> EtaModel:
        return self.learned(store) or self._default


def eta_models(
    *,
    zone: str,
    origin_country: str,
    cutoff_hour: int,
    handling_business_days: int,
    transit_business_days: Mapping[str, tuple[int, int]],
    check_seconds: float,
    history_days: int,
) -> StoredEtaModels:
    """The service's estimator from its settings. Its lanes name the shipping service, not the carrier:
    the promise is made before the seller picks a carrier, and learning must use the lanes it is
    asked about. Carriers move parcels on Saturdays too, as the configured promise assumes."""
    # "Ships within N business days" counts the day of placement: handed over after 0..N-1 days.
    defaults = Defaults.from_ranges(
        (0, max(0, handling_business_days - 1)),
        {f"/{service}": (low, high) for service, (low, high) in transit_business_days.items()},
        "/standard",
    )
    policy = PromisePolicy(cutoff_hour=cutoff_hour)
    setup = EtaSetup(
        zone=ZoneInfo(zone), origin_country=origin_country, cutoff_hour=cutoff_hour, history_days=history_days
    )
    calendars = HolidayCalendars({"": MONDAY_TO_SATURDAY})
    return StoredEtaModels(setup, FitConfig(defaults=defaults, policy=policy), calendars, check_seconds)
