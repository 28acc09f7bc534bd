"""The SQL floor of ingestion: the service's own statements, replayed through the driver alone.

    python -m benchmarks.ingest --floor          (SQLite)

The ingest benchmark compares the service with the raw insert of its event rows. This splits the gap
in two. The same batches go through `ingest_events` in process on a copy of the loaded database,
and every statement the writer connection sends is recorded with its parameters, and where each
transaction ends. The record is then replayed on a second copy through the driver, in one process,
one transaction per batch, with nothing of the service around it; the ceiling's inserts are replayed
the same way on a third copy. The replay's rate is what the service would reach if its Python (HTTP,
validation, the merge, the estimator) cost nothing: what is left between it and the ceiling can only
be closed by writing less. Each transaction's WAL frames (the pages it dirtied) are counted too, and
the replayed database must end as the service left its own copy. The record is replayed once more
on a copy without the indexes a scan moves besides the events' own keys (the sweeps' watches, the
histories' keys): no new layout of those could do better than that.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.fixtures import progress
from ordertrail.adapters.db.checkpoints import CHECKPOINT_PAGES, log_frames
from ordertrail.adapters.db.engine import WRITER_CACHE_KIB
from ordertrail.bootstrap import build
from ordertrail.config import Settings

# The route's own validation, so that the recorded batches are what the route would hand on.
from ordertrail.entrypoints.web.api.carrier_events import _validate_all
from ordertrail.services.ingest import ingest_events

# A recorded statement: (sql, parameters, executemany); COMMIT ends a batch's transaction.
Statement = tuple[str, Any, bool]
COMMIT: Statement = ("COMMIT", None, False)

# The service writer's connection settings (adapters.db.engine), with SQLite's own checkpoint at the
# service's mark instead of its background thread, as the ceiling's connection has.
PRAGMAS = (
    "journal_mode=WAL",
    "foreign_keys=ON",
    "synchronous=NORMAL",
    f"cache_size=-{WRITER_CACHE_KIB}",
    f"wal_autocheckpoint={CHECKPOINT_PAGES}",
    "temp_store=MEMORY",
)


@dataclass
class Replay:
    seconds: float
    commit_seconds: float  # of which in COMMIT: writing the WAL frames (and the checkpoints)
    frames: list[int]  # WAL frames written by each transaction, in order
    state: tuple[Any, ...]  # what the database holds afterwards (see fingerprint)
    by_kind: dict[str, float]  # seconds per kind of statement ("UPDATE shipments", "COMMIT"...)

    def rate(self, rows: int) -> float:
        return rows / self.seconds


@dataclass
class Recording:
    statements: list[Statement]
    seconds: float  # the service's own time for the batches, validation included, in process
    state: tuple[Any, ...]


def record(db_path: Path, batches: Sequence[list[dict[str, Any]]]) -> Recording:
    """Run the batches through the service in process against `db_path`, one thread: the writer's
    statements, the service's time and the database's fingerprint afterwards."""
    settings = Settings(database_url=f"sqlite:///{db_path}", data_dir=db_path.parent)
    container = build(settings)
    statements: list[Statement] = []

    def keep(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, many: bool) -> None:
        statements.append((sql, params, many))

    writer = container.writer or container.engine
    event.listen(writer, "before_cursor_execute", keep)
    seconds = 0.0
    try:
        for done, body in enumerate(batches, 1):
            start = time.perf_counter()
            inputs, rejected = _validate_all(body)
            result = ingest_events(container.deps, inputs, rejected)
            seconds += time.perf_counter() - start
            if result.accepted != len(body) or result.shared_by != 1:
                raise SystemExit(f"floor: batch {done} not applied alone and whole: {result}")
            statements.append(COMMIT)
            progress("floor: recording the service's statements", done, len(batches))
    finally:
        event.remove(writer, "before_cursor_execute", keep)
        container.close()
    return Recording(statements, seconds, fingerprint(db_path))


def replay(db_path: Path, statements: Sequence[Statement], label: str = "floor: replaying") -> Replay:
    """Time the statements through the driver on `db_path`, one transaction per batch."""
    con = sqlite3.connect(db_path, isolation_level=None)
    for pragma in PRAGMAS:
        con.execute(f"PRAGMA {pragma}")
    cur = con.cursor()
    frames: list[int] = []
    total = sum(1 for s in statements if s[0] == "COMMIT")
    elapsed = committing = 0.0
    by_kind: dict[str, float] = defaultdict(float)
    start = time.perf_counter()
    for sql, params, many in statements:
        began = time.perf_counter()
        if sql == "COMMIT":
            before = log_frames(str(db_path))
            began = time.perf_counter()
            cur.execute("COMMIT")
            took = time.perf_counter() - began
            committing += took
            by_kind["COMMIT"] += took
            after = log_frames(str(db_path))
            frames.append(after - before if after >= before else after)  # the log restarted
            elapsed += time.perf_counter() - start
            progress(label, len(frames), total)  # untimed
            start = time.perf_counter()
            continue
        if many:
            cur.executemany(sql, params)
        else:
            cur.execute(sql, params or ())
            if cur.description is not None:
                cur.fetchall()
        by_kind[statement_kind(sql)] += time.perf_counter() - began
    con.close()
    return Replay(elapsed, committing, frames, fingerprint(db_path), dict(by_kind))


_TABLE = re.compile(r"\b(?:INTO|UPDATE|FROM)\s+(\w+)", re.IGNORECASE)


def statement_kind(sql: str) -> str:
    """What a statement does to which table: "INSERT tracking_events", "SELECT shipments"..."""
    verb = sql.split(None, 1)[0].upper()
    table = _TABLE.search(sql)
    return f"{verb} {table.group(1)}" if table else verb


def fingerprint(db_path: Path) -> tuple[Any, ...]:
    """What ingest changes, summed: events, shipment states, orders' statuses, histories, notices."""
    con = sqlite3.connect(db_path)
    try:
        queries = (
            "SELECT count(*), sum(length(id)) FROM tracking_events",
            "SELECT status, count(*), sum(event_count), count(first_scan_at), count(estimated_latest)"
            " FROM shipments GROUP BY status ORDER BY status",
            "SELECT status, count(*) FROM orders GROUP BY status ORDER BY status",
            "SELECT count(*) FROM shipment_status_history",
            "SELECT count(*) FROM order_status_history",
            "SELECT count(*) FROM eta_history",
            "SELECT count(*) FROM outbox",
        )
        return tuple(tuple(map(tuple, con.execute(q).fetchall())) for q in queries)
    finally:
        con.close()


def ceiling_statements(sql: str, rows: Sequence[tuple[Any, ...]], batch: int) -> list[Statement]:
    """The ceiling's inserts as a record: one executemany and its commit per batch."""
    out: list[Statement] = []
    for b in range(0, len(rows), batch):
        out += [("BEGIN", None, False), (sql, rows[b : b + batch], True), COMMIT]
    return out


def measure(
    db_path: Path, batches: Sequence[list[dict[str, Any]]], ceiling_sql: str, ceiling_rows: Sequence[Any]
) -> dict[str, Any]:
    """Record on one copy of `db_path`, replay the record (as it is, without the secondary indexes
    beside the events' own, and without each group of them) and the ceiling on more copies; the
    copies go."""
    events = sum(len(b) for b in batches)
    work = db_path.parent / "floor"
    work.mkdir(exist_ok=True)
    try:
        recorded = work / "recorded.db"
        copy_database(db_path, recorded)
        recording = record(recorded, batches)
        copies = iter(range(1, 1_000))

        def replay_without(indexes: Sequence[str], label: str) -> Replay:
            """The record replayed on a fresh copy without these indexes."""
            copy = work / f"replay-{next(copies)}.db"
            copy_database(db_path, copy)
            drop_indexes(copy, indexes)
            return replay(copy, recording.statements, label)

        service = replay_without((), "floor: replaying")
        if service.state != recording.state:
            raise SystemExit("floor: the replayed database differs from the one the service wrote")
        unindexed = replay_without(WATCHES_AND_HISTORIES, "floor: without watches and histories' indexes")
        without = {
            group: replay_without(names, f"floor: without {group}") for group, names in INDEX_GROUPS.items()
        }
        del recording.statements
        copy = work / "ceiling.db"
        copy_database(db_path, copy)
        ceiling = replay(
            copy, ceiling_statements(ceiling_sql, ceiling_rows, len(batches[0])), "floor: ceiling"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    half = len(service.frames) // 2
    return {
        "in_process_per_s": round(events / recording.seconds),
        # What the service spends on an event in process beyond its statements: its Python, and
        # its writer's waits for the background WAL checkpoint (the replay checkpoints in commits).
        "python_us_per_event": round(1e6 * (recording.seconds - service.seconds) / events),
        "floor_per_s": round(service.rate(events)),
        "replayed_ceiling_per_s": round(ceiling.rate(len(ceiling_rows))),
        "floor_ratio": round(service.rate(events) / ceiling.rate(len(ceiling_rows)), 3),
        "pages_per_event": round(sum(service.frames) / events, 2),
        "ceiling_pages_per_event": round(sum(ceiling.frames) / len(ceiling_rows), 2),
        # The default feed sends every parcel's first scan, then every parcel's next one.
        "first_half_median_pages": statistics.median(service.frames[:half]) if half else None,
        "second_half_median_pages": statistics.median(service.frames[half:]) if half else None,
        "floor_commit_share": round(service.commit_seconds / service.seconds, 3),
        # The most any new layout of the sweeps' watches and the histories could give the floor.
        "unindexed_floor_per_s": round(unindexed.rate(events)),
        "unindexed_floor_ratio": round(unindexed.rate(events) / ceiling.rate(len(ceiling_rows)), 3),
        "unindexed_pages_per_event": round(sum(unindexed.frames) / events, 2),
        # What each group of them costs alone: the floor's gain without it.
        "floor_gain_without": {
            group: round(r.rate(events) / service.rate(events) - 1, 3) for group, r in without.items()
        },
        # Where the floor goes, the largest first: shares of the replay's time by kind of statement.
        "floor_shares": {
            kind: round(seconds / service.seconds, 3)
            for kind, seconds in sorted(service.by_kind.items(), key=lambda kv: -kv[1])
        },
    }


# The indexes a carrier scan moves besides the events' own keys and the rows themselves, by what they
# serve: each group is replayed without on its own copy, and all of them together on another.
INDEX_GROUPS: dict[str, tuple[str, ...]] = {
    "the estimate's watch": ("ix_shipments_estimate_due",),
    "the first-scan and stall watches": ("ix_shipments_watch_first_scan", "ix_shipments_watch_stalled"),
    "the histories' keys": (
        "ix_shipment_status_history_shipment",
        "ix_order_status_history_order",
        "ix_eta_history_order",
    ),
}
WATCHES_AND_HISTORIES = tuple(name for names in INDEX_GROUPS.values() for name in names)


def drop_indexes(db_path: Path, names: Sequence[str]) -> None:
    con = sqlite3.connect(db_path)
    try:
        for name in names:
            con.execute(f"DROP INDEX {name}")
        con.commit()
    finally:
        con.close()


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy whatever the source's WAL holds (SQLite's backup API)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
