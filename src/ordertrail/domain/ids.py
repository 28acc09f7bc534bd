"""Opaque, unguessable identifiers (at least 64 random bits; 96 here)."""

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def row_number(text: str) -> int | None:
    """A database row number as a list cursor carries it: ASCII digits that fit a signed 64-bit
    integer (`isdigit` alone also takes '²' and numbers PostgreSQL's bigint cannot hold)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)
