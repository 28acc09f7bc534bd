"""Cases, their evidence and the seller scorecard shaped as the API's JSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ordertrail.domain.case_records import Attachment, CaseMessage
from ordertrail.domain.cases import Case, CaseEvent
from ordertrail.domain.performance import MEANING
from ordertrail.services.cases import CaseView
from ordertrail.services.performance import Scorecard


def case_summary(c: Case) -> dict[str, Any]:
    r = c.resolution
    return {
        "id": c.id,
        "order_id": c.order_id,
        "buyer_id": c.buyer_id,
        "seller_id": c.seller_id,
        "shipment_id": c.shipment_id,
        "type": c.type,
        "status": c.status,
        "description": c.description,
        "opened_at": c.opened_at,
        "respond_by": c.respond_by,
        "escalate_until": c.escalate_until,
        "escalated_at": c.escalated_at,
        "closed_at": c.closed_at,
        "requested_resolution": c.requested_resolution,
        "amount": c.amount,
        "currency": c.currency,
        "offer": {"resolution": c.offer.resolution, "amount": c.offer.amount, "made_at": c.offer.made_at}
        if c.offer
        else None,
        "resolution": {
            "outcome": r.outcome,
            "amount": r.amount,
            "decided_by": r.decided_by,
            "decided_by_role": r.decided_by_role,
            "decided_at": r.decided_at,
            "note": r.note or None,
        }
        if r
        else None,
        "replacement_shipment_id": c.replacement_shipment_id,
        "updated_at": c.updated_at,
    }


def message_view(m: CaseMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "author_id": m.author_id,
        "author_role": m.author_role,
        "body": m.body,
        "created_at": m.created_at,
    }


def attachment_view(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "uploaded_by": a.uploaded_by,
        "uploader_role": a.uploader_role,
        "created_at": a.created_at,
        "url": f"/v1/cases/{a.case_id}/attachments/{a.id}",
    }


def history_view(e: CaseEvent) -> dict[str, Any]:
    return {
        "at": e.at,
        "action": e.action,
        "actor_id": e.actor_id,
        "actor_role": e.actor_role,
        "status": e.status,
        "detail": dict(e.detail),
    }


def case_view(v: CaseView) -> dict[str, Any]:
    return {
        **case_summary(v.case),
        "messages": [message_view(m) for m in v.messages],
        "attachments": [attachment_view(a) for a in v.attachments],
        "history": [history_view(e) for e in v.history],
        "refunds": [
            {
                "id": r.id,
                "amount": r.amount,
                "currency": r.currency,
                "outcome": r.outcome,
                "created_at": r.created_at,
            }
            for r in v.refunds
        ],
        "order_total": v.order_total,
        "order_refunded_total": v.refunded_total,
    }


def content_disposition(filename: str) -> str:
    """`attachment`, never inline, with an ASCII fallback name and the exact one in RFC 5987 form."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def scorecard_view(s: Scorecard) -> dict[str, Any]:
    return {
        "seller_id": s.seller_id,
        "window": {"from": s.since, "to": s.until, "days": (s.until - s.since).days},
        "figures": {
            f.name: {
                "rate": round(f.rate, 4) if f.rate is not None else None,
                "numerator": f.numerator,
                "denominator": f.denominator,
                "threshold": {"at_most" if f.at_most else "at_least": f.threshold},
                "meets_threshold": f.meets_threshold,
                "counts": MEANING[f.name],
            }
            for f in s.figures
        },
    }
