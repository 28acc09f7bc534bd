"""Real receivers on loopback for delivery tests: an SMTP server (aiosmtpd) and an HTTP endpoint.

No mocks of smtplib or httpx: the code under test speaks the real protocols to these.
"""

from __future__ import annotations

import asyncio
import email
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sink:
    """What an SMTP server received, and who logged in."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # With hold_after set, the server stops answering once it has that many messages, until `gate` is
    # set: a client is then provably in the middle of sending (`holding` is set while it waits).
    hold_after: int | None = None
    gate: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold_after is not None and len(self.received()) >= self.hold_after and not self.gate.is_set():
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait)
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted"

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)


@contextmanager
def smtp_server(
    delay: float = 0.0,
    tls_context: ssl.SSLContext | None = None,
    credentials: tuple[str, str] | None = None,
) -> Iterator[tuple[Sink, int]]:
    """An SMTP server on 127.0.0.1; with `tls_context` it offers STARTTLS and requires it, with
    `credentials` it requires AUTH (only after STARTTLS)."""
    sink = Sink(delay=delay)
    kwargs: dict[str, Any] = {}
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    if credentials is not None:

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and (data.login.decode(), data.password.decode()) == credentials
            )
            if ok:
                sink.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=True)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Endpoint:
    """An HTTP receiver: records every POST and answers with the next scripted status (default 200)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.requests)


@contextmanager
def http_endpoint(path: str = "/hooks") -> Iterator[Endpoint]:
    endpoint = Endpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if endpoint.delay:
                threading.Event().wait(endpoint.delay)
            with endpoint.lock:
                endpoint.requests.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
            status = endpoint.answer()
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout tests)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
