"""Evidence files on cases: photos of damage, a PDF of a receipt.

The upload is read only after the uploader is known to be a party to an open case, and it is never
held whole in memory: its first bytes decide its type (415 for anything but JPEG, PNG or PDF), and
the count of bytes streamed to the store stops it at the size limit (413), leaving nothing stored.
No transaction is open while the bytes arrive, so a slow client holds no lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import chain

from ordertrail.domain import case_notices
from ordertrail.domain.case_records import Attachment
from ordertrail.domain.cases import CaseEvent
from ordertrail.domain.errors import Conflict, NotFound, TooLarge, UnsupportedMediaType
from ordertrail.domain.evidence import SNIFF_BYTES, safe_filename, sniff
from ordertrail.domain.ids import new_id
from ordertrail.domain.users import User
from ordertrail.services.cases import load_case, notify, others
from ordertrail.services.context import Deps
from ordertrail.services.ports import EvidenceStore, IncomingFile


def _store(deps: Deps) -> EvidenceStore:
    if deps.evidence is None:
        raise RuntimeError("no evidence store is configured")
    return deps.evidence


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def checked_upload(chunks: Iterable[bytes], limit: int, found: list[str]) -> Iterator[bytes]:
    """Pass the bytes through once their type is known, and stop them at the limit."""
    source = iter(chunks)
    head = b""
    for chunk in source:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    media_type = sniff(head)
    if media_type is None:
        raise UnsupportedMediaType(
            "Evidence must be a JPEG or PNG image or a PDF document; the file's content is none of these."
        )
    found.append(media_type)
    size = 0
    for piece in chain((head,), source):
        size += len(piece)
        if size > limit:
            raise TooLarge(f"Evidence files may be at most {_megabytes(limit)}; nothing was kept.")
        yield piece


def add_attachment(deps: Deps, actor: User, case_id: str, upload: IncomingFile) -> Attachment:
    store = _store(deps)
    policy = deps.case_policy
    with deps.uow() as uow:
        case, party = load_case(uow, actor, case_id)
        if not case.is_open:
            raise Conflict(f"The case is {case.status}; it takes no more evidence.", code="case_closed")
        if len(uow.cases.attachments(case.id)) >= policy.max_attachments:
            raise Conflict(
                f"A case holds at most {policy.max_attachments} evidence files.", code="too_many_attachments"
            )
    name = upload.begin()
    attachment_id = new_id("att")
    key = f"{case.id}/{attachment_id}"
    found: list[str] = []
    stored = store.put(key, checked_upload(upload.chunks(), policy.max_evidence_bytes, found))
    try:
        with deps.uow() as uow:
            case, party = load_case(uow, actor, case_id, for_update=True)
            if not case.is_open:
                raise Conflict(f"The case is {case.status}; it takes no more evidence.", code="case_closed")
            now = deps.clock()
            attachment = Attachment(
                attachment_id,
                case.id,
                actor.id,
                party,
                safe_filename(name, found[0]),
                found[0],
                stored.size,
                stored.sha256,
                stored.key,
                now,
            )
            uow.cases.add_attachment(attachment)
            uow.cases.save(replace(case, updated_at=now))
            detail = {
                "attachment_id": attachment.id,
                "filename": attachment.filename,
                "size": attachment.size,
            }
            uow.cases.add_history(
                [CaseEvent(case.id, now, "attachment", actor.id, party, case.status, detail)]
            )
            notice = case_notices.case_updated(case, f"New evidence: {attachment.filename}")
            uow.outbox.add(notify(case, notice, others(case, party)), now)
            uow.commit()
    except BaseException:
        store.delete(key)
        raise
    return attachment


def read_attachment(
    deps: Deps, actor: User, case_id: str, attachment_id: str
) -> tuple[Attachment, Iterator[bytes]]:
    """The file and its bytes, for the parties to the case and support only."""
    with deps.uow() as uow:
        case, _ = load_case(uow, actor, case_id)
        matches = [a for a in uow.cases.attachments(case.id) if a.id == attachment_id]
    if not matches:
        raise NotFound(f"No attachment {attachment_id} on case {case_id}.")
    return matches[0], _store(deps).read(matches[0].storage_key)
