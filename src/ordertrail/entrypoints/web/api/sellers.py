"""Seller performance: GET /v1/sellers/{id}/performance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ordertrail.entrypoints.web.case_views import scorecard_view
from ordertrail.entrypoints.web.deps import Actor, DepsT
from ordertrail.services.performance import seller_performance

router = APIRouter(prefix="/v1", tags=["sellers"])


@router.get("/sellers/{seller_id}/performance")
def performance(seller_id: str, deps: DepsT, actor: Actor) -> dict[str, Any]:
    return scorecard_view(seller_performance(deps, actor, seller_id))
