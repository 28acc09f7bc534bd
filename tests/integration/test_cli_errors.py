"""The `ordertrail` command answers a bad setting or an unreachable database in words, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKEND, PG_SERVER


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ordertrail.entrypoints.cli", *args],
        env={**os.environ, "ORDERTRAIL_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", "Connection refused"),
    ],
)
@pytest.mark.parametrize(
    "command", [["migrate"], ["sweep"], ["users", "create", "--role", "buyer", "--name", "A"]]
)
def test_a_database_that_cannot_be_used_is_named_with_what_to_check(
    tmp_path: Path, url: str, reason: str, command: list[str]
) -> None:
    result = run(command, tmp_path, ORDERTRAIL_DATABASE_URL=url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "the database is not usable" in result.stderr and reason in result.stderr
    assert "ORDERTRAIL_DATABASE_URL" in result.stderr
    assert "secret" not in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DATABASE_URL", "mysql://root:secret@db/shop", "use sqlite:///"),
        ("DATABASE_URL", "sqlite://", "use sqlite:///"),
        ("SELLER_TIMEZONE", "Mars/Base", "no IANA time zone"),
        ("LOG_LEVEL", "LOUD", "'DEBUG', 'INFO'"),
        ("SMTP_URL", "garbage", "smtp://host:port"),
        ("TRANSIT_BUSINESS_DAYS", '{"standard": [5, 2]}', "earliest <= latest"),
        ("TRANSIT_BUSINESS_DAYS", "notjson", "transit_business_days"),
        ("SELLER_CUTOFF_HOUR", "25", "less than or equal to 23"),
        ("HANDLING_BUSINESS_DAYS", "-3", "greater than or equal to 0"),
    ],
)
def test_a_setting_that_is_not_valid_is_named_without_its_value(
    tmp_path: Path, name: str, value: str, says: str
) -> None:
    result = run(["sweep"], tmp_path, **{f"ORDERTRAIL_{name}": value})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert says in result.stderr and ("ORDERTRAIL_" + name in result.stderr or name.lower() in result.stderr)
    assert "secret" not in result.stderr


@pytest.mark.parametrize("data_dir", ["a-file", "a-file/below"])
def test_a_data_directory_that_cannot_be_used_is_named(tmp_path: Path, data_dir: str) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    result = run(["sweep"], tmp_path, ORDERTRAIL_DATA_DIR=str(tmp_path / data_dir))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"cannot use {tmp_path / data_dir}" in result.stderr and "ORDERTRAIL_DATA_DIR" in result.stderr


def test_a_port_outside_the_tcp_range_is_refused(tmp_path: Path) -> None:
    result = run(["serve", "--port", "99999"], tmp_path)
    assert result.returncode == 2 and "--port" in result.stderr


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_a_sweep_time_outside_the_years_we_store_is_refused_before_anything_runs(
    tmp_path: Path, when: str
) -> None:
    """Year 9999 once completed every delivered order (history dated 9999), then overflowed."""
    result = run(["sweep", "--now", when], tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--now must be in the years 1970-2199" in result.stderr


def test_users_create_names_what_is_wrong_with_its_arguments(tmp_path: Path) -> None:
    too_long = run(["users", "create", "--role", "buyer", "--name", "x" * 201], tmp_path)
    assert too_long.returncode == 2 and "at most 200 characters" in too_long.stderr
    assert "database" not in too_long.stderr
    not_text = subprocess.run(
        [
            sys.executable,
            "-m",
            "ordertrail.entrypoints.cli",
            "users",
            "create",
            "--role",
            "buyer",
            "--name",
            b"\xff\xfe",
        ],
        env={**os.environ, "ORDERTRAIL_DATA_DIR": str(tmp_path), "LC_ALL": "C.UTF-8"},
        capture_output=True,
        timeout=60,
    )
    assert not_text.returncode == 2 and b"Traceback" not in not_text.stderr
    assert b"not valid text" in not_text.stderr


def test_users_new_key_replaces_a_lost_key_and_names_a_user_it_cannot_find(tmp_path: Path) -> None:
    import json

    made = run(
        ["users", "create", "--role", "seller", "--name", "Sunny", "--email", "shop@sunny.example"], tmp_path
    )
    assert made.returncode == 0, made.stderr
    user = json.loads(made.stdout)
    by_email = run(["users", "new-key", "--email", "SHOP@sunny.example"], tmp_path)
    by_id = run(["users", "new-key", "--id", user["id"]], tmp_path)
    assert by_email.returncode == by_id.returncode == 0, by_email.stderr + by_id.stderr
    keys = {user["api_key"], json.loads(by_email.stdout)["api_key"], json.loads(by_id.stdout)["api_key"]}
    assert len(keys) == 3 and json.loads(by_id.stdout)["id"] == user["id"]
    for args, says in (
        (["--id", "usr_nobody"], "No user usr_nobody"),
        (["--email", "nobody@example.com"], "no user has the e-mail"),
        ([], "--id or with --email"),
        (["--id", user["id"], "--email", "shop@sunny.example"], "--id or with --email"),
    ):
        refused = run(["users", "new-key", *args], tmp_path)
        assert refused.returncode == 2 and says in refused.stderr and "Traceback" not in refused.stderr


def _unmigrated_or_ahead(tmp_path: Path, ahead: bool) -> str:
    """A SQLite database holding a schema of no version (ahead=False: an empty file on PostgreSQL's
    terms, nothing migrated) or of a newer ordertrail than this one."""
    import sqlite3
    from contextlib import closing

    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        if ahead:
            conn.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
        conn.commit()
    return f"sqlite:///{path}"


def test_a_database_migrated_by_a_newer_version_is_named_so_and_left_alone(tmp_path: Path) -> None:
    url = _unmigrated_or_ahead(tmp_path, ahead=True)
    for command in (["sweep"], ["migrate"], ["users", "create", "--role", "buyer", "--name", "A"]):
        result = run(command, tmp_path, ORDERTRAIL_DATABASE_URL=url)
        assert result.returncode == 1, (command, result.stderr)
        assert "newer version of ordertrail" in result.stderr and "Traceback" not in result.stderr


def test_readyz_is_503_until_the_database_holds_this_versions_schema(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from ordertrail.adapters.db.migrate import migrate
    from ordertrail.bootstrap import build
    from ordertrail.config import Settings
    from ordertrail.entrypoints.web.app import create_app

    for ahead, says in ((False, "run `ordertrail migrate`"), (True, "newer version")):
        url = _unmigrated_or_ahead(tmp_path / str(ahead), ahead)
        container = build(Settings(data_dir=tmp_path / str(ahead), database_url=url))
        try:
            with TestClient(create_app(container)) as http:
                r = http.get("/readyz")
                assert r.status_code == 503 and says in r.json()["detail"], r.text
                if not ahead:  # every request would have failed; once migrated the service is ready
                    migrate(container.engine)
                    assert http.get("/readyz").json() == {"status": "ready"}
        finally:
            container.close()


@pytest.mark.skipif(BACKEND != "postgresql", reason="the schema check of a database that migrates itself not")
def test_a_postgresql_database_not_migrated_yet_is_named_with_the_command_that_fixes_it(
    tmp_path: Path,
) -> None:
    """serve said it was listening and /readyz said ready, then every request failed with a 500."""
    import secrets

    from sqlalchemy import create_engine, text

    name = f"ordertrail_unmigrated_{secrets.token_hex(4)}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
        for command in (["serve", "--port", "1"], ["sweep"], ["worker"]):
            result = run(command, tmp_path, ORDERTRAIL_DATABASE_URL=url)
            assert result.returncode == 1, (command, result.stdout, result.stderr)
            assert "run `ordertrail migrate` first" in result.stderr and "listening" not in result.stdout
        # Two replicas migrating as they start take turns (one failed on a duplicate key).
        env = {**os.environ, "ORDERTRAIL_DATA_DIR": str(tmp_path), "ORDERTRAIL_DATABASE_URL": url}
        both = [
            subprocess.Popen(
                [sys.executable, "-m", "ordertrail.entrypoints.cli", "migrate"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outcomes = [(p.wait(timeout=120), p.communicate()[1]) for p in both]
        assert [code for code, _ in outcomes] == [0, 0], outcomes
        assert run(["sweep"], tmp_path, ORDERTRAIL_DATABASE_URL=url).returncode == 0
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.mark.parametrize("command", [["serve"], ["demo", "--serve"]])
def test_a_port_in_use_is_named_before_anything_is_set_up(tmp_path: Path, command: list[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run([*command, "--port", str(port)], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "choose another" in result.stderr
    assert "listening" not in result.stdout and not (tmp_path / "demo-keys.env").exists()


def test_the_version_is_printed_on_asking(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = run(["--version"], tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"ordertrail {version('ordertrail')}"
