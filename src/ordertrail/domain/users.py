"""Users, their roles and what each role may see (DESIGN.md §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ordertrail.domain.statuses import Role


@dataclass(frozen=True, slots=True)
class User:
    id: str
    role: Role
    name: str
    email: str | None
    created_at: datetime
    email_opt_out: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPPORT)

    def may_see_order(self, buyer_id: str, seller_id: str) -> bool:
        return self.sees_everything or self.id in (buyer_id, seller_id)
