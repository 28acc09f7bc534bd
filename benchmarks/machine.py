"""What the figures were measured on, and how much room the rows take (the capacity model's inputs)."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

# The event table with its indexes, and the tables an order brings with it.
SIZED = ("tracking_events", "shipments", "orders", "order_items", "outbox", "notifications")


def _meminfo_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def postgres_version(server_url: str) -> str | None:
    try:
        engine = create_engine(server_url)
        with engine.connect() as c:
            version = str(c.execute(text("SHOW server_version")).scalar_one())
        engine.dispose()
        return version
    except Exception:  # no server: the PostgreSQL half is skipped and says so
        return None


def describe(pg_server_url: str) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "memory_gb": _meminfo_gb(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": postgres_version(pg_server_url),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


def table_sizes(engine: Engine) -> dict[str, dict[str, float]]:
    """Rows, bytes on disk (table and its indexes) and bytes per row, for the capacity model."""
    out: dict[str, dict[str, float]] = {}
    with engine.connect() as c:
        for table in SIZED:
            rows = int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            if engine.dialect.name == "postgresql":
                size = int(c.execute(text("SELECT pg_total_relation_size(:t)"), {"t": table}).scalar_one())
            else:  # the table's pages and its indexes' pages (dbstat reads each b-tree once)
                size = int(
                    c.execute(
                        text(
                            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :t OR name IN "
                            "(SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = :t)"
                        ),
                        {"t": table},
                    ).scalar_one()
                )
            out[table] = {
                "rows": rows,
                "bytes": size,
                "bytes_per_row": round(size / rows, 1) if rows else 0.0,
            }
    return out
