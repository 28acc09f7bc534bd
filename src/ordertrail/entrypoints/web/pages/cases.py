"""The case page every party shares (buyer, seller, support), its messages, evidence and escalation.

Each side's own steps live with its pages: reporting, accepting an offer and withdrawing in
`buyer`, the answer in `seller`, the decision in `support`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse

from ordertrail.domain.errors import Conflict, DomainError, ValidationFailed
from ordertrail.domain.evidence import SNIFF_BYTES, sniff
from ordertrail.domain.statuses import Role
from ordertrail.entrypoints.web.case_views import content_disposition
from ordertrail.entrypoints.web.pages import case_words
from ordertrail.entrypoints.web.pages.rendering import PageRoute, render
from ordertrail.entrypoints.web.pages.sessions import deps_of, role, role_form
from ordertrail.entrypoints.web.pages.timeline import shipment_notice
from ordertrail.services import case_actions, case_pages, evidence
from ordertrail.services import cases as case_service
from ordertrail.services.context import Deps
from ordertrail.services.sign_in import WebSession

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PEOPLE = (Role.BUYER, Role.SELLER, Role.SUPPORT, Role.ADMIN)
Viewer = Annotated[WebSession, Depends(role(*PEOPLE))]
ViewerForm = Annotated[WebSession, Depends(role_form(*PEOPLE))]
ACCEPTED_FILES = "image/jpeg,image/png,application/pdf"


class FormUpload:
    """A file that came with a form (the `IncomingFile` port), read in chunks from its spool."""

    CHUNK = 64 * 1024

    def __init__(self, upload: UploadFile) -> None:
        self._upload = upload

    def begin(self) -> str | None:
        self._upload.file.seek(0)
        return self._upload.filename

    def chunks(self) -> Iterator[bytes]:
        while chunk := self._upload.file.read(self.CHUNK):
            yield chunk


def chosen_file(upload: UploadFile | None) -> UploadFile | None:
    """The file a form sent, or None when its file input was left empty."""
    if upload is None or not upload.filename or not upload.size:
        return None
    return upload


def file_problem(deps: Deps, upload: UploadFile) -> str | None:
    """Why the evidence service would refuse this file, said before anything else is stored."""
    upload.file.seek(0)
    head = upload.file.read(SNIFF_BYTES)
    upload.file.seek(0)
    if sniff(head) is None:
        return "Choose a photo (JPEG or PNG) or a PDF; this file is neither."
    limit = deps.case_policy.max_evidence_bytes
    if (upload.size or 0) > limit:
        return f"The file is larger than {limit // (1024 * 1024)} MB; choose a smaller one."
    return None


def no_form() -> dict[str, Any]:
    return {"id": None, "values": {}, "errors": {}}


def form_state(form_id: str, values: dict[str, Any], exc: DomainError) -> dict[str, Any]:
    if isinstance(exc, ValidationFailed):
        errors = {e.field.split(".")[0]: e.message for e in exc.errors}
    else:
        errors = {"form": exc.detail}
    return {"id": form_id, "values": values, "errors": errors}


async def case_response(
    request: Request,
    session: WebSession,
    case_id: str,
    form: dict[str, Any] | None = None,
    status: int = 200,
    done: str = "",
) -> Response:
    deps = deps_of(request)
    page = await run_in_threadpool(case_pages.case_page, deps, session.user, case_id)
    notices = {s["id"]: shipment_notice(s) for s in (page.tracking or {}).get("shipments", [])}
    return render(
        request,
        "cases/case.html",
        status_code=status,
        page=page,
        case=page.view.case,
        form=form or no_form(),
        done=done,
        words=case_words,
        notices=notices,
        now=deps.clock(),
        accepted_files=ACCEPTED_FILES,
    )


@router.get("/cases/{case_id}")
async def case_detail(request: Request, case_id: str, session: Viewer, done: str = "") -> Response:
    return await case_response(request, session, case_id, done=done)


@router.post("/cases/{case_id}/messages")
async def post_message(
    request: Request, case_id: str, session: ViewerForm, body: Annotated[str, Form(max_length=5000)] = ""
) -> Response:
    try:
        await run_in_threadpool(case_service.post_message, deps_of(request), session.user, case_id, body)
    except (ValidationFailed, Conflict) as exc:
        form = form_state("message", {"body": body}, exc)
        return await case_response(
            request, session, case_id, form, 422 if isinstance(exc, ValidationFailed) else 409
        )
    return RedirectResponse(f"/cases/{case_id}?done=message_sent#messages", status_code=303)


@router.post("/cases/{case_id}/attachments")
async def add_evidence(
    request: Request, case_id: str, session: ViewerForm, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    deps = deps_of(request)
    upload = chosen_file(file)
    problem = "Choose a file to add." if upload is None else file_problem(deps, upload)
    if problem is not None or upload is None:
        form = {"id": "evidence", "values": {}, "errors": {"file": problem}}
        await run_in_threadpool(case_pages.case_page, deps, session.user, case_id)  # 404 for strangers first
        return await case_response(request, session, case_id, form, 422)
    try:
        await run_in_threadpool(evidence.add_attachment, deps, session.user, case_id, FormUpload(upload))
    except Conflict as exc:
        return await case_response(request, session, case_id, form_state("evidence", {}, exc), 409)
    return RedirectResponse(f"/cases/{case_id}?done=evidence_added#evidence", status_code=303)


@router.get("/cases/{case_id}/attachments/{attachment_id}")
async def evidence_file(request: Request, case_id: str, attachment_id: str, session: Viewer) -> Response:
    attachment, chunks = await run_in_threadpool(
        evidence.read_attachment, deps_of(request), session.user, case_id, attachment_id
    )
    return StreamingResponse(
        chunks,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "Content-Length": str(attachment.size),
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/cases/{case_id}/escalate")
async def escalate(
    request: Request,
    case_id: str,
    session: Annotated[WebSession, Depends(role_form(Role.BUYER, Role.SELLER))],
    message: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    try:
        await run_in_threadpool(case_actions.escalate, deps_of(request), session.user, case_id, message)
    except (ValidationFailed, Conflict) as exc:
        return await case_response(
            request, session, case_id, form_state("escalate", {"message": message}, exc), 409
        )
    return RedirectResponse(f"/cases/{case_id}?done=escalated", status_code=303)
