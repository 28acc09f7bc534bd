"""`make bench`: ingest, lookup, sweeps and memory at marketplace scale, each beside its ceiling.

    .venv/bin/python -m benchmarks [--scale 1.0] [--db both|sqlite|postgresql] [--seconds 20]
                                   [--connections 4] [--clients 4] [--ingest-processes 2]

For each database, one marketplace is loaded in bulk (not through the API) and reused, step by step:

1. `benchmarks/sweeps.py` loads 1,000,000 active shipments (and 100,000 orders awaiting shipment)
   with their problems, and times every sweep over them: the backlog, the hourly cycle (the figure
   reported) and a rerun.
2. Ten carrier scans per shipment are generated in the database: 10,000,000 events.
3. ingest: the raw insert rate of the ingest's event rows through the driver in one process (the
   ceiling; the rows are removed again), then the same events posted in batches of 500 by several
   clients to `ordertrail serve`. Every event must be accepted and stored exactly once.
4. lookup: wrk against a trivial endpoint (the ceiling) and then `GET /v1/orders/{id}/tracking` for
   random orders, same server, same client, same concurrency; p50/p99; the server's peak RSS.

It prints a table with the targets, one JSON summary line (also written to
benchmarks/out/summary-<time>.json, with the details beside it in details-<time>.json). `--scale 0.1`
runs everything on a tenth of the data in a few minutes.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks import ingest, lookup, sweeps
from benchmarks.fixtures import PG_SERVER, T0, Database, load_scan_history
from benchmarks.machine import describe, table_sizes
from ordertrail.adapters.db.tables import users
from ordertrail.bootstrap import Container, build
from ordertrail.config import Settings
from ordertrail.entrypoints import collector
from ordertrail.services.outbox import dispatch
from ordertrail.services.users import hash_key

OUT = Path(__file__).parent / "out"
TARGETS = {
    "ingest_ratio": 0.30,
    "lookup_ratio": 0.50,
    "lookup_p99_ms": 25.0,
    "sweep_seconds": 10.0,
    "rss_mb": 300.0,
}


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def carrier_key(db: Database) -> str:
    key = "bench-carrier-" + str(random.getrandbits(64))
    with db.engine.begin() as c:
        c.execute(
            users.insert().values(
                id="usr_bench_carrier",
                role="carrier",
                name="Carrier",
                email=None,
                api_key_hash=hash_key(key),
                created_at=T0,
                email_opt_out=[],
            )
        )
    return key


def analyze(db: Database) -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
    settle(db)


def settle(db: Database) -> None:
    """Write out what the previous step left dirty, so that its checkpoint does not land in the next
    step's measurement (each step is measured from the same steady state)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("CHECKPOINT"))
    else:
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()


def fan_out(container: Container) -> dict[str, float]:
    """The ingest's notices fanned out to the inbox (and e-mail queue) by one worker, in process:
    the worker side of the capacity model. The sweeps' own notices are dated at their simulated
    time, still in the future, so only the ingest's are due."""
    claimed, started = 0, time.perf_counter()
    while (report := dispatch(container.deps, 500)).claimed:
        claimed += report.claimed
    elapsed = time.perf_counter() - started
    say(f"  outbox: {claimed:,} notices fanned out in {elapsed:.1f} s")
    return {"notices": claimed, "per_s": round(claimed / elapsed) if claimed else 0}


def run_database(kind: str, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    n = max(1_000, int(1_000_000 * args.scale))
    started = time.perf_counter()
    steps: dict[str, float] = {}
    say(f"\n=== {kind}: {n:,} active shipments, {n * args.events_per_shipment:,} events")
    with sweeps.fresh_database(kind) as (url, tmp):
        container = build(Settings(data_dir=tmp / "data", database_url=url, _env_file=None))  # type: ignore[call-arg]
        db = Database(url, container.engine, tmp)
        try:
            gc.disable()  # millions of fresh tuples: the cyclic collector would rescan them over and over
            try:
                sweeps.load(container.engine, n)
            finally:
                gc.enable()
            collector.tune_for_service()  # as `ordertrail worker` does
            steps["load_shipments_s"] = time.perf_counter() - started

            say("  sweeps: the backlog, the hourly cycle, a rerun")
            backlog, _ = sweeps.run_schedule(container.deps, sweeps.PREVIOUS)
            hourly, found = sweeps.run_schedule(container.deps, sweeps.NOW)
            rerun, again = sweeps.run_schedule(container.deps, sweeps.NOW)
            failed = [f"{k}: {v}" for k, v in (*found.items(), *again.items()) if v.startswith("FAILED")]
            if failed:
                raise SystemExit(f"a sweep failed: {failed[0]}")

            mark = time.perf_counter()
            events = load_scan_history(container.engine, args.events_per_shipment)
            analyze(db)
            steps["load_events_s"] = time.perf_counter() - mark
            say(f"  {events:,} events generated in {steps['load_events_s']:.0f} s")

            rng = random.Random(5)
            picked = rng.sample(range(n), max(1, args.ingest_events // len(ingest.STEPS)))
            numbers = [f"BENCH{i:012d}" for i in picked]
            shipment_ids = {f"BENCH{i:012d}": f"shp_b{i:010d}" for i in picked}
            feed = ingest.event_dicts(numbers, len(ingest.STEPS), start=sweeps.NOW + timedelta(days=3))
            processes = args.ingest_processes
            mark = time.perf_counter()
            ingested = ingest.measure(
                db,
                carrier_key(db),
                feed,
                shipment_ids,
                args.batch,
                args.clients,
                processes,
                lambda: settle(db),
            )
            steps["ingest_s"] = time.perf_counter() - mark
            fanout = fan_out(container)
            settle(db)
            sizes = table_sizes(container.engine)  # now with the ingest's notices in the inbox too

            mark = time.perf_counter()
            order_ids = [f"ord_b{i:010d}" for i in range(n)]  # the orders with a shipment and its scans
            looked = lookup.measure(db, order_ids, args.connections, args.seconds, args.lookup_processes)
            steps["lookup_s"] = time.perf_counter() - mark
        finally:
            container.close()
    steps["total_s"] = time.perf_counter() - started
    summary = {
        "ingest": {k: ingested[k] for k in ("events_per_s", "ceiling_per_s", "ratio")},
        "lookup": looked["lookup"],
        "sweep": {"seconds": round(sum(hourly.values()), 2)},
        "rss": looked["rss"],
    }
    details = {
        "shipments": n,
        "events": events,
        "ingest": ingested,
        "outbox_fan_out": fanout,
        "lookup": {
            **looked["lookup"],
            "ceiling_p50_ms": looked["ceiling_p50_ms"],
            "ceiling_p99_ms": looked["ceiling_p99_ms"],
            "connections": args.connections,
            "seconds": args.seconds,
            "api_processes": args.lookup_processes,
        },
        "sweep": {
            "hourly_s": {k: round(v, 3) for k, v in hourly.items()},
            "backlog_s": round(sum(backlog.values()), 2),
            "rerun_s": round(sum(rerun.values()), 2),
            "found": found,
        },
        "storage": sizes,
        "steps_s": {k: round(v, 1) for k, v in steps.items()},
    }
    return summary, details


def verdicts(s: dict[str, Any]) -> dict[str, bool]:
    return {
        "ingest": s["ingest"]["ratio"] >= TARGETS["ingest_ratio"],
        "lookup": s["lookup"]["ratio"] >= TARGETS["lookup_ratio"]
        and s["lookup"]["p99_ms"] < TARGETS["lookup_p99_ms"],
        "sweep": s["sweep"]["seconds"] < TARGETS["sweep_seconds"],
        "rss": s["rss"]["mb"] < TARGETS["rss_mb"],
    }


def table(results: dict[str, Any]) -> str:
    kinds = [k for k in ("sqlite", "postgresql") if k in results]
    rows = [
        ("ingest events/s", lambda s: f"{s['ingest']['events_per_s']:,}"),
        ("  ceiling rows/s (driver)", lambda s: f"{s['ingest']['ceiling_per_s']:,}"),
        ("  ratio (target >= 30%)", lambda s: f"{s['ingest']['ratio']:.1%}"),
        ("lookup req/s", lambda s: f"{s['lookup']['rps']:,}"),
        ("  ceiling req/s (/healthz)", lambda s: f"{s['lookup']['ceiling_rps']:,}"),
        ("  ratio (target >= 50%)", lambda s: f"{s['lookup']['ratio']:.1%}"),
        ("  p50 ms", lambda s: f"{s['lookup']['p50_ms']}"),
        ("  p99 ms (target < 25)", lambda s: f"{s['lookup']['p99_ms']}"),
        ("sweeps s (target < 10)", lambda s: f"{s['sweep']['seconds']}"),
        ("peak RSS MB (target < 300)", lambda s: f"{s['rss']['mb']}"),
    ]
    lines = [f"{'':<30}" + "".join(f"{k:>24}" for k in kinds)]
    for label, cell in rows:
        lines.append(f"{label:<30}" + "".join(f"{cell(results[k]):>24}" for k in kinds))
    lines.append(
        f"{'targets met':<30}"
        + "".join(
            f"{', '.join(n for n, ok in verdicts(results[k]).items() if ok) or 'none':>24}" for k in kinds
        )
    )
    missed = {k: [n for n, ok in verdicts(results[k]).items() if not ok] for k in kinds}
    lines.append(f"{'targets missed':<30}" + "".join(f"{', '.join(missed[k]) or 'none':>24}" for k in kinds))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="share of 1,000,000 shipments (0.1: a tenth)")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--events-per-shipment", type=int, default=10)
    p.add_argument("--ingest-events", type=int, default=None, help="events posted (default 100,000 x scale)")
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--clients", type=int, default=4, help="concurrent ingest clients")
    p.add_argument(
        "--ingest-processes", type=int, default=2, help="API processes for the ingest (serve --workers)"
    )
    p.add_argument("--lookup-processes", type=int, default=1, help="API processes for the lookups")
    # Four requests in flight keep one API process busy (8 gave the same throughput, twice the latency).
    p.add_argument("--connections", type=int, default=4, help="concurrent lookup connections (wrk)")
    p.add_argument("--seconds", type=int, default=20, help="wrk duration per endpoint")
    args = p.parse_args(argv)
    if args.ingest_events is None:
        args.ingest_events = max(4_000, int(100_000 * args.scale))
    lookup.require_wrk()
    machine = describe(PG_SERVER)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if "postgresql" in kinds and machine["postgres"] is None:
        raise SystemExit(
            f"PostgreSQL is not reachable at {PG_SERVER} (ORDERTRAIL_BENCH_PG_URL); try --db sqlite"
        )
    results: dict[str, Any] = {}
    details: dict[str, Any] = {"args": vars(args)}
    for kind in kinds:
        results[kind], details[kind] = run_database(kind, args)
    results["machine"] = machine
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    OUT.mkdir(exist_ok=True)
    (OUT / f"summary-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    (OUT / f"details-{stamp}.json").write_text(json.dumps(details, indent=2) + "\n")
    print(
        f"\nordertrail benchmarks at scale {args.scale} ({machine['cores']} cores, {machine['cpu_model']}, "
        f"load average {machine['load_average_at_start']} at start)"
    )
    print(table(results))
    print(f"details: {OUT / f'details-{stamp}.json'}")
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
