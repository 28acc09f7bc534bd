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
