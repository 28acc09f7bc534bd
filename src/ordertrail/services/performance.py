"""A seller's scorecard over a rolling window, computed from the facts on its orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ordertrail.domain.errors import Forbidden, NotFound
from ordertrail.domain.performance import Figure, figures
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps


@dataclass(frozen=True)
class Scorecard:
    seller_id: str
    since: datetime
    until: datetime
    figures: list[Figure]


def seller_performance(deps: Deps, actor: User, seller_id: str) -> Scorecard:
    """For the seller itself, support and admins; another seller's scorecard is as missing as a stranger's."""
    if actor.role not in (Role.SELLER, Role.SUPPORT, Role.ADMIN):
        raise Forbidden("Seller performance is for the seller and platform support.")
    if actor.role is Role.SELLER and actor.id != seller_id:
        raise NotFound(f"No seller {seller_id}.")
    policy = deps.performance_policy
    with deps.uow() as uow:
        seller = uow.users.get(seller_id)
        if seller is None or seller.role is not Role.SELLER:
            raise NotFound(f"No seller {seller_id}.")
        now = deps.clock()
        since = now - policy.window
        counts = uow.performance.seller_figures(seller_id, since, now, policy.valid_tracking_within)
    return Scorecard(seller_id, since, now, figures(counts, policy))
