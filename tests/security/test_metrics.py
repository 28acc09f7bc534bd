"""/metrics: request latency by route, ingest counts, outbox and delivery lag, each sweep's last run."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ordertrail.services.sweeps import run_due_sweeps
from tests.conftest import FixedClock, Party
from tests.e2e.conftest import Api


def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = api.client.get("/metrics")
    assert r.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_ingested_events_are_counted_by_outcome(api: Api, buyer: Party, seller: Party) -> None:
    order = api.order(buyer, seller)
    number = api.ship(order["id"], seller, "SIM0300000001", carrier="simulated")["tracking_number"]
    before = scrape(api)
    event = {"tracking_number": number, "occurred_at": "2026-11-26T09:00:00Z", "status": "in_transit"}
    api.events([event, event, {**event, "tracking_number": "SIM0399999999"}])
    after = scrape(api)
    for outcome, n in (("accepted", 1), ("duplicate", 1), ("rejected", 1)):
        name = "ordertrail_events_ingested_total"
        assert value(after, name, outcome=outcome) - value(before, name, outcome=outcome) == n
    # One batch, planned under the write lock (one API process: nothing to plan ahead of).
    batches = "ordertrail_ingest_batches_total"
    assert value(after, batches, plan="locked") - value(before, batches, plan="locked") == 1
    # Alone in its transaction (batches arriving together in one process would share one).
    transactions = "ordertrail_ingest_transactions_total"
    assert value(after, transactions) - value(before, transactions) == 1


def test_outbox_lag_is_the_age_of_the_oldest_waiting_row_at_scrape_time(
    api: Api, buyer: Party, seller: Party, clock: FixedClock
) -> None:
    order = api.order(buyer, seller)  # its confirmation is in the inbox at once
    api.ship(order["id"], seller, "SIM0300000002", carrier="simulated")  # "order shipped" waits in the outbox
    clock.advance(seconds=90)
    waiting = scrape(api)
    assert value(waiting, "ordertrail_outbox_pending") >= 1
    assert value(waiting, "ordertrail_outbox_lag_seconds") == 90.0
    assert value(waiting, "ordertrail_figures_up") == 1.0
    api.run_worker()
    drained = scrape(api)
    assert (
        value(drained, "ordertrail_outbox_pending") == 0
        and value(drained, "ordertrail_outbox_lag_seconds") == 0
    )


def test_each_sweeps_last_run_shows_its_duration_and_findings(api: Api) -> None:
    results = run_due_sweeps(api.container.deps)
    samples = scrape(api)
    assert results
    for sweep, counts in results.items():
        assert ("ordertrail_sweep_last_duration_seconds", (("sweep", sweep),)) in samples
        assert value(samples, "ordertrail_sweep_last_failed", sweep=sweep) == 0
        for finding, n in counts.items():
            assert value(samples, "ordertrail_sweep_last_findings", sweep=sweep, finding=finding) == n


def test_request_latency_is_recorded_by_route_template(api: Api) -> None:
    api.client.get("/v1/track/SIM0000000404")
    samples = scrape(api)
    key = (
        "ordertrail_http_request_seconds_count",
        (("method", "GET"), ("route", "/v1/track/{tracking_number}"), ("status", "404")),
    )
    assert samples.get(key, 0) >= 1
