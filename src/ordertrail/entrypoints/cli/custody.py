"""Commands that look after the data itself: backups of the embedded database, and a buyer's
personal data on request (export, erase)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ordertrail.entrypoints.cli import _container, _echo_json, app, users_app


@app.command()
def backup(path: Annotated[Path, typer.Argument(help="Where to write the backup file.")]) -> None:
    """Copy the embedded database to PATH, consistently, while the service keeps running."""
    from ordertrail.adapters.db.backup import BackupError
    from ordertrail.adapters.db.backup import backup as run_backup
    from ordertrail.config import Settings

    try:
        report = run_backup(Settings().resolved_database_url, path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    rows = sum(report.tables.values())
    typer.echo(
        f"backed up {rows} rows in {len(report.tables)} tables to {report.path} ({report.bytes} bytes)"
    )


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A file written by `ordertrail backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the embedded database by the backup at PATH (stop the service first)."""
    from ordertrail.adapters.db.backup import BackupError, checked_backup, rows_in
    from ordertrail.adapters.db.backup import restore as run_restore
    from ordertrail.config import Settings

    url = Settings().resolved_database_url
    try:
        incoming = sum(checked_backup(path).values())
        held = rows_in(url)
        if held and not yes:
            typer.confirm(
                f"Replace the database, which holds {held} rows, with the backup's {incoming}? "
                "What it holds now is lost.",
                abort=True,
            )
        report = run_restore(url, path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"restored {sum(report.tables.values())} rows in {len(report.tables)} tables into {report.path}"
    )


@users_app.command("export")
def users_export(user_id: Annotated[str, typer.Option("--id", help="The user's id")]) -> None:
    """Print everything stored about the user as JSON (orders, cases, notices, e-mails)."""
    from ordertrail.domain.errors import NotFound
    from ordertrail.services.privacy import export_personal_data

    container = _container()
    try:
        data = export_personal_data(container.deps, user_id)
    except NotFound as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        container.close()
    _echo_json(data)


@users_app.command("erase")
def users_erase(
    user_id: Annotated[str, typer.Option("--id", help="The user's id")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase the user's personal data; order facts stay, anonymised. This cannot be undone."""
    from ordertrail.domain.errors import NotFound
    from ordertrail.services.privacy import erase_personal_data

    if not yes:
        typer.confirm(f"Erase the personal data of {user_id}? This cannot be undone.", abort=True)
    container = _container()
    try:
        erasure = erase_personal_data(container.deps, user_id)
    except NotFound as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        container.close()
    _echo_json({"erased": erasure.user_id, "changed": erasure.changed})
