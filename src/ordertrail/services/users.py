"""Users and API keys: keys are random, shown once, stored hashed, compared by hash lookup."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ordertrail.domain.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from ordertrail.domain.ids import new_id
from ordertrail.domain.statuses import Role
from ordertrail.domain.users import User
from ordertrail.services.context import Deps


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedUser:
    user: User
    api_key: str


def create_user(deps: Deps, role: str, name: str, email: str | None) -> CreatedUser:
    try:
        role_ = Role(role)
    except ValueError:
        raise ValidationFailed.one(
            "role", "invalid_choice", f"Role must be one of: {', '.join(r.value for r in Role)}."
        ) from None
    if not name.strip():
        raise ValidationFailed.one("name", "required", "Give the user's name.")
    if len(name.strip()) > 200:  # the column's size; the API's schema says so too, the CLI does not
        raise ValidationFailed.one("name", "too_long", "A name has at most 200 characters.")
    # Measured as stored, lower-cased ("İ" lower-cases to two characters).
    if email is not None and ("@" not in email or len(email.lower()) > 320 or email.strip() != email):
        raise ValidationFailed.one("email", "invalid_email", "Give an e-mail address like ana@example.com.")
    key = f"ot_{secrets.token_urlsafe(32)}"
    user = User(new_id("usr"), role_, name.strip(), email.lower() if email else None, deps.clock())
    with deps.uow() as uow:
        # Signing in to the pages is by e-mail: an address must name one account.
        if user.email is not None and uow.users.by_email(user.email) is not None:
            raise Conflict(
                "Another account has this e-mail address; give each account its own.", code="email_taken"
            )
        uow.users.add(user, hash_key(key))
        uow.commit()
    return CreatedUser(user, key)


def new_key(deps: Deps, user_id: str) -> CreatedUser:
    """A new API key for a user who lost theirs; the old one stops working (in other processes after
    the credential cache's few seconds). An erased user gets none."""
    key = f"ot_{secrets.token_urlsafe(32)}"
    with deps.uow() as uow:
        user = uow.users.get(user_id)
        if user is None or not uow.users.set_key(user_id, hash_key(key)):
            raise NotFound(f"No user {user_id} (or their data was erased).")
        uow.commit()
    return CreatedUser(user, key)


ADMIN_ID = "usr_admin"


def known_caller(deps: Deps, api_key: str | None, admin_key: str | None) -> User | None:
    """The user behind a bearer key when that needs no database: the admin key, or a cached key.

    None means "ask `authenticate`", which may go to the database (so an async caller can run only
    that part in a worker thread)."""
    if not api_key:
        return None
    if admin_key and hmac.compare_digest(api_key.encode(), admin_key.encode()):
        return User(ADMIN_ID, Role.ADMIN, "Administrator", None, deps.clock())
    cache = deps.credentials
    return cache.get(hash_key(api_key)) if cache is not None else None


def authenticate(deps: Deps, api_key: str | None, admin_key: str | None) -> User:
    """The user behind a bearer key. The admin key comes from settings and is compared in constant time."""
    if not api_key:
        raise Unauthenticated("Send 'Authorization: Bearer <api key>'.")
    user = known_caller(deps, api_key, admin_key)
    if user is not None:
        return user
    key_hash = hash_key(api_key)
    cache = deps.credentials
    with deps.read() as uow:
        user = uow.users.by_api_key_hash(key_hash)
    if user is None:
        raise Unauthenticated("The API key is not valid.")
    if cache is not None:
        cache.put(key_hash, user)
    return user
