"""The ingest benchmark's SQL floor replays exactly what the service wrote (benchmarks.floor)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.fixtures import fresh_database, load_marketplace, tracking_number
from benchmarks.floor import (
    COMMIT,
    WATCHES_AND_HISTORIES,
    copy_database,
    drop_indexes,
    fingerprint,
    record,
    replay,
)
from benchmarks.ingest import event_dicts

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
