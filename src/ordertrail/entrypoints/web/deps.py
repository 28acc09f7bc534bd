"""Request-scoped dependencies: the container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from ordertrail.bootstrap import Container
from ordertrail.domain.errors import Forbidden
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.users import authenticate, known_caller


def container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


# The dependencies below are async when they do no I/O: FastAPI runs every sync dependency in a
# worker thread, and a thread hand-off per dependency per request is measurable (benchmarks/).
async def services(request: Request) -> Deps:
    return container(request).deps


async def _container(request: Request) -> Container:
    return container(request)


def _bearer(request: Request) -> str | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else None


def current_user(request: Request) -> User:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    c = container(request)
    user = authenticate(c.deps, _bearer(request), c.settings.admin_api_key)
    request.state.user = user
    return user


async def actor(request: Request) -> User:
    """`current_user` without a worker thread when the caller is already known (cached key, admin)."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    c = container(request)
    user = known_caller(c.deps, _bearer(request), c.settings.admin_api_key)
    if user is None:
        return await run_in_threadpool(current_user, request)
    request.state.user = user
    return user


def require(*roles: Role):  # type: ignore[no-untyped-def]
    async def check(user: Annotated[User, Depends(actor)]) -> User:
        if user.role not in roles:
            raise Forbidden(f"This needs one of the roles: {', '.join(r.value for r in roles)}.")
        return user

    return check


DepsT = Annotated[Deps, Depends(services)]
ContainerT = Annotated[Container, Depends(_container)]
Actor = Annotated[User, Depends(actor)]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (1-100).")]
Cursor = Annotated[str | None, Query(max_length=200)]
