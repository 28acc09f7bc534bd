"""Unsubscribe links that work without signing in: the user and the notice type, signed with the
server secret (HMAC-SHA256). They never expire, as a link in an old e-mail must still work."""

from __future__ import annotations

import base64
import hashlib
import hmac


class UnsubscribeTokens:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"ordertrail/unsubscribe/v1|" + secret.encode()).digest()

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:40]

    def make(self, user_id: str, notice_type: str) -> str:
        body = base64.urlsafe_b64encode(f"{user_id}|{notice_type}".encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def read(self, token: str) -> tuple[str, str] | None:
        """(user id, notice type) of a token this server made; None for anything else."""
        body, _, signature = token.partition(".")
        if not body or not signature or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        user_id, sep, notice_type = raw.partition("|")
        return (user_id, notice_type) if sep and user_id and notice_type else None
