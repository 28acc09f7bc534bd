"""Opaque, unguessable identifiers (at least 64 random bits; 96 here)."""

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"
