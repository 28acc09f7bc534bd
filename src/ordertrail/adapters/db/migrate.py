"""Schema migrations (Alembic), run programmatically: no alembic.ini to keep in step."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x6F7472_6D6967  # "otr" "mig": the advisory lock key of schema migrations


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Upgrade to every head: features add their tables on branches off a common base, so that
    independent migrations never need to be ordered against each other."""
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Replicas that migrate as they start take turns: the second finds the work done (two at
            # once on a fresh database failed on a duplicate key). Held until this transaction ends.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@cache
def _revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(the heads, every revision) of this version's migrations: read once, they never change."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return frozenset(scripts.get_heads()), frozenset(s.revision for s in scripts.walk_revisions())


def schema_state(conn: Connection) -> str:
    """ "current"; "behind" (migrations to apply, or none applied yet); or "ahead": migrated by a
    newer ordertrail, whose revisions this version does not know."""
    heads, known = _revisions()
    stored = set(MigrationContext.configure(conn).get_current_heads())
    if stored - known:
        return "ahead"
    return "current" if stored == heads else "behind"


def is_current(engine: Engine) -> bool:
    with engine.connect() as conn:
        return schema_state(conn) == "current"


def revision(engine: Engine, message: str) -> None:
    """Developer helper: autogenerate a new revision against a migrated database."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
