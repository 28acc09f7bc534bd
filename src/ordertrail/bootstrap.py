"""The only place that builds concrete adapters and wires them to the services."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from ordertrail.adapters.addresses import I18nAddressBook
from ordertrail.adapters.carriers.polled import polled_carriers
from ordertrail.adapters.carriers.registry import load_carrier_directory
from ordertrail.adapters.db.credential_cache import credential_cache
from ordertrail.adapters.db.engine import make_engine, writer_engine
from ordertrail.adapters.db.uow import SqlUnitOfWork
from ordertrail.adapters.db.write_turns import write_turns
from ordertrail.adapters.eta_models import eta_models
from ordertrail.adapters.evidence import FileEvidenceStore
from ordertrail.adapters.notifiers.email import make_mailer
from ordertrail.adapters.notifiers.unsubscribe import UnsubscribeTokens
from ordertrail.adapters.notifiers.wiring import (
    country_calendar,
    delivery_channels,
    delivery_policy,
    monitoring_policy,
    secret,
    unsubscribe_tokens,
)
from ordertrail.adapters.policies import case_policy, performance_policy
from ordertrail.adapters.promises import ConfiguredPromises
from ordertrail.config import Settings
from ordertrail.domain.ids import RowIds
from ordertrail.services.context import Deps
from ordertrail.services.ports_monitoring import Channel
from ordertrail.services.write_groups import WriteGroups


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    deps: Deps
    writer: Engine | None = None
    channels: list[Channel] = field(default_factory=list)
    unsubscribe: UnsubscribeTokens | None = None
    row_ids: RowIds = field(default_factory=lambda: RowIds(secrets.token_hex(16)))

    def close(self) -> None:
        for channel in self.channels:
            close = getattr(channel, "close", None)
            if close is not None:
                close()
        self.engine.dispose()
        if self.writer is not None and self.writer is not self.engine:
            self.writer.dispose()


def _turn_taking_writers(writer: Engine) -> dict[str, Any]:
    """SQLite in a file: whether other processes write is seen through the writer's turns, and
    this process's concurrent ingest batches share transactions."""
    turns = write_turns(writer)
    return (
        {"writers_compete": turns.others_writing, "write_groups": WriteGroups()} if turns is not None else {}
    )


def build(settings: Settings | None = None, clock: Callable[[], datetime] = utc_now) -> Container:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    writer = writer_engine(engine, settings.database_write_wait_seconds)
    mailer = make_mailer(settings)

    def uow(readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine if readonly else writer, readonly=readonly)

    deps = Deps(
        uow=uow,
        read_uow=lambda: uow(readonly=True),
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
        scan_max_ahead=timedelta(hours=settings.scan_max_ahead_hours)
        if settings.scan_max_ahead_hours
        else None,
        base_url=settings.base_url,
        case_policy=case_policy(settings),
        performance_policy=performance_policy(settings),
        evidence=FileEvidenceStore(settings.data_dir / "evidence"),
        inbound_payload_retention=timedelta(days=settings.inbound_payload_retention_days),
        polled_carriers=polled_carriers(settings, clock),
        tracking_max_age=timedelta(days=settings.tracking_max_age_days),
        monitoring_policy=monitoring_policy(settings),
        delivery_policy=delivery_policy(settings),
        business_calendar=country_calendar,
        eta=eta_models(
            zone=settings.seller_timezone,
            origin_country=settings.seller_country,
            cutoff_hour=settings.seller_cutoff_hour,
            handling_business_days=settings.handling_business_days,
            transit_business_days=settings.transit_business_days,
            check_seconds=settings.eta_model_check_seconds,
            history_days=settings.eta_history_days,
        ),
        credentials=credential_cache(engine, settings.credential_cache_seconds),
        **_turn_taking_writers(writer),
    )
    if writer is not engine:  # the cache is emptied by writes to users, which go through the writer
        credential_cache(writer, settings.credential_cache_seconds)
    tokens = unsubscribe_tokens(settings)
    channels = delivery_channels(settings, mailer, deps.carriers, deps.tracking_url, tokens, clock)
    return Container(
        settings,
        engine,
        deps,
        writer,
        channels=channels,
        unsubscribe=tokens,
        row_ids=RowIds(secret(settings)),
    )
