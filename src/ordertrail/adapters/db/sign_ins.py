"""Sign-in links and web sessions in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from ordertrail.adapters.db.tables_web import sign_in_links, web_sessions

L = sign_in_links.c
W = web_sessions.c


class SqlSignIns:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add_link(
        self, token_hash: str, user_id: str, next_path: str | None, at: datetime, expires_at: datetime
    ) -> None:
        self.c.execute(
            sign_in_links.insert().values(
                token_hash=token_hash,
                user_id=user_id,
                next_path=next_path,
                created_at=at,
                expires_at=expires_at,
            )
        )

    def use_link(self, token_hash: str, at: datetime) -> tuple[str, str | None] | None:
        # One conditional UPDATE is the single-use guarantee: of two clicks racing, one matches.
        used = self.c.execute(
            update(sign_in_links)
            .where(L.token_hash == token_hash, L.used_at.is_(None), L.expires_at > at)
            .values(used_at=at)
        )
        if used.rowcount != 1:
            return None
        row = self.c.execute(select(L.user_id, L.next_path).where(L.token_hash == token_hash)).one()
        return row.user_id, row.next_path

    def add_session(
        self, id_hash: str, user_id: str, csrf_token: str, at: datetime, expires_at: datetime
    ) -> None:
        self.c.execute(
            web_sessions.insert().values(
                id_hash=id_hash, user_id=user_id, csrf_token=csrf_token, created_at=at, expires_at=expires_at
            )
        )

    def session(self, id_hash: str, at: datetime) -> tuple[str, str] | None:
        row = self.c.execute(
            select(W.user_id, W.csrf_token).where(W.id_hash == id_hash, W.expires_at > at)
        ).first()
        return (row.user_id, row.csrf_token) if row else None

    def end_session(self, id_hash: str) -> None:
        self.c.execute(delete(web_sessions).where(W.id_hash == id_hash))

    def purge_expired(self, before: datetime) -> None:
        self.c.execute(delete(sign_in_links).where(L.expires_at < before))
        self.c.execute(delete(web_sessions).where(W.expires_at < before))
