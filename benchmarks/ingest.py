"""Carrier-event ingestion through `POST /v1/carrier-events`, beside the raw insert ceiling.

    python -m benchmarks.ingest [--db sqlite|postgresql|both] [--shipments 100000] [--batch 500] [--clients 4]
                                [--api-processes 2] [--floor]

Loads N shipments in bulk, measures the ceiling (the same event rows inserted into the same
database through the driver in one process, one transaction per batch), removes them again, then
posts the same events over HTTP in batches from several client threads to a served app and prints
both rates and their ratio. With `--floor` (SQLite) it first measures the service's SQL floor on
copies of the loaded database (benchmarks.floor): its own statements replayed without the service.
`python -m benchmarks` runs the same measurement on the full marketplace.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, func, select

from benchmarks.fixtures import (
    T0,
    Database,
    fresh_database,
    load_marketplace,
    progress,
    served,
    tracking_number,
)
from benchmarks.floor import measure as floor_measure
from ordertrail.adapters.db.driver import Values
from ordertrail.adapters.db.engine import WRITER_CACHE_KIB
from ordertrail.adapters.db.shipments import EVENT_COLUMNS, event_values
from ordertrail.adapters.db.tables import outbox, tracking_events
from ordertrail.domain.events import Location, ScanEvent
from ordertrail.domain.statuses import ShipmentStatus as S

STEPS = [
    (S.IN_TRANSIT, "AR", "Arrived at sort facility", Location("Memphis", "TN", "38118", "US")),
    (S.IN_TRANSIT, "DP", "Departed sort facility", Location("Memphis", "TN", "38118", "US")),
    (S.OUT_FOR_DELIVERY, "OD", "On vehicle for delivery", Location("Austin", "TX", "78701", "US")),
    (S.DELIVERED, "DL", "Delivered", Location("Austin", "TX", "78701", "US")),
]


def event_dicts(
    numbers: list[str], per_shipment: int, start: datetime = T0, seed: int = 3
) -> list[dict[str, Any]]:
    """Events interleaved across shipments as a carrier feed sends them (scan k of every parcel, then
    k+1): each batch touches as many parcels as it has events, and half the scans change a status
    (out for delivery, delivered), so notices and order updates are part of the cost."""
    rng = random.Random(seed)
    out = []
    for k in range(per_shipment):
        status, code, description, loc = STEPS[k % len(STEPS)]
        order = numbers[:]
        rng.shuffle(order)
        for number in order:
            at = start + timedelta(hours=6 * (k + 1), seconds=rng.randrange(3600))
            out.append(
                {
                    "tracking_number": number,
                    "occurred_at": at.isoformat(),
                    "status": status.value,
                    "code": code,
                    "description": description,
                    "event_id": f"ev-{number}-{k}",
                    "location": {
                        "city": loc.city,
                        "region": loc.region,
                        "postal_code": loc.postal_code,
                        "country_code": loc.country_code,
                    },
                }
            )
    return out


def _driver_rows(
    engine: Engine, events: list[dict[str, Any]], shipment_ids: dict[str, str]
) -> tuple[str, list[tuple[Any, ...]]]:
    """The INSERT in the driver's own SQL and the rows already converted to driver values (untimed)."""
    with engine.connect() as conn:
        values = Values(conn)
    at = values.dt(T0)
    rows = []
    for e in events:
        loc = e["location"]
        scan = ScanEvent(
            e["tracking_number"],
            datetime.fromisoformat(e["occurred_at"]),
            S(e["status"]),
            e["description"],
            carrier="simulated",
            carrier_code=e["code"],
            event_id=e["event_id"],
            location=Location(loc["city"], loc["region"], loc["postal_code"], loc["country_code"]),
        )
        rows.append(event_values(values, shipment_ids[e["tracking_number"]], scan, at, None))
    marks = ", ".join([values.placeholder] * len(EVENT_COLUMNS))
    return f"INSERT INTO tracking_events ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})", rows


def ceiling(engine: Engine, events: list[dict[str, Any]], shipment_ids: dict[str, str], batch: int) -> float:
    """Rows/s of the same event rows written through the driver, one transaction per batch, then removed."""
    sql, params = _driver_rows(engine, events, shipment_ids)
    raw = engine.raw_connection()
    explicit_begin = engine.dialect.name == "sqlite"  # the SQLite driver connection is in autocommit mode
    try:
        cur = raw.cursor()
        if explicit_begin:  # the page cache of the service's writer, not a reader's smaller one
            cur.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        start = time.perf_counter()
        for b in range(0, len(params), batch):
            if explicit_begin:
                cur.execute("BEGIN")
            cur.executemany(sql, params[b : b + batch])
            raw.commit() if not explicit_begin else cur.execute("COMMIT")
        elapsed = time.perf_counter() - start
        cur.close()
    finally:
        if explicit_begin:
            raw.detach()  # closed, not pooled with the writer's cache size
        raw.close()
    with engine.begin() as c:
        keys = sorted({(p[0], p[1]) for p in params})
        mark = "?" if engine.dialect.name == "sqlite" else "%s"
        c.exec_driver_sql(f"DELETE FROM tracking_events WHERE shipment_id = {mark} AND id = {mark}", keys)
    return len(params) / elapsed


def over_http(
    base: str, key: str, events: list[dict[str, Any]], batch: int, clients: int
) -> tuple[float, int]:
    """Events/s posted in batches by `clients` threads, each with its own keep-alive connection."""
    bodies = [orjson.dumps({"events": events[b : b + batch]}) for b in range(0, len(events), batch)]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    accepted = 0
    lock = threading.Lock()
    next_body = iter(range(len(bodies)))
    done = 0
    failures: list[str] = []

    def client_loop() -> None:
        nonlocal accepted, done
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            while True:
                with lock:
                    i = next(next_body, None)
                if i is None:
                    return
                r = http.post("/v1/carrier-events", content=bodies[i])
                with lock:
                    if r.status_code != 202:
                        failures.append(f"{r.status_code} {r.text[:300]}")
                        return
                    accepted += r.json()["accepted"]
                    done += 1
                    progress("posting batches", done, len(bodies))

    start = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"ingest failed: {failures[0]}")
    return len(events) / (time.perf_counter() - start), accepted


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def measure(
    db: Database,
    key: str,
    events: list[dict[str, Any]],
    shipment_ids: dict[str, str],
    batch: int,
    clients: int,
    api_processes: int = 1,
    settle: Callable[[], None] = lambda: None,
    floor: bool = False,
) -> dict[str, Any]:
    """The ceiling, then the same events over HTTP; every event must be accepted and stored once.
    With `floor` (SQLite), the SQL floor first, on copies of the database as it is now."""
    floor_figures: dict[str, Any] = {}
    if floor:
        if db.engine.dialect.name != "sqlite":
            raise SystemExit("--floor replays through SQLite's driver: run it with --db sqlite")
        sql, rows = _driver_rows(db.engine, events, shipment_ids)
        batches = [events[b : b + batch] for b in range(0, len(events), batch)]
        floor_figures = floor_measure(Path(db.engine.url.database or ""), batches, sql, rows)
        del sql, rows
    print(
        f"  ingest: {len(events):,} events in batches of {batch}, {clients} clients, "
        f"{api_processes} API process(es); ceiling first",
        file=sys.stderr,
    )
    before = count(db.engine, tracking_events)
    ceiling_rate = ceiling(db.engine, events, shipment_ids, batch)
    if count(db.engine, tracking_events) != before:
        raise SystemExit("the ceiling's rows were not removed")
    settle()
    notices_before = count(db.engine, outbox)
    with served(db, workers=api_processes) as base:
        rate, accepted = over_http(base, key, events, batch, clients)
    stored = count(db.engine, tracking_events) - before
    if accepted != len(events) or stored != len(events):
        raise SystemExit(f"lost events: posted {len(events)}, accepted {accepted}, stored {stored}")
    return {
        "events_per_s": round(rate),
        "ceiling_per_s": round(ceiling_rate),
        "ratio": round(rate / ceiling_rate, 3),
        "events": len(events),
        "notices": count(db.engine, outbox) - notices_before,
        "clients": clients,
        "batch": batch,
        "api_processes": api_processes,
        **floor_figures,
    }


def run(
    kind: str,
    n_shipments: int,
    per_shipment: int,
    batch: int,
    clients: int,
    api_processes: int,
    floor: bool = False,
) -> dict[str, Any]:
    print(f"[{kind}] {n_shipments:,} shipments, {per_shipment} events each", file=sys.stderr)
    with fresh_database(kind) as db:
        key, _ = load_marketplace(db.engine, n_shipments)
        numbers = [tracking_number(i) for i in range(n_shipments)]
        ids = {tracking_number(i): f"shp_b{i:010d}" for i in range(n_shipments)}
        events = event_dicts(numbers, per_shipment)
        return measure(db, key, events, ids, batch, clients, api_processes, floor=floor)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    p.add_argument("--shipments", type=int, default=100_000)
    p.add_argument("--events-per-shipment", type=int, default=2)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument(
        "--api-processes",
        type=int,
        default=2,
        help="API processes (`ordertrail serve --workers`): one per core",
    )
    p.add_argument(
        "--floor",
        action="store_true",
        help="also replay the service's own statements without the service, on SQLite (benchmarks.floor)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure this many times, each on a fresh database, and print every ratio and their median "
        "(two runs of the same code on this kind of machine differ by up to 15 %%)",
    )
    args = p.parse_args(argv)
    if args.floor and args.db == "postgresql":
        p.error("--floor replays through SQLite's driver: use --db sqlite or both")
    if args.repeat < 1:
        p.error("--repeat takes 1 or more")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for i in range(args.repeat):
        for k in kinds:
            if args.repeat > 1:
                print(f"run {i + 1} of {args.repeat}", file=sys.stderr)
            runs[k].append(
                run(
                    k,
                    args.shipments,
                    args.events_per_shipment,
                    args.batch,
                    args.clients,
                    args.api_processes,
                    args.floor and k == "sqlite" and i == 0,
                )
            )
    results = {k: rs[0] for k, rs in runs.items()}
    for k, rs in runs.items():
        for r in rs:
            print(
                f"{k:>10}: {r['events_per_s']:>9,} events/s over HTTP | ceiling {r['ceiling_per_s']:>9,} rows/s "
                f"through the driver | ratio {r['ratio']:.1%}"
            )
        if len(rs) > 1:
            ratios = sorted(r["ratio"] for r in rs)
            print(
                f"{k:>10}: median ratio {statistics.median(ratios):.1%} of {len(rs)} runs "
                f"(from {ratios[0]:.1%} to {ratios[-1]:.1%})"
            )
            results[k] = {**rs[0], "runs": rs, "median_ratio": statistics.median(ratios)}
    for r in results.values():
        if "floor_per_s" in r:
            print(
                f"{'in process':>10}: {r['in_process_per_s']:>9,} events/s, the service without HTTP, one thread | "
                f"{r['python_us_per_event']} µs an event beyond its SQL\n"
                f"{'floor':>10}: {r['floor_per_s']:>9,} events/s, the service's statements replayed alone | "
                f"ceiling replayed {r['replayed_ceiling_per_s']:>9,} rows/s | ratio {r['floor_ratio']:.1%} | "
                f"pages per event {r['pages_per_event']} against {r['ceiling_pages_per_event']} | "
                f"commits {r['floor_commit_share']:.0%} of the replay\n"
                f"{'':>10}  {r['unindexed_floor_per_s']:>9,} events/s without the sweeps' watches and the "
                f"histories' indexes | ratio {r['unindexed_floor_ratio']:.1%} | "
                f"pages per event {r['unindexed_pages_per_event']}\n"
                f"{'':>10}  the floor gains "
                + ", ".join(f"{gain:+.0%} without {group}" for group, gain in r["floor_gain_without"].items())
                + "\n"
                f"{'':>10}  where the floor goes: "
                + ", ".join(
                    f"{kind} {share:.0%}" for kind, share in r["floor_shares"].items() if share >= 0.01
                )
            )
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
