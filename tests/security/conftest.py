"""Security tests reuse the e2e driver (Api) and its fixtures."""

from __future__ import annotations

from tests.e2e.conftest import Api, api, buyer, client, seller  # noqa: F401
