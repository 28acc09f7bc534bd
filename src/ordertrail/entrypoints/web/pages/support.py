"""Support's pages: the escalation queue, a case with its whole history and evidence, the decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ordertrail.domain.statuses import Role
from ordertrail.entrypoints.web.pages.rendering import PageRoute, render
from ordertrail.entrypoints.web.pages.sessions import role
from ordertrail.services.sign_in import WebSession

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Support = Annotated[WebSession, Depends(role(Role.SUPPORT, Role.ADMIN))]


@router.get("/support")
async def escalations(request: Request, session: Support) -> Response:
    return render(request, "support/queue.html", cases=[])
