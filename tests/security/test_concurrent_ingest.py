"""Two clients posting the same carrier events at once, in different orders and batches, with repeats.

Carriers and aggregators resend; two ingest paths (a webhook and a poller, or two API processes behind a
load balancer) can deliver the same scans at the same moment. Against a served app on the test's
database, the final state must be the one the events alone derive (DESIGN.md §3), each event stored
once, and each notice sent once.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.tables import outbox, tracking_events
from ordertrail.adapters.db.uow import SqlUnitOfWork
from ordertrail.domain.events import ScanEvent, derive_state, unique_events
from ordertrail.domain.statuses import ShipmentStatus as S
from tests.conftest import ADMIN_KEY, order_body
from tests.security.served import served

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("ORDERTRAIL_PROPERTY_EXAMPLES", "6"))
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
# Each status that notifies appears at most once, so any notice seen twice is a duplicate.
NOTIFYING = [S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERY_ATTEMPTED, S.EXCEPTION]
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


def event_st(status_st: st.SearchStrategy[S]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda minutes, status, desc, with_id: {
            "occurred_at": (START + timedelta(minutes=minutes)).isoformat(),
            "status": status.value,
            "description": desc,
            "with_id": with_id,
        },
        st.integers(0, 3000),
        status_st,
        st.sampled_from(["Arrived at hub", "Departed hub", "Scan", ""]),
        st.booleans(),
    )


events_st = st.tuples(
    st.lists(event_st(st.sampled_from([S.IN_TRANSIT, S.INFO_RECEIVED, S.DELAYED])), min_size=1, max_size=10),
    st.lists(st.sampled_from(NOTIFYING), unique=True, max_size=3).flatmap(
        lambda kinds: st.tuples(*[event_st(st.just(k)) for k in kinds])
    ),
).map(lambda parts: [*parts[0], *parts[1]])


def numbered(events: list[dict[str, Any]], number: str) -> list[dict[str, Any]]:
    out = []
    for i, e in enumerate(events):
        event = {k: v for k, v in e.items() if k != "with_id"} | {"tracking_number": number}
        if e["with_id"]:
            event["event_id"] = f"{number}-{i}"
        out.append(event)
    return out


def batches(events: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def post_all(
    base: str, key: str, plan: list[list[dict[str, Any]]], start: threading.Barrier, errors: list[str]
) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        start.wait()
        for batch in plan:
            r = client.post(
                "/v1/carrier-events", json={"events": batch}, headers={"Authorization": f"Bearer {key}"}
            )
            if r.status_code != 202 or r.json()["rejected"]:
                errors.append(r.text)


def test_two_clients_ingesting_the_same_events_at_once_reach_the_derived_state_once(
    database_url: str, tmp_path: Path
) -> None:
    numbers = (f"SIM{600_000_000 + n:010d}" for n in itertools.count())
    with served(database_url, tmp_path) as server, httpx.Client(base_url=server.base, timeout=30) as client:
        people = {
            role: client.post("/v1/users", json={"role": role, "name": role}, headers=ADMIN).json()
            for role in ("buyer", "seller", "carrier")
        }
        engine = make_engine(database_url)

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(events=events_st, data=st.data())
        def check(events: list[dict[str, Any]], data: st.DataObject) -> None:
            number = next(numbers)
            order = client.post(
                "/v1/orders",
                json=order_body(people["seller"]["id"]),
                headers={"Authorization": f"Bearer {people['buyer']['api_key']}"},
            ).json()
            r = client.post(
                f"/v1/orders/{order['id']}/shipments",
                json={"tracking_number": number, "carrier": "simulated"},
                headers={"Authorization": f"Bearer {people['seller']['api_key']}"},
            )
            assert r.status_code == 201, r.text
            sent = numbered(events, number)
            first = data.draw(st.permutations(sent))
            second = [
                *data.draw(st.permutations(sent)),
                *data.draw(st.lists(st.sampled_from(sent), max_size=4)),
            ]
            plans = [
                batches(first, data.draw(st.integers(1, 5))),
                batches(second, data.draw(st.integers(1, 5))),
            ]
            start, errors = threading.Barrier(2), []
            keys = (people["carrier"]["api_key"], ADMIN_KEY)
            threads = [
                threading.Thread(target=post_all, args=(server.base, keys[i], plans[i], start, errors))
                for i in range(2)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors

            scans = [
                ScanEvent(
                    number,
                    datetime.fromisoformat(e["occurred_at"]),
                    S(e["status"]),
                    e["description"],
                    carrier="simulated",
                    event_id=e.get("event_id"),
                )
                for e in sent
            ]
            expected = derive_state(scans)
            with SqlUnitOfWork(engine, readonly=True) as uow:
                shipment = uow.shipments.by_tracking_number(number)
                assert shipment is not None
                stored = uow.events.for_shipments([shipment.id]).get(shipment.id, [])
            assert len(stored) == len(unique_events(scans))
            assert (shipment.status, shipment.last_event_at, shipment.event_count) == (
                expected.status,
                expected.last_event_at,
                expected.event_count,
            )
            assert derive_state(stored) == expected
            with engine.connect() as conn:
                counts = Counter(
                    (r.type, r.recipient_id)
                    for r in conn.execute(select(outbox).where(outbox.c.order_id == order["id"]))
                )
                events_stored = conn.execute(
                    select(func.count())
                    .select_from(tracking_events)
                    .where(tracking_events.c.shipment_id == shipment.id)
                ).scalar_one()
            assert events_stored == len(unique_events(scans))
            duplicates = {k: n for k, n in counts.items() if n > 1}
            assert not duplicates, f"notices sent more than once: {duplicates}"

        try:
            check()
        finally:
            engine.dispose()
