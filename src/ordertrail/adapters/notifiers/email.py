"""E-mail: over SMTP when ORDERTRAIL_SMTP_URL is set, else as .eml files under the data directory."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ordertrail.config import Settings
from ordertrail.services.context import Deps
from ordertrail.services.ports import ClaimedMessage


def _message(sender: str, to: str, subject: str, text: str, html: str | None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or "localhost")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


class SmtpMailer:
    """smtp://host:port (STARTTLS when offered), smtps://host:port (TLS), optional user:password."""

    def __init__(self, url: str, sender: str, timeout: float = 15.0) -> None:
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

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        msg = _message(self.sender, to, subject, text, html)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if not self.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)


class FileMailer:
    """Writes each e-mail as an .eml file: the default, so a fresh install needs no mail server."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        msg = _message(self.sender, to, subject, text, html)
        name = msg["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(bytes(msg))
        tmp.rename(self.directory / f"{name}.eml")  # readers never see half a file


def make_mailer(settings: Settings) -> SmtpMailer | FileMailer:
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    return FileMailer(settings.data_dir / "mail", settings.mail_from)


class EmailChannel:
    """Outbox channel: e-mails the recipient unless they turned this type off (the inbox keeps it)."""

    def __init__(self, mailer: SmtpMailer | FileMailer, base_url: str) -> None:
        self.mailer = mailer
        self.base_url = base_url.rstrip("/")

    def __call__(self, deps: Deps, message: ClaimedMessage, ctx: dict[str, Any]) -> None:
        user = ctx.get("recipient")
        if user is None or not user.email or message.type in user.email_opt_out:
            return
        title = str(message.payload.get("title", message.type))
        body = str(message.payload.get("body", ""))
        link = f"{self.base_url}/orders/{message.order_id}" if message.order_id else self.base_url
        text = f"{body}\n\nSee your order: {link}\n"
        html = (
            f'<!doctype html><html><body style="font-family:sans-serif"><h1 style="font-size:18px">'
            f'{escape(title)}</h1><p>{escape(body)}</p><p><a href="{escape(link)}">See your order</a></p>'
            f"</body></html>"
        )
        self.mailer.send(user.email, title, text, html)
