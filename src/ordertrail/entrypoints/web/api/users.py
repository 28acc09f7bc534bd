from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.entrypoints.web.deps import DepsT, require
from ordertrail.entrypoints.web.schemas import UserIn
from ordertrail.entrypoints.web.views import user_view
from ordertrail.services.users import create_user

router = APIRouter(prefix="/v1", tags=["users"])


@router.post("/users", status_code=201)
def post_user(
    body: UserIn, deps: DepsT, _admin: Annotated[User, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    created = create_user(deps, body.role, body.name, body.email)
    return user_view(created.user, created.api_key)
