"""What every use case is given: a unit-of-work factory, the clock and the rule providers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ordertrail.services.ports import AddressBook, Clock, Mailer, PromisePolicy, UnitOfWork

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
    base_url: str = "http://127.0.0.1:8000"

    def tracking_url(self, carrier: str | None, number: str | None) -> str | None:
        """The carrier's page for a number; a carrier without one points at our public page."""
        if not carrier or not number:
            return None
        url = self.carriers.tracking_url(carrier, number)
        if url and url.startswith("/"):
            return self.base_url.rstrip("/") + url
        return url
