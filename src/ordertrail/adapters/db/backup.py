"""Backup and restore of the embedded (SQLite) database, safe while the service runs.

A backup is SQLite's online backup API run in one step: it reads the whole database inside a single
read transaction, which in WAL mode never blocks the writers and sees one instant of the database,
so the copy is consistent however busy the service is. It is written beside the target and renamed
into place once it passed `PRAGMA integrity_check` and `PRAGMA foreign_key_check`, so a crash mid-backup
never leaves a half file under the backup's name.

Restore copies a checked backup over the database the settings name, again through the backup API
(which handles the WAL files). Stop the service first: a restore replaces everything it holds.
PostgreSQL is backed up with its own tools (pg_dump / pg_basebackup); see docs/security.md.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from ordertrail.adapters.db.migrate import alembic_config


class BackupError(Exception):
    """The backup or restore could not be done; nothing was replaced."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    tables: dict[str, int]


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "ordertrail backup and restore handle the embedded SQLite database; "
            "back PostgreSQL up with pg_dump or pg_basebackup."
        )
    return Path(url.database)


def check(conn: sqlite3.Connection) -> dict[str, int]:
    """Integrity and foreign keys of a database; its tables' row counts when both hold."""
    try:
        return _check(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"not a usable database: {exc}") from None


def _check(conn: sqlite3.Connection) -> dict[str, int]:
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise BackupError(f"integrity check failed: {problems[:5]}")
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise BackupError(f"foreign keys broken: {broken[:5]}")
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names}


def _copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst)  # pages=-1: one step, one read transaction, one instant
        dst.execute("PRAGMA journal_mode = DELETE")  # a backup is one self-contained file


def backup(database_url: str, target: Path) -> BackupReport:
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    target = target.resolve()
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        with closing(sqlite3.connect(partial)) as conn:
            tables = check(conn)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(target, target.stat().st_size, tables)


# Tables without which a file is no ordertrail database, whatever else it holds.
_CORE_TABLES = frozenset({"alembic_version", "users", "orders", "shipments", "tracking_events"})


def _ours(conn: sqlite3.Connection, tables: dict[str, int]) -> None:
    """Refuse a database that is not ordertrail's, or is of a schema this version does not know."""
    missing = sorted(_CORE_TABLES - tables.keys())
    if missing:
        raise BackupError(f"not an ordertrail backup: it has no {', '.join(missing)} table")
    stored = {r[0] for r in conn.execute("SELECT version_num FROM alembic_version")}
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if not stored or stored - known:
        raise BackupError(
            f"the backup's schema ({', '.join(sorted(stored)) or 'none'}) is not one this version of "
            "ordertrail knows: restore it with the version that wrote it"
        )


def _in_use(target: Path) -> bool:
    """Whether a process has the database open: an exclusive lock is then refused (in WAL mode every
    connection, even an idle one, holds a shared lock while it is open)."""
    if not target.exists():
        return False
    with closing(sqlite3.connect(target, timeout=0.5, isolation_level=None)) as conn:
        try:
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return True
    return False


def rows_in(database_url: str) -> int | None:
    """How many rows the database the settings name holds (None if there is none yet)."""
    target = sqlite_path(database_url)
    if not target.exists():
        return None
    with closing(sqlite3.connect(target)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return sum(int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names)


def checked_backup(source: Path) -> dict[str, int]:
    """The row counts of an ordertrail backup that is whole; BackupError for anything else."""
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}")
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as conn:
        tables = check(conn)
        _ours(conn, tables)
    return tables


def restore(database_url: str, source: Path) -> BackupReport:
    target = sqlite_path(database_url)
    tables = checked_backup(source)  # refuse a damaged or foreign file before touching the database
    if _in_use(target):
        raise BackupError(
            f"the database at {target} is in use: stop `ordertrail serve`, `ordertrail worker` and any "
            "other process using it, then restore"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target, timeout=30)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")
    with closing(sqlite3.connect(target)) as conn:
        check(conn)
    return BackupReport(target, target.stat().st_size, tables)
