"""Fuzzing the API with schemathesis against its own OpenAPI document.

Every operation gets examples generated from its schema, valid ones and invalid ones, sent with an
admin key (the role that reaches furthest into the code): no answer may be a 5xx, and every answer
(status code, content type, body, headers) must be one the document declares. The suite runs a small
deterministic budget; ORDERTRAIL_FUZZ_EXAMPLES raises it for the nightly run (docs/security.md).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ordertrail.bootstrap import build
from ordertrail.config import Settings
from ordertrail.entrypoints.web.app import create_app
from tests.conftest import ADMIN_KEY, FixedClock
from tests.security.test_authorization_matrix import matrix_database, matrix_settings

EXAMPLES = int(os.environ.get("ORDERTRAIL_FUZZ_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _operations() -> list[str]:
    tmp = Path(tempfile.mkdtemp(prefix="ordertrail-fuzz-"))
    app = create_app(build(Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'x.db'}", _env_file=None)))  # type: ignore[call-arg]
    doc = app.openapi()
    return sorted(f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops)


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory, pg_database_url: str | None) -> Iterator[BaseSchema]:
    """One app and database for every operation: the fuzzer may leave behind whatever it created."""
    with matrix_database(tmp_path_factory.mktemp("fuzz"), pg_database_url) as url:
        settings = matrix_settings(tmp_path_factory.mktemp("fuzz-data"), url)
        container = build(settings, clock=FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC)))
        yield schemathesis.openapi.from_asgi("/openapi.json", create_app(container))
        container.close()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_no_generated_request_gets_a_5xx_or_an_answer_the_document_does_not_declare(
    schema: BaseSchema, operation: str
) -> None:
    method, path = operation.split(" ", 1)
    op = schema[path][method]
    strategy = st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_KEY}"}, checks=CHECKS)
        sent.append(case.method)

    sent: list[str] = []
    run()
    assert sent, "no request was sent"
