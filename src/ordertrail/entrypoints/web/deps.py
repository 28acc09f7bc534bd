"""Request-scoped dependencies: the container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from ordertrail.bootstrap import Container
from ordertrail.domain.errors import Forbidden
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.users import authenticate


def container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


def services(request: Request) -> Deps:
    return container(request).deps


def current_user(request: Request) -> User:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    c = container(request)
    user = authenticate(c.deps, key.strip() if scheme.lower() == "bearer" else None, c.settings.admin_api_key)
    request.state.user = user
    return user


def require(*roles: Role):  # type: ignore[no-untyped-def]
    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise Forbidden(f"This needs one of the roles: {', '.join(r.value for r in roles)}.")
        return user

    return check


DepsT = Annotated[Deps, Depends(services)]
ContainerT = Annotated[Container, Depends(container)]
Actor = Annotated[User, Depends(current_user)]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1-100).")]
Cursor = Annotated[str | None, Query(max_length=200)]
