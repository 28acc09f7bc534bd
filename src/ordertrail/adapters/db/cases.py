"""Cases, their messages, evidence, history and refunds in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, update

from ordertrail.adapters.db.rows import decode_cursor, encode_cursor
from ordertrail.adapters.db.tables_cases import case_attachments, case_history, case_messages, cases, refunds
from ordertrail.domain.case_records import Attachment, CaseMessage, Refund
from ordertrail.domain.cases import (
    OPEN_STATUSES,
    Action,
    Case,
    CaseEvent,
    CaseStatus,
    CaseType,
    Offer,
    Outcome,
    Party,
    Requested,
    Resolution,
)
from ordertrail.services.ports import Page

_OPEN = sorted(s.value for s in OPEN_STATUSES)


def _case(r: Any) -> Case:
    offer = (
        Offer(Outcome(r.offer_resolution), r.offer_amount, r.offer_made_at) if r.offer_resolution else None
    )
    resolution = (
        Resolution(
            Outcome(r.outcome),
            r.outcome_amount,
            r.decided_by,
            Party(r.decided_by_role),
            r.decided_at,
            r.resolution_note or "",
        )
        if r.outcome
        else None
    )
    return Case(
        id=r.id,
        order_id=r.order_id,
        buyer_id=r.buyer_id,
        seller_id=r.seller_id,
        type=CaseType(r.type),
        status=CaseStatus(r.status),
        description=r.description,
        requested_resolution=Requested(r.requested_resolution),
        amount=r.amount,
        currency=r.currency,
        opened_at=r.opened_at,
        respond_by=r.respond_by,
        escalate_until=r.escalate_until,
        updated_at=r.updated_at,
        shipment_id=r.shipment_id,
        escalated_at=r.escalated_at,
        closed_at=r.closed_at,
        offer=offer,
        resolution=resolution,
        replacement_shipment_id=r.replacement_shipment_id,
    )


def _state_values(c: Case) -> dict[str, Any]:
    """The columns that change over a case's life."""
    r = c.resolution
    return {
        "status": c.status.value,
        "updated_at": c.updated_at,
        "escalated_at": c.escalated_at,
        "closed_at": c.closed_at,
        "offer_resolution": c.offer.resolution.value if c.offer else None,
        "offer_amount": c.offer.amount if c.offer else None,
        "offer_made_at": c.offer.made_at if c.offer else None,
        "outcome": r.outcome.value if r else None,
        "outcome_amount": r.amount if r else None,
        "decided_by": r.decided_by if r else None,
        "decided_by_role": r.decided_by_role.value if r else None,
        "decided_at": r.decided_at if r else None,
        "resolution_note": r.note if r else None,
        "replacement_shipment_id": c.replacement_shipment_id,
    }


def _event(r: Any) -> CaseEvent:
    return CaseEvent(
        r.case_id, r.at, r.action, r.actor_id, Party(r.actor_role), CaseStatus(r.status), r.detail
    )


def _event_row(e: CaseEvent) -> dict[str, Any]:
    return {
        "case_id": e.case_id,
        "at": e.at,
        "action": e.action,
        "actor_id": e.actor_id,
        "actor_role": e.actor_role.value,
        "status": e.status.value,
        "detail": dict(e.detail),
    }


class SqlCases:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def add(self, case: Case) -> None:
        self.c.execute(
            cases.insert().values(
                id=case.id,
                order_id=case.order_id,
                buyer_id=case.buyer_id,
                seller_id=case.seller_id,
                shipment_id=case.shipment_id,
                type=case.type.value,
                description=case.description,
                requested_resolution=case.requested_resolution.value,
                amount=case.amount,
                currency=case.currency,
                opened_at=case.opened_at,
                respond_by=case.respond_by,
                escalate_until=case.escalate_until,
                **_state_values(case),
            )
        )

    def get(self, case_id: str, *, for_update: bool = False) -> Case | None:
        q = select(cases).where(cases.c.id == case_id)
        if for_update and self.c.dialect.name == "postgresql":
            q = q.with_for_update()
        r = self.c.execute(q).first()
        return _case(r) if r else None

    def save(self, case: Case) -> None:
        self.c.execute(update(cases).where(cases.c.id == case.id).values(**_state_values(case)))

    def has_open(self, order_id: str, case_type: str) -> bool:
        q = select(
            exists().where(cases.c.order_id == order_id, cases.c.type == case_type, cases.c.status.in_(_OPEN))
        )
        return bool(self.c.execute(q).scalar())

    def list(
        self,
        *,
        buyer_id: str | None,
        seller_id: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        q = select(cases)
        if buyer_id:
            q = q.where(cases.c.buyer_id == buyer_id)
        if seller_id:
            q = q.where(cases.c.seller_id == seller_id)
        if status:
            q = q.where(cases.c.status == status)
        # The support queue is worked oldest escalation first; every other list is newest first.
        queue = status == CaseStatus.ESCALATED
        key = cases.c.escalated_at if queue else cases.c.opened_at
        if cursor:
            at, cid = decode_cursor(cursor)
            if queue:
                q = q.where(or_(key > at, and_(key == at, cases.c.id > cid)))
            else:
                q = q.where(or_(key < at, and_(key == at, cases.c.id < cid)))
        order = (key.asc(), cases.c.id.asc()) if queue else (key.desc(), cases.c.id.desc())
        rows = self.c.execute(q.order_by(*order).limit(limit + 1)).all()
        page = [_case(r) for r in rows[:limit]]
        nxt = None
        if len(rows) > limit:
            last = page[-1]
            nxt = encode_cursor((last.escalated_at or last.opened_at) if queue else last.opened_at, last.id)
        return Page(page, nxt)

    def for_order(self, order_id: str) -> list[Case]:
        rows = self.c.execute(select(cases).where(cases.c.order_id == order_id).order_by(cases.c.opened_at))
        return [_case(r) for r in rows]

    def add_history(self, entries: Sequence[CaseEvent]) -> None:
        if entries:
            self.c.execute(case_history.insert(), [_event_row(e) for e in entries])

    def history(self, case_id: str) -> list[CaseEvent]:
        q = select(case_history).where(case_history.c.case_id == case_id).order_by(case_history.c.id)
        return [_event(r) for r in self.c.execute(q)]

    def add_message(self, message: CaseMessage) -> None:
        self.c.execute(
            case_messages.insert().values(
                id=message.id,
                case_id=message.case_id,
                author_id=message.author_id,
                author_role=message.author_role.value,
                body=message.body,
                created_at=message.created_at,
            )
        )

    def messages(self, case_id: str) -> list[CaseMessage]:
        q = (
            select(case_messages)
            .where(case_messages.c.case_id == case_id)
            .order_by(case_messages.c.created_at, case_messages.c.id)
        )
        return [
            CaseMessage(r.id, r.case_id, r.author_id, Party(r.author_role), r.body, r.created_at)
            for r in self.c.execute(q)
        ]

    def add_attachment(self, a: Attachment) -> None:
        self.c.execute(
            case_attachments.insert().values(
                id=a.id,
                case_id=a.case_id,
                uploaded_by=a.uploaded_by,
                uploader_role=a.uploader_role.value,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                storage_key=a.storage_key,
                created_at=a.created_at,
            )
        )

    def attachments(self, case_id: str) -> list[Attachment]:
        q = (
            select(case_attachments)
            .where(case_attachments.c.case_id == case_id)
            .order_by(case_attachments.c.created_at, case_attachments.c.id)
        )
        return [
            Attachment(
                r.id,
                r.case_id,
                r.uploaded_by,
                Party(r.uploader_role),
                r.filename,
                r.content_type,
                r.size,
                r.sha256,
                r.storage_key,
                r.created_at,
            )
            for r in self.c.execute(q)
        ]

    def add_refund(self, refund: Refund) -> None:
        self.c.execute(
            refunds.insert().values(
                id=refund.id,
                order_id=refund.order_id,
                case_id=refund.case_id,
                amount=refund.amount,
                currency=refund.currency,
                outcome=refund.outcome.value,
                decided_by=refund.decided_by,
                created_at=refund.created_at,
            )
        )

    def refunds(self, case_id: str) -> list[Refund]:
        q = select(refunds).where(refunds.c.case_id == case_id).order_by(refunds.c.created_at, refunds.c.id)
        return [
            Refund(
                r.id,
                r.order_id,
                r.case_id,
                r.amount,
                r.currency,
                Outcome(r.outcome),
                r.decided_by,
                r.created_at,
            )
            for r in self.c.execute(q)
        ]

    def refunded_total(self, order_id: str) -> int:
        q = select(func.coalesce(func.sum(refunds.c.amount), 0)).where(refunds.c.order_id == order_id)
        return int(self.c.execute(q).scalar_one())

    def _claim(self, status: CaseStatus, deadline: Any, now: datetime, limit: int) -> list[Any]:
        q = (
            select(cases)
            .where(cases.c.status == status.value, deadline <= now)
            .order_by(deadline)
            .limit(limit)
        )
        if self.c.dialect.name == "postgresql":
            # Several workers may sweep at once: each takes rows no other holds.
            q = q.with_for_update(skip_locked=True)
        return list(self.c.execute(q))

    def escalate_overdue(self, now: datetime, limit: int) -> list[Case]:
        rows = self._claim(CaseStatus.AWAITING_SELLER, cases.c.respond_by, now, limit)
        if not rows:
            return []
        ids = [r.id for r in rows]
        self.c.execute(
            update(cases)
            .where(cases.c.id.in_(ids), cases.c.status == CaseStatus.AWAITING_SELLER.value)
            .values(status=CaseStatus.ESCALATED.value, escalated_at=now, updated_at=now)
        )
        escalated = [
            replace(_case(r), status=CaseStatus.ESCALATED, escalated_at=now, updated_at=now) for r in rows
        ]
        self.add_history(
            [
                CaseEvent(c.id, now, Action.AUTO_ESCALATE.value, None, Party.SYSTEM, c.status)
                for c in escalated
            ]
        )
        return escalated

    def lapse_unanswered(self, now: datetime, limit: int) -> list[Case]:
        rows = self._claim(CaseStatus.AWAITING_BUYER, cases.c.escalate_until, now, limit)
        if not rows:
            return []
        ids = [r.id for r in rows]
        self.c.execute(
            update(cases)
            .where(cases.c.id.in_(ids), cases.c.status == CaseStatus.AWAITING_BUYER.value)
            .values(
                status=CaseStatus.WITHDRAWN.value,
                closed_at=now,
                updated_at=now,
                offer_resolution=None,
                offer_amount=None,
                offer_made_at=None,
            )
        )
        lapsed = [
            replace(_case(r), status=CaseStatus.WITHDRAWN, closed_at=now, updated_at=now, offer=None)
            for r in rows
        ]
        self.add_history(
            [CaseEvent(c.id, now, Action.LAPSE.value, None, Party.SYSTEM, c.status) for c in lapsed]
        )
        return lapsed
