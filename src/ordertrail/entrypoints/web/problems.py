"""RFC 9457 problem+json for every refusal, with dotted field paths into the request body."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ordertrail.domain.errors import (
    Busy,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    MalformedBody,
    NotFound,
    TooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from ordertrail.entrypoints.web.json import dumps

log = logging.getLogger(__name__)

TITLES = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal error",
    503: "Busy",
}


def problem(
    status: int,
    detail: str,
    errors: list[FieldError] | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"https://ordertrail.dev/problems/{code or status}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if code:
        body["code"] = code
    if errors is not None:
        body["errors"] = [{"field": e.field, "code": e.code, "message": e.message} for e in errors]
    return Response(dumps(body), status_code=status, media_type="application/problem+json", headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


_PYDANTIC_CODES = {
    "missing": "required",
    "int_type": "invalid_type",
    "string_type": "invalid_type",
    "bool_type": "invalid_type",
    "list_type": "invalid_type",
    "dict_type": "invalid_type",
    "model_type": "invalid_type",
    "model_attributes_type": "invalid_type",
    "int_parsing": "invalid_type",
    "int_from_float": "invalid_type",
    "float_type": "invalid_type",
    "float_parsing": "invalid_type",
    "bool_parsing": "invalid_type",
    "string_unicode": "invalid_character",
    "finite_number": "invalid_type",
    "extra_forbidden": "unknown_field",
    "url_parsing": "invalid_url",
    "string_pattern_mismatch": "invalid_format",
    "greater_than": "too_small",
    "less_than": "too_large",
    "date_from_datetime_inexact": "invalid_date",
    "greater_than_equal": "too_small",
    "less_than_equal": "too_large",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "too_short": "too_short",
    "too_long": "too_long",
    "literal_error": "invalid_choice",
    "enum": "invalid_choice",
    "datetime_from_date_parsing": "invalid_datetime",
    "datetime_parsing": "invalid_datetime",
    "timezone_aware": "timezone_required",
    "date_from_datetime_parsing": "invalid_date",
    "date_parsing": "invalid_date",
}


NUL_MESSAGE = "Text must not contain the NUL character."


def nul_field_errors(fields: Iterable[tuple[str, Any]]) -> list[FieldError]:
    """The fields (name, value) whose name or text holds a NUL, which PostgreSQL cannot store."""
    return [
        FieldError(name.replace("\x00", ""), "invalid_character", NUL_MESSAGE)
        for name, value in fields
        if "\x00" in name or (isinstance(value, str) and "\x00" in value)
    ]


def field_errors(errors: list[dict[str, Any]], prefix: tuple[Any, ...] = ()) -> list[FieldError]:
    return [
        FieldError(_field(prefix + tuple(e["loc"])), _PYDANTIC_CODES.get(e["type"], e["type"]), e["msg"])
        for e in errors
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> Response:
        errs = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errs):
            return problem(400, "The request body is not valid JSON.", code="malformed_json")
        if any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",) for e in errs):
            return problem(400, "The request body is empty; send a JSON object.", code="malformed_json")
        return problem(422, "Some fields are not valid; see errors.", field_errors(errs))

    @app.exception_handler(ValidationFailed)
    async def on_validation(_: Request, exc: ValidationFailed) -> Response:
        return problem(422, exc.detail, exc.errors)

    @app.exception_handler(NotFound)
    async def on_not_found(_: Request, exc: NotFound) -> Response:
        return problem(404, exc.detail)

    @app.exception_handler(Conflict)
    async def on_conflict(_: Request, exc: Conflict) -> Response:
        return problem(409, exc.detail, code=exc.code)

    @app.exception_handler(Forbidden)
    async def on_forbidden(_: Request, exc: Forbidden) -> Response:
        return problem(403, exc.detail)

    @app.exception_handler(MalformedBody)
    async def on_malformed(_: Request, exc: MalformedBody) -> Response:
        return problem(400, exc.detail, code="malformed_json")

    @app.exception_handler(TooLarge)
    async def on_too_large(_: Request, exc: TooLarge) -> Response:
        return problem(413, exc.detail, code="too_large")

    @app.exception_handler(UnsupportedMediaType)
    async def on_unsupported_type(_: Request, exc: UnsupportedMediaType) -> Response:
        return problem(415, exc.detail, code="unsupported_media_type")

    @app.exception_handler(Unauthenticated)
    async def on_unauthenticated(_: Request, exc: Unauthenticated) -> Response:
        return problem(401, exc.detail, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Busy)
    async def on_busy(_: Request, exc: Busy) -> Response:
        return problem(503, exc.detail, code="busy", headers={"Retry-After": "2"})

    @app.exception_handler(DomainError)
    async def on_domain(_: Request, exc: DomainError) -> Response:
        return problem(400, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def on_crash(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error: %s", type(exc).__name__)
        return problem(500, "Something went wrong on our side; the request changed nothing. Try again.")
