"""Port of the API-key cache that spares the database one lookup per authenticated request."""

from __future__ import annotations

from typing import Protocol

from ordertrail.domain.users import User


class CredentialCache(Protocol):
    """Users by API-key hash, for a short while.

    An implementation must forget every entry as soon as a user row changes in its own process
    (erasure revokes the key; e-mail preferences live on the user), and may serve an entry at most
    its time-to-live after a change made by another process.
    """

    def get(self, key_hash: str) -> User | None: ...
    def put(self, key_hash: str, user: User) -> None: ...
