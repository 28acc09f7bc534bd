"""Monitoring and delivery, built from settings: the sweep and retry policies, the business-day
calendars, the unsubscribe signer and the delivery channels (e-mail, webhooks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ordertrail.adapters.calendars import business_calendar
from ordertrail.adapters.notifiers.email import FileMailer, SmtpMailer
from ordertrail.adapters.notifiers.email_channel import EmailChannel, EmailRenderer
from ordertrail.adapters.notifiers.unsubscribe import UnsubscribeTokens
from ordertrail.adapters.notifiers.webhooks import WebhookChannel
from ordertrail.adapters.secret_key import load_or_create
from ordertrail.config import Settings
from ordertrail.domain.carriers import CarrierDirectory
from ordertrail.domain.eta.calendar import MONDAY_TO_FRIDAY, BusinessCalendar
from ordertrail.domain.monitoring import DeliveryPolicy, MonitoringPolicy
from ordertrail.services.ports_monitoring import Channel


def monitoring_policy(settings: Settings) -> MonitoringPolicy:
    return MonitoringPolicy(
        origin_country=settings.seller_country,
        no_first_scan_business_days=settings.no_first_scan_business_days,
        stall_domestic_business_days=settings.stall_domestic_business_days,
        stall_international_business_days=settings.stall_international_business_days,
        stall_quantile=settings.stall_quantile,
        ship_by_auto_cancel_business_days=settings.ship_by_auto_cancel_business_days,
    )


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        retry_base_seconds=settings.retry_base_seconds,
        lease_seconds=settings.delivery_lease_seconds,
        batch_size=settings.delivery_batch_size,
        webhook_disable_after_failures=settings.webhook_disable_after_failures,
        webhook_disable_after=timedelta(hours=settings.webhook_disable_after_hours),
        webhook_allow_private_targets=settings.webhook_allow_private_targets,
    )


def country_calendar(country: str) -> BusinessCalendar:
    return business_calendar(country.upper(), None, MONDAY_TO_FRIDAY)


def secret(settings: Settings) -> str:
    """The key that signs what the service hands out: set, or generated into the data directory."""
    return settings.secret_key or load_or_create(settings.data_dir / "secret_key")


def unsubscribe_tokens(settings: Settings) -> UnsubscribeTokens:
    return UnsubscribeTokens(secret(settings))


def delivery_channels(
    settings: Settings,
    mailer: SmtpMailer | FileMailer,
    carriers: CarrierDirectory,
    tracking_url: Callable[[str | None, str | None], str | None],
    tokens: UnsubscribeTokens,
    clock: Callable[[], datetime],
) -> list[Channel]:
    def carrier_name(slug: str) -> str:
        carrier = carriers.get(slug)
        return carrier.name if carrier else slug

    renderer = EmailRenderer(settings.base_url, tokens, tracking_url, carrier_name)
    webhooks = WebhookChannel(
        clock,
        timeout=settings.webhook_timeout_seconds,
        allow_private_targets=settings.webhook_allow_private_targets,
    )
    return [EmailChannel(mailer, renderer), webhooks]
