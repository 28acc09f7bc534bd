"""Native webhooks of the tracking aggregators (`POST /v1/webhooks/inbound/{provider}`).

A delivery is authenticated by the provider's signature, parsed, kept byte for byte (so a wrong
status can be traced to what the provider said), and its scans go through the same ingestion as
every other carrier event, each linked to the payload row (`tracking_events.source_id`).

Order of the steps, and why:
1. The signature is checked before anything is read or stored: an unsigned body is refused whole.
2. The body is parsed before it is stored: a payload that cannot be read is refused and not kept.
3. The payload is stored in its own transaction before ingestion, so a delivery whose ingestion
   fails is still there to look at. The same bytes again (a provider's retry, a replay) find the
   stored row: nothing new is stored, and every scan comes back as a duplicate.
4. The events go to the shipment with the delivery's number. When several shipments share it, the
   one of the provider's carrier wins; when the provider names no carrier we know (or one no shipment
   has), the newest live shipment with the number does, and its carrier is the events' carrier.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ordertrail.domain.errors import (
    FieldError,
    Forbidden,
    MalformedBody,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from ordertrail.domain.ids import row_number
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.ingest import EventInput, ingest_events
from ordertrail.services.ports import UnitOfWork
from ordertrail.services.ports_carriers import NewPayload, ParsedDelivery, WebhookProvider

log = logging.getLogger(__name__)

PURGE_BATCH = 1000


@dataclass
class WebhookOutcome:
    payload_id: int
    replayed: bool
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, list[FieldError]]] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)
    plan: str | None = None  # IngestResult.plan, when the events were applied
    shared_by: int = 1  # IngestResult.shared_by


def _normalise(number: str) -> str:
    return "".join(number.split()).upper()


def _authenticate(
    provider: WebhookProvider, headers: Mapping[str, str], body: bytes, secret: str | None, now: datetime
) -> None:
    if not secret:
        raise Unauthenticated(
            f"No webhook secret is configured for {provider.name}, so its deliveries cannot be trusted."
        )
    if not provider.verify(headers, body, secret, now):
        raise Unauthenticated(f"Missing or invalid {provider.signature_header} signature.")


def _parse(provider: WebhookProvider, body: bytes) -> ParsedDelivery:
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedBody("The request body is not valid JSON.") from None
    try:
        return provider.parse(body)
    except ValueError as exc:  # the parsers' PayloadError: it names the JSON path at fault
        raise ValidationFailed.one("body", "invalid_payload", str(exc)) from None


def _carrier(uow: UnitOfWork, parsed: ParsedDelivery) -> str | None:
    refs = uow.shipments.by_tracking_numbers([_normalise(parsed.tracking_number)])
    candidates = [shipment for refs_of in refs.values() for shipment, _, _ in refs_of]
    if not candidates:
        return None
    for shipment in candidates:
        if parsed.carrier_slug and shipment.carrier == parsed.carrier_slug:
            return shipment.carrier
    if parsed.carrier_slug and parsed.carrier_slug != candidates[0].carrier:
        log.info(
            "webhook for %s names carrier %s; the shipment says %s, which is kept",
            parsed.tracking_number,
            parsed.carrier_slug,
            candidates[0].carrier,
        )
    return candidates[0].carrier


def receive_webhook(
    deps: Deps,
    provider: WebhookProvider,
    headers: Mapping[str, str],
    body: bytes,
    secret: str | None,
) -> WebhookOutcome:
    now = deps.clock()
    _authenticate(provider, headers, body, secret, now)
    parsed = _parse(provider, body)
    with deps.uow() as uow:
        payload_id, stored = uow.inbound.find_or_add(
            NewPayload(
                provider=provider.name,
                body=body,
                body_sha256=hashlib.sha256(body).hexdigest(),
                received_at=now,
                tracking_number=parsed.tracking_number[:64],
                delivery_id=parsed.provider_event_id[:128] if parsed.provider_event_id else None,
                unknown_codes=list(parsed.unknown_codes),
            )
        )
        carrier = _carrier(uow, parsed) if parsed.events else None
        uow.commit()
    outcome = WebhookOutcome(payload_id, replayed=not stored)
    if stored and parsed.unknown_codes:
        outcome.unknown_codes = list(parsed.unknown_codes)
        # Kept raw on each event (raw_status); logged so someone extends the provider's code table.
        log.warning(
            "%s sent codes with no mapping: %s (payload %s, tracking number %s)",
            provider.name,
            ", ".join(parsed.unknown_codes),
            payload_id,
            parsed.tracking_number,
        )
    if not parsed.events:
        return outcome
    inputs = [
        (i, replace(EventInput.from_scan(event), carrier=carrier)) for i, event in enumerate(parsed.events)
    ]
    result = ingest_events(deps, inputs, source_id=payload_id)
    outcome.accepted, outcome.duplicates, outcome.rejected = (
        result.accepted,
        result.duplicates,
        result.rejected,
    )
    outcome.plan, outcome.shared_by = result.plan, result.shared_by
    with deps.uow() as uow:
        uow.inbound.record_outcome(payload_id, result.accepted, result.duplicates, len(result.rejected))
        uow.commit()
    return outcome


def raw_payloads(
    deps: Deps, actor: User, shipment_id: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The stored payloads that produced a shipment's events, newest first (support and admin)."""
    if actor.role not in (Role.SUPPORT, Role.ADMIN):
        raise Forbidden("Raw carrier payloads are for support staff.")
    before: int | None = None
    if cursor is not None:
        before = row_number(cursor)
        if before is None:
            raise ValidationFailed.one("cursor", "invalid_cursor", "This cursor did not come from this list.")
    with deps.uow() as uow:
        if uow.shipments.get(shipment_id) is None:
            raise NotFound(f"No shipment {shipment_id}.")
        rows = uow.inbound.for_shipment(shipment_id, limit + 1, before)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1]["id"]) if more else None)


def purge_inbound_payloads(deps: Deps, now: datetime) -> dict[str, int]:
    """Drop payloads older than the retention period; the events they produced stay."""
    cutoff = now - deps.inbound_payload_retention
    purged = 0
    while True:
        with deps.uow() as uow:
            n = uow.inbound.purge(cutoff, PURGE_BATCH)
            uow.commit()
        purged += n
        if n < PURGE_BATCH:
            return {"purged": purged}
