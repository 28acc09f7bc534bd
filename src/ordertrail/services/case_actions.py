"""The steps that move a case: the seller's response, the buyer's answer, escalation, support's decision.

Each runs the pure transition of `domain.cases` under a lock on the case and its order, then makes the
outcome real in the same transaction: a refund is a money movement recorded on the order, a
replacement is a new shipment on the order waiting for its tracking number, and the order's status
is recomputed from the new facts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ordertrail.domain import case_notices
from ordertrail.domain.case_records import CaseMessage, Refund
from ordertrail.domain.cases import (
    REFUNDS,
    Action,
    Case,
    CaseStatus,
    Command,
    Outcome,
    Paid,
    Party,
    apply,
    history_entry,
)
from ordertrail.domain.errors import ValidationFailed
from ordertrail.domain.ids import new_id
from ordertrail.domain.notices import Notice
from ordertrail.domain.orders import Order
from ordertrail.domain.shipments import AWAITING_TRACKING, Shipment
from ordertrail.domain.statuses import ShipmentStatus
from ordertrail.domain.users import User
from ordertrail.services.cases import CaseView, load_case, notify, others, view_of
from ordertrail.services.context import Deps
from ordertrail.services.ports import OutboxMessage, UnitOfWork
from ordertrail.services.status import refresh_orders

SWEEP_BATCH = 500

_RESPONSES = {"accept": Action.ACCEPT, "offer": Action.OFFER, "reject": Action.REJECT}


def _outcome(value: str | None, field: str) -> Outcome | None:
    if value is None:
        return None
    try:
        return Outcome(value)
    except ValueError:
        raise ValidationFailed.one(
            field, "invalid_choice", f"{field} must be one of: {', '.join(o.value for o in Outcome)}."
        ) from None


def respond(
    deps: Deps,
    actor: User,
    case_id: str,
    action: str,
    message: str,
    resolution: str | None = None,
    amount: int | None = None,
) -> CaseView:
    """The seller accepts (resolves as requested), offers (partial refund or replacement) or rejects."""
    if action not in _RESPONSES:
        raise ValidationFailed.one("action", "invalid_choice", "Choose an answer: accept, offer or reject.")
    kind = _RESPONSES[action]
    if kind is not Action.OFFER and (resolution is not None or amount is not None):
        field = "resolution" if resolution is not None else "amount"
        raise ValidationFailed.one(field, "not_applicable", "Only an offer names a resolution and an amount.")
    return _act(deps, actor, case_id, kind, _outcome(resolution, "resolution"), amount, message)


def accept_offer(deps: Deps, actor: User, case_id: str) -> CaseView:
    return _act(deps, actor, case_id, Action.ACCEPT_OFFER)


def escalate(deps: Deps, actor: User, case_id: str, message: str = "") -> CaseView:
    return _act(deps, actor, case_id, Action.ESCALATE, note=message)


def withdraw(deps: Deps, actor: User, case_id: str, message: str = "") -> CaseView:
    return _act(deps, actor, case_id, Action.WITHDRAW, note=message)


def decide(
    deps: Deps, actor: User, case_id: str, outcome: str, note: str, amount: int | None = None
) -> CaseView:
    """Platform support decides an escalated case; the decision closes it."""
    decision = _outcome(outcome, "outcome")
    return _act(deps, actor, case_id, Action.DECIDE, decision, amount, note)


def _act(
    deps: Deps,
    actor: User,
    case_id: str,
    action: Action,
    outcome: Outcome | None = None,
    amount: int | None = None,
    note: str = "",
) -> CaseView:
    with deps.uow() as uow:
        case, party = load_case(uow, actor, case_id, for_update=True)
        order = uow.orders.get(case.order_id, for_update=True)
        assert order is not None
        now = deps.clock()
        cmd = Command(action, party, actor.id, outcome, amount, note)
        after = apply(case, cmd, now, Paid(order.total, uow.cases.refunded_total(order.id)))
        after = _carry_out(deps, uow, order, case, after, now)
        uow.cases.save(after)
        if not after.is_open:
            # After the save: an open case is one of the facts the order's status is derived from.
            refresh_orders(uow, [order.id], now, deps.reporting_window, f"case {after.id} {after.status}")
        uow.cases.add_history([history_entry(case, after, cmd, now)])
        if note.strip():
            # What a party says with a step belongs to the conversation as well as to the history.
            uow.cases.add_message(CaseMessage(new_id("msg"), case.id, actor.id, party, note.strip(), now))
        uow.outbox.add(_notices(after, party, action), now)
        view = view_of(uow, after)
        uow.commit()
    return view


def _carry_out(deps: Deps, uow: UnitOfWork, order: Order, before: Case, after: Case, now: datetime) -> Case:
    """Make a closing outcome real: the refund recorded, the replacement shipment created."""
    if before.is_open and not after.is_open:
        resolution = after.resolution
        if resolution is not None and resolution.outcome in REFUNDS:
            assert resolution.amount is not None
            uow.cases.add_refund(
                Refund(
                    new_id("rfd"),
                    order.id,
                    after.id,
                    resolution.amount,
                    order.currency,
                    resolution.outcome,
                    resolution.decided_by,
                    now,
                )
            )
        if resolution is not None and resolution.outcome is Outcome.REPLACEMENT:
            shipment = _replacement(deps, uow, order, after, now)
            uow.shipments.add(shipment)
            after = replace(after, replacement_shipment_id=shipment.id)
    return after


def _replacement(deps: Deps, uow: UnitOfWork, order: Order, case: Case, now: datetime) -> Shipment:
    """A new shipment of what the case was about, waiting for the seller's tracking number."""
    items = [(i.sku, i.quantity) for i in order.items]
    if case.shipment_id is not None:
        original = uow.shipments.get(case.shipment_id)
        if original is not None and original.items is not None:
            items = list(original.items)
    return Shipment(
        id=new_id("shp"),
        order_id=order.id,
        carrier=None,
        tracking_number=None,
        items=items,
        status=ShipmentStatus.PENDING,
        substatus=AWAITING_TRACKING,
        created_at=now,
        ship_by=deps.promises.ship_by(now, order.seller_id),
    )


def _notices(case: Case, party: Party, action: Action) -> list[OutboxMessage]:
    if case.status is CaseStatus.ESCALATED:
        notice = case_notices.case_escalated(case, automatic=action is Action.AUTO_ESCALATE)
        return notify(case, notice, [case.buyer_id, case.seller_id], once=True)
    if not case.is_open:
        return notify(case, _closing_notice(case), [case.buyer_id, case.seller_id], once=True)
    offer = case.offer
    if action is Action.OFFER and offer is not None:
        what = f"The seller offers {case_notices.offer_words(offer.resolution, offer.amount, case.currency)}"
    elif action is Action.REJECT:
        what = "The seller rejected the claim; you can escalate it to platform support"
    else:
        what = f"The case is now {case.status.replace('_', ' ')}"
    return notify(case, case_notices.case_updated(case, what), others(case, party))


def _closing_notice(case: Case) -> Notice:
    notice = case_notices.case_resolved(case)
    if case.replacement_shipment_id is None:
        return notice
    return replace(notice, body=f"{notice.body} A replacement shipment is on its way to being sent.")


def escalate_overdue_cases(deps: Deps, now: datetime) -> dict[str, int]:
    """Cases the seller left unanswered past respond_by go to support; cases left with the buyer past
    the escalation window close. Set-based, in batches, and idempotent: a second run finds nothing."""
    escalated = lapsed = 0
    while True:
        with deps.uow() as uow:
            up = uow.cases.escalate_overdue(now, SWEEP_BATCH)
            gone = uow.cases.lapse_unanswered(now, SWEEP_BATCH)
            outbox: list[OutboxMessage] = []
            for case in up:
                notice = case_notices.case_escalated(case, automatic=True)
                outbox += notify(case, notice, [case.buyer_id, case.seller_id], once=True)
            for case in gone:
                outbox += notify(
                    case, case_notices.case_resolved(case), [case.buyer_id, case.seller_id], once=True
                )
            uow.outbox.add(outbox, now)
            if gone:
                refresh_orders(
                    uow, sorted({c.order_id for c in gone}), now, deps.reporting_window, "case lapsed"
                )
            uow.commit()
        escalated += len(up)
        lapsed += len(gone)
        if len(up) < SWEEP_BATCH and len(gone) < SWEEP_BATCH:
            return {"escalated": escalated, "lapsed": lapsed}
