"""`ordertrail worker` as real processes: killed with SIGKILL mid-batch it loses nothing, and two of them
on one PostgreSQL database deliver every notification exactly once to the inbox.

These run the worker with the real clock (it is another process); the test waits for it by polling
the database with a deadline, never by sleeping a fixed time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ordertrail.adapters.db.tables import notifications, outbox
from ordertrail.adapters.db.tables_monitoring import deliveries
from ordertrail.bootstrap import Container, build
from ordertrail.config import Settings
from ordertrail.domain.orders import LineItem
from ordertrail.services.orders import PlaceOrder, place_order
from ordertrail.services.users import create_user
from ordertrail.services.webhooks import create_subscription
from tests.conftest import ADDRESS
from tests.receivers import Endpoint, Sink, http_endpoint, smtp_server

WORKER = [str(Path(sys.executable).with_name("ordertrail")), "worker"]
pytestmark = pytest.mark.slow


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def worker(settings: Settings, smtp_port: int, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    environ = {
        **os.environ,
        "ORDERTRAIL_DATABASE_URL": settings.resolved_database_url,
        "ORDERTRAIL_DATA_DIR": str(settings.data_dir),
        "ORDERTRAIL_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "ORDERTRAIL_WORKER_POLL_SECONDS": "0.05",
        # The endpoint listens on loopback; the worker checks every address it sends to.
        "ORDERTRAIL_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        **env,
    }
    proc = subprocess.Popen(WORKER, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
        if proc.stderr:
            proc.stderr.close()


def populate(settings: Settings, endpoint: Endpoint, orders: int) -> Container:
    """A buyer with e-mail, a seller with a webhook subscription, and `orders` orders: as many
    outbox rows, each due for the inbox, one e-mail and one webhook."""
    container = build(settings.model_copy(update={"webhook_allow_private_targets": True}))
    deps = container.deps
    buyer = create_user(deps, "buyer", "Ana", "ana@example.com").user
    seller = create_user(deps, "seller", "Sunny", "shop@example.com").user
    create_subscription(deps, seller, endpoint.url, ["*"])
    item = LineItem("TSHIRT-M", "Logo T-shirt", 1, 1999)
    for _ in range(orders):
        place_order(deps, buyer, PlaceOrder(seller.id, [item], "USD", 499, dict(ADDRESS), "standard"))
    return container


def count(container: Container, query: object) -> int:
    with container.engine.connect() as c:
        return int(c.execute(query).scalar_one())  # type: ignore[call-overload]


def everything_done(container: Container, n: int) -> bool:
    done = count(container, select(func.count()).select_from(deliveries).where(deliveries.c.state == "done"))
    pending = count(container, select(func.count()).select_from(outbox).where(outbox.c.state != "done"))
    return pending == 0 and done == 2 * n


def event_ids(container: Container) -> set[str]:
    with container.engine.connect() as c:
        return {r.payload["event_id"] for r in c.execute(select(outbox.c.payload))}


def assert_inbox_exactly_once(container: Container, n: int) -> None:
    assert count(container, select(func.count()).select_from(outbox)) == n
    assert count(container, select(func.count()).select_from(notifications)) == n
    assert count(container, select(func.count(func.distinct(notifications.c.outbox_id)))) == n
    assert count(container, select(func.count()).select_from(outbox).where(outbox.c.state == "done")) == n


def received_ids(sink: Sink, endpoint: Endpoint) -> tuple[list[str], list[str]]:
    mails = [str(m["X-Ordertrail-Event-Id"]) for m in sink.received()]
    hooks = [r.headers["Ordertrail-Event-Id"] for r in endpoint.received()]
    return mails, hooks


def test_a_worker_killed_with_sigkill_mid_batch_loses_nothing(settings: Settings) -> None:
    n = 60
    with smtp_server(delay=0.05) as (sink, port), http_endpoint() as endpoint:
        endpoint.delay = 0.02
        container = populate(settings, endpoint, n)
        try:
            tuning = {
                "ORDERTRAIL_OUTBOX_BATCH_SIZE": "7",
                "ORDERTRAIL_DELIVERY_BATCH_SIZE": "10",
                "ORDERTRAIL_DELIVERY_LEASE_SECONDS": "1.5",
            }
            sink.hold_after = 15
            with worker(settings, port, **tuning) as first:
                wait_for(sink.holding.is_set, "the worker to be in the middle of a batch of e-mails")
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)
            assert first.returncode == -signal.SIGKILL
            sink.gate.set()
            # It died with work in flight: not everything was sent, and some deliveries are still leased.
            assert len(sink.received()) < n
            with container.engine.connect() as c:
                leased = c.execute(
                    select(func.count()).where(
                        deliveries.c.state == "pending", deliveries.c.claim_token.is_not(None)
                    )
                ).scalar_one()
            assert leased > 0

            with worker(settings, port, **tuning):
                wait_for(lambda: everything_done(container, n), "every delivery after the restart")

            assert_inbox_exactly_once(container, n)
            mails, hooks = received_ids(sink, endpoint)
            expected = event_ids(container)
            assert len(expected) == n
            assert set(mails) == expected and set(hooks) == expected  # at least once each
        finally:
            container.close()


def test_two_worker_processes_on_postgresql_deliver_every_notification_exactly_once_to_the_inbox(
    settings: Settings,
) -> None:
    if not settings.resolved_database_url.startswith("postgresql"):
        pytest.skip("several worker processes share one database on PostgreSQL")
    n = 200
    with smtp_server() as (sink, port), http_endpoint() as endpoint:
        container = populate(settings, endpoint, n)
        try:
            tuning = {"ORDERTRAIL_OUTBOX_BATCH_SIZE": "5", "ORDERTRAIL_DELIVERY_BATCH_SIZE": "10"}
            with worker(settings, port, **tuning), worker(settings, port, **tuning):
                wait_for(lambda: everything_done(container, n), "every delivery")
            assert_inbox_exactly_once(container, n)
            mails, hooks = received_ids(sink, endpoint)
            # Nobody crashed, so the disjoint claims show as exactly one e-mail and one POST per event.
            assert sorted(mails) == sorted(hooks) == sorted(event_ids(container))
        finally:
            container.close()
