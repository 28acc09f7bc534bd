"""Ping a pooled PostgreSQL connection before use only when it has sat idle for a while.

SQLAlchemy's `pool_pre_ping` pings on every check-out: one more round trip per request, a fifth of
a tracking lookup's time (docs/scaling.md). A connection that was returned a moment ago is as good
as a pinged one (had the server gone away since, the statement fails like any statement during a
restart would); one idle for longer is pinged, and a dead one is replaced transparently: raising
`DisconnectionError` from the check-out hook makes the pool discard it and try another.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

_IDLE_SINCE = "ordertrail_idle_since"


def ping_when_idle(engine: Engine, idle_seconds: float = 5.0) -> None:
    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # fresh from connect, or back in the pool a moment ago
        try:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_conn.rollback()  # the ping must not leave a transaction open
        except Exception as exc:  # any failure means this connection is not usable
            raise DisconnectionError("pooled connection failed its ping") from exc
