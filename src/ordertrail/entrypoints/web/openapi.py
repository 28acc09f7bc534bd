"""The OpenAPI document, completed with what every operation can refuse, from the access table.

FastAPI documents the success answer and a 422 in its own error shape. Ours are RFC 9457 problems,
and which refusals an operation can give follows from its access rule (401/403), its path (404),
its body (400, 413) and the limits every request is under (429). The fuzzing test holds every
response of the running app to this document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from ordertrail.entrypoints.web.access import Gate, rule_for

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

REFUSALS = {
    "400": "The body is not valid JSON (or a form is malformed).",
    "401": "No API key, or one that is not valid.",
    "403": "The key's role may not do this.",
    "404": "No such resource, or one that belongs to someone else (the same answer for both).",
    "409": "The request conflicts with the resource's current state.",
    "413": "The request body is over the size limit.",
    "415": "The content is not of an accepted type.",
    "422": "Some values are not valid; `errors` names each field by its dotted path.",
    "429": "Too many requests; the Retry-After header says when to try again.",
}


def _problem(code: str, description: str | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or REFUSALS.get(code, "Refused."),
        "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
    }
    if code == "429":
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}
    return response


def _refusals(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    rule = rule_for(method, path)
    codes = ["429"]
    if rule is None or rule.gate in (Gate.API_KEY, Gate.SECRET):
        codes += ["401"]
    if rule is None or rule.gate is Gate.API_KEY:
        codes += ["403"]
    if "{" in path:
        codes += ["404"]
    if operation.get("parameters") or "requestBody" in operation:
        codes += ["422"]
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        codes += ["400", "409", "413"]
    return codes


def document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = {"apiKey": {"type": "http", "scheme": "bearer"}}
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema or context.path is None:
            continue
        for method in context.methods or ():
            operation = doc["paths"].get(context.path, {}).get(method.lower())
            if operation is None:
                continue
            rule = rule_for(method, context.path)
            if rule is not None and rule.gate is Gate.API_KEY:
                operation["security"] = [{"apiKey": []}]
                operation["x-roles"] = {role.value: reach.value for role, reach in rule.allow.items()}
            responses = operation.setdefault("responses", {})
            for code in _refusals(method, context.path, operation):
                responses[code] = _problem(code, responses.get(code, {}).get("description"))
            for code, response in responses.items():  # refusals a route declared in words only
                if code.startswith("4") and "content" not in response:
                    responses[code] = _problem(code, response.get("description"))
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
