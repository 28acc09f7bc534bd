"""One typed settings object, read from ORDERTRAIL_* environment variables (and an optional .env file)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


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
    handling_business_days: int = 2
    seller_cutoff_hour: int = 14
    seller_country: str = "US"
    seller_timezone: str = "UTC"
    transit_business_days: dict[str, tuple[int, int]] = {
        "standard": (2, 5),
        "express": (1, 2),
        "economy": (5, 8),
    }
    reporting_window_days: int = 30

    # Background work.
    worker_poll_seconds: float = 0.5
    outbox_batch_size: int = 200
    in_process_worker: bool = True

    shop_name: str = "ordertrail"
    shop_color: str = "#0b5fff"

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
