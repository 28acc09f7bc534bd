"""Fast JSON with the API's conventions: UTC instants end in Z, dates are YYYY-MM-DD."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

from ordertrail.domain.text import without_surrogates

OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_default, option=OPTIONS)
    except TypeError:
        # A lone surrogate (a half of a UTF-16 pair, no character) stored before the inputs refused
        # them must not make every later read of its order fail: answer with "?" in its place.
        return orjson.dumps(_scrub(value), default=_default, option=OPTIONS)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


class FastJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)
