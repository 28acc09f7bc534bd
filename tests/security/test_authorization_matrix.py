"""Every route, as every role, on its own resource and on a foreign one, and anonymous: as its rule says.

The routes come from the app's own route table, so a route added anywhere without a rule in
`ordertrail.entrypoints.web.access.RULES` (and a request in `access_scenarios.SCENARIOS`) fails here.
Expected answers follow from the rule alone: anonymous callers get 401 (API) or are sent to sign in
(pages); a role the rule refuses gets 403; a resource of someone else answers 404 exactly like a
missing one; the rightful caller succeeds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.routing import Mount

from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.migrate import migrate
from ordertrail.adapters.db.tables import metadata
from ordertrail.bootstrap import build
from ordertrail.config import Settings
from ordertrail.domain.statuses import Role
from ordertrail.entrypoints.web import access
from ordertrail.entrypoints.web.access import Gate, Reach, Rule
from ordertrail.entrypoints.web.app import create_app
from ordertrail.entrypoints.web.pages import buyer as buyer_pages
from tests.conftest import ADMIN_KEY, FixedClock
from tests.e2e.conftest import Api
from tests.security.access_scenarios import ROLES, SCENARIOS, WEBHOOK_SECRET, Call, World


def route_keys(app: object) -> list[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if isinstance(route, Mount):
            keys.add(("GET", route.path))
        elif context.path is not None:
            keys.update((m, context.path) for m in (context.methods or ()) if m != "HEAD")
    return sorted(keys, key=lambda k: (k[1], k[0]))


def _collection_app() -> object:
    """The app as configured, built only to read its route table (no database is touched)."""
    tmp = Path(tempfile.mkdtemp(prefix="ordertrail-routes-"))
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'routes.db'}", _env_file=None)  # type: ignore[call-arg]
    return create_app(build(settings))


ROUTES = route_keys(_collection_app())


def matrix_settings(data_dir: Path, url: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=url,
        admin_api_key=ADMIN_KEY,
        base_url="http://testserver",
        webhook_secret_easypost=WEBHOOK_SECRET,
        rate_limit_key_per_minute=0,
        rate_limit_address_per_minute=0,
        rate_limit_auth_failures_per_minute=0,
        _env_file=None,  # type: ignore[call-arg]
    )


@contextmanager
def matrix_database(tmp: Path, pg_database_url: str | None) -> Iterator[str]:
    """A migrated database for a whole module: a SQLite file, or the session's PostgreSQL one emptied after."""
    if pg_database_url is None:
        url = f"sqlite:///{tmp / 'module.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    try:
        yield pg_database_url
    finally:
        engine = make_engine(pg_database_url)
        with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, pg_database_url: str | None) -> Iterator[World]:
    """One database, app and cast for the whole matrix: every call builds its own fresh resources."""
    tmp = tmp_path_factory.mktemp("matrix")
    clock = FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    stream_seconds = buyer_pages.STREAM_SECONDS
    buyer_pages.STREAM_SECONDS = 0  # the live-update stream answers and ends at once
    with matrix_database(tmp, pg_database_url) as url:
        container = build(matrix_settings(tmp / "data", url), clock=clock)
        try:
            with TestClient(create_app(container), raise_server_exceptions=False) as client:
                yield World(Api(client, container), container, clock)
        finally:
            buyer_pages.STREAM_SECONDS = stream_seconds
            container.close()


def expected(rule: Rule, caller: Role | None, own: bool) -> str:
    if rule.gate is Gate.PUBLIC:
        return "ok"
    if rule.gate is Gate.SECRET:
        return "ok" if own else str(rule.refused)
    signed_in = caller is not None and not (rule.gate is Gate.SESSION and caller is Role.CARRIER)
    if not signed_in:
        return "401" if rule.gate is Gate.API_KEY else "sign-in"
    assert caller is not None
    reach = rule.reach(caller)
    return {
        Reach.ANY: "ok",
        Reach.OWN: "ok" if own else "404",
        Reach.PARTY: "403" if own else "404",
        Reach.DENY: "403",
    }[reach]


def observed(status: int, location: str) -> str:
    if status in (302, 303, 307) and (location == "/login" or location.startswith("/login?next=")):
        return "sign-in"
    return "ok" if 200 <= status < 400 else str(status)


def send(world: World, call: Call, caller: Role | None) -> tuple[int, str]:
    headers, cookies, data = dict(call.headers), dict(call.cookies), call.data
    if caller is not None:
        headers["Authorization"] = world.mine[caller].auth["Authorization"]
        session = world.sessions.get(caller)
        if session is not None and "ot_session" not in cookies:
            cookies["ot_session"] = session.cookie
            if data is not None and "csrf_token" not in data:
                data = {**data, "csrf_token": session.csrf}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    client = world.api.client
    client.cookies.clear()  # nothing carries over from the last caller
    r = client.request(
        call.method,
        call.path,
        json=call.json,
        data=data,
        files=call.files,
        params=call.params,
        content=call.content,
        headers=headers,
        follow_redirects=False,
    )
    hops = 0
    # A page may send a caller to the page for its role: what counts is where the caller ends up.
    while call.method == "GET" and r.status_code in (302, 303, 307) and hops < 3:
        location = r.headers["location"]
        if location == "/login" or location.startswith("/login?next="):
            break
        client.cookies.clear()
        r, hops = client.get(location, headers=headers, follow_redirects=False), hops + 1
    return r.status_code, r.headers.get("location", "")


def test_every_route_of_the_app_has_a_declared_rule_and_a_request_that_proves_it() -> None:
    routes = set(ROUTES)
    assert not routes - set(access.RULES), (
        f"routes without an access rule: {sorted(routes - set(access.RULES))}"
    )
    assert not routes - set(SCENARIOS), f"routes without a matrix request: {sorted(routes - set(SCENARIOS))}"
    assert not set(access.RULES) - routes, (
        f"rules for routes that no longer exist: {set(access.RULES) - routes}"
    )


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_the_route_answers_every_role_own_or_foreign_and_anonymous_as_its_rule_declares(
    world: World, method: str, path: str
) -> None:
    rule = access.rule_for(method, path)
    build_call = SCENARIOS.get((method, path))
    assert rule is not None, f"{method} {path} has no rule in ordertrail.entrypoints.web.access.RULES"
    assert build_call is not None, f"{method} {path} has no request in access_scenarios.SCENARIOS"
    mismatches = []
    cases: list[tuple[Role | None, bool]] = [(None, True)] + [
        (r, own) for r in ROLES for own in (True, False)
    ]
    for caller, own in cases:
        call = build_call(world, world.side(own), caller, own)
        status, location = send(world, call, caller)
        want, got = expected(rule, caller, own), observed(status, location)
        if want != got:
            who = "anonymous" if caller is None else f"{caller.value} ({'own' if own else 'foreign'})"
            mismatches.append(f"{who}: expected {want}, got {status} {location}".rstrip())
    assert not mismatches, f"{method} {path}:\n  " + "\n  ".join(mismatches)
