"""Tables of the web pages: one-time sign-in links and server-side sessions.

Both keep only the SHA-256 of the secret the browser holds, so a copy of the database signs nobody in.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from ordertrail.adapters.db.tables import ID, UtcDateTime, metadata

sign_in_links = Table(
    "sign_in_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("next_path", String(300)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Index("ix_sign_in_links_expires", "expires_at"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_web_sessions_expires", "expires_at"),
)
