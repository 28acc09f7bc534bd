"""The `ordertrail` command line: serve, worker, migrate, sweep, users, demo."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from datetime import datetime
from typing import Annotated

import typer

from ordertrail.bootstrap import Container, build
from ordertrail.config import Settings
from ordertrail.entrypoints import collector

app = typer.Typer(
    help="ordertrail: order tracking and post-purchase service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Manage users and their API keys.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"ordertrail {version('ordertrail')}")
        raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """ordertrail: order tracking and post-purchase service."""


def _container() -> Container:
    """The service's parts, on a database whose schema is this version's: the embedded default
    migrates itself; any other database must have been migrated (`ordertrail migrate`)."""
    from ordertrail.adapters.db.migrate import migrate, schema_state

    container = build(Settings())
    with container.engine.connect() as conn:
        state = schema_state(conn)
    if state == "behind" and container.engine.dialect.name == "sqlite":
        migrate(container.engine)  # the embedded default sets itself up
    elif state != "current":
        container.close()
        where = container.engine.url.render_as_string(hide_password=True)
        if state == "ahead":
            typer.echo(
                f"ordertrail: the database at {where} was migrated by a newer version of ordertrail; "
                "run that version, or restore a backup made by this one.",
                err=True,
            )
        else:
            typer.echo(
                f"ordertrail: the database at {where} is not migrated to this version; "
                "run `ordertrail migrate` first.",
                err=True,
            )
        raise typer.Exit(1)
    return container


def _can_listen(host: str, port: int) -> None:
    """Exit with what to do if the address cannot be listened on, before anything is set up or said
    (the server said it was listening, then failed in a log line; the demo wrote itself first)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            typer.echo(
                f"ordertrail: cannot listen on {host}:{port}: {exc.strerror or exc}. Stop what uses that "
                "port or choose another (--port; `make run PORT=8080`).",
                err=True,
            )
            raise typer.Exit(1) from None


def _links_follow(host: str, port: int) -> None:
    """Unless a public URL is configured, links (e-mails, tracking pages, the simulated carrier's
    tracking URL) point where this server listens, in this process and in the API processes it
    starts, rather than at the default port 8000."""
    if "base_url" in Settings().model_fields_set:
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    os.environ["ORDERTRAIL_BASE_URL"] = f"http://{shown}:{port}"


def _echo_json(value: object) -> None:
    from ordertrail.entrypoints.web.json import dumps

    typer.echo(dumps(value).decode())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (one per core).", min=1, max=64)] = 1,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Don't run the in-process worker.")] = False,
) -> None:
    """Run the API, the pages and (unless --no-worker) the in-process worker."""
    import uvicorn

    from ordertrail.entrypoints import logs
    from ordertrail.entrypoints.web.app import create_app

    _can_listen(host, port)
    _links_follow(host, port)
    container = _container()
    logs.configure(container.settings.log_level)
    if workers > 1:  # each API process tunes its own collector (web/asgi.py)
        uvicorn.run(
            "ordertrail.entrypoints.web.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
        )
        return
    run_worker = not no_worker and container.settings.in_process_worker
    collector.tune_for_service()
    typer.echo(f"ordertrail listening on http://{host}:{port} (database: {container.engine.dialect.name})")
    # log_config=None keeps the JSON logging set up above; the app writes its own request log.
    uvicorn.run(
        create_app(container, run_worker=run_worker), host=host, port=port, log_config=None, access_log=False
    )


@app.command()
def worker() -> None:
    """Deliver the outbox and run the sweeps, as a process of its own."""
    from ordertrail.entrypoints import logs
    from ordertrail.entrypoints import worker as worker_loop

    container = _container()
    logs.configure(container.settings.log_level)
    collector.tune_for_service()
    stop = threading.Event()
    # SIGTERM (systemd, Kubernetes) stops after the current steps; what is mid-flight is claimed
    # again later, so even SIGKILL loses nothing.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo("ordertrail worker started", err=True)
    try:
        worker_loop.run(container, stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        container.close()


@app.command()
def migrate() -> None:
    """Apply the schema migrations to ORDERTRAIL_DATABASE_URL."""
    from ordertrail.adapters.db.migrate import migrate as run_migrations
    from ordertrail.adapters.db.migrate import schema_state

    container = build(Settings())
    try:
        with container.engine.connect() as conn:
            ahead = schema_state(conn) == "ahead"
        if ahead:
            typer.echo(
                "ordertrail: this database was migrated by a newer version of ordertrail; "
                "this version cannot migrate it (run the newer one).",
                err=True,
            )
            raise typer.Exit(1)
        run_migrations(container.engine)
    finally:
        container.close()
    typer.echo(f"database at head ({container.engine.dialect.name})")


@app.command()
def sweep(
    now: Annotated[str | None, typer.Option(help="Run as of this RFC 3339 time (default: now).")] = None,
) -> None:
    """Run every sweep once and print what each found."""
    from ordertrail.domain.events import MAX_YEAR, MIN_YEAR, in_range
    from ordertrail.services.sweeps import run_all

    at = None
    if now is not None:  # read first ("" too), so a refusal leaves nothing open
        try:
            at = datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError:
            typer.echo(f"--now must be an RFC 3339 time like 2026-12-01T09:00:00Z, not {now!r}", err=True)
            raise typer.Exit(2) from None
        if at.tzinfo is None:
            typer.echo("--now needs an offset or Z", err=True)
            raise typer.Exit(2)
        # The sweeps count days forward from it: a time near year 1 or 9999 overflows mid-run.
        if not in_range(at):
            typer.echo(f"--now must be in the years {MIN_YEAR}-{MAX_YEAR}", err=True)
            raise typer.Exit(2)
    container = _container()
    try:
        results = run_all(container.deps, at or container.deps.clock())
    finally:
        container.close()
    for name, counts in results.items():
        typer.echo(f"{name}: " + (", ".join(f"{k}={v}" for k, v in counts.items()) or "nothing"))


@users_app.command("create")
def users_create(
    role: Annotated[str, typer.Option(help="buyer, seller, support, carrier or admin")],
    name: Annotated[str, typer.Option(help="Display name")],
    email: Annotated[str | None, typer.Option(help="E-mail address")] = None,
) -> None:
    """Create a user and print it as JSON with its API key (shown only once)."""
    from ordertrail.domain.errors import Conflict, ValidationFailed
    from ordertrail.entrypoints.web.views import user_view
    from ordertrail.services.users import create_user

    container = _container()
    try:
        created = create_user(container.deps, role, name, email)
    except ValidationFailed as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    except Conflict as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    _echo_json(user_view(created.user, created.api_key))


@users_app.command("new-key")
def users_new_key(
    user_id: Annotated[str | None, typer.Option("--id", help="The user's id")] = None,
    email: Annotated[str | None, typer.Option(help="Or the user's e-mail address")] = None,
) -> None:
    """Give a user who lost their API key a new one, printed as JSON (shown only once); the old key
    stops working."""
    from ordertrail.domain.errors import NotFound
    from ordertrail.entrypoints.web.views import user_view
    from ordertrail.services.users import new_key

    if (user_id is None) == (email is None):
        typer.echo("error: name the user with --id or with --email (one of them)", err=True)
        raise typer.Exit(2)
    container = _container()
    try:
        if user_id is None:
            with container.deps.read() as uow:
                found = uow.users.by_email(email or "")
            if found is None:
                typer.echo(f"error: no user has the e-mail {email!r}", err=True)
                raise typer.Exit(2)
            user_id = found.id
        created = new_key(container.deps, user_id)
    except NotFound as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        container.close()
    _echo_json(user_view(created.user, created.api_key))


@users_app.command("login-link")
def users_login_link(
    email: Annotated[str, typer.Option(help="The user's e-mail address")],
    next_path: Annotated[str | None, typer.Option("--next", help="Page to open after sign-in")] = None,
) -> None:
    """Print a one-time sign-in URL for the web pages (single use, valid 15 minutes)."""
    from ordertrail.services.sign_in import issue_link

    container = _container()
    try:
        link = issue_link(container.deps, email, next_path)
    finally:
        container.close()
    if link is None:
        typer.echo(f"error: no user who can sign in to the pages has the e-mail {email!r}", err=True)
        raise typer.Exit(2)
    typer.echo(link.url)


@app.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve", help="Then serve, with parcels moving live.")
    ] = False,
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    seconds_per_hop: Annotated[float, typer.Option(help="Simulated time between scans.", min=0.1)] = 20.0,
) -> None:
    """Populate a demo (sellers, buyers, orders, parcels moving through simulated scans)."""
    from ordertrail.entrypoints.cli.demo import run_demo

    logging.basicConfig(level=logging.WARNING)
    if serve_after:
        _can_listen(host, port)
        _links_follow(host, port)
    run_demo(_container(), serve_after, host, port, seconds_per_hop)


from ordertrail.entrypoints.cli import custody as _custody  # noqa: E402,F401  (backup, restore, users export|erase)
from ordertrail.entrypoints.cli import edd as _edd  # noqa: E402  (fit, evaluate)

app.add_typer(_edd.app, name="edd")


def main() -> None:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError
    from sqlalchemy.exc import ArgumentError, DBAPIError

    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except SettingsError as exc:  # a setting that is not even JSON where JSON is expected
        typer.echo(f"ordertrail: a setting is not valid: {exc}; check its ORDERTRAIL_ variable.", err=True)
        sys.exit(1)
    except OSError as exc:  # the data directory (or a file a command was given) cannot be used
        where = exc.filename or os.environ.get("ORDERTRAIL_DATA_DIR", "./var")
        typer.echo(f"ordertrail: cannot use {where}: {exc.strerror or exc}.", err=True)
        typer.echo(
            "Check that ORDERTRAIL_DATA_DIR (./var by default) is a directory this user can write, "
            "on a writable disk, and that the paths given exist.",
            err=True,
        )
        sys.exit(1)
    except (ArgumentError, DBAPIError) as exc:  # a bad URL, or a database that does not answer
        typer.echo(f"ordertrail: the database is not usable: {_first_line(exc)}", err=True)
        typer.echo(
            "Check ORDERTRAIL_DATABASE_URL (sqlite:///path or postgresql+psycopg://user@host/db) "
            "and that its server is running.",
            err=True,
        )
        sys.exit(1)
    except ValidationError as exc:  # a setting that does not parse
        # Named by its variable, without the value, which may hold a password (a database URL's).
        for error in exc.errors():
            name = "ORDERTRAIL_" + "_".join(str(part) for part in error["loc"][:1]).upper()
            typer.echo(
                f"ordertrail: {name} is not valid: {error['msg'].removeprefix('Value error, ')}", err=True
            )
        sys.exit(1)
    except UnicodeError:  # an argument's bytes are not text in the terminal's encoding
        typer.echo("ordertrail: an argument is not valid text (UTF-8); type it again.", err=True)
        sys.exit(2)


def _first_line(exc: BaseException) -> str:
    """The driver's own reason, without SQLAlchemy's background links and the statement."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
