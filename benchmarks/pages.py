"""The order page and its live-update poll, on a loaded database.

    python -m benchmarks.pages [--db sqlite|postgresql|both] [--orders 100000] [--events-per-order 10]
                               [--samples 2000]

An open order page asks the database every second whether its tracking changed (`tracking_version`,
one aggregate over the order's shipments) and re-renders only when it did (`order_page` and the
template). This measures both, in process, for random orders of a loaded marketplace, and the whole
page over HTTP (TestClient, with a signed-in session): the ratio says what the poll costs beside a
re-render, and how many open pages one database connection can keep live.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.e2e.page_session import use_link

from benchmarks.fixtures import Database, fresh_database, load_events, load_marketplace
from ordertrail.adapters.db.tables import users
from ordertrail.bootstrap import build
from ordertrail.config import Settings
from ordertrail.entrypoints.web.app import create_app
from ordertrail.services import overviews
from ordertrail.services.sign_in import issue_link


def timed(fn: Callable[[str], Any], ids: list[str]) -> dict[str, float]:
    samples = []
    for oid in ids:
        t = time.perf_counter()
        fn(oid)
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {
        "mean_ms": statistics.fmean(samples),
        "p50_ms": samples[len(samples) // 2],
        "p99_ms": samples[int(len(samples) * 0.99)],
    }


def run(db: Database, n_orders: int, per_order: int, samples: int) -> None:
    load_marketplace(db.engine, n_orders)
    load_events(db.engine, n_orders, per_order)
    with db.engine.begin() as c:
        c.execute(update(users).where(users.c.id == "usr_bench_buyer").values(email="buyer@bench.example"))
    settings = Settings(
        data_dir=db.data_dir / "data",
        database_url=db.url,
        base_url="http://testserver",
        rate_limit_key_per_minute=0,
        rate_limit_address_per_minute=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    container = build(settings)
    deps = container.deps
    rng = random.Random(7)
    ids = [f"ord_b{rng.randrange(n_orders):010d}" for _ in range(samples)]
    with deps.uow() as uow:
        buyer = uow.users.get("usr_bench_buyer")
    assert buyer is not None
    poll = timed(lambda oid: overviews.tracking_version(deps, oid), ids)
    view = timed(lambda oid: overviews.order_page(deps, buyer, oid), ids)
    with TestClient(create_app(container)) as client:
        link = issue_link(deps, "buyer@bench.example")
        assert link is not None
        use_link(client, link.url)

        def page(oid: str) -> None:
            r = client.get(f"/orders/{oid}")
            assert r.status_code == 200, r.status_code

        html = timed(page, ids)
    container.close()
    print(f"\n{db.engine.dialect.name}: {n_orders} orders x {per_order} scans, {samples} random orders")
    for name, r in (
        ("live poll (tracking_version)", poll),
        ("order view (order_page)", view),
        ("page over HTTP", html),
    ):
        print(
            f"  {name:30s} mean {r['mean_ms']:7.3f} ms  p50 {r['p50_ms']:7.3f} ms  p99 {r['p99_ms']:7.3f} ms"
        )
    print(
        f"  a poll costs 1/{view['mean_ms'] / poll['mean_ms']:.1f} of the view it saves re-reading, "
        f"1/{html['mean_ms'] / poll['mean_ms']:.1f} of a page load"
    )
    print(
        f"  one database connection keeps about {1000 / poll['mean_ms']:.0f} open pages live at one poll a second"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--events-per-order", type=int, default=10)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        with fresh_database(kind) as db:
            run(db, args.orders, args.events_per_order, args.samples)


if __name__ == "__main__":
    main()
