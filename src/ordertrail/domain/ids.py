"""Opaque, unguessable identifiers (at least 64 random bits; 96 here)."""

import base64
import hashlib
import hmac
import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def row_number(text: str) -> int | None:
    """A database row number as a list cursor carries it: ASCII digits that fit a signed 64-bit
    integer (`isdigit` alone also takes '²' and numbers PostgreSQL's bigint cannot hold)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


class RowIds:
    """Row numbers shown as ids. API.md wants ids unguessable and never sequential; a few tables are
    numbered by the database (inbound payloads, deliveries and their attempts), so their numbers are
    shown keyed: the same row always shows the same id, and the id tells nothing of the number. The
    ids are only shown, never taken back in."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"ordertrail/row-ids/v1|" + secret.encode()).digest()

    def show(self, prefix: str, number: int | str) -> str:
        digest = hmac.new(self._key, f"{prefix}|{number}".encode(), hashlib.sha256).digest()[:12]
        return f"{prefix}_{base64.urlsafe_b64encode(digest).decode()}"
