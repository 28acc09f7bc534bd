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
