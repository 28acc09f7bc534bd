"""The exception tree of the whole application, documented in one place.

Services raise these; entry points map them to HTTP problems (422, 404, 409, 403) or CLI messages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # dotted path into the request body: "shipping_address.postal_code", "items.0.quantity"
    code: str
    message: str


class DomainError(Exception):
    """Base of every refusal the application gives on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _sentence(message: str) -> str:
    return message if message.endswith((".", "?", "!")) else f"{message}."


class ValidationFailed(DomainError):
    """The request is well-formed but its values break a rule (HTTP 422)."""

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        super().__init__(detail or " ".join(f"{e.field}: {_sentence(e.message)}" for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, code: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, code, message)])

    @classmethod
    def bad_cursor(cls) -> ValidationFailed:
        """A list's `cursor` that no page of ours handed out."""
        return cls.one("cursor", "invalid_cursor", "This cursor is not one we gave out; start without it.")


class MalformedBody(DomainError):
    """The body is not the JSON it must be (HTTP 400, code malformed_json, as everywhere)."""


class NotFound(DomainError):
    """Missing, or belonging to someone else: the same answer for both (HTTP 404)."""


class Conflict(DomainError):
    """The request conflicts with the current state (HTTP 409)."""

    def __init__(self, detail: str, code: str = "conflict") -> None:
        super().__init__(detail)
        self.code = code


class Forbidden(DomainError):
    """Authenticated, but this role may not do this (HTTP 403)."""


class TooLarge(DomainError):
    """An upload went past its size limit; it was cut off there and nothing was kept (HTTP 413)."""


class UnsupportedMediaType(DomainError):
    """The content is not of a type accepted here, whatever it claimed to be (HTTP 415)."""


class Unauthenticated(DomainError):
    """No valid credentials (HTTP 401)."""


class Busy(DomainError):
    """The database could not take the write in time; nothing was done, retry later (HTTP 503)."""
