"""A buyer's personal data, on request: all of it exported, or erased while the order facts stay.

Erasure keeps what the marketplace must keep (that an order of these items, for this amount, was
placed, shipped and delivered; that a case was opened and decided) and removes who it was about: the
name, e-mail, delivery address and phone are replaced, the API key is replaced by an unusable one,
sessions and sign-in links are deleted, the text of notices and of the buyer's case messages is
removed, pending e-mails are dropped, and uploaded evidence files are deleted.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from ordertrail.domain.errors import NotFound
from ordertrail.services.context import Deps

ERASED = "[erased]"


@dataclass(frozen=True)
class Erasure:
    user_id: str
    changed: dict[str, int]


def export_personal_data(deps: Deps, user_id: str) -> dict[str, Any]:
    with deps.uow() as uow:
        data = uow.personal_data.export(user_id)
    if data is None:
        raise NotFound(f"No user {user_id}.")
    return {"exported_at": deps.clock(), **data}


def erase_personal_data(deps: Deps, user_id: str) -> Erasure:
    # A key nobody holds: the hash of a secret thrown away at once.
    unusable = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
    with deps.uow() as uow:
        keys = uow.personal_data.evidence_keys(user_id)
        changed = uow.personal_data.erase(user_id, deps.clock(), unusable, ERASED)
        if not changed:
            raise NotFound(f"No user {user_id}.")
        uow.commit()
    # Files go after the commit: a failure here leaves files to delete again, never a half erasure.
    if deps.evidence is not None:
        for key in keys:
            deps.evidence.delete(key)
    return Erasure(user_id, {**changed, "evidence_files": len(keys)})
