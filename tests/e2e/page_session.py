"""Signing a test client in to the pages, the way a browser does: a link, a confirm form, a cookie."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from ordertrail.bootstrap import Container
from ordertrail.services.sign_in import issue_link

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def use_link(client: TestClient, url: str) -> str:
    """Open a sign-in link, press its button; returns where the browser was sent."""
    path = urlsplit(url).path
    confirm = client.get(path)
    assert confirm.status_code == 200, confirm.text
    r = client.post(path, data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def sign_in(client: TestClient, container: Container, email: str) -> str:
    """Sign the client in as the user with this e-mail; returns the session's CSRF token."""
    link = issue_link(container.deps, email)
    assert link is not None
    home = use_link(client, link.url)
    return csrf_of(client.get(home).text)
