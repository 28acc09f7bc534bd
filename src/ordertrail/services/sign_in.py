"""Passwordless sign-in for the web pages: one-time e-mailed links and server-side sessions.

A link is single use and lives 15 minutes; a session lives 14 days. The browser holds only random
secrets whose SHA-256 is stored, so neither a database copy nor a log of it signs anyone in. Asking
for a link never tells whether the address belongs to an account.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ordertrail.domain.errors import Unauthenticated
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=14)
# Carrier accounts are machine-to-machine: they have no pages to sign in to.
PAGE_ROLES = frozenset({Role.BUYER, Role.SELLER, Role.SUPPORT, Role.ADMIN})


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def safe_next(path: str | None) -> str | None:
    """Only a path on this site may follow sign-in: never `//evil.example` or `https://...`."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 300:
        return None
    return path


@dataclass(frozen=True)
class SignInLink:
    url: str
    user: User
    expires_at: datetime


@dataclass(frozen=True)
class WebSession:
    token: str  # the cookie value; only its digest is stored
    user: User
    csrf_token: str
    expires_at: datetime | None = None


def issue_link(deps: Deps, email: str, next_path: str | None = None) -> SignInLink | None:
    """A fresh one-time link for the account with this e-mail, or None when there is none."""
    address = email.strip().lower()
    if not address or "@" not in address or len(address) > 320:
        return None
    now = deps.clock()
    with deps.uow() as uow:
        user = uow.users.by_email(address)
        if user is None or user.role not in PAGE_ROLES:
            return None
        token = secrets.token_urlsafe(32)
        expires = now + LINK_LIFETIME
        uow.sign_ins.purge_expired(now - timedelta(days=1))
        uow.sign_ins.add_link(_digest(token), user.id, safe_next(next_path), now, expires)
        uow.commit()
    return SignInLink(f"{deps.base_url.rstrip('/')}/login/{token}", user, expires)


def email_link(deps: Deps, email: str, next_path: str | None, site_name: str) -> None:
    """E-mail a link if the address has an account; silent either way (the page says the same)."""
    link = issue_link(deps, email, next_path)
    if link is None or deps.mailer is None or not link.user.email:
        return
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    text = (
        f"Hello {link.user.name},\n\nUse this link to sign in to {site_name}:\n\n{link.url}\n\n"
        f"It works once and expires in {minutes} minutes. If you did not ask for it, ignore this e-mail.\n"
    )
    try:
        deps.mailer.send(link.user.email, f"Your sign-in link for {site_name}", text)
    except Exception as exc:  # the page must not reveal, by an error, that the address exists
        log.warning("sign-in e-mail failed: %s", type(exc).__name__)


def redeem_link(deps: Deps, token: str) -> tuple[WebSession, str | None]:
    """Use a link once: a new session and the page the user was heading for."""
    now = deps.clock()
    with deps.uow() as uow:
        used = uow.sign_ins.use_link(_digest(token), now) if token else None
        user = uow.users.get(used[0]) if used else None
        if used is None or user is None:
            raise Unauthenticated("This sign-in link has expired or was already used; ask for a new one.")
        session_token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + SESSION_LIFETIME
        uow.sign_ins.add_session(_digest(session_token), user.id, csrf, now, expires)
        uow.commit()
    return WebSession(session_token, user, csrf, expires), used[1]


def current_session(deps: Deps, token: str | None) -> WebSession | None:
    if not token or len(token) > 100:
        return None
    with deps.read() as uow:
        found = uow.sign_ins.session(_digest(token), deps.clock())
        user = uow.users.get(found[0]) if found else None
    if found is None or user is None:
        return None
    return WebSession(token, user, found[1])


def sign_out(deps: Deps, token: str | None) -> None:
    if not token:
        return
    with deps.uow() as uow:
        uow.sign_ins.end_session(_digest(token))
        uow.commit()
