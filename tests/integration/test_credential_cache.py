"""The per-process API-key cache (adapters/db/credential_cache.py): it must never let a changed or
erased user be served longer than its time-to-live, and never at all in the process that changed it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text, update

from ordertrail.adapters.db.credential_cache import CredentialCache, credential_cache
from ordertrail.adapters.db.engine import make_engine
from ordertrail.adapters.db.tables import users
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User

ANA = User("usr_ana", Role.BUYER, "Ana", "ana@example.com", datetime(2026, 11, 26, tzinfo=UTC))


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_user_is_served_until_the_time_to_live_passes_and_not_after() -> None:
    ticks = Ticks()
    cache = CredentialCache(ttl=2.0, monotonic=ticks)
    cache.put("h", ANA)
    ticks.now += 1.9
    assert cache.get("h") == ANA
    ticks.now += 0.2
    assert cache.get("h") is None


def test_past_its_bound_the_cache_forgets_the_least_recently_stored_keys() -> None:
    cache = CredentialCache(ttl=60.0, max_entries=2)
    for key in ("a", "b", "c"):
        cache.put(key, ANA)
    assert [cache.get(k) for k in ("a", "b", "c")] == [None, ANA, ANA]


def test_any_write_to_users_through_an_engine_of_the_process_empties_its_databases_cache(
    database_url: str,
) -> None:
    api, cli = make_engine(database_url), make_engine(database_url)  # e.g. the server and `users erase`
    try:
        cache = credential_cache(api, ttl=60.0)
        assert cache is not None and credential_cache(cli, ttl=60.0) is cache  # one per database
        with cli.begin() as c:
            c.execute(
                users.insert().values(
                    id="usr_ana",
                    role="buyer",
                    name="Ana",
                    email=None,
                    api_key_hash="h" * 64,
                    created_at=ANA.created_at,
                    email_opt_out=[],
                )
            )
        cache.put("h" * 64, ANA)
        with cli.begin() as c:
            c.execute(update(users).where(users.c.id == "usr_ana").values(api_key_hash="revoked"))
        assert cache.get("h" * 64) is None
        cache.put("h" * 64, ANA)
        with api.begin() as c:  # reads leave it alone
            c.execute(text("SELECT count(*) FROM users")).scalar_one()
        assert cache.get("h" * 64) == ANA
    finally:
        api.dispose()
        cli.dispose()


def test_a_time_to_live_of_zero_turns_the_cache_off(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert credential_cache(engine, ttl=0) is None
    finally:
        engine.dispose()
