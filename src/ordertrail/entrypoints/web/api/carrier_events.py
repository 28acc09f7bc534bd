from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from pydantic import TypeAdapter, ValidationError

from ordertrail.domain.errors import FieldError
from ordertrail.domain.events import Location, ProofOfDelivery
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.entrypoints.web.deps import DepsT, require
from ordertrail.entrypoints.web.metrics import count_ingest
from ordertrail.entrypoints.web.problems import NUL_MESSAGE, field_errors
from ordertrail.entrypoints.web.schemas import CarrierEventIn, CarrierEventsIn
from ordertrail.services.ingest import EventInput, ingest_events

router = APIRouter(prefix="/v1", tags=["carrier events"])

_validate = CarrierEventIn.model_validate


def _to_input(e: CarrierEventIn) -> EventInput:
    loc = e.location
    pod = e.proof_of_delivery
    return EventInput(
        tracking_number=e.tracking_number,
        occurred_at=e.occurred_at,
        description=e.description,
        status=e.status,
        substatus=e.substatus,
        code=e.code,
        carrier=e.carrier,
        event_id=e.event_id,
        location=Location(
            loc.city, loc.region, loc.postal_code, loc.country_code.upper() if loc.country_code else None
        )
        if loc
        else None,
        estimated_delivery=e.estimated_delivery,
        proof_of_delivery=ProofOfDelivery(pod.type, pod.url, pod.signed_by) if pod else None,
    )


_BATCH = TypeAdapter(list[CarrierEventIn])


def _validate_all(raw: list[Any]) -> tuple[list[tuple[int, EventInput]], list[tuple[int, list[FieldError]]]]:
    """Validate a batch in one call; only when some event is bad, find which ones, one by one.

    No text may hold NUL (PostgreSQL cannot store it): one search of the batch as JSON tells whether
    any does, and only then is each event searched for the fields that do."""
    try:
        nul = b"\\u0000" in orjson.dumps(raw)
    except TypeError:  # something orjson cannot write (an integer past 64 bits): look event by event
        nul = True
    if not nul:
        try:
            return [(i, _to_input(e)) for i, e in enumerate(_BATCH.validate_python(raw))], []
        except ValidationError:
            pass
    inputs: list[tuple[int, EventInput]] = []
    rejected: list[tuple[int, list[FieldError]]] = []
    for i, item in enumerate(raw):
        holding = (
            [FieldError(path, "invalid_character", NUL_MESSAGE) for path in _paths_with_nul(item)]
            if nul
            else []
        )
        try:
            event = _validate(item)
        except ValidationError as exc:
            rejected.append((i, holding + field_errors(list(exc.errors()))))
            continue
        if holding:
            rejected.append((i, holding))
        else:
            inputs.append((i, _to_input(event)))
    return inputs, rejected


def _paths_with_nul(value: Any, path: str = "") -> list[str]:
    """The dotted paths of the texts in `value` that hold a NUL."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _paths_with_nul(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _paths_with_nul(v, f"{path}.{i}" if path else str(i))]
    return []


@router.post("/carrier-events", status_code=202)
def post_carrier_events(
    body: CarrierEventsIn, deps: DepsT, _carrier: Annotated[User, Depends(require(Role.CARRIER, Role.ADMIN))]
) -> dict[str, Any]:
    inputs, rejected = _validate_all(body.events)
    result = ingest_events(deps, inputs, rejected)
    count_ingest(result.accepted, result.duplicates, len(result.rejected), result.plan, result.shared_by)
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": [
            {"index": i, "errors": [{"field": e.field, "code": e.code, "message": e.message} for e in errs]}
            for i, errs in result.rejected
        ],
    }
