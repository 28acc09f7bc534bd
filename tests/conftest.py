"""Shared fixtures: a fixed clock, a migrated database (SQLite or PostgreSQL), the app and its client.

Set ORDERTRAIL_TEST_DATABASE=postgresql to run the suite against the PostgreSQL server at
ORDERTRAIL_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres); a fresh
database is created for the session and dropped at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.migrate import migrate
from ordertrail.adapters.db.tables import metadata
from ordertrail.bootstrap import Container, build
from ordertrail.config import Settings

ADMIN_KEY = "test-admin-key-" + "x" * 20
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BACKEND = os.environ.get("ORDERTRAIL_TEST_DATABASE", "sqlite")
PG_SERVER = os.environ.get("ORDERTRAIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class FixedClock:
    """Time stands still until a test moves it: no test sleeps to wait for time to pass."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str | None]:
    if BACKEND != "postgresql":
        yield None
        return
    name = f"ordertrail_test_{secrets.token_hex(4)}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def database_url(tmp_path: Path, pg_database_url: str | None) -> Iterator[str]:
    if pg_database_url is None:
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    yield pg_database_url
    engine = make_engine(pg_database_url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        admin_api_key=ADMIN_KEY,
        base_url="http://testserver",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def container(settings: Settings, clock: FixedClock) -> Iterator[Container]:
    c = build(settings, clock=clock)
    yield c
    c.close()


@dataclass
class Party:
    id: str
    key: str
    role: str
    email: str | None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


ADDRESS: dict[str, Any] = {
    "name": "Ana Souza",
    "street_address": "1600 Amphitheatre Pkwy",
    "city": "Mountain View",
    "city_area": "",
    "country_area": "CA",
    "postal_code": "94043",
    "country_code": "US",
    "phone": "+1 650 253 0000",
}


def order_body(seller_id: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "seller_id": seller_id,
        "items": [{"sku": "TSHIRT-M", "title": "Logo T-shirt", "quantity": 2, "unit_price": 1999}],
        "currency": "USD",
        "shipping_fee": 499,
        "shipping_address": dict(ADDRESS),
        "shipping_service": "standard",
    }
    body.update(over)
    return body
