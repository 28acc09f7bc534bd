from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import TypeAdapter, ValidationError

from ordertrail.domain.errors import FieldError
from ordertrail.domain.events import Location, ProofOfDelivery
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.entrypoints.web.deps import DepsT, require
from ordertrail.entrypoints.web.metrics import count_ingest
from ordertrail.entrypoints.web.problems import field_errors
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
    """Validate a batch in one call; only when some event is bad, find which ones, one by one."""
    try:
        return [(i, _to_input(e)) for i, e in enumerate(_BATCH.validate_python(raw))], []
    except ValidationError:
        pass
    inputs: list[tuple[int, EventInput]] = []
    rejected: list[tuple[int, list[FieldError]]] = []
    for i, item in enumerate(raw):
        try:
            inputs.append((i, _to_input(_validate(item))))
        except ValidationError as exc:
            rejected.append((i, field_errors(list(exc.errors()))))
    return inputs, rejected


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
