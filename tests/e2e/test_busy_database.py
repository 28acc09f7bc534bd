"""A write that cannot get at the database in time is answered 503 with Retry-After, a problem that
says to retry, and leaves nothing behind (SQLite: one writer at a time)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ordertrail.bootstrap import Container, build
from ordertrail.config import Settings
from ordertrail.entrypoints.web.app import create_app
from tests.conftest import ADMIN_KEY, BACKEND, FixedClock, order_body

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's single writer only")

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def quick(settings: Settings, clock: FixedClock) -> Iterator[tuple[Container, TestClient]]:
    container = build(settings.model_copy(update={"database_write_wait_seconds": 0.3}), clock=clock)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield container, client
    container.close()


def _seller(client: TestClient) -> str:
    r = client.post("/v1/users", json={"role": "seller", "name": "Sunny"}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _orders(container: Container) -> int:
    with container.deps.read_uow() as uow:
        return int(uow.conn.exec_driver_sql("SELECT count(*) FROM orders").scalar_one())


def _assert_busy(r: object) -> None:
    assert r.status_code == 503, r.text  # type: ignore[attr-defined]
    assert r.headers["Retry-After"] == "2"  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["type"].endswith("/busy") and "Retry" in body["detail"]


def test_a_write_waiting_too_long_for_the_writer_connection_is_refused_with_503(
    quick: tuple[Container, TestClient],
) -> None:
    container, client = quick
    seller = _seller(client)
    buyer = client.post("/v1/users", json={"role": "buyer", "name": "Ana"}, headers=ADMIN).json()
    auth = {"Authorization": f"Bearer {buyer['api_key']}"}
    with container.deps.uow():  # a long write elsewhere in the process holds the one connection
        _assert_busy(client.post("/v1/orders", json=order_body(seller), headers=auth))
    assert _orders(container) == 0
    assert client.post("/v1/orders", json=order_body(seller), headers=auth).status_code == 201


def test_a_write_locked_out_by_another_process_is_refused_with_503(
    quick: tuple[Container, TestClient], settings: Settings
) -> None:
    container, client = quick
    seller = _seller(client)
    buyer = client.post("/v1/users", json={"role": "buyer", "name": "Ana"}, headers=ADMIN).json()
    auth = {"Authorization": f"Bearer {buyer['api_key']}"}
    path = settings.resolved_database_url.split("///", 1)[-1]
    other = sqlite3.connect(path, isolation_level=None)  # e.g. `ordertrail worker` mid-transaction
    try:
        other.execute("BEGIN IMMEDIATE")
        _assert_busy(client.post("/v1/orders", json=order_body(seller), headers=auth))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _orders(container) == 0
    assert client.post("/v1/orders", json=order_body(seller), headers=auth).status_code == 201
