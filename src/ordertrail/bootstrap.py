"""The only place that builds concrete adapters and wires them to the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from ordertrail.adapters.addresses import I18nAddressBook
from ordertrail.adapters.carriers.registry import load_carrier_directory
from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.uow import SqlUnitOfWork
from ordertrail.adapters.notifiers.email import EmailChannel, make_mailer
from ordertrail.adapters.promises import ConfiguredPromises
from ordertrail.config import Settings
from ordertrail.services.context import Deps
from ordertrail.services.outbox import Channel


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    deps: Deps
    channels: list[Channel] = field(default_factory=list)

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None, clock: Callable[[], datetime] = utc_now) -> Container:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    mailer = make_mailer(settings)

    def uow(readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, readonly=readonly)

    deps = Deps(
        uow=uow,
        clock=clock,
        carriers=load_carrier_directory(),
        addresses=I18nAddressBook(),
        promises=ConfiguredPromises(
            settings.transit_business_days,
            settings.handling_business_days,
            settings.seller_country,
            settings.seller_timezone,
            settings.seller_cutoff_hour,
        ),
        mailer=mailer,
        reporting_window=timedelta(days=settings.reporting_window_days),
        base_url=settings.base_url,
    )
    return Container(settings, engine, deps, channels=[EmailChannel(mailer, settings.base_url)])
