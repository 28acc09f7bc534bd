"""Cases (issue resolution) and their evidence: API.md "Cases"."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from ordertrail.domain.cases import CaseRequest, CaseType, Outcome, Requested
from ordertrail.entrypoints.web.case_views import (
    attachment_view,
    case_summary,
    case_view,
    content_disposition,
    message_view,
)
from ordertrail.entrypoints.web.deps import Actor, Cursor, DepsT, Limit
from ordertrail.entrypoints.web.schemas import Body
from ordertrail.entrypoints.web.uploads import MultipartFile
from ordertrail.services import case_actions, evidence
from ordertrail.services import cases as case_service

router = APIRouter(prefix="/v1", tags=["cases"])

Message = Annotated[StrictStr, Field(max_length=5000)]


class CaseIn(Body):
    type: CaseType
    description: Message
    requested_resolution: Requested
    amount: StrictInt | None = None
    shipment_id: Annotated[StrictStr, Field(max_length=64)] | None = None


class MessageIn(Body):
    body: Message


class ResponseIn(Body):
    action: Literal["accept", "offer", "reject"]
    resolution: Literal["refund", "partial_refund", "replacement"] | None = None
    amount: StrictInt | None = None
    message: Message


class NoteIn(Body):
    message: Message = ""


class DecisionIn(Body):
    outcome: Outcome
    amount: StrictInt | None = None
    note: Message


@router.post("/orders/{order_id}/cases", status_code=201)
def open_case(order_id: str, body: CaseIn, deps: DepsT, actor: Actor) -> dict[str, Any]:
    request = CaseRequest(
        body.type, body.description, body.requested_resolution, body.amount, body.shipment_id
    )
    return case_view(case_service.open_case(deps, actor, order_id, request))


@router.get("/cases")
def list_cases(
    deps: DepsT,
    actor: Actor,
    limit: Limit = 20,
    cursor: Cursor = None,
    status: Annotated[str | None, Query(description="escalated: the support queue, oldest first")] = None,
) -> dict[str, Any]:
    page = case_service.list_cases(deps, actor, status, limit, cursor)
    return {"items": [case_summary(c) for c in page.items], "next_cursor": page.next_cursor}


@router.get("/cases/{case_id}")
def get_case(case_id: str, deps: DepsT, actor: Actor) -> dict[str, Any]:
    return case_view(case_service.read_case(deps, actor, case_id))


@router.post("/cases/{case_id}/messages", status_code=201)
def post_message(case_id: str, body: MessageIn, deps: DepsT, actor: Actor) -> dict[str, Any]:
    return message_view(case_service.post_message(deps, actor, case_id, body.body))


_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    },
    "responses": {
        "413": {"description": "The file is larger than the limit (10 MB by default)."},
        "415": {"description": "The file's content is not JPEG, PNG or PDF."},
    },
}


@router.post("/cases/{case_id}/attachments", status_code=201, openapi_extra=_UPLOAD_DOC)
async def add_attachment(case_id: str, request: Request, deps: DepsT, actor: Actor) -> dict[str, Any]:
    upload = MultipartFile(request, deps.case_policy.max_evidence_bytes)
    attachment = await run_in_threadpool(evidence.add_attachment, deps, actor, case_id, upload)
    return attachment_view(attachment)


@router.get("/cases/{case_id}/attachments/{attachment_id}", response_class=StreamingResponse)
def get_attachment(case_id: str, attachment_id: str, deps: DepsT, actor: Actor) -> StreamingResponse:
    attachment, chunks = evidence.read_attachment(deps, actor, case_id, attachment_id)
    return StreamingResponse(
        chunks,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "Content-Length": str(attachment.size),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/cases/{case_id}/responses")
def respond(case_id: str, body: ResponseIn, deps: DepsT, actor: Actor) -> dict[str, Any]:
    view = case_actions.respond(deps, actor, case_id, body.action, body.message, body.resolution, body.amount)
    return case_view(view)


@router.post("/cases/{case_id}/accept-offer")
def accept_offer(case_id: str, deps: DepsT, actor: Actor) -> dict[str, Any]:
    return case_view(case_actions.accept_offer(deps, actor, case_id))


@router.post("/cases/{case_id}/escalate")
def escalate(case_id: str, deps: DepsT, actor: Actor, body: NoteIn | None = None) -> dict[str, Any]:
    return case_view(case_actions.escalate(deps, actor, case_id, body.message if body else ""))


@router.post("/cases/{case_id}/decision")
def decide(case_id: str, body: DecisionIn, deps: DepsT, actor: Actor) -> dict[str, Any]:
    return case_view(case_actions.decide(deps, actor, case_id, body.outcome, body.note, body.amount))


@router.post("/cases/{case_id}/withdraw")
def withdraw(case_id: str, deps: DepsT, actor: Actor, body: NoteIn | None = None) -> dict[str, Any]:
    return case_view(case_actions.withdraw(deps, actor, case_id, body.message if body else ""))
