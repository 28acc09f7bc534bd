"""Sending e-mail and webhook deliveries: claim a leased batch, send outside any transaction, record.

At least once: a delivery is done only after its channel reported success and that was recorded; a
worker killed in between leaves it leased, and it is sent again when the lease runs out. Receivers
deduplicate by the event id (webhooks) or see a repeated e-mail, never a lost one. Each failure is
retried with exponential backoff until the channel's attempt limit, then the delivery is `failed`
and keeps its last error. Webhook endpoints that keep failing are switched off (see
`domain.monitoring.should_disable_webhook`) until their owner switches them on again.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ordertrail.domain.monitoring import backoff, should_disable_webhook
from ordertrail.services.context import Deps
from ordertrail.services.ports import UnitOfWork
from ordertrail.services.ports_monitoring import WEBHOOK, Channel, DeliveryResult, Outcome

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    disabled: int = 0


def deliver(deps: Deps, channel: Channel, limit: int | None = None) -> DeliveryReport:
    policy = deps.delivery_policy
    report = DeliveryReport()
    with deps.uow() as uow:
        batch = uow.deliveries.claim(
            channel.name, deps.clock(), limit or policy.batch_size, policy.lease_seconds
        )
        uow.commit()
    report.claimed = len(batch)
    if not batch:
        return report
    try:
        outcomes = channel.send(batch)
    except Exception as exc:  # a channel that cannot even start (bad config) fails the batch, not the worker
        log.warning("%s channel failed a batch of %d: %r", channel.name, len(batch), exc)
        outcomes = [Outcome(ok=False, duration_ms=0, error=f"{type(exc).__name__}: {exc}")] * len(batch)
    if len(outcomes) != len(batch):
        raise RuntimeError(f"{channel.name} channel reported {len(outcomes)} outcomes for {len(batch)}")
    at = deps.clock()
    results: list[DeliveryResult] = []
    for d, outcome in zip(batch, outcomes, strict=True):
        final = outcome.ok or outcome.permanent or d.attempts >= policy.max_attempts(channel.name)
        nxt = None if final else at + backoff(d.attempts, policy.retry_base_seconds)
        results.append(DeliveryResult(d, outcome, at, nxt))
        report.sent += outcome.ok
        report.failed += final and not outcome.ok
        report.retried += not final
    with deps.uow() as uow:
        uow.deliveries.record(results)
        if channel.name == WEBHOOK:
            report.disabled = _track_endpoints(deps, uow, results)
        uow.commit()
    return report


def _track_endpoints(deps: Deps, uow: UnitOfWork, results: Sequence[DeliveryResult]) -> int:
    """Reset the failure streak of endpoints that answered, lengthen it for those that did not, and
    switch off those that have failed for long enough (or answered 410 Gone)."""
    policy = deps.delivery_policy
    at = results[0].attempted_at
    ok = {r.delivery.subscription_id for r in results if r.outcome.ok and r.delivery.subscription_id}
    failures = Counter(
        r.delivery.subscription_id
        for r in results
        if not r.outcome.ok and r.delivery.subscription_id and r.delivery.subscription_id not in ok
    )
    gone = {
        r.delivery.subscription_id
        for r in results
        if r.outcome.status_code == 410
        and r.delivery.subscription_id
        and r.delivery.subscription_id not in ok
    }
    uow.webhooks.note_successes(ok)
    disabled = 0
    for sub in uow.webhooks.note_failures(dict(failures), at):
        if sub.disabled_at is not None:
            continue
        if sub.id in gone:
            reason = "The endpoint answered 410 Gone."
        elif should_disable_webhook(
            sub.consecutive_failures,
            sub.failing_since,
            at,
            policy.webhook_disable_after_failures,
            policy.webhook_disable_after,
        ):
            reason = (
                f"{sub.consecutive_failures} deliveries in a row failed since "
                f"{sub.failing_since.isoformat() if sub.failing_since else '?'}."
            )
        else:
            continue
        uow.webhooks.disable(sub.id, at, reason)
        disabled += 1
    return disabled
