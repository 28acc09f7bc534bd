"""The capacity model of docs/scaling.md, computed from a `make bench` run's measured figures.

    .venv/bin/python -m benchmarks.capacity benchmarks/out/details-<time>.json [--orders-per-day 10000000]

Workload inputs (stated, not measured: change them with the options) are kept apart from the
figures the benchmark measured (rates per process, bytes per stored row, sweep seconds), so that a
new run on other hardware re-derives every number below it.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

DAY = 86_400


def model(details: dict[str, Any], summary: dict[str, Any], a: argparse.Namespace) -> dict[str, Any]:
    pg, pg_summary = details["postgresql"], summary["postgresql"]
    size = {t: v["bytes_per_row"] for t, v in pg["storage"].items()}
    shipments_day = a.orders_per_day * a.shipments_per_order
    events_day = shipments_day * a.events_per_shipment
    notices_day = a.orders_per_day * a.notices_per_order
    lookups_day = a.orders_per_day * a.lookups_per_order
    mean_events = events_day / DAY
    peak_events = mean_events * a.peak_factor
    peak_lookups = lookups_day / DAY * a.peak_factor
    peak_notices = notices_day / DAY * a.peak_factor
    ingest_per_process = pg_summary["ingest"]["events_per_s"] / pg["ingest"]["api_processes"]
    lookup_per_process = pg_summary["lookup"]["rps"] / pg["lookup"]["api_processes"]
    fan_out_per_worker = pg["outbox_fan_out"]["per_s"]
    active = shipments_day * a.days_in_transit
    per_year = {
        "tracking_events": events_day * 365 * size["tracking_events"],
        "shipments": shipments_day * 365 * size["shipments"],
        "orders": a.orders_per_day * 365 * (size["orders"] + size["order_items"] * a.items_per_order),
        "outbox": notices_day * 365 * size["outbox"],
        "notifications": notices_day * 365 * size["notifications"],
    }
    tb = 1e12
    return {
        "inputs": vars(a) | {"details": str(a.details)},
        "measured": {
            "ingest_events_per_s_per_api_process": round(ingest_per_process),
            "lookups_per_s_per_api_process": round(lookup_per_process),
            "notices_fanned_out_per_s_per_worker": fan_out_per_worker,
            "sweep_seconds_per_1m_active": round(pg_summary["sweep"]["seconds"] * 1e6 / pg["shipments"], 2),
            "bytes_per_row": size,
            "raw_insert_ceiling_rows_per_s": pg_summary["ingest"]["ceiling_per_s"],
        },
        "load": {
            "events_per_day": round(events_day),
            "mean_events_per_s": round(mean_events),
            "peak_events_per_s": round(peak_events),
            "peak_lookups_per_s": round(peak_lookups),
            "peak_notices_per_s": round(peak_notices),
            "active_shipments": round(active),
        },
        "processes": {
            "api_for_ingest_at_peak": math.ceil(peak_events / ingest_per_process),
            "api_for_lookups_at_peak": math.ceil(peak_lookups / lookup_per_process),
            "workers_for_notices_at_peak": math.ceil(peak_notices / fan_out_per_worker)
            if fan_out_per_worker
            else None,
            "sweep_seconds_per_hour_at_active": round(
                pg_summary["sweep"]["seconds"] * active / pg["shipments"], 1
            ),
        },
        "storage_tb_per_year": {k: round(v / tb, 2) for k, v in per_year.items()}
        | {"total": round(sum(per_year.values()) / tb, 2)},
        "storage_tb_with_retention": round(
            (
                per_year["tracking_events"] * a.event_retention_days / 365
                + per_year["outbox"] * a.outbox_retention_days / 365
                + per_year["notifications"] * a.event_retention_days / 365
                + per_year["shipments"]
                + per_year["orders"]
            )
            / tb,
            2,
        ),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("details", type=Path, help="benchmarks/out/details-<time>.json (its summary beside it)")
    p.add_argument("--orders-per-day", type=float, default=10_000_000)
    p.add_argument("--shipments-per-order", type=float, default=1.1)
    p.add_argument("--items-per-order", type=float, default=1.5)
    p.add_argument("--events-per-shipment", type=float, default=10, help="carrier scans per parcel")
    p.add_argument(
        "--notices-per-order", type=float, default=4, help="confirmed, shipped, out for delivery, delivered"
    )
    p.add_argument("--lookups-per-order", type=float, default=5, help="tracking views per order")
    p.add_argument("--peak-factor", type=float, default=4, help="peak hour over the daily mean")
    p.add_argument("--days-in-transit", type=float, default=5, help="how long a shipment stays active")
    p.add_argument("--event-retention-days", type=float, default=180, help="events kept online (partitions)")
    p.add_argument("--outbox-retention-days", type=float, default=30)
    a = p.parse_args(argv)
    details = json.loads(a.details.read_text())
    summary = json.loads(a.details.with_name(a.details.name.replace("details-", "summary-")).read_text())
    out = model(details, summary, a)
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
