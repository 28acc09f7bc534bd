"""Benchmark: every scheduled sweep over N active shipments, on SQLite or PostgreSQL.

    .venv/bin/python -m benchmarks.sweeps --db sqlite --shipments 1000000
    .venv/bin/python -m benchmarks.sweeps --db postgresql --shipments 1000000

Loads a marketplace straight into the tables (executemany on SQLite, COPY on PostgreSQL, secondary
indexes built after the load), with a realistic share of problems: a few percent of parcels
without a recent scan, unscanned labels, estimates that passed, orders past their ship-by date, and
the last hour of carrier events for the gap learning. Then it runs the whole schedule twice as of
one instant: the first run finds and notifies everything, the second is the steady state (nothing
new). It prints seconds per sweep and in total, and, as the ratio measured in the same run, how the
total compares with one sequential scan of the active shipments: index-driven sweeps cost what they
find, not what is stored.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, text

from benchmarks.fixtures import destination
from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.migrate import migrate
from ordertrail.adapters.db.rows import utc_day
from ordertrail.adapters.db.tables import order_items, orders, shipments, tracking_events
from ordertrail.adapters.db.tables_monitoring import stall_gap_counts, stall_learning
from ordertrail.bootstrap import build
from ordertrail.config import Settings
from ordertrail.entrypoints import collector
from ordertrail.services.sweeps import SCHEDULE

# Just after midnight on a Wednesday: the hourly cycle that crosses a day boundary is the heaviest one,
# as estimates dated yesterday expire and every stall cut-off moves on by a day.
NOW = datetime(2026, 12, 9, 0, 30, tzinfo=UTC)
PREVIOUS = NOW - timedelta(hours=1)
PG_SERVER = os.environ.get("ORDERTRAIL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CARRIERS = ("ups", "usps", "fedex", "dhl")
ABROAD = ("CA", "GB", "DE", "MX")
SCANNED = (
    ("in_transit", 80),
    ("out_for_delivery", 5),
    ("delayed", 3),
    ("delivery_attempted", 2),
    ("available_for_pickup", 2),
    ("exception", 1),
)
CHUNK = 100_000
SELLERS, BUYERS = 1_000, 10_000


def say(msg: str, end: str = "\n") -> None:
    print(msg, end=end, file=sys.stderr, flush=True)


# --- the data -------------------------------------------------------------------------------------


_STATUSES = [name for name, weight in SCANNED for _ in range(weight)]
_ADDRESSES = {
    c: json.dumps({"city": "Springfield", "country_code": c, "postal_code": "00000"}) for c in ABROAD
}
# Domestic parcels all over the country (see fixtures.destination): as many lanes as a real marketplace.
_US_ADDRESSES = [
    json.dumps({"city": "Springfield", "country_code": "US", "country_area": state, "postal_code": postal})
    for state, postal in (destination(k) for k in range(50_000))
]


def marketplace(n: int, seed: int = 7) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """Chunks of rows per table: n active shipments on as many orders, and n/10 orders awaiting
    shipment. Times are drawn so that problems are as rare as they are in practice (a few percent)."""
    rng = random.Random(seed)
    awaiting = n // 10
    total = n + awaiting
    for start in range(0, total, CHUNK):
        out: dict[str, list[tuple[Any, ...]]] = {"orders": [], "order_items": [], "shipments": []}
        for i in range(start, min(total, start + CHUNK)):
            oid = f"ord_b{i:010d}"
            address = (
                _US_ADDRESSES[i % len(_US_ADDRESSES)] if rng.random() < 0.9 else _ADDRESSES[ABROAD[i % 4]]
            )
            if i >= n:  # awaiting shipment: 4 in 100 are past their ship-by date
                late = rng.random() < 0.04
                ship_by = (
                    NOW - timedelta(days=rng.uniform(0, 3))
                    if late
                    else NOW + timedelta(days=rng.uniform(0, 3))
                )
                placed = ship_by - timedelta(days=2)
                promised = (ship_by + timedelta(days=3)).date()
                out["orders"].append(_order(oid, i, "awaiting_shipment", placed, ship_by, promised, address))
                out["order_items"].append((oid, 0, "SKU-1", "Thing", 1, 1999))
                continue
            carrier = CARRIERS[i % len(CARRIERS)]
            if rng.random() < 0.08:  # label created, no carrier scan yet; most of them recent
                status = "pending" if rng.random() < 0.5 else "info_received"
                added = NOW - timedelta(days=rng.expovariate(1 / 0.7))
                first_scan = None
                last = None if status == "pending" else added + timedelta(hours=1)
            else:
                status = _STATUSES[int(rng.random() * len(_STATUSES))]
                # Most parcels were scanned within a day or two; a few have been quiet for long.
                quiet = rng.uniform(2, 12) if rng.random() < 0.03 else rng.expovariate(1 / 0.8)
                last = NOW - timedelta(days=quiet)
                first_scan = last - timedelta(days=rng.uniform(0, 3))
                added = first_scan - timedelta(days=rng.uniform(0.1, 1))
            placed = added - timedelta(days=1)
            ship_by = placed + timedelta(days=2)
            latest = ((last or added) + timedelta(days=2 + i % 5)).date()
            promised = latest + timedelta(days=(i // 7) % 5 - 2)
            out["orders"].append(_order(oid, i, "in_transit", placed, ship_by, promised, address))
            out["order_items"].append((oid, 0, "SKU-1", "Thing", 1, 1999))
            out["shipments"].append(
                (
                    f"shp_b{i:010d}",
                    oid,
                    carrier,
                    f"BENCH{i:012d}",
                    status,
                    placed,
                    added,
                    first_scan,
                    last,
                    utc_day(last),
                    latest - timedelta(days=2),
                    latest,
                    False,
                    False,
                    1 + i % 8,
                    True,
                )
            )
        yield out


def _order(
    oid: str, i: int, status: str, placed: datetime, ship_by: datetime, promised: date, address: str
) -> tuple[Any, ...]:
    return (
        oid,
        f"usr_b{i % BUYERS:06d}",
        f"usr_s{i % SELLERS:05d}",
        status,
        placed,
        placed,
        "USD",
        1999,
        499,
        2498,
        address,
        "standard",
        ship_by,
        promised - timedelta(days=3),
        promised,
    )


ORDER_COLS = [
    "id",
    "buyer_id",
    "seller_id",
    "status",
    "placed_at",
    "updated_at",
    "currency",
    "subtotal",
    "shipping_fee",
    "total",
    "shipping_address",
    "shipping_service",
    "ship_by",
    "promised_earliest",
    "promised_latest",
]
ITEM_COLS = ["order_id", "line_no", "sku", "title", "quantity", "unit_price"]
SHIPMENT_COLS = [
    "id",
    "order_id",
    "carrier",
    "tracking_number",
    "status",
    "created_at",
    "tracking_added_at",
    "first_scan_at",
    "last_event_at",
    "last_event_on",
    "estimated_earliest",
    "estimated_latest",
    "predicted_late",
    "stalled",
    "event_count",
    "active",
]
EVENT_COLS = [
    "shipment_id",
    "id",
    "occurred_at",
    "utc_offset_min",
    "offset_source",
    "status",
    "description",
    "received_at",
    "country_code",
]


def recent_events(n: int, count: int, seed: int = 11) -> list[tuple[Any, ...]]:
    """The last hour's carrier events: two consecutive scans for `count` parcels (the gap learning's input)."""
    rng = random.Random(seed)
    rows = []
    for i in rng.sample(range(n), min(count, n)):
        received = NOW - timedelta(minutes=rng.uniform(6, 60))
        second = received - timedelta(minutes=rng.uniform(1, 30))
        first = second - timedelta(days=rng.expovariate(1 / 0.9))
        for at in (first, second):
            digest = hashlib.sha256(f"{i}|{at.isoformat()}".encode()).hexdigest()[:32]
            rows.append((f"shp_b{i:010d}", digest, at, 0, "event", "in_transit", "Scan", received, "US"))
    return rows


# --- loading --------------------------------------------------------------------------------------


def _sqlite_value(v: Any) -> Any:
    """What SQLAlchemy's column types store on SQLite (every datetime here is already UTC)."""
    kind = type(v)
    if kind is datetime:
        return v.isoformat(" ", "microseconds")[:26]
    if kind is date:
        return v.isoformat()
    if kind is bool:
        return int(v)
    return v


def write(engine: Engine, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if engine.dialect.name == "sqlite":
            marks = ", ".join("?" * len(columns))
            # The engine's connections run in autocommit mode: one explicit transaction, not one per row.
            driver.execute("BEGIN")
            driver.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                [tuple(map(_sqlite_value, r)) for r in rows],
            )
            driver.execute("COMMIT")
        else:
            with driver.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
        raw.commit()
    finally:
        raw.close()


@contextmanager
def indexes_built_after(engine: Engine, tables: Sequence[Table]) -> Iterator[None]:
    """Bulk loads are faster into bare tables; the indexes are built once at the end."""
    found = [ix for t in tables for ix in t.indexes]
    with engine.begin() as c:
        for ix in found:
            ix.drop(c)
    yield
    started = time.perf_counter()
    with engine.begin() as c:
        for ix in found:
            ix.create(c)
    say(f"  indexes built in {time.perf_counter() - started:.1f} s")


def load(engine: Engine, n: int) -> None:
    started = time.perf_counter()
    sqlite = engine.dialect.name == "sqlite"
    people = [
        (f"usr_s{i:05d}", "seller", f"Seller {i}", f"seller{i}@example.com", secrets.token_hex(32), NOW, "[]")
        for i in range(SELLERS)
    ] + [
        (f"usr_b{i:06d}", "buyer", f"Buyer {i}", f"buyer{i}@example.com", secrets.token_hex(32), NOW, "[]")
        for i in range(BUYERS)
    ]
    write(
        engine,
        "users",
        ["id", "role", "name", "email", "api_key_hash", "created_at", "email_opt_out"],
        people,
    )
    total = n + n // 10
    done = 0
    with indexes_built_after(engine, [orders, order_items, shipments, tracking_events]):
        for chunk in marketplace(n):
            write(engine, "orders", ORDER_COLS, chunk["orders"])
            write(engine, "order_items", ITEM_COLS, chunk["order_items"])
            write(engine, "shipments", SHIPMENT_COLS, chunk["shipments"])
            done += len(chunk["orders"])
            rate = done / (time.perf_counter() - started)
            say(f"\r  loading: {done:,}/{total:,} orders ({rate:,.0f} orders/s with their shipments)", end="")
        say("")
        write(engine, "tracking_events", EVENT_COLS, recent_events(n, max(1, n // 50)))
    with engine.begin() as c:
        c.execute(stall_learning.insert().values(id=1, learned_until=PREVIOUS - timedelta(minutes=5)))
        # Thirteen weeks of scan gaps already learned: P95 of 3 business days at home, 5 abroad.
        week = (NOW - timedelta(days=NOW.weekday())).date()
        shapes = {
            "domestic": {0: 4000, 1: 3000, 2: 2000, 3: 700, 5: 300},
            "international": {0: 3000, 1: 2500, 2: 2000, 3: 1200, 5: 800, 7: 500},
        }
        c.execute(
            stall_gap_counts.insert(),
            [
                {
                    "carrier": carrier,
                    "status": status,
                    "lane": lane,
                    "week": week,
                    "business_days": days,
                    "count": n,
                }
                for carrier in CARRIERS
                for status, _ in SCANNED
                for lane, shape in shapes.items()
                for days, n in shape.items()
            ],
        )
    say("  analyzing")
    if sqlite:
        with engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    say(f"  loaded {n:,} active shipments in {time.perf_counter() - started:.1f} s")


@contextmanager
def fresh_database(kind: str) -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="ordertrail-bench-sweeps-") as tmp:
        if kind == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
            yield url, Path(tmp)
            return
        name = f"ordertrail_bench_{secrets.token_hex(4)}"
        server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with server.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
        try:
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
            yield url, Path(tmp)
        finally:
            with server.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()


# --- measuring ------------------------------------------------------------------------------------


def run_schedule(deps: Any, at: datetime) -> tuple[dict[str, float], dict[str, str]]:
    seconds: dict[str, float] = {}
    found: dict[str, str] = {}
    for sweep in SCHEDULE:
        started = time.perf_counter()
        try:
            counts = sweep.run(deps, at)
            found[sweep.name] = ", ".join(f"{k}={v:,}" for k, v in counts.items()) or "nothing"
        except Exception as exc:  # another sweep's failure is reported, not hidden
            found[sweep.name] = f"FAILED {type(exc).__name__}: {exc}"
        seconds[sweep.name] = time.perf_counter() - started
    return seconds, found


def full_scan_seconds(engine: Engine) -> float:
    started = time.perf_counter()
    with engine.connect() as c:
        c.execute(
            text("SELECT count(*), max(last_event_at), sum(event_count) FROM shipments WHERE active = :t"),
            {"t": True},
        ).one()
    return time.perf_counter() - started


def explain(engine: Engine) -> None:
    """The plan of each monitoring query, to see that each is an index range (run with --explain)."""
    from ordertrail.adapters.db.monitoring import SqlMonitoring
    from ordertrail.services.ports_monitoring import StallCutoffs

    statements: list[Any] = []

    class Recorder:
        dialect = engine.dialect

        def execute(self, statement: Any, *args: Any) -> Any:
            statements.append(statement)
            return _Empty()

    queries = SqlMonitoring(Recorder())  # type: ignore[arg-type]
    since = NOW - timedelta(days=30)
    queries.overdue_orders(NOW, since, 5000)
    queries.unscanned(NOW - timedelta(days=2), since, 5000)
    cutoffs = StallCutoffs(
        "in_transit",
        {("ups", "domestic"): NOW - timedelta(days=2)},
        {"domestic": NOW - timedelta(days=3), "international": NOW - timedelta(days=9)},
        "US",
    )
    queries.stall_candidates(cutoffs, since, 5000)
    queries.expired_estimates(NOW.date(), ["in_transit", "pending"], 5000)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as c:
        for statement in statements:
            if engine.dialect.name == "sqlite":
                sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
                rows = c.exec_driver_sql(prefix + sql)
            else:  # typed parameters: PostgreSQL will not compare a timestamp with a bare literal in a CASE
                compiled = statement.compile(
                    dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
                )
                sql = str(compiled)
                rows = c.exec_driver_sql(prefix + sql, compiled.params)
            print("\n" + " ".join(sql.split())[:160] + " ...")
            for row in rows:
                print("   ", row[-1])


class _Empty(list[Any]):
    def all(self) -> list[Any]:
        return []


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--shipments", type=int, default=1_000_000)
    parser.add_argument("--explain", action="store_true", help="print the plan of each monitoring query")
    args = parser.parse_args()
    gc.disable()  # millions of fresh tuples: the cyclic collector would rescan them over and over
    say(f"sweeps benchmark: {args.shipments:,} active shipments on {args.db}")
    with fresh_database(args.db) as (url, tmp):
        container = build(Settings(data_dir=tmp / "data", database_url=url, _env_file=None))  # type: ignore[call-arg]
        try:
            load(container.engine, args.shipments)
            gc.enable()  # the sweeps run as in `ordertrail worker`: collector on, tuned the same way
            collector.tune_for_service()
            if args.explain:
                explain(container.engine)
            scan = full_scan_seconds(container.engine)
            say("  catching up the backlog (the schedule as of an hour earlier)")
            backlog, caught = run_schedule(container.deps, PREVIOUS)
            say("  the hourly cycle, then a rerun")
            cycle, found = run_schedule(container.deps, NOW)
            rerun, again = run_schedule(container.deps, NOW)
        finally:
            container.close()
    width = max(len(s.name) for s in SCHEDULE)
    print(
        f"\n{args.shipments:,} active shipments on {args.db}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'sweep':<{width}}  {'backlog':>8}  {'hourly':>7}  {'rerun':>6}  found in the hourly cycle (as of {NOW:%a %H:%M} UTC)"
    )
    for s in SCHEDULE:
        print(
            f"{s.name:<{width}}  {backlog[s.name]:>7.2f}s  {cycle[s.name]:>6.2f}s  {rerun[s.name]:>5.2f}s  {found[s.name]}"
        )
    t0, t1, t2 = sum(backlog.values()), sum(cycle.values()), sum(rerun.values())
    print(f"{'total':<{width}}  {t0:>7.2f}s  {t1:>6.2f}s  {t2:>5.2f}s")
    print("backlog (everything found at once, as if no sweep had ever run):")
    for name, counts in caught.items():
        if counts not in ("nothing",) and not counts.startswith(
            ("completed=0", "escalated=0", "polled=0", "purged=0")
        ):
            print(f"  {name}: {counts}")
    print(f"one sequential scan of the active shipments: {scan:.2f} s")
    print(
        f"ratio to that scan: hourly cycle {t1 / scan:.1f}x, rerun {t2 / scan:.2f}x, backlog {t0 / scan:.1f}x"
    )
    print(f"hourly cycle and rerun under 10 s: {'yes' if max(t1, t2) < 10 else 'NO'}")
    if any(v.startswith("FAILED") for v in (*caught.values(), *found.values(), *again.values())):
        sys.exit(1)


if __name__ == "__main__":
    main()
