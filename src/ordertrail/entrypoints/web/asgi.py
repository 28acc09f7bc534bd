"""The app for `ordertrail serve --workers N`: each API process builds its own container.

No in-process worker here: with several API processes the outbox and sweeps run in `ordertrail worker`.
"""

from __future__ import annotations

from ordertrail.bootstrap import build
from ordertrail.config import Settings
from ordertrail.entrypoints import collector, logs
from ordertrail.entrypoints.web.app import create_app

_container = build(Settings())
logs.configure(_container.settings.log_level)
app = create_app(_container, run_worker=False)
collector.tune_for_service()
