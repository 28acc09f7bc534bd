"""A real `ordertrail serve` process on a loopback port, that a test can kill -9 and start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import ADMIN_KEY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, database_url: str, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ORDERTRAIL_DATABASE_URL": database_url,
            "ORDERTRAIL_DATA_DIR": str(data_dir),
            "ORDERTRAIL_ADMIN_API_KEY": ADMIN_KEY,
            "ORDERTRAIL_IN_PROCESS_WORKER": "false",
            "ORDERTRAIL_RATE_LIMIT_KEY_PER_MINUTE": "0",
            "ORDERTRAIL_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
            "ORDERTRAIL_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE": "0",
            "ORDERTRAIL_LOG_LEVEL": "WARNING",
            **env,
        }
        self.log = data_dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "ordertrail.entrypoints.cli",
            "serve",
            "--port",
            str(self.port),
            "--no-worker",
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not become ready in 60 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no rollback: what is on disk is all there is."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def served(database_url: str, data_dir: Path, **env: str) -> Iterator[Served]:
    server = Served(database_url, data_dir, **env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
