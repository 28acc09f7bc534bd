"""The one SQLite writer connection (adapters/db/engine.writer_engine): write units of work share one
connection, so its page cache survives from one transaction to the next and waiting writers queue
instead of polling the lock; reads keep their own pool and are never held up by a writer."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from ordertrail.adapters.db import checkpoints
from ordertrail.adapters.db import write_turns as write_turns_module
from ordertrail.adapters.db.engine import READER_CACHE_KIB, WRITER_CACHE_KIB
from ordertrail.adapters.db.write_turns import WriteTurns, write_turns
from ordertrail.bootstrap import Container
from ordertrail.domain.errors import Busy
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's single writer only")


def _connection_id(uow: object) -> int:
    return id(uow.conn.connection.driver_connection)  # type: ignore[attr-defined]


def test_every_write_unit_of_work_runs_on_the_one_writer_connection_with_the_big_cache(
    container: Container,
) -> None:
    seen = set()
    for _ in range(3):
        with container.deps.uow() as uow:
            seen.add(_connection_id(uow))
            cache = uow.conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    assert len(seen) == 1 and cache == -WRITER_CACHE_KIB
    with container.deps.read_uow() as uow:
        assert _connection_id(uow) not in seen
        assert uow.conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -READER_CACHE_KIB


def test_concurrent_writers_queue_for_the_connection_and_every_write_lands(container: Container) -> None:
    with container.deps.uow() as uow:
        uow.conn.exec_driver_sql("CREATE TABLE tally (n INTEGER NOT NULL)")
        uow.commit()
    failures: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for i in range(20):
                with container.deps.uow() as uow:
                    uow.conn.execute(text("INSERT INTO tally (n) VALUES (:n)"), {"n": k * 100 + i})
                    uow.commit()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with container.deps.read_uow() as uow:
        assert uow.conn.exec_driver_sql("SELECT count(DISTINCT n) FROM tally").scalar_one() == 120


def test_a_reader_is_not_held_up_by_a_writer_mid_transaction(container: Container) -> None:
    with container.deps.uow() as writer:
        writer.conn.exec_driver_sql("CREATE TABLE mark (n INTEGER)")
        writer.conn.exec_driver_sql("INSERT INTO mark VALUES (1)")
        # The write lock is held and the row not committed: a reader sees the last commit at once.
        with container.deps.read_uow() as reader:
            assert (
                reader.conn.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_schema WHERE name = 'mark'"
                ).scalar_one()
                == 0
            )
        writer.commit()
    with container.deps.read_uow() as reader:
        assert reader.conn.exec_driver_sql("SELECT count(*) FROM mark").scalar_one() == 1


def _checkpoints_done() -> None:
    for t in threading.enumerate():
        if t.name == "wal-checkpoint":
            t.join(timeout=10)


def test_the_writer_empties_the_wal_once_past_its_size_even_with_reads_going_on_all_the_time(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's own checkpoint never waits for readers, so with a read always open the WAL only grew
    (4 GB in one benchmark). The writer's checkpoint, in the background, waits for the reads in it
    (a moment, else the next commit tries again), then starts it over."""
    monkeypatch.setattr(checkpoints, "CHECKPOINT_PAGES", 50)
    monkeypatch.setattr(checkpoints, "RETRY_SECONDS", 0.0)
    monkeypatch.setattr(checkpoints, "_checkpointers", {})
    path = container.engine.url.database
    assert path is not None
    with container.deps.uow() as uow:
        uow.conn.exec_driver_sql("CREATE TABLE blob (b BLOB NOT NULL)")
        uow.commit()
    with container.deps.uow() as uow:
        assert uow.conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0  # ours instead

    def grow() -> None:
        with container.deps.uow() as uow:
            uow.conn.exec_driver_sql("INSERT INTO blob (b) VALUES (randomblob(300000))")
            uow.commit()
        _checkpoints_done()

    sizes = []
    for _ in range(4):
        # A read that started before the write and is still open when the checkpoint runs.
        with container.deps.read_uow() as reader:
            reader.conn.exec_driver_sql("SELECT count(*) FROM blob").scalar_one()
            grow()
        sizes.append(checkpoints.log_frames(path))
        grow()  # no read open now: the checkpoint due since the last write runs to the end
        with container.deps.uow() as uow:  # so the next write starts the log over
            uow.conn.exec_driver_sql("DELETE FROM blob WHERE rowid < 0")
            uow.conn.exec_driver_sql("INSERT INTO blob (b) VALUES (x'00')")
            uow.commit()
        sizes.append(checkpoints.log_frames(path))
    assert all(s > 50 for s in sizes[0::2])  # past the mark while the reader held it
    assert all(s <= 3 for s in sizes[1::2])  # and started over at the next write each time
    assert Path(path + "-wal").stat().st_size < 4 * 50 * 4100  # the file written over, not grown


def test_writers_of_two_processes_take_turns_through_the_turn_file_and_a_kept_turn_answers_busy(
    container: Container,
) -> None:
    """The turn is a file lock (flock), so another open file description stands for another
    process: while it holds the turn, a write unit of work waits its time, then says busy."""
    path = container.engine.url.database
    assert path is not None
    other = WriteTurns(path, wait_seconds=0.05)
    assert other.take()
    turns = write_turns(container.writer)  # type: ignore[arg-type]
    assert turns is not None
    turns.wait_seconds = 0.2
    with pytest.raises(Busy), container.deps.uow():
        pass
    other.give()
    with container.deps.uow() as uow:  # the turn is free again: the write goes in
        uow.conn.exec_driver_sql("CREATE TABLE turn_taken (n INTEGER)")
        assert not other.take()  # held from BEGIN ...
        uow.commit()
        assert other.take()  # ... to COMMIT
    other.give()


def test_another_process_writing_is_noticed_and_forgotten_after_a_while(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest plans ahead of the write lock only while another process writes (services.ingest);
    this process's own writes, through its one writer connection, do not count."""
    with container.deps.uow() as uow:
        uow.conn.exec_driver_sql("CREATE TABLE marks (n INTEGER)")
        uow.commit()

    def write() -> None:
        with container.deps.uow() as uow:
            uow.conn.exec_driver_sql("INSERT INTO marks (n) VALUES (1)")
            uow.commit()

    write()
    write()
    assert container.deps.writers_compete() is False
    other = sqlite3.connect(container.engine.url.database)  # type: ignore[arg-type]
    other.execute("INSERT INTO marks (n) VALUES (2)")
    other.commit()
    other.close()
    write()  # the writer's next transaction sees that someone else committed
    assert container.deps.writers_compete() is True
    monkeypatch.setattr(write_turns_module, "COMPETITION_SECONDS", 0.0)
    assert container.deps.writers_compete() is False
