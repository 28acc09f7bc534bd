"""Turns at the embedded database's write lock, for the writers of several processes.

SQLite lets one writer in at a time, and a writer that finds the lock taken waits in its busy
handler, which sleeps in growing steps (up to 100 ms) between looks. Within a process the writers
queue for the one writer connection (engine.writer_engine) and are woken at once; between processes
(`serve --workers 2`) the lock stood idle about 20 ms of every 84 ms ingest batch while the other
process slept on. So the writer takes a file lock beside the database before BEGIN IMMEDIATE and
lets it go after COMMIT: the next process's writer, looking every half millisecond, goes right in.

The turns also tell whether another process has been writing lately (`others_writing`), from
SQLite's `data_version`, which changes for a connection when another connection has committed: then
ingest plans its batches before taking the lock (services.ingest), and otherwise it works in the
lock on the writer's warm cache, as a single process does best.
"""

from __future__ import annotations

import fcntl
import os
import time
import weakref

from sqlalchemy import Engine

_POLL_SECONDS = 0.0005
# How long after another process's last write ingest keeps planning ahead.
COMPETITION_SECONDS = 2.0


class WriteTurns:
    """This process's hold on the turn file of one database (one writer connection uses it)."""

    def __init__(self, database_path: str, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._fd = os.open(database_path + "-turn", os.O_RDWR | os.O_CREAT, 0o600)
        self._data_version: int | None = None
        self._others_wrote_at = float("-inf")

    def take(self) -> bool:
        """Wait for the turn, up to `wait_seconds`; False if it never came."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(_POLL_SECONDS)

    def give(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def note_data_version(self, version: int) -> None:
        """The writer connection's `PRAGMA data_version` at the start of a write transaction."""
        if self._data_version is not None and version != self._data_version:
            self._others_wrote_at = time.monotonic()
        self._data_version = version

    def others_writing(self) -> bool:
        """Whether another process committed during the last COMPETITION_SECONDS."""
        return time.monotonic() - self._others_wrote_at < COMPETITION_SECONDS

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)


_turns: weakref.WeakKeyDictionary[Engine, WriteTurns] = weakref.WeakKeyDictionary()


def take_turns(engine: Engine, wait_seconds: float) -> None:
    """Make the write units of work of `engine` (SQLite, a file) take turns with other processes."""
    path = engine.url.database
    if engine.dialect.name == "sqlite" and path and path != ":memory:":
        _turns[engine] = WriteTurns(path, wait_seconds)


def write_turns(engine: Engine) -> WriteTurns | None:
    return _turns.get(engine)
