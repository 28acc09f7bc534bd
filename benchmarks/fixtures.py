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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text

from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.migrate import migrate
from ordertrail.adapters.db.tables import order_items, orders, shipments, users
from ordertrail.services.users import hash_key

PG_SERVER = os.environ.get("ORDERTRAIL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Orders were placed two days before the run, so parcels are mid-journey with their promise ahead of
# them, as on a live marketplace (a fixed date would make every parcel late as the calendar moves on).
T0 = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=2)
PROMISED = (T0.date() + timedelta(days=5), T0.date() + timedelta(days=9))
ADDRESS = {
    "name": "Bench Buyer",
    "street_address": "1 Main St",
    "city": "AUSTIN",
    "country_area": "TX",
    "postal_code": "78701",
    "country_code": "US",
}
SELLERS = 1_000
US_STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
]


def seller_id(i: int) -> str:
    return "usr_bench_seller" if i % SELLERS == 0 else f"usr_bench_seller_{i % SELLERS:04d}"


def destination(i: int) -> tuple[str, str]:
    """(state, postal code) of order i: spread over the 50 states and ~950 three-digit postal areas, so
    parcels travel on as many lanes (seller x state x postal area) as on a real marketplace, not on one
    lane whose estimates every parcel could share."""
    h = (i * 2654435761) % 2**32
    state = h % len(US_STATES)
    return US_STATES[state], f"{state * 19 + (h // 50) % 19:03d}{(h // 950) % 100:02d}"


def progress(label: str, done: int, total: int) -> None:
    if sys.stderr.isatty() or done == total or done % max(1, total // 10) == 0:
        print(
            f"\r  {label}: {done:,}/{total:,} ({100 * done // max(1, total)}%)",
            end="" if done < total else "\n",
            file=sys.stderr,
            flush=True,
        )


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
    """A thousand sellers and one buyer, n orders each with one shipment of the simulated carrier, to
    addresses all over the United States.

    Returns the (carrier api key, seller id). Rows go in with executemany in large chunks.
    """
    key = "bench-carrier-" + secrets.token_hex(8)
    with engine.begin() as c:
        c.execute(
            users.insert(),
            [
                {
                    "id": "usr_bench_seller",
                    "role": "seller",
                    "name": "Bench Seller",
                    "email": None,
                    "api_key_hash": hash_key("seller-" + key),
                    "created_at": T0,
                    "email_opt_out": [],
                },
                *(
                    {
                        "id": seller_id(k),
                        "role": "seller",
                        "name": f"Bench Seller {k}",
                        "email": None,
                        "api_key_hash": hash_key(f"seller-{k}-" + key),
                        "created_at": T0,
                        "email_opt_out": [],
                    }
                    for k in range(1, SELLERS)
                ),
                {
                    "id": "usr_bench_buyer",
                    "role": "buyer",
                    "name": "Bench Buyer",
                    "email": None,
                    "api_key_hash": hash_key("buyer-" + key),
                    "created_at": T0,
                    "email_opt_out": [],
                },
                {
                    "id": "usr_bench_carrier",
                    "role": "carrier",
                    "name": "Bench Carrier",
                    "email": None,
                    "api_key_hash": hash_key(key),
                    "created_at": T0,
                    "email_opt_out": [],
                },
            ],
        )
    for start in range(0, n_shipments, chunk):
        stop = min(n_shipments, start + chunk)
        o_rows, i_rows, s_rows = [], [], []
        for i in range(start, stop):
            placed = T0 + timedelta(seconds=i % 86_400)
            oid = f"ord_b{i:010d}"
            state, postal = destination(i)
            o_rows.append(
                {
                    "id": oid,
                    "buyer_id": "usr_bench_buyer",
                    "seller_id": seller_id(i),
                    "status": "shipped",
                    "placed_at": placed,
                    "updated_at": placed,
                    "currency": "USD",
                    "subtotal": 1999,
                    "shipping_fee": 499,
                    "total": 2498,
                    "shipping_address": {**ADDRESS, "country_area": state, "postal_code": postal},
                    "shipping_service": "standard",
                    "ship_by": placed + timedelta(days=2),
                    "promised_earliest": PROMISED[0],
                    "promised_latest": PROMISED[1],
                }
            )
            i_rows.append(
                {
                    "order_id": oid,
                    "line_no": 0,
                    "sku": "SKU-1",
                    "title": "Thing",
                    "quantity": 1,
                    "unit_price": 1999,
                }
            )
            s_rows.append(
                {
                    "id": f"shp_b{i:010d}",
                    "order_id": oid,
                    "carrier": "simulated",
                    "tracking_number": tracking_number(i),
                    "items": None,
                    "status": "pending",
                    "created_at": placed,
                    "tracking_added_at": placed,
                    "predicted_late": False,
                    "stalled": False,
                    "event_count": 0,
                    "active": True,
                    "estimated_earliest": PROMISED[0],
                    "estimated_latest": PROMISED[1],
                }
            )
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


def load_events(engine: Engine, n_shipments: int, per_shipment: int, chunk_shipments: int = 5_000) -> int:
    """per_shipment scans for each of n shipments, written straight through the driver."""
    from ordertrail.adapters.db.driver import Values, insert_values
    from ordertrail.adapters.db.shipments import EVENT_COLUMNS, event_values
    from ordertrail.domain.events import Location, ScanEvent
    from ordertrail.domain.statuses import ShipmentStatus as S

    hubs = [
        Location("Memphis", "TN", "38118", "US"),
        Location("Louisville", "KY", "40209", "US"),
        Location("Dallas", "TX", "75261", "US"),
        Location("Austin", "TX", "78701", "US"),
    ]
    total = 0
    for start in range(0, n_shipments, chunk_shipments):
        stop = min(n_shipments, start + chunk_shipments)
        with engine.begin() as conn:
            v = Values(conn)
            at = v.dt(T0)
            rows = []
            for i in range(start, stop):
                number = tracking_number(i)
                for k in range(per_shipment):
                    scan = ScanEvent(
                        number,
                        T0 + timedelta(hours=3 * k, seconds=i % 3600),
                        S.IN_TRANSIT,
                        f"Scan {k}: arrived at sort facility",
                        carrier="simulated",
                        carrier_code="AR",
                        location=hubs[k % len(hubs)],
                    )
                    rows.append(event_values(v, f"shp_b{i:010d}", scan, at, None))
            insert_values(
                conn, "tracking_events", EVENT_COLUMNS, rows, chunk=max(1, 30_000 // len(EVENT_COLUMNS))
            )
            total += len(rows)
        progress("loading events", stop, n_shipments)
    return total


# Hubs and scans of the generated history, picked per scan by its number (k % 4).
_HISTORY_PLACES = (
    ("MEMPHIS", "TN", "38118"),
    ("LOUISVILLE", "KY", "40209"),
    ("DALLAS", "TX", "75261"),
    ("AUSTIN", "TX", "78701"),
)


def _pick(k: str, values: tuple[str, ...], modulo: str) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {k} {modulo} {len(values)} {whens} END"


def load_scan_history(engine: Engine, per_shipment: int, chunk_shipments: int = 100_000) -> int:
    """per_shipment carrier scans for every shipment, generated by the database itself.

    One INSERT ... SELECT per chunk of shipments (by id) crossed with the scan numbers: no row passes
    through Python, so ten million events load in minutes. Ids are 32 characters like the content
    hashes the service writes, so the stored size per row is the real one. Foreign-key checks are
    skipped for the load (every row is made from an existing shipment); the primary key stays.
    """
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as c:
        ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM shipments ORDER BY id")]
    k, mod = "k.n", "%%" if pg else "%"  # psycopg reads a lone % as a placeholder
    city, region, postal = (_pick(k, tuple(p[i] for p in _HISTORY_PLACES), mod) for i in range(3))
    status = _pick(k, ("info_received", "in_transit", "in_transit", "in_transit"), mod)
    code = _pick(k, ("PU", "AR", "DP", "AR"), mod)
    description = _pick(
        k,
        ("Label created", "Arrived at sort facility", "Departed sort facility", "Arrived at sort facility"),
        mod,
    )
    if pg:
        scans = f"generate_series(0, {per_shipment - 1}) AS k(n)"
        event_id = "md5(s.id || ':' || k.n)"
        occurred = "s.tracking_added_at + k.n * interval '5 hours'"
        received = "s.tracking_added_at + k.n * interval '5 hours' + interval '2 minutes'"
    else:
        scans = f"(WITH RECURSIVE r(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM r WHERE n < {per_shipment - 1}) SELECT n FROM r) AS k"
        # hex(id) is 30 characters for the benchmark's ids: with the scan number, 32 and unique.
        event_id = "substr(hex(s.id) || printf('%02d', k.n), -32)"
        occurred = (
            "strftime('%Y-%m-%d %H:%M:%S', s.tracking_added_at, '+' || (5 * k.n) || ' hours') || '.000000'"
        )
        received = "strftime('%Y-%m-%d %H:%M:%S', s.tracking_added_at, '+' || (5 * k.n) || ' hours', '+2 minutes') || '.000000'"
    sql = (
        "INSERT INTO tracking_events (shipment_id, id, occurred_at, utc_offset_min, offset_source, status, "
        "description, carrier_code, city, region, postal_code, country_code, received_at) "
        f"SELECT s.id, {event_id}, {occurred}, -360, 'event', {status}, {description}, {code}, {city}, "
        f"{region}, {postal}, 'US', {received} FROM shipments s CROSS JOIN {scans} "
        "WHERE s.id >= {lo} AND s.id <= {hi}"
    )
    mark = "%s" if pg else "?"
    total = 0
    for start in range(0, len(ids), chunk_shipments):
        part = ids[start : start + chunk_shipments]
        with engine.begin() as c:
            if pg:
                c.exec_driver_sql("SET LOCAL session_replication_role = replica")  # no FK triggers
            else:
                c.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            total += c.exec_driver_sql(sql.format(lo=mark, hi=mark), (part[0], part[-1])).rowcount
        progress("generating carrier history", start + len(part), len(ids))
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server(str):
    """The base URL of a served app, with its process (for resident-memory readings)."""

    proc: subprocess.Popen[bytes]

    def peak_rss_mb(self) -> float:
        """Peak resident memory (VmHWM) of the server process and its children, in MB."""
        pids = [self.proc.pid]
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        peak = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        return peak / 1024


@contextmanager
def served(db: Database, extra_env: dict[str, str] | None = None, workers: int = 1) -> Iterator[Server]:
    """`ordertrail serve` in a subprocess on a free loopback port, without the in-process worker."""
    port = free_port()
    env = {
        **os.environ,
        "ORDERTRAIL_DATABASE_URL": db.url,
        "ORDERTRAIL_DATA_DIR": str(db.data_dir),
        "ORDERTRAIL_IN_PROCESS_WORKER": "false",
        # Throughput is what is measured here, so the per-caller request limits are off.
        "ORDERTRAIL_RATE_LIMIT_KEY_PER_MINUTE": "0",
        "ORDERTRAIL_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
        **(extra_env or {}),
    }
    cmd = [sys.executable, "-m", "ordertrail.entrypoints.cli", "serve", "--port", str(port), "--no-worker"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    # The request log goes to a file: a pipe nobody reads would fill up and stall the server.
    log_path = db.data_dir / f"server-{port}.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = Server(f"http://127.0.0.1:{port}")
    base.proc = proc
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
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
