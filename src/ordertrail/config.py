"""One typed settings object, read from ORDERTRAIL_* environment variables (and an optional .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The database URLs ordertrail runs on: the embedded file, or PostgreSQL through psycopg 3.
_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ORDERTRAIL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("./var")
    database_url: str | None = None
    admin_api_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"

    smtp_url: str | None = None
    mail_from: str = "orders@localhost"

    webhook_secret_easypost: str | None = None
    webhook_secret_aftership: str | None = None
    webhook_secret_17track: str | None = None
    webhook_secret_shippo: str | None = None

    # Dispatch SLA and the promise used until learned lane history exists (DESIGN.md §4-5).
    handling_business_days: Annotated[int, Field(ge=0, le=30)] = 2
    seller_cutoff_hour: Annotated[int, Field(ge=0, le=23)] = 14
    seller_country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] = "US"
    seller_timezone: str = "UTC"
    transit_business_days: dict[str, tuple[int, int]] = {
        "standard": (2, 5),
        "express": (1, 2),
        "economy": (5, 8),
    }
    reporting_window_days: int = 30
    # Refuse carrier scans dated more than this many hours ahead of the clock (48 is a safe bound:
    # a carrier's clock or time-zone slip stays within 14); 0 takes any date, as API.md sets no bound.
    scan_max_ahead_hours: Annotated[float, Field(ge=0)] = 0
    # Delivery estimates (docs/edd.md): how often a process looks for a newer fit, and how far back
    # `ordertrail edd fit` learns from the service's own shipments.
    eta_model_check_seconds: float = 60.0
    eta_history_days: int = 400

    # Issue resolution policy (DESIGN.md §5). Reporting windows in days per case type: from the
    # promise's latest date for not_received, from delivery for the others.
    case_reporting_window_days: dict[str, int] = {
        "not_received": 30,
        "delivered_not_received": 30,
        "damaged": 30,
        "wrong_item": 30,
        "missing_items": 30,
        "late_delivery": 30,
    }
    case_response_hours: int = 48
    case_escalation_window_days: int = 21
    evidence_max_bytes: int = 10 * 1024 * 1024
    evidence_max_files_per_case: int = 20

    # Seller performance: the rolling window, what counts as valid tracking, and the thresholds.
    performance_window_days: int = 30
    valid_tracking_scan_days: int = 3
    late_dispatch_rate_max: float = 0.04
    valid_tracking_rate_min: float = 0.95
    on_time_delivery_rate_min: float = 0.90
    case_rate_max: float = 0.01
    seller_fault_rate_max: float = 0.01

    # Proactive monitoring and notification delivery (DESIGN.md §1 rows 7-8).
    secret_key: str | None = None  # signs unsubscribe links; generated into the data directory if unset
    no_first_scan_business_days: int = 2
    stall_domestic_business_days: int = 3
    stall_international_business_days: int = 7
    stall_quantile: float = 0.95
    ship_by_auto_cancel_business_days: int | None = None  # off by default
    delivery_lease_seconds: float = 300.0
    delivery_batch_size: int = 20
    retry_base_seconds: float = 30.0
    smtp_timeout_seconds: float = 15.0
    smtp_ca_file: str | None = None  # a private CA for the SMTP server's certificate
    webhook_timeout_seconds: float = 10.0
    webhook_disable_after_failures: int = 10
    webhook_disable_after_hours: float = 24.0
    webhook_allow_private_targets: bool = False  # let subscriptions point at loopback/private addresses

    # Carrier integrations: how long raw inbound webhook payloads are kept, how long a polled
    # shipment is followed without a delivery before it is retired as expired, and whether the worker
    # polls the demo's simulated carrier (each shipment every `simulated_poll_seconds`).
    inbound_payload_retention_days: int = 30
    tracking_max_age_days: int = 60
    poll_simulated_carrier: bool = False
    simulated_seconds_per_hop: float = 20.0
    simulated_poll_seconds: float = 10.0

    # Background work.
    worker_poll_seconds: float = 0.5
    outbox_batch_size: int = 200
    in_process_worker: bool = True

    # Seconds an API process may keep serving a user it authenticated, after another process
    # changed or erased them (its own changes are seen at once); 0: ask the database every request.
    credential_cache_seconds: float = 2.0

    # Seconds a write waits for the database (SQLite's one writer connection, or its file lock held
    # by another process) before the request is answered 503, retry later.
    database_write_wait_seconds: float = 30.0

    # Request limits (docs/security.md): requests per minute and burst per API key or page session,
    # per client address for anonymous calls, and refused credentials per address; 0 turns one off.
    rate_limit_key_per_minute: int = 1200
    rate_limit_key_burst: int = 200
    rate_limit_address_per_minute: int = 300
    rate_limit_address_burst: int = 60
    rate_limit_auth_failures_per_minute: int = 10
    rate_limit_auth_failures_burst: int = 20
    max_request_bytes: int = 2 * 1024 * 1024  # JSON bodies: 1000 carrier events fit in about 0.5 MB
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    shop_name: str = "ordertrail"
    shop_color: str = "#0b5fff"

    @field_validator("database_url")
    @classmethod
    def _database_we_run_on(cls, url: str | None) -> str | None:
        if url is None:
            return None
        scheme, _, rest = url.partition("://")
        if scheme.lower() not in _DATABASE_SCHEMES or not rest.strip("/") or rest.startswith(":memory:"):
            raise ValueError(
                "use sqlite:///path/to/ordertrail.db (or leave it unset for the embedded default) or "
                "postgresql+psycopg://user@host/database"
            )
        return url

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level

    @field_validator("seller_timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is no IANA time zone; use one like Europe/Berlin or UTC") from None
        return zone

    @field_validator("smtp_url")
    @classmethod
    def _smtp_server(cls, url: str | None) -> str | None:
        if url is not None and (urlsplit(url).scheme not in ("smtp", "smtps") or not urlsplit(url).hostname):
            raise ValueError("use smtp://host:port or smtps://user:password@host:port")
        return url

    @field_validator("transit_business_days")
    @classmethod
    def _transit_ranges(cls, days: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        for service, (earliest, latest) in days.items():
            if not 0 <= earliest <= latest:
                raise ValueError(f"{service}: give [earliest, latest] business days, 0 <= earliest <= latest")
        return days

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ordertrail.db').resolve()}"

    def webhook_secret(self, provider: str) -> str | None:
        return {
            "easypost": self.webhook_secret_easypost,
            "aftership": self.webhook_secret_aftership,
            "17track": self.webhook_secret_17track,
            "shippo": self.webhook_secret_shippo,
        }.get(provider)
