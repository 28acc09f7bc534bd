"""What a case accumulates besides its state: messages, evidence files and the refunds it paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ordertrail.domain.cases import Outcome, Party


@dataclass(frozen=True, slots=True)
class CaseMessage:
    id: str
    case_id: str
    author_id: str
    author_role: Party
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    id: str
    case_id: str
    uploaded_by: str
    uploader_role: Party
    filename: str
    content_type: str  # sniffed from the bytes, never taken from the client
    size: int
    sha256: str
    storage_key: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Refund:
    """A money movement back to the buyer, recorded against the order it was paid for."""

    id: str
    order_id: str
    case_id: str
    amount: int
    currency: str
    outcome: Outcome
    decided_by: str | None
    created_at: datetime
