"""Tracking lookups: `GET /v1/orders/{id}/tracking` for random orders, beside a trivial endpoint.

    python -m benchmarks.lookup [--db sqlite|postgresql|both] [--orders 100000] [--events-per-order 10]
                                [--connections 4] [--seconds 20]

Loads N orders with one shipment each and K events per shipment in bulk, serves the app, and drives
both endpoints with wrk (Debian package `wrk`) at the same concurrency from the same client:
requests/s, p50 and p99 latency, and the server's peak resident memory. `python -m benchmarks`
runs the same measurement on the full marketplace.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.fixtures import T0, Database, fresh_database, load_marketplace, load_scan_history, served
from ordertrail.adapters.db.tables import users
from ordertrail.services.users import hash_key

LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
math.randomseed(%(seed)d)
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/v1/orders/" .. id .. "/tracking", {["Authorization"] = "Bearer %(key)s"})
end
"""

WRK_MISSING = (
    "wrk drives the lookups: install it with `apt-get install -y wrk` (Debian/Ubuntu) and run again."
)


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(WRK_MISSING)


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, connections: int, seconds: int, script: Path | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    if rps is None or p50 is None or p99 is None or "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw failed requests or printed no figures:\n{out}")
    return {"rps": float(rps.group(1)), "p50_ms": _ms(p50.group(1)), "p99_ms": _ms(p99.group(1))}


def support_key(db: Database) -> str:
    """A support agent may look at every order: the lookups pick orders at random."""
    key = "bench-support-key-" + str(random.getrandbits(64))
    with db.engine.begin() as c:
        c.execute(
            users.insert().values(
                id="usr_bench_support",
                role="support",
                name="Support",
                email=None,
                api_key_hash=hash_key(key),
                created_at=T0,
                email_opt_out=[],
            )
        )
    return key


def measure(
    db: Database, order_ids: list[str], connections: int, seconds: int, api_processes: int = 1
) -> dict[str, Any]:
    """The trivial endpoint, then the lookups, on one served app; its peak RSS over both."""
    require_wrk()
    key = support_key(db)
    print(
        f"  lookup: {connections} connections, {seconds} s per endpoint, {api_processes} API process(es)",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory() as tmp:
        ids = Path(tmp) / "ids.txt"
        rng = random.Random(7)
        ids.write_text("\n".join(rng.choice(order_ids) for _ in range(100_000)))
        script = Path(tmp) / "lookup.lua"
        script.write_text(LUA % {"ids": ids, "seed": 7, "key": key})
        with served(db, workers=api_processes) as base:
            wrk(base + "/healthz", connections, 2)  # warm-up
            trivial = wrk(base + "/healthz", connections, seconds)
            wrk(base, connections, 2, script)
            lookup = wrk(base, connections, seconds, script)
            rss = base.peak_rss_mb()
    return {
        "lookup": {
            "rps": round(lookup["rps"]),
            "ceiling_rps": round(trivial["rps"]),
            "ratio": round(lookup["rps"] / trivial["rps"], 3),
            "p50_ms": round(lookup["p50_ms"], 2),
            "p99_ms": round(lookup["p99_ms"], 2),
        },
        "ceiling_p50_ms": round(trivial["p50_ms"], 2),
        "ceiling_p99_ms": round(trivial["p99_ms"], 2),
        "rss": {"mb": round(rss, 1)},
    }


def run(kind: str, n_orders: int, per_order: int, connections: int, seconds: int) -> dict[str, Any]:
    print(
        f"[{kind}] {n_orders:,} orders, {n_orders * per_order:,} events, {connections} connections",
        file=sys.stderr,
    )
    with fresh_database(kind) as db:
        load_marketplace(db.engine, n_orders)
        load_scan_history(db.engine, per_order)
        return measure(db, [f"ord_b{i:010d}" for i in range(n_orders)], connections, seconds)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--events-per-order", type=int, default=10)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--seconds", type=int, default=20)
    args = p.parse_args(argv)
    require_wrk()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = {k: run(k, args.orders, args.events_per_order, args.connections, args.seconds) for k in kinds}
    for k, r in results.items():
        lk = r["lookup"]
        print(
            f"{k:>10}: {lk['rps']:>7,} req/s tracking (p50 {lk['p50_ms']} ms, p99 {lk['p99_ms']} ms) | trivial "
            f"{lk['ceiling_rps']:>7,} req/s (p99 {r['ceiling_p99_ms']} ms) | ratio {lk['ratio']:.1%} | peak RSS {r['rss']['mb']} MB"
        )
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
