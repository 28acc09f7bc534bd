"""The production shape on one database: two API processes and two worker processes.

On PostgreSQL the processes lock the shipments they write; on SQLite, where writers take turns for
the whole file, each API process works its batch out before the write lock and writes it only if
the shipments are still as it read them, while the other process writes (services.ingest): here the
clients race the same parcels on purpose, so plans are dropped and redone under the lock often.

Several carrier clients post overlapping batches of the same scans (each client all of them, in its
own order and batch sizes, with repeats) to both API processes at once, while two `ordertrail
worker` processes fan the outbox out. Every distinct event must be accepted once and stored once,
each shipment must end in the state its events derive, every notice must be written once, and
every outbox row must reach the inbox exactly once.

Real processes with the real clock: the test waits for the workers by polling the database with a
deadline, never by sleeping a fixed time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.tables import notifications, outbox, shipments, tracking_events
from tests.conftest import ADMIN_KEY, order_body
from tests.security.served import Served

pytestmark = pytest.mark.slow

WORKER = [sys.executable, "-m", "ordertrail.entrypoints.cli", "worker"]
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
SHIPMENTS, CLIENTS = 12, 4
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
# Per parcel: four hub scans (two with the carrier's event id, two without), then out for delivery
# and delivered, an hour apart: the two that notify arrive in whatever order the clients race them.
SCANS = [("in_transit", f"Hub scan {k}", k % 2 == 0) for k in range(4)] + [
    ("out_for_delivery", "On vehicle for delivery", True),
    ("delivered", "Delivered, front door", True),
]


def env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "ORDERTRAIL_DATABASE_URL": database_url,
        "ORDERTRAIL_DATA_DIR": str(data_dir),
        "ORDERTRAIL_SECRET_KEY": "multi-process-test-secret-" + "s" * 16,
        "ORDERTRAIL_WORKER_POLL_SECONDS": "0.05",
        "ORDERTRAIL_OUTBOX_BATCH_SIZE": "7",
        "ORDERTRAIL_LOG_LEVEL": "WARNING",
    }


@contextmanager
def worker(database_url: str, data_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (data_dir / "worker.log").open("ab")
    proc = subprocess.Popen(WORKER, env={**os.environ, **env(database_url, data_dir)}, stdout=log, stderr=log)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@contextmanager
def api_process(database_url: str, data_dir: Path) -> Iterator[Served]:
    server = Served(database_url, data_dir, **env(database_url, data_dir))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def scans_of(number: str, i: int) -> list[dict[str, Any]]:
    out = []
    for k, (status, description, with_id) in enumerate(SCANS):
        event = {
            "tracking_number": number,
            "occurred_at": (START + timedelta(hours=k, minutes=i)).isoformat(),
            "status": status,
            "description": description,
            "location": {"city": "Austin", "region": "TX", "country_code": "US"},
        }
        if with_id:
            event["event_id"] = f"{number}-{k}"
        out.append(event)
    return out


def client_plan(events: list[dict[str, Any]], rng: random.Random) -> list[list[dict[str, Any]]]:
    """All the events in a shuffled order with a few repeats, cut into batches of 3 to 15."""
    sent = [*events, *rng.sample(events, 8)]
    rng.shuffle(sent)
    batches = []
    while sent:
        size = rng.randint(3, 15)
        batches.append(sent[:size])
        sent = sent[size:]
    return batches


def post_plan(
    bases: list[str], key: str, plan: list[list[dict[str, Any]]], start: threading.Barrier, out: list[Any]
) -> None:
    """Each batch to the next API process in turn, over one keep-alive connection to each."""
    clients = [
        httpx.Client(base_url=b, timeout=30, headers={"Authorization": f"Bearer {key}"}) for b in bases
    ]
    try:
        start.wait()
        for n, batch in enumerate(plan):
            r = clients[n % len(clients)].post("/v1/carrier-events", json={"events": batch})
            out.append((r.status_code, r.json()))
    finally:
        for c in clients:
            c.close()


def wait_for_outbox(engine: Engine, seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with engine.connect() as c:
            pending = c.execute(select(func.count()).where(outbox.c.state != "done")).scalar_one()
        if pending == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{pending} outbox rows still not delivered")
        time.sleep(0.05)


def test_two_api_and_two_worker_processes_under_concurrent_ingest_lose_and_repeat_nothing(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    with ExitStack() as stack:
        apis = [stack.enter_context(api_process(database_url, tmp_path)) for _ in range(2)]
        bases = [a.base for a in apis]
        with httpx.Client(base_url=bases[0], timeout=30, headers=ADMIN) as admin:
            people = {
                role: admin.post("/v1/users", json={"role": role, "name": role}).json()
                for role in ("buyer", "seller", "carrier")
            }
            buyer_auth = {"Authorization": f"Bearer {people['buyer']['api_key']}"}
            seller_auth = {"Authorization": f"Bearer {people['seller']['api_key']}"}
            numbers = [f"SIM{700_000_000 + i:010d}" for i in range(SHIPMENTS)]
            for i, number in enumerate(numbers):  # set up through both processes alike
                api = httpx.Client(base_url=bases[i % 2], timeout=30)
                with api:
                    order = api.post(
                        "/v1/orders", json=order_body(people["seller"]["id"]), headers=buyer_auth
                    )
                    assert order.status_code == 201, order.text
                    shipped = api.post(
                        f"/v1/orders/{order.json()['id']}/shipments",
                        json={"tracking_number": number, "carrier": "simulated"},
                        headers=seller_auth,
                    )
                    assert shipped.status_code == 201, shipped.text
        events = [e for i, n in enumerate(numbers) for e in scans_of(n, i)]
        for _ in range(2):
            stack.enter_context(worker(database_url, tmp_path))

        rng = random.Random(11)
        plans = [client_plan(events, rng) for _ in range(CLIENTS)]
        start = threading.Barrier(CLIENTS)
        answers: list[list[Any]] = [[] for _ in range(CLIENTS)]
        threads = [
            threading.Thread(
                target=post_plan, args=(bases, people["carrier"]["api_key"], plans[i], start, answers[i])
            )
            for i in range(CLIENTS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_for_outbox(engine)
        batches = Counter[str]()
        for base in bases:
            for line in httpx.get(base + "/metrics", timeout=10).text.splitlines():
                if line.startswith("ordertrail_ingest_batches_total{"):
                    batches[line.split('plan="')[1].split('"')[0]] += int(float(line.split()[-1]))

    replies = [reply for answer in answers for status, reply in answer if status == 202]
    assert len(replies) == sum(len(p) for p in plans)  # every batch answered 202, no 5xx, no 409
    assert sum(batches.values()) == len(replies)
    if database_url.startswith("sqlite"):  # each process saw the other write, so it planned ahead
        assert batches["ahead"] + batches["again"] > 0
    else:  # row locks: always planned under them
        assert batches["locked"] == len(replies)
    assert all(reply["rejected"] == [] for reply in replies)
    # Every distinct event accepted exactly once across all clients and both processes.
    assert sum(r["accepted"] for r in replies) == len(events)
    assert sum(r["duplicates"] for r in replies) == sum(len(b) for p in plans for b in p) - len(events)

    with engine.connect() as c:
        stored = c.execute(select(tracking_events.c.shipment_id, tracking_events.c.provider_event_id)).all()
        final = c.execute(select(shipments.c.status, shipments.c.event_count)).all()
        rows = c.execute(select(outbox.c.id, outbox.c.type, outbox.c.recipient_id, outbox.c.order_id)).all()
        inbox = c.execute(select(notifications.c.outbox_id, notifications.c.user_id)).all()
    engine.dispose()

    # Stored once each: six per parcel, and each carrier event id once.
    assert len(stored) == len(events)
    assert set(Counter(sid for sid, _ in stored).values()) == {len(SCANS)}
    with_ids = [pid for _, pid in stored if pid is not None]
    assert sorted(with_ids) == sorted(e["event_id"] for e in events if "event_id" in e)
    # Each parcel ends as its events derive, whatever order they arrived in.
    assert final == [("delivered", len(SCANS))] * SHIPMENTS
    # A notice per condition, never two: one "delivered" per order, at most one "out for delivery".
    per_order = Counter((r.type, r.order_id) for r in rows if r.type in ("delivered", "out_for_delivery"))
    assert max(per_order.values()) == 1
    assert sum(1 for t, _ in per_order if t == "delivered") == SHIPMENTS
    # Every outbox row reached its recipient's inbox exactly once, through either worker.
    to_people = sorted(r.id for r in rows if r.recipient_id is not None)
    assert len(to_people) >= 3 * SHIPMENTS  # confirmed, shipped, delivered at least
    assert sorted(outbox_id for outbox_id, _ in inbox) == to_people
