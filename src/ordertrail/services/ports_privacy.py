"""The port through which the personal-data use cases (export, erasure) reach storage."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class PersonalData(Protocol):
    def export(self, user_id: str) -> dict[str, Any] | None:
        """Everything stored about the user, as JSON-ready data; None when there is no such user."""
        ...

    def erase(self, user_id: str, at: datetime, revoked_key_hash: str, placeholder: str) -> dict[str, int]:
        """Replace the user's personal data by `placeholder` where facts must stay (orders, cases) and
        delete it where nothing depends on it (sessions, links, pending e-mails); returns what changed."""
        ...

    def evidence_keys(self, user_id: str) -> list[str]:
        """Storage keys of the evidence files the user uploaded."""
        ...
