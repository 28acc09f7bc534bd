"""What the case pages show: a case with what the viewer may do next, and the work queues of cases.

Which buttons a page offers is not a second copy of the case rules: each candidate action is tried
against the pure transition of `domain.cases` (nothing is stored), and offered when the rules would
take it, or would take it once its form is filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ordertrail.domain.cases import (
    Action,
    Case,
    CaseStatus,
    CaseType,
    Command,
    Paid,
    ParcelFacts,
    Party,
    apply,
    reporting_window,
)
from ordertrail.domain.deadlines import duration, time_left
from ordertrail.domain.errors import Conflict, Forbidden, ValidationFailed
from ordertrail.domain.orders import Order
from ordertrail.domain.statuses import Role, ShipmentStatus
from ordertrail.domain.users import User
from ordertrail.services.cases import CaseView, list_cases, load_case, view_of
from ordertrail.services.context import Deps
from ordertrail.services.overviews import OrderPage

_CANDIDATES: dict[Party, tuple[Action, ...]] = {
    Party.BUYER: (Action.ACCEPT_OFFER, Action.ESCALATE, Action.WITHDRAW),
    Party.SELLER: (Action.ACCEPT, Action.OFFER, Action.REJECT, Action.ESCALATE),
    Party.SUPPORT: (Action.DECIDE,),
}


@dataclass(frozen=True)
class Deadline:
    label: str  # what must happen by then
    at: datetime
    text: str  # "1 day 4 h left" / "overdue by 2 h"
    seconds_left: float


@dataclass(frozen=True)
class CasePage:
    view: CaseView
    party: Party
    order: Order
    actions: frozenset[Action]
    deadline: Deadline | None
    tracking: dict[str, Any] | None  # the order's parcels, for the seller and support
    buyer_name: str = ""
    seller_name: str = ""
    others: tuple[Case, ...] = ()  # the order's other cases, oldest first


def _possible(case: Case, party: Party, actor_id: str, action: Action, now: datetime, paid: Paid) -> bool:
    try:
        apply(case, Command(action, party, actor_id), now, paid)
    except ValidationFailed:
        return True  # allowed; the form supplies what is missing
    except (Conflict, Forbidden):
        return False
    return True


def _deadline(case: Case, now: datetime) -> Deadline | None:
    if case.status is CaseStatus.AWAITING_SELLER:
        at, label = case.respond_by, "The seller's answer is due"
    elif case.status is CaseStatus.AWAITING_BUYER:
        at, label = case.escalate_until, "The buyer can escalate to support until"
    else:
        return None
    return Deadline(label, at, time_left(at, now), (at - now).total_seconds())


def case_page(deps: Deps, actor: User, case_id: str) -> CasePage:
    """A case for a party to it or support (404 for anyone else), with the actions open to the viewer."""
    now = deps.clock()
    with deps.read() as uow:
        case, party = load_case(uow, actor, case_id)
        view = view_of(uow, case)
        order = uow.orders.get(case.order_id)
        tracking = uow.tracking.order_tracking(case.order_id) if party is not Party.BUYER else None
        names = uow.users.many({case.buyer_id, case.seller_id})
        others = tuple(c for c in uow.cases.for_order(case.order_id) if c.id != case.id)
    assert order is not None  # a case always belongs to an order (foreign key)
    paid = Paid(view.order_total, view.refunded_total)
    actions = frozenset(
        a for a in _CANDIDATES.get(party, ()) if _possible(case, party, actor.id, a, now, paid)
    )
    if tracking is not None:
        for s in tracking["shipments"]:
            s["tracking_url"] = deps.tracking_url(s["carrier"], s["tracking_number"])
    return CasePage(
        view,
        party,
        order,
        actions,
        _deadline(case, now),
        tracking,
        _name(names, case.buyer_id),
        _name(names, case.seller_id),
        others,
    )


def _name(users: dict[str, User], user_id: str) -> str:
    user = users.get(user_id)
    return user.name if user else ""


@dataclass(frozen=True)
class QueuedCase:
    case: Case
    deadline: Deadline | None
    waiting: str  # how long it has waited in its current state
    parties: tuple[str, str] = ("", "")  # the buyer's and the seller's names (support's queue)


def _queued(cases: list[Case], now: datetime) -> list[QueuedCase]:
    out = []
    for c in cases:
        since = c.escalated_at if c.status is CaseStatus.ESCALATED and c.escalated_at else c.updated_at
        waiting = duration(now - since) if since < now else "0 min"
        out.append(QueuedCase(c, _deadline(c, now), waiting))
    return out


def _list(deps: Deps, actor: User, status: CaseStatus, limit: int) -> list[Case]:
    return list(list_cases(deps, actor, status.value, limit, None).items)


def seller_cases(deps: Deps, actor: User, limit: int = 100) -> tuple[list[QueuedCase], list[QueuedCase]]:
    """(cases waiting for the seller's answer, most urgent first; the seller's other open cases)."""
    if actor.role is not Role.SELLER:
        raise Forbidden("These pages are for sellers.")
    now = deps.clock()
    to_answer = sorted(_list(deps, actor, CaseStatus.AWAITING_SELLER, limit), key=lambda c: c.respond_by)
    others = _list(deps, actor, CaseStatus.AWAITING_BUYER, limit) + _list(
        deps, actor, CaseStatus.ESCALATED, limit
    )
    return _queued(to_answer, now), _queued(others, now)


def buyer_cases(
    deps: Deps, actor: User, cursor: str | None, limit: int = 50
) -> tuple[list[QueuedCase], str | None]:
    page = list_cases(deps, actor, None, limit, cursor)
    return _queued(list(page.items), deps.clock()), page.next_cursor


def escalations(deps: Deps, actor: User, limit: int = 100) -> list[QueuedCase]:
    """Support's queue: escalated cases, the longest waiting first."""
    if actor.role not in (Role.SUPPORT, Role.ADMIN):
        raise Forbidden("The escalation queue is for platform support.")
    queued = _queued(_list(deps, actor, CaseStatus.ESCALATED, limit), deps.clock())
    with deps.read() as uow:
        users = uow.users.many({id_ for q in queued for id_ in (q.case.buyer_id, q.case.seller_id)})
    return [
        replace(q, parties=(_name(users, q.case.buyer_id), _name(users, q.case.seller_id))) for q in queued
    ]


def reportable(deps: Deps, page: OrderPage) -> dict[str, str | None]:
    """Each problem type, and why it cannot be reported on this order now (None: it can), by the
    same windows `open_case` applies: the report form offers only what it would take. From the order
    page already read, so the form costs no second read."""
    parcels = [
        ParcelFacts(ShipmentStatus(s["status"]), s["delivered_at"], s["stalled"])
        for s in page.tracking["shipments"]
    ]
    now = deps.clock()
    out: dict[str, str | None] = {}
    for case_type in CaseType:
        try:
            reporting_window(case_type, page.order.promised_latest, parcels, now, deps.case_policy)
            out[case_type.value] = None
        except ValidationFailed as refusal:
            out[case_type.value] = refusal.errors[0].message
    return out
