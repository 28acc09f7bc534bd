"""The background worker: fans the outbox out, sends e-mail and webhooks, and runs the sweeps.

Runs as threads inside `ordertrail serve` on the embedded default, or as its own process
(`ordertrail worker`); any number of processes on PostgreSQL share the work through row claims.
Each kind of work has its own loop, so a slow SMTP server or webhook endpoint never holds up the
inbox, the other channel or the sweeps.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ordertrail.bootstrap import Container
from ordertrail.services.deliveries import deliver
from ordertrail.services.outbox import dispatch
from ordertrail.services.ports_monitoring import Channel
from ordertrail.services.sweeps import run_due_sweeps

log = logging.getLogger(__name__)


MAX_BACKOFF_SECONDS = 60.0


def _loop(name: str, step: Callable[[], bool], stop: threading.Event, poll: float) -> None:
    """Call `step` until stopped; wait `poll` seconds after a step that found nothing to do.

    A step that fails (a bad row, the database gone) is tried again after a wait that doubles with
    each failure in a row, up to a minute. The first failure is logged with its traceback, the
    others in one line each, and the recovery once: a database down for ten seconds used to write
    half a megabyte of tracebacks."""
    failures = 0
    while not stop.is_set():
        try:
            busy = step()
        except Exception as exc:  # the worker must outlive a bad row or a database hiccup
            failures += 1
            wait = min(MAX_BACKOFF_SECONDS, poll * 2**failures)
            if failures == 1:
                log.exception("worker %s step failed; trying again in %.1f s", name, wait)
            else:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                log.error(
                    "worker %s step failed %d times in a row (%s); next try in %.1f s",
                    name,
                    failures,
                    reason,
                    wait,
                )
            stop.wait(wait)
            continue
        if failures:
            log.warning("worker %s step works again after %d failures", name, failures)
            failures = 0
        if not busy:
            stop.wait(poll)


def steps(container: Container) -> dict[str, Callable[[], bool]]:
    deps = container.deps
    batch = container.settings.outbox_batch_size

    def outbox() -> bool:
        return dispatch(deps, batch).claimed > 0

    def sweeps() -> bool:
        run_due_sweeps(deps)
        return False

    def sender(channel: Channel) -> Callable[[], bool]:
        return lambda: deliver(deps, channel).claimed > 0

    out = {"outbox": outbox, "sweeps": sweeps}
    out.update({channel.name: sender(channel) for channel in container.channels})
    return out


def run(container: Container, stop: threading.Event, once: bool = False) -> None:
    poll = container.settings.worker_poll_seconds
    work = steps(container)
    if once:
        for step in work.values():
            step()
        return
    threads = [
        threading.Thread(target=_loop, args=(name, step, stop, poll), name=f"ordertrail-{name}", daemon=True)
        for name, step in work.items()
    ]
    for t in threads:
        t.start()
    stop.wait()
    for t in threads:
        t.join(timeout=30)


def start_thread(container: Container) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(container, stop), name="ordertrail-worker", daemon=True)
    thread.start()
    return thread, stop
