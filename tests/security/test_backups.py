"""`ordertrail backup` while orders and scans keep arriving, then `ordertrail restore`: one consistent instant."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ordertrail.bootstrap import Container
from ordertrail.config import Settings
from ordertrail.domain.orders import LineItem
from ordertrail.domain.statuses import ShipmentStatus as S
from ordertrail.entrypoints.cli import app as cli
from ordertrail.services.ingest import EventInput, ingest_events
from ordertrail.services.orders import PlaceOrder, place_order
from tests.conftest import ADDRESS, FixedClock, Party
from tests.e2e.conftest import Api

KEY_TABLES = ("orders", "order_items", "order_status_history", "outbox", "shipments", "tracking_events")


def checksum(db: Path, table: str, where: str = "") -> tuple[int, str]:
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(f'SELECT * FROM "{table}" {where} ORDER BY 1, 2').fetchall()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture
def sqlite_only(settings: Settings) -> Path:
    if not settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("ordertrail backup covers the embedded SQLite database; PostgreSQL has pg_dump")
    return Path(settings.resolved_database_url.split("///", 1)[1])


def writer(
    container: Container, buyer: Party, seller: Party, number: str, stop: threading.Event, done: list[int]
) -> None:
    """Orders and scans, one transaction each, numbered so that a snapshot must hold a prefix of them."""
    with container.deps.uow() as uow:
        user = uow.users.get(buyer.id)
    assert user is not None
    start = container.deps.clock() - timedelta(days=1)
    i = 0
    while not stop.is_set():
        cmd = PlaceOrder(seller.id, [LineItem("SKU", "Thing", 1, 100)], "USD", 0, dict(ADDRESS), "standard")
        place_order(container.deps, user, cmd, idempotency_key=f"load-{i:06d}")
        event = EventInput(
            number, start + timedelta(seconds=i), "Hub scan", status=S.IN_TRANSIT, event_id=f"load-{i:06d}"
        )
        ingest_events(container.deps, [(0, event)])
        done.append(i)
        i += 1


def test_a_backup_under_write_load_restores_to_one_consistent_instant(
    api: Api,
    buyer: Party,
    seller: Party,
    clock: FixedClock,
    settings: Settings,
    sqlite_only: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = api.order(buyer, seller)
    number = api.ship(order["id"], seller, "SIM0400000001", carrier="simulated")["tracking_number"]
    monkeypatch.setenv("ORDERTRAIL_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("ORDERTRAIL_DATA_DIR", str(settings.data_dir))

    stop, done = threading.Event(), []
    thread = threading.Thread(target=writer, args=(api.container, buyer, seller, number, stop, done))
    thread.start()
    try:
        while len(done) < 30:
            threading.Event().wait(0.01)
        backup = tmp_path / "backup.db"
        result = CliRunner().invoke(cli, ["backup", str(backup)])
        written_during = len(done)
        while len(done) < written_during + 20:  # the load goes on after the backup's instant
            threading.Event().wait(0.01)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output

    with closing(sqlite3.connect(backup)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        keys = [
            r[0]
            for r in conn.execute(
                "SELECT idempotency_key FROM orders WHERE idempotency_key LIKE 'load-%' ORDER BY 1"
            )
        ]
        events = [
            r[0]
            for r in conn.execute(
                "SELECT provider_event_id FROM tracking_events WHERE provider_event_id LIKE 'load-%' ORDER BY 1"
            )
        ]
        status, count = conn.execute(
            "SELECT status, event_count FROM shipments WHERE tracking_number = ?", (number,)
        ).fetchone()
    # One instant: the orders and scans written before it, all of them, and none after.
    assert keys == [f"load-{i:06d}" for i in range(len(keys))] and 30 <= len(keys) < len(done)
    assert len(events) in (len(keys), len(keys) - 1)  # the scan of the order in flight may or may not be in
    assert (status, count) == ("in_transit", len(events))
    # Each key table holds, row for row, what the live database holds for that instant.
    placed_before = (
        f"(SELECT id FROM orders WHERE idempotency_key IS NULL OR idempotency_key < 'load-{len(keys):06d}')"
    )
    scoped = {
        "orders": f"WHERE id IN {placed_before}",
        "order_items": f"WHERE order_id IN {placed_before}",
        "order_status_history": f"WHERE order_id IN {placed_before}",
        "tracking_events": f"WHERE provider_event_id IS NULL OR provider_event_id < 'load-{len(events):06d}'",
    }
    for table, where in scoped.items():
        assert checksum(backup, table, where) == checksum(sqlite_only, table, where), table

    # Restore into the service's database (the service stopped) and find the same instant there.
    api.container.close()
    kept = checksum(sqlite_only, "orders")
    declined = CliRunner().invoke(cli, ["restore", str(backup)], input="n\n")
    assert declined.exit_code == 1 and "Replace the database, which holds" in declined.output
    assert checksum(sqlite_only, "orders") == kept  # asked first, and nothing replaced on a no
    restored = CliRunner().invoke(cli, ["restore", str(backup)], input="y\n")
    assert restored.exit_code == 0, restored.output
    for table in KEY_TABLES:
        assert checksum(sqlite_only, table) == checksum(backup, table), table
    with closing(sqlite3.connect(sqlite_only)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_damaged_backup_is_refused_and_the_database_is_left_alone(
    api: Api,
    buyer: Party,
    seller: Party,
    sqlite_only: Path,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api.order(buyer, seller)
    monkeypatch.setenv("ORDERTRAIL_DATABASE_URL", settings.resolved_database_url)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    before = checksum(sqlite_only, "orders")
    result = CliRunner().invoke(cli, ["restore", str(bad)])
    assert result.exit_code == 2 and "error" in result.output
    assert checksum(sqlite_only, "orders") == before


def test_backup_of_a_postgresql_database_points_to_its_own_tools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ORDERTRAIL_DATABASE_URL", "postgresql+psycopg://db.invalid/ordertrail")
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "pg_dump" in result.output


def test_a_file_that_is_not_an_ordertrail_backup_is_refused(
    api: Api,
    buyer: Party,
    seller: Party,
    sqlite_only: Path,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It used to replace the database with any SQLite file, an empty one included, and exit 0."""
    api.order(buyer, seller)
    api.container.close()
    monkeypatch.setenv("ORDERTRAIL_DATABASE_URL", settings.resolved_database_url)
    before = checksum(sqlite_only, "orders")
    empty, other = tmp_path / "empty.db", tmp_path / "other.db"
    sqlite3.connect(empty).close()
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
    for path in (empty, other, tmp_path):
        result = CliRunner().invoke(cli, ["restore", "--yes", str(path)])
        assert result.exit_code == 2 and "error:" in result.output, result.output
        assert "not an ordertrail backup" in result.output or "no backup file" in result.output
    assert checksum(sqlite_only, "orders") == before


def test_restore_refuses_while_the_service_has_the_database_open(
    api: Api,
    buyer: Party,
    seller: Party,
    sqlite_only: Path,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api.order(buyer, seller)
    monkeypatch.setenv("ORDERTRAIL_DATABASE_URL", settings.resolved_database_url)
    backup = tmp_path / "backup.db"
    assert CliRunner().invoke(cli, ["backup", str(backup)]).exit_code == 0
    api.order(buyer, seller)  # the service is up, its connections open
    before = checksum(sqlite_only, "orders")
    result = CliRunner().invoke(cli, ["restore", "--yes", str(backup)])
    assert result.exit_code == 2 and "in use: stop `ordertrail serve`" in result.output, result.output
    assert checksum(sqlite_only, "orders") == before
