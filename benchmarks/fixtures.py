"""Benchmark fixtures: fresh databases, fast bulk loading (not through the API), a served app."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text

from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.migrate import migrate
from ordertrail.adapters.db.tables import order_items, orders, shipments, users
from ordertrail.services.users import hash_key

PG_SERVER = os.environ.get("ORDERTRAIL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADDRESS = {"name": "Bench Buyer", "street_address": "1 Main St", "city": "AUSTIN", "country_area": "TX",
           "postal_code": "78701", "country_code": "US"}


def progress(label: str, done: int, total: int) -> None:
    if sys.stderr.isatty() or done == total or done % max(1, total // 10) == 0:
        print(f"\r  {label}: {done:,}/{total:,} ({100 * done // max(1, total)}%)", end="" if done < total else "\n",
              file=sys.stderr, flush=True)


@dataclass
class Database:
    url: str
    engine: Engine
    data_dir: Path


@contextmanager
def fresh_database(kind: str) -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="ordertrail-bench-") as tmp:
        if kind == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
            engine = make_engine(url)
            migrate(engine)
            yield Database(url, engine, Path(tmp))
            engine.dispose()
            return
        name = f"ordertrail_bench_{secrets.token_hex(4)}"
        server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with server.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
        engine = make_engine(url)
        migrate(engine)
        try:
            yield Database(url, engine, Path(tmp))
        finally:
            engine.dispose()
            with server.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()


def tracking_number(i: int) -> str:
    return f"SIM{i:010d}"


def load_marketplace(engine: Engine, n_shipments: int, chunk: int = 20_000) -> tuple[str, str]:
    """One seller and one buyer, n orders each with one shipment of the simulated carrier.

    Returns the (carrier api key, seller id). Rows go in with executemany in large chunks.
    """
    key = "bench-carrier-" + secrets.token_hex(8)
    with engine.begin() as c:
        c.execute(users.insert(), [
            {"id": "usr_bench_seller", "role": "seller", "name": "Bench Seller", "email": None,
             "api_key_hash": hash_key("seller-" + key), "created_at": T0, "email_opt_out": []},
            {"id": "usr_bench_buyer", "role": "buyer", "name": "Bench Buyer", "email": None,
             "api_key_hash": hash_key("buyer-" + key), "created_at": T0, "email_opt_out": []},
            {"id": "usr_bench_carrier", "role": "carrier", "name": "Bench Carrier", "email": None,
             "api_key_hash": hash_key(key), "created_at": T0, "email_opt_out": []},
        ])
    for start in range(0, n_shipments, chunk):
        stop = min(n_shipments, start + chunk)
        o_rows, i_rows, s_rows = [], [], []
        for i in range(start, stop):
            placed = T0 + timedelta(seconds=i % 86_400)
            oid = f"ord_b{i:010d}"
            o_rows.append({
                "id": oid, "buyer_id": "usr_bench_buyer", "seller_id": "usr_bench_seller", "status": "shipped",
                "placed_at": placed, "updated_at": placed, "currency": "USD", "subtotal": 1999, "shipping_fee": 499,
                "total": 2498, "shipping_address": ADDRESS, "shipping_service": "standard",
                "ship_by": placed + timedelta(days=2), "promised_earliest": date(2026, 11, 6),
                "promised_latest": date(2026, 11, 9),
            })
            i_rows.append({"order_id": oid, "line_no": 0, "sku": "SKU-1", "title": "Thing", "quantity": 1, "unit_price": 1999})
            s_rows.append({
                "id": f"shp_b{i:010d}", "order_id": oid, "carrier": "simulated", "tracking_number": tracking_number(i),
                "items": None, "status": "pending", "created_at": placed, "tracking_added_at": placed,
                "predicted_late": False, "stalled": False, "event_count": 0, "active": True,
                "estimated_earliest": date(2026, 11, 6), "estimated_latest": date(2026, 11, 9),
            })
        with engine.begin() as c:
            c.execute(orders.insert(), o_rows)
            c.execute(order_items.insert(), i_rows)
            c.execute(shipments.insert(), s_rows)
        progress("loading shipments", stop, n_shipments)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
    return key, "usr_bench_seller"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(db: Database, extra_env: dict[str, str] | None = None, workers: int = 1) -> Iterator[str]:
    """`ordertrail serve` in a subprocess on a free loopback port, without the in-process worker."""
    port = free_port()
    env = {**os.environ, "ORDERTRAIL_DATABASE_URL": db.url, "ORDERTRAIL_DATA_DIR": str(db.data_dir),
           "ORDERTRAIL_IN_PROCESS_WORKER": "false", **(extra_env or {})}
    cmd = [sys.executable, "-m", "ordertrail.entrypoints.cli", "serve", "--port", str(port), "--no-worker"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not become ready in 60 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
