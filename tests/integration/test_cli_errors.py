"""The `ordertrail` command answers a bad setting or an unreachable database in words, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


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
        ("nonsense://x", "Can't load plugin"),
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
