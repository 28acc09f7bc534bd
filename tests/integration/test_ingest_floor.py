"""The ingest benchmark's SQL floor replays exactly what the service wrote (benchmarks.floor)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.fixtures import fresh_database, load_marketplace, tracking_number
from benchmarks.floor import (
    COMMIT,
    INDEX_GROUPS,
    WATCHES_AND_HISTORIES,
    copy_database,
    drop_indexes,
    fingerprint,
    measure,
    record,
    replay,
    statement_kind,
)
from benchmarks.ingest import _driver_rows, event_dicts

from ordertrail.adapters.db.engine import make_engine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small marketplace, copied out of the benchmark's temporary database."""
    target = tmp_path_factory.mktemp("floor") / "loaded.db"
    with fresh_database("sqlite") as db:
        load_marketplace(db.engine, 120)
        copy_database(Path(db.engine.url.database or ""), target)
    return target


def _batches() -> list[list[dict]]:
    events = event_dicts([tracking_number(i) for i in range(120)], 2)
    return [events[b : b + 60] for b in range(0, len(events), 60)]


def test_the_replay_ends_where_the_service_did(loaded: Path, tmp_path: Path) -> None:
    recorded, replayed = tmp_path / "recorded.db", tmp_path / "replayed.db"
    copy_database(loaded, recorded)
    copy_database(loaded, replayed)
    before = fingerprint(replayed)

    recording = record(recorded, _batches())
    result = replay(replayed, recording.statements)

    assert recording.state != before  # the service did write: events, states, histories
    assert result.state == recording.state
    assert len(result.frames) == recording.statements.count(COMMIT) == 4
    assert all(frames > 0 for frames in result.frames)
    assert 0 < result.commit_seconds < result.seconds


def test_without_the_watches_and_histories_keys_the_same_rows_are_written(
    loaded: Path, tmp_path: Path
) -> None:
    recorded, unindexed = tmp_path / "recorded.db", tmp_path / "unindexed.db"
    copy_database(loaded, recorded)
    copy_database(loaded, unindexed)
    drop_indexes(unindexed, WATCHES_AND_HISTORIES)
    recording = record(recorded, _batches())

    result = replay(unindexed, recording.statements)

    assert result.state == recording.state
    assert sum(result.frames) > 0


def test_a_record_missing_a_write_ends_elsewhere(loaded: Path, tmp_path: Path) -> None:
    """The fingerprint check can fail: drop the shipments' state updates and it sees the difference."""
    recorded, replayed = tmp_path / "recorded.db", tmp_path / "replayed.db"
    copy_database(loaded, recorded)
    copy_database(loaded, replayed)
    recording = record(recorded, _batches())
    without = [s for s in recording.statements if not s[0].startswith("UPDATE shipments")]
    assert len(without) < len(recording.statements)

    assert replay(replayed, without).state != recording.state


def test_the_replay_says_which_statements_it_spent_its_time_in(loaded: Path, tmp_path: Path) -> None:
    recorded, replayed = tmp_path / "recorded.db", tmp_path / "replayed.db"
    copy_database(loaded, recorded)
    copy_database(loaded, replayed)
    recording = record(recorded, _batches())

    result = replay(replayed, recording.statements)

    assert {"COMMIT", "INSERT tracking_events", "UPDATE shipments", "SELECT shipments"} <= set(result.by_kind)
    assert result.by_kind["COMMIT"] == pytest.approx(result.commit_seconds)
    assert sum(result.by_kind.values()) <= result.seconds


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSERT OR IGNORE INTO tracking_events (shipment_id, id) VALUES (?, ?)", "INSERT tracking_events"),
        ("UPDATE shipments SET status = ? WHERE rowid = ?", "UPDATE shipments"),
        ("SELECT s.id, o.buyer_id FROM shipments s JOIN orders o ON o.id = s.order_id", "SELECT shipments"),
        ("BEGIN IMMEDIATE", "BEGIN"),
    ],
)
def test_statements_are_told_apart_by_what_they_do_to_which_table(sql: str, kind: str) -> None:
    assert statement_kind(sql) == kind


def test_the_floor_is_measured_without_each_group_of_indexes(loaded: Path, tmp_path: Path) -> None:
    """The figures `--floor` prints: every group of indexes replayed without, shares by statement."""
    db_path = tmp_path / "bench.db"
    copy_database(loaded, db_path)
    batches = _batches()
    events = [e for b in batches for e in b]
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        sql, rows = _driver_rows(engine, events, {tracking_number(i): f"shp_b{i:010d}" for i in range(120)})
    finally:
        engine.dispose()

    figures = measure(db_path, batches, sql, rows)

    assert set(figures["floor_gain_without"]) == set(INDEX_GROUPS)
    assert sorted(WATCHES_AND_HISTORIES) == sorted(n for names in INDEX_GROUPS.values() for n in names)
    assert figures["floor_shares"]["COMMIT"] == figures["floor_commit_share"]
    assert sum(figures["floor_shares"].values()) <= 1.0
    assert not (db_path.parent / "floor").exists()  # the copies went
