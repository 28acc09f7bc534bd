from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError

from ordertrail.domain.errors import FieldError
from ordertrail.domain.events import Location, ProofOfDelivery
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.entrypoints.web.deps import DepsT, require
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


@router.post("/carrier-events", status_code=202)
def post_carrier_events(
    body: CarrierEventsIn, deps: DepsT, _carrier: Annotated[User, Depends(require(Role.CARRIER, Role.ADMIN))]
) -> dict[str, Any]:
    inputs: list[tuple[int, EventInput]] = []
    rejected: list[tuple[int, list[FieldError]]] = []
    for i, raw in enumerate(body.events):
        try:
            inputs.append((i, _to_input(_validate(raw))))
        except ValidationError as exc:
            rejected.append((i, field_errors(list(exc.errors()))))
    result = ingest_events(deps, inputs, rejected)
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": [
            {"index": i, "errors": [{"field": e.field, "code": e.code, "message": e.message} for e in errs]}
            for i, errs in result.rejected
        ],
    }
