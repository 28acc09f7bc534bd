"""Inbound native webhooks of the tracking aggregators, and the raw payloads behind a shipment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from ordertrail.adapters.carriers.providers import PROVIDERS
from ordertrail.entrypoints.web.deps import Actor, Cursor, DepsT, Limit, container
from ordertrail.entrypoints.web.metrics import UNKNOWN_CODES, count_ingest
from ordertrail.entrypoints.web.problems import problem
from ordertrail.services import webhooks_inbound

router = APIRouter(prefix="/v1", tags=["carrier events"])

MAX_BODY_BYTES = 1024 * 1024  # the largest recorded provider payload is under 10 KB


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


@router.post(
    "/webhooks/inbound/{provider}",
    status_code=202,
    summary="A tracking aggregator's native webhook (EasyPost, AfterShip, 17TRACK, Shippo)",
    # The body is read raw (the signature covers its exact bytes), so describe it by hand.
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The provider's payload exactly as it sends it, signed in its signature header.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def inbound_webhook(provider: str, request: Request, body: RawBody, deps: DepsT) -> Any:
    adapter = PROVIDERS.get(provider.lower())
    if adapter is None:
        return problem(
            404, f"No inbound webhook for '{provider}'; use one of: {', '.join(sorted(PROVIDERS))}."
        )
    if len(body) > MAX_BODY_BYTES:
        return problem(413, f"A webhook body may be at most {MAX_BODY_BYTES} bytes.", code="too_large")
    secret = container(request).settings.webhook_secret(adapter.name)
    outcome = webhooks_inbound.receive_webhook(deps, adapter, request.headers, body, secret)
    count_ingest(outcome.accepted, outcome.duplicates, len(outcome.rejected), outcome.plan, outcome.shared_by)
    if outcome.unknown_codes:
        UNKNOWN_CODES.labels(adapter.name).inc(len(outcome.unknown_codes))
    return {
        "payload_id": container(request).row_ids.show("pay", outcome.payload_id),
        "replayed": outcome.replayed,
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "rejected": [
            {"index": i, "errors": [{"field": e.field, "code": e.code, "message": e.message} for e in errs]}
            for i, errs in outcome.rejected
        ],
        "unknown_codes": outcome.unknown_codes,
    }


@router.get("/shipments/{shipment_id}/raw-payloads", tags=["support"])
def raw_payloads(
    shipment_id: str, request: Request, deps: DepsT, actor: Actor, limit: Limit = 20, cursor: Cursor = None
) -> dict[str, Any]:
    rows, next_cursor = webhooks_inbound.raw_payloads(deps, actor, shipment_id, limit, cursor)
    ids = container(request).row_ids
    return {
        "items": [
            {
                "id": ids.show("pay", r["id"]),
                "provider": r["provider"],
                "received_at": r["received_at"],
                "tracking_number": r["tracking_number"],
                "delivery_id": r["delivery_id"],
                "events": r["events"],
                "outcome": {
                    "accepted": r["accepted"],
                    "duplicates": r["duplicates"],
                    "rejected": r["rejected"],
                }
                if r["accepted"] is not None
                else None,
                "unknown_codes": r["unknown_codes"],
                "body": r["body"],
            }
            for r in rows
        ],
        "next_cursor": next_cursor,
    }
