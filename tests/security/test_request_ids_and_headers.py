"""Every answer carries a request id, every log line is JSON with that id, API answers are nosniff."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from ordertrail.entrypoints import logs
from tests.e2e.conftest import Api


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logs.handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_every_answer_carries_a_fresh_request_id_and_keeps_a_clients_own(api: Api) -> None:
    fresh = api.client.get("/v1/carriers")
    assert len(fresh.headers["X-Request-ID"]) == 32
    assert api.client.get("/v1/carriers").headers["X-Request-ID"] != fresh.headers["X-Request-ID"]
    mine = api.client.get("/v1/carriers", headers={"X-Request-ID": "checkout-7f3a9c"})
    assert mine.headers["X-Request-ID"] == "checkout-7f3a9c"


@pytest.mark.parametrize(
    "unsafe", ["x", "a" * 200, "line\r\nbreak-injected-into-logs", "<script>alert(1)</script>"]
)
def test_a_request_id_that_could_pollute_the_logs_is_replaced(api: Api, unsafe: str) -> None:
    r = api.client.get("/healthz", headers={"X-Request-ID": unsafe})
    assert r.headers["X-Request-ID"] != unsafe and len(r.headers["X-Request-ID"]) == 32


def test_each_request_writes_one_json_line_with_its_id_route_template_and_status(
    api: Api, log_lines: io.StringIO
) -> None:
    r = api.client.get("/v1/track/1Z5R89390357567127", headers={"X-Request-ID": "trace-0001"})
    assert r.status_code == 404
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    (line,) = [rec for rec in records if rec.get("message") == "request"]
    assert line["request_id"] == "trace-0001"
    assert line["route"] == "/v1/track/{tracking_number}"  # the template: never the raw path
    assert line["status"] == 404 and line["method"] == "GET" and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_json_api_answers_and_refusals_tell_browsers_not_to_sniff(api: Api) -> None:
    for r in (
        api.client.get("/v1/carriers"),
        api.client.get("/v1/orders"),
        api.client.get("/v1/track/nothing-here"),
    ):
        assert r.headers["X-Content-Type-Options"] == "nosniff", r.request.url
