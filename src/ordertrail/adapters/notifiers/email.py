"""E-mail transport: over SMTP when ORDERTRAIL_SMTP_URL is set, else as .eml files under the data directory.

`smtp://host:port` upgrades with STARTTLS when the server offers it, `smtps://` speaks TLS from the
first byte; `user:password@` logs in (only over TLS: credentials never cross in clear text). A batch
of messages goes over one connection (`session()`), which is what makes a worker's batch cheap.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ordertrail.config import Settings


def build_message(
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or "localhost")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


class MailSession(Protocol):
    def send(self, msg: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(self, url: str, sender: str, timeout: float = 15.0, cafile: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("ORDERTRAIL_SMTP_URL must start with smtp:// or smtps://")
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.tls = parts.scheme == "smtps"
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout
        self.cafile = cafile

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)

    @contextmanager
    def session(self) -> Iterator[MailSession]:
        context = self._context()
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            secure = self.tls
            if not self.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
                secure = True
            if self.user:
                if not secure:
                    raise smtplib.SMTPNotSupportedError(
                        "The SMTP server offers no STARTTLS; refusing to send the password in clear text."
                    )
                smtp.login(self.user, self.password or "")

            class _Session:
                def send(self, msg: EmailMessage) -> None:
                    smtp.send_message(msg)

            yield _Session()

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        with self.session() as s:
            s.send(build_message(self.sender, to, subject, text, html))


class FileMailer:
    """Writes each e-mail as an .eml file: the default, so a fresh install needs no mail server."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    @contextmanager
    def session(self) -> Iterator[MailSession]:
        self.directory.mkdir(parents=True, exist_ok=True)
        directory = self.directory

        class _Session:
            def send(self, msg: EmailMessage) -> None:
                name = msg["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
                tmp = directory / f".{name}.tmp"
                tmp.write_bytes(bytes(msg))
                tmp.rename(directory / f"{name}.eml")  # readers never see half a file

        yield _Session()

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        with self.session() as s:
            s.send(build_message(self.sender, to, subject, text, html))


def make_mailer(settings: Settings) -> SmtpMailer | FileMailer:
    if settings.smtp_url:
        return SmtpMailer(
            settings.smtp_url, settings.mail_from, settings.smtp_timeout_seconds, settings.smtp_ca_file
        )
    return FileMailer(settings.data_dir / "mail", settings.mail_from)
