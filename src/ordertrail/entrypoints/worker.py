"""The background worker: delivers the outbox and runs the sweep schedule.

Runs as a thread inside `ordertrail serve` on the embedded default, or as its own process
(`ordertrail worker`); several processes on PostgreSQL share the work through row claims.
"""

from __future__ import annotations

import logging
import threading
import time

from ordertrail.bootstrap import Container
from ordertrail.services.outbox import deliver_pending
from ordertrail.services.sweeps import run_due_sweeps

log = logging.getLogger(__name__)


def run(container: Container, stop: threading.Event, once: bool = False) -> None:
    deps = container.deps
    poll = container.settings.worker_poll_seconds
    while not stop.is_set():
        busy = False
        try:
            report = deliver_pending(deps, container.settings.outbox_batch_size, container.channels)
            busy = report.claimed > 0
            run_due_sweeps(deps)
        except Exception:  # the worker must outlive a bad row or a database hiccup
            log.exception("worker iteration failed")
            time.sleep(poll)
        if once:
            return
        if not busy:
            stop.wait(poll)


def start_thread(container: Container) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(container, stop), name="ordertrail-worker", daemon=True)
    thread.start()
    return thread, stop
