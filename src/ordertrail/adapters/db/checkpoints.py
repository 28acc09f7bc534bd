"""Checkpoints of the embedded database's write-ahead log, run by the writer's process off the lock.

SQLite's automatic checkpoint, run inside the commit that passes its mark, copies what it can but
never waits, and the log starts over only when no reader is using it at the moment a write begins.
With reads going on all the time (lookups, or another API process working out its next ingest
batch) that moment never comes: the WAL grew to 4 GB within one benchmark and every commit retried
the checkpoint. A checkpoint that waits for the readers holds every writer back while it copies: 31
of them took 7.4 s of a 37 s ingest run, a fifth of it with the write lock idle.

So the writer's automatic checkpoint is off (engine.writer_engine), and once the log holds
CHECKPOINT_PAGES a thread copies it into the database with a PASSIVE checkpoint, which lets writers
go on, then restarts it with a RESTART checkpoint, which has only the last moment's pages left to
copy and waits up to WAIT_MS for readers still in the log (else a later commit tries again). The log
file is written over from its start, not truncated: truncating and growing it again every 160 MB
cost the filesystem a block allocation per page and held the lock 140-190 ms a checkpoint (54-83 ms
with RESTART), and changed the writer's `data_version` as a write of another process would
(write_turns), which RESTART does not. How full the log is comes from the wal-index header in the
`-shm` file.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
import threading
import time
from typing import Any

# 40,000 pages (160 MB): an ingest batch dirties one to three thousand pages, mostly the same
# shipments' and indexes' pages again and again, so a long interval copies each page once.
CHECKPOINT_PAGES = 40000
WAIT_MS = 250
RETRY_SECONDS = 1.0

log = logging.getLogger(__name__)


class Checkpointer:
    """One database file's checkpoints in this process: at most one at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._running = threading.Lock()
        self._last_start = float("-inf")

    def due(self) -> bool:
        return log_frames(self.path) >= CHECKPOINT_PAGES

    def start(self) -> threading.Thread | None:
        """Start a checkpoint in the background unless one runs or one started a moment ago."""
        if time.monotonic() - self._last_start < RETRY_SECONDS or not self._running.acquire(blocking=False):
            return None
        self._last_start = time.monotonic()
        thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        try:
            con = sqlite3.connect(self.path, timeout=WAIT_MS / 1000, isolation_level=None)
            try:
                con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                con.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            finally:
                con.close()
        except sqlite3.Error as exc:  # busy past the wait, or the file went away: a later commit retries
            log.info("WAL checkpoint not finished: %s", exc)
        finally:
            self._running.release()


def log_frames(path: str) -> int:
    """Frames in the database's WAL since it last started over: `mxFrame` of the wal-index header,
    a 32-bit integer in native byte order at byte 16 of the `-shm` file
    (https://www.sqlite.org/walformat.html)."""
    try:
        with open(path + "-shm", "rb") as shm:
            header = shm.read(20)
    except FileNotFoundError:
        return 0
    return struct.unpack_from("=I", header, 16)[0] if len(header) == 20 else 0


_checkpointers: dict[str, Checkpointer] = {}
_registry = threading.Lock()


def checkpoint_if_due(conn: Any) -> threading.Thread | None:
    """After a commit of the SQLite writer: start a checkpoint if the WAL has passed its mark."""
    path = conn.engine.url.database
    if not path or path == ":memory:":
        return None
    checkpointer = _checkpointers.get(path)
    if checkpointer is None:
        with _registry:
            checkpointer = _checkpointers.setdefault(path, Checkpointer(path))
    return checkpointer.start() if checkpointer.due() else None
