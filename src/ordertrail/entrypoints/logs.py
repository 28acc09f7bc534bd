"""Structured logs: one JSON object per line, each with the id of the request that caused it.

What may never appear in a log line: API keys, sign-in or session tokens, e-mail addresses, postal
addresses, names. The code logs ids and counts, not people; the request log names the route
template (`/login/{token}`), never the raw path; SQL errors are raised without their parameters
(see `adapters/db/engine.py`). `Scrub` is the last line of defence for what slips through anyway:
it masks anything shaped like a key, a bearer token or an e-mail address in the final message.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter

_SECRETS = (
    (re.compile(r"(?i)bearer\s+\S+"), "Bearer [redacted]"),
    (re.compile(r"\bot_[A-Za-z0-9_\-]{16,}"), "[key]"),
    (re.compile(r"/login/[A-Za-z0-9_\-]{16,}"), "/login/[token]"),
    (re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"), "[email]"),
)


def scrub(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class ScrubbingJsonFormatter(JsonFormatter):
    """JSON lines, UTC ISO 8601 times, every text value (message, traceback, extras) through `scrub`."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {k: scrub(v) if isinstance(v, str) else v for k, v in log_data.items()}


def formatter() -> logging.Formatter:
    return ScrubbingJsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
        rename_fields={
            "asctime": "time",
            "levelname": "level",
            "name": "logger",
            "correlation_id": "request_id",
        },
        timestamp=False,
        json_ensure_ascii=False,
    )


def handler(stream: IO[str] | None = None) -> logging.Handler:
    h = logging.StreamHandler(stream or sys.stderr)
    h.addFilter(CorrelationIdFilter(default_value=None))
    h.setFormatter(formatter())
    return h


def configure(level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Route every logger (ours, uvicorn's, SQLAlchemy's) through one JSON handler on stderr."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(stream))
    root.setLevel(level.upper())
    # uvicorn's access log writes raw paths (which may hold a one-time sign-in token) and client
    # addresses; the app's own request log replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    # SQLAlchemy logs every statement at INFO; the statements say nothing an operator needs.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
