"""A small in-process cache of users by API-key hash, emptied whenever the users table is written.

Every authenticated request used to cost a query (and, on PostgreSQL, a connection check-out with
its ping) before any work: a third of a tracking lookup's time (see docs/scaling.md). Here a hit
costs a dictionary lookup. What keeps it correct:

- One cache per database per process, shared by every engine of the process that points at that
  database (the API's, and a CLI command's or a test's own).
- Any INSERT, UPDATE, DELETE or TRUNCATE of `users` issued through such an engine empties it, when the
  statement runs and again when its transaction commits (so a request that read the old row in
  between cannot keep it). Erasure, which replaces the key hash, and e-mail preference changes,
  which live on the user, are seen at once by the process that made them.
- A change made by another process (another API process, `ordertrail users erase` on another
  machine) is seen after at most `ttl` seconds: `ORDERTRAIL_CREDENTIAL_CACHE_SECONDS`, 2 by
  default, 0 to turn the cache off where a revoked key must stop working everywhere at once.
  Monotonic time, not the business clock: this is about staleness, not about what day it is.
- Bounded: past `max_entries` the least recently stored entries go first. Refused keys are never
  cached.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

from ordertrail.domain.users import User


class CredentialCache:
    def __init__(
        self, ttl: float, max_entries: int = 10_000, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._now = monotonic
        self._entries: OrderedDict[str, tuple[float, User]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> User | None:
        with self._lock:
            entry = self._entries.get(key_hash)
            if entry is None:
                return None
            if entry[0] < self._now():
                del self._entries[key_hash]
                return None
            return entry[1]

    def put(self, key_hash: str, user: User) -> None:
        with self._lock:
            self._entries[key_hash] = (self._now() + self.ttl, user)
            self._entries.move_to_end(key_hash)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_caches: dict[str, CredentialCache] = {}
_watched: weakref.WeakSet[Engine] = weakref.WeakSet()
_registry_lock = threading.Lock()


def credential_cache(engine: Engine, ttl: float) -> CredentialCache | None:
    """The process's cache for the engine's database (None when `ttl` is 0), watching the engine's writes."""
    if ttl <= 0:
        return None
    key = engine.url.render_as_string(hide_password=False)
    with _registry_lock:
        cache = _caches.get(key)
        if cache is None:
            cache = _caches[key] = CredentialCache(ttl)
        cache.ttl = min(cache.ttl, ttl)
        if engine not in _watched:
            _watched.add(engine)
            event.listen(engine, "before_cursor_execute", _on_execute(cache))
            event.listen(engine, "commit", _on_commit(cache))
    return cache


def _on_execute(cache: CredentialCache) -> Any:
    def listener(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _writes_users(statement):
            conn.info["users_written"] = True
            cache.clear()

    return listener


def _on_commit(cache: CredentialCache) -> Any:
    def listener(conn: Any) -> None:
        if conn.info.pop("users_written", False):
            cache.clear()

    return listener


_USERS_WRITE = re.compile(
    r"\s*(insert\s+(or\s+\w+\s+)?into|update|delete\s+from)\s+\"?users\b", re.IGNORECASE
)


_TRUNCATE_USERS = re.compile(r"\s*truncate\b[^;]*\busers\b", re.IGNORECASE)


def _writes_users(statement: str) -> bool:
    return _USERS_WRITE.match(statement) is not None or _TRUNCATE_USERS.match(statement) is not None
