"""Opening and reading cases, and the messages between buyer, seller and support.

The seller, buyer and support actions that move a case are in `case_actions`, evidence files in
`evidence`. Every step is written to the case's history with its actor, in the transaction of the step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ordertrail.domain import case_notices
from ordertrail.domain.case_records import Attachment, CaseMessage, Refund
from ordertrail.domain.cases import (
    Case,
    CaseEvent,
    CaseRequest,
    CaseStatus,
    OrderRef,
    Paid,
    ParcelFacts,
    Party,
)
from ordertrail.domain.cases import open_case as open_new_case
from ordertrail.domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from ordertrail.domain.ids import new_id
from ordertrail.domain.notices import Notice
from ordertrail.domain.statuses import OrderStatus, Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.notify import messages
from ordertrail.services.orders import get_order
from ordertrail.services.ports import OutboxMessage, Page, UnitOfWork
from ordertrail.services.status import refresh_orders

MAX_MESSAGE = 5000


@dataclass(frozen=True)
class CaseView:
    """A case with everything its page shows."""

    case: Case
    messages: list[CaseMessage]
    attachments: list[Attachment]
    history: list[CaseEvent]
    refunds: list[Refund]
    order_total: int
    refunded_total: int  # on the whole order, by every case


def load_case(uow: UnitOfWork, actor: User, case_id: str, *, for_update: bool = False) -> tuple[Case, Party]:
    """The case and the actor's side in it; 404 alike for a missing case and someone else's."""
    case = uow.cases.get(case_id, for_update=for_update)
    party = case.party_of(actor.id, actor.sees_everything) if case else None
    if case is None or party is None:
        raise NotFound(f"No case {case_id}.")
    return case, party


def view_of(uow: UnitOfWork, case: Case) -> CaseView:
    order = uow.orders.get(case.order_id)
    assert order is not None  # a case always belongs to an order (foreign key)
    return CaseView(
        case=case,
        messages=uow.cases.messages(case.id),
        attachments=uow.cases.attachments(case.id),
        history=uow.cases.history(case.id),
        refunds=uow.cases.refunds(case.id),
        order_total=order.total,
        refunded_total=uow.cases.refunded_total(order.id),
    )


def others(case: Case, party: Party) -> list[str]:
    """Who hears about a step: the other party, or both parties when support or the system acts."""
    if party is Party.BUYER:
        return [case.seller_id]
    if party is Party.SELLER:
        return [case.buyer_id]
    return [case.buyer_id, case.seller_id]


def notify(case: Case, notice: Notice, recipients: Iterable[str], once: bool = False) -> list[OutboxMessage]:
    """Outbox rows for a case notice; `once` for the notices a case can only earn once (escalated, closed)."""
    return messages(notice, case.order_id, recipients, dedupe=f"{notice.type}:{case.id}" if once else None)


def open_case(deps: Deps, actor: User, order_id: str, request: CaseRequest) -> CaseView:
    """The buyer reports a problem: checked against the policy's window for its type, stored awaiting
    the seller, the seller told, all in one transaction."""
    with deps.uow() as uow:
        order = get_order(uow, actor, order_id, for_update=True)
        if actor.id != order.buyer_id:
            raise Forbidden("Only the buyer of the order can open a case on it.")
        if order.status is OrderStatus.CANCELLED:
            raise Conflict("The order is cancelled.", code="order_cancelled")
        shipments = uow.shipments.for_orders([order.id]).get(order.id, [])
        if request.shipment_id is not None:
            shipments = [s for s in shipments if s.id == request.shipment_id]
            if not shipments:
                raise ValidationFailed(
                    [
                        FieldError(
                            "shipment_id", "unknown_shipment", "This order has no shipment with this id."
                        )
                    ]
                )
        now = deps.clock()
        case = open_new_case(
            new_id("cas"),
            OrderRef(order.id, order.buyer_id, order.seller_id, order.currency, order.promised_latest),
            request,
            [ParcelFacts(s.status, s.delivered_at, s.stalled) for s in shipments],
            Paid(order.total, uow.cases.refunded_total(order.id)),
            now,
            deps.case_policy,
        )
        if uow.cases.has_open(order.id, case.type):
            raise Conflict(
                f"This order already has an open {case.type} case; add to that one instead.",
                code="duplicate_case",
            )
        uow.cases.add(case)
        detail: dict[str, Any] = {
            "type": case.type.value,
            "requested_resolution": case.requested_resolution.value,
        }
        if case.amount is not None:
            detail["amount"] = case.amount
        uow.cases.add_history([CaseEvent(case.id, now, "open", actor.id, Party.BUYER, case.status, detail)])
        refresh_orders(uow, [order.id], now, deps.reporting_window, f"case {case.id} opened")
        uow.outbox.add(notify(case, case_notices.case_opened(case), [case.seller_id]), now)
        view = view_of(uow, case)
        uow.commit()
    return view


def read_case(deps: Deps, actor: User, case_id: str) -> CaseView:
    with deps.uow() as uow:
        case, _ = load_case(uow, actor, case_id)
        return view_of(uow, case)


def list_cases(deps: Deps, actor: User, status: str | None, limit: int, cursor: str | None) -> Page:
    """Support sees every case; buyers and sellers their own."""
    if status is not None and status not in set(CaseStatus):
        raise ValidationFailed.one(
            "status", "invalid_choice", f"Status must be one of: {', '.join(s.value for s in CaseStatus)}."
        )
    if actor.role is Role.CARRIER:
        raise Forbidden("Carrier keys have no cases.")
    buyer_id = actor.id if actor.role is Role.BUYER else None
    seller_id = actor.id if actor.role is Role.SELLER else None
    with deps.uow() as uow:
        return uow.cases.list(
            buyer_id=buyer_id, seller_id=seller_id, status=status, limit=limit, cursor=cursor
        )


def post_message(deps: Deps, actor: User, case_id: str, body: str) -> CaseMessage:
    text = body.strip()
    if not text:
        raise ValidationFailed.one("body", "required", "Write the message.")
    if len(text) > MAX_MESSAGE:
        raise ValidationFailed.one("body", "too_long", f"A message is at most {MAX_MESSAGE} characters.")
    with deps.uow() as uow:
        case, party = load_case(uow, actor, case_id, for_update=True)
        if not case.is_open:
            raise Conflict(f"The case is {case.status}; it takes no more messages.", code="case_closed")
        now = deps.clock()
        message = CaseMessage(new_id("msg"), case.id, actor.id, party, text, now)
        uow.cases.add_message(message)
        uow.cases.save(replace(case, updated_at=now))
        uow.cases.add_history(
            [CaseEvent(case.id, now, "message", actor.id, party, case.status, {"message_id": message.id})]
        )
        who = {Party.BUYER: "The buyer", Party.SELLER: "The seller"}.get(party, "Platform support")
        notice = case_notices.case_updated(case, f"{who} wrote: {_excerpt(text)}")
        uow.outbox.add(notify(case, notice, others(case, party)), now)
        uow.commit()
    return message


def _excerpt(text: str, limit: int = 280) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
