"""kill -9 during a stream of orders and carrier-event batches: nothing acknowledged is lost, nothing is half done.

A real `ordertrail serve` process takes orders and event batches from two client threads; it is killed
with SIGKILL in the middle of the stream and started again on the same database. Then every request
that got a 2xx must be wholly there (the order with its lines, its first history entry and its
confirmation in the outbox; every event of the batch, and the shipment's state derived from them), and
every request whose answer was lost must be there wholly or not at all. A client that retries an order
whose answer it never got, with the same Idempotency-Key, ends up with exactly one order.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.tables import order_items, order_status_history, orders, outbox, tracking_events
from ordertrail.adapters.db.uow import SqlUnitOfWork
from ordertrail.domain.events import derive_state
from tests.conftest import ADMIN_KEY, order_body
from tests.security.served import Served

pytestmark = pytest.mark.slow

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
BATCH = 20
SHIPMENTS = 8


@dataclass
class Outcomes:
    acked: dict[str, Any] = field(default_factory=dict)  # request key -> what the 2xx said
    unanswered: list[str] = field(default_factory=list)  # sent, but the answer never came


def user(client: httpx.Client, role: str, name: str) -> dict[str, Any]:
    r = client.post("/v1/users", json={"role": role, "name": name}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return dict(r.json())


def place_orders(base: str, buyer_key: str, seller_id: str, out: Outcomes, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        for i in range(10_000):
            if stop.is_set():
                return
            key = f"crash-{i}"
            try:
                r = client.post(
                    "/v1/orders",
                    json=order_body(seller_id),
                    headers={"Authorization": f"Bearer {buyer_key}", "Idempotency-Key": key},
                )
            except httpx.HTTPError:
                out.unanswered.append(key)
                return
            assert r.status_code == 201, r.text
            out.acked[key] = r.json()["id"]


def batch_events(b: int, numbers: list[str]) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(days=2)
    return [
        {
            "tracking_number": numbers[j % len(numbers)],
            "event_id": f"b{b}-e{j}",
            "occurred_at": (start + timedelta(minutes=b * BATCH + j)).isoformat(),
            "status": "in_transit",
            "description": f"Hub scan {b}.{j}",
        }
        for j in range(BATCH)
    ]


def post_batches(
    base: str, carrier_key: str, numbers: list[str], out: Outcomes, stop: threading.Event
) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        for b in range(10_000):
            if stop.is_set():
                return
            try:
                r = client.post(
                    "/v1/carrier-events",
                    json={"events": batch_events(b, numbers)},
                    headers={"Authorization": f"Bearer {carrier_key}"},
                )
            except httpx.HTTPError:
                out.unanswered.append(f"b{b}")
                return
            assert r.status_code == 202, r.text
            out.acked[f"b{b}"] = r.json()


def count(conn: Any, table: Any, *where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_a_server_killed_mid_stream_keeps_every_acknowledged_request_whole_and_none_half_applied(
    database_url: str, tmp_path: Path
) -> None:
    server = Served(database_url, tmp_path)
    server.start()
    try:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            seller, buyer, carrier = (
                user(client, "seller", "S"),
                user(client, "buyer", "B"),
                user(client, "carrier", "C"),
            )
            numbers = []
            for n in range(SHIPMENTS):
                order = client.post(
                    "/v1/orders",
                    json=order_body(seller["id"]),
                    headers={"Authorization": f"Bearer {buyer['api_key']}"},
                )
                number = f"SIM{700_000_000 + n:010d}"
                r = client.post(
                    f"/v1/orders/{order.json()['id']}/shipments",
                    json={"tracking_number": number, "carrier": "simulated"},
                    headers={"Authorization": f"Bearer {seller['api_key']}"},
                )
                assert r.status_code == 201, r.text
                numbers.append(number)

        placed, batches, stop = Outcomes(), Outcomes(), threading.Event()
        threads = [
            threading.Thread(
                target=place_orders, args=(server.base, buyer["api_key"], seller["id"], placed, stop)
            ),
            threading.Thread(
                target=post_batches, args=(server.base, carrier["api_key"], numbers, batches, stop)
            ),
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while (len(placed.acked) < 25 or len(batches.acked) < 25) and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # mid-stream: both clients have requests in flight
        for t in threads:
            t.join(timeout=30)
        stop.set()
        assert len(placed.acked) >= 25 and len(batches.acked) >= 25
        assert placed.unanswered and batches.unanswered  # the kill cut requests off

        server.start()  # the same database, after the crash
        engine = make_engine(database_url)
        with engine.connect() as conn:
            # Every order there is whole: lines, first history entry, confirmation queued.
            streamed = select(orders.c.id).where(orders.c.idempotency_key.like("crash-%"))
            ids = [r.id for r in conn.execute(streamed)]
            for order_id in ids:
                assert count(conn, order_items, order_items.c.order_id == order_id) == 1
                assert count(conn, order_status_history, order_status_history.c.order_id == order_id) == 1
                assert (
                    count(conn, outbox, outbox.c.order_id == order_id, outbox.c.type == "order_confirmed")
                    == 1
                )
            # ...and every acknowledged one is there.
            assert set(placed.acked.values()) <= set(ids)
            # A batch is all there or not at all; an acknowledged one is all there.
            for b in range(len(batches.acked) + len(batches.unanswered)):
                stored = count(conn, tracking_events, tracking_events.c.provider_event_id.like(f"b{b}-%"))
                assert stored in (0, BATCH), f"batch {b}: {stored} of {BATCH} events stored"
                if f"b{b}" in batches.acked:
                    assert stored == BATCH
        # Each shipment's stored state is the one its stored events derive.
        with SqlUnitOfWork(engine, readonly=True) as uow:
            found = uow.shipments.by_tracking_numbers(numbers)
            shipments = [refs[0][0] for refs in found.values()]
            events = uow.events.for_shipments([s.id for s in shipments])
        for s in shipments:
            state = derive_state(events.get(s.id, []))
            assert (s.status, s.event_count, s.last_event_at) == (
                state.status,
                state.event_count,
                state.last_event_at,
            )
        engine.dispose()

        # A client retrying the order it got no answer for, with the same key, gets one order.
        with httpx.Client(base_url=server.base, timeout=10) as client:
            for key in placed.unanswered:
                r = client.post(
                    "/v1/orders",
                    json=order_body(seller["id"]),
                    headers={"Authorization": f"Bearer {buyer['api_key']}", "Idempotency-Key": key},
                )
                assert r.status_code in (200, 201), r.text
        engine = make_engine(database_url)
        with engine.connect() as conn:
            for key in placed.unanswered:
                assert count(conn, orders, orders.c.idempotency_key == key) == 1
        engine.dispose()
    finally:
        server.stop()
