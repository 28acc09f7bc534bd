"""Proactive monitoring rules (DESIGN.md §1 row 7): when a parcel counts as stalled or late, what the
finding says, and how deliveries are retried. Pure: every function takes `now`/`today`.

Business days: `business_days_between(a, b)` counts days d with a < d <= b (see eta.calendar). A
shipment whose last scan was on day D has waited `business_days_between(D, today)` business days; it
is stalled when that exceeds its threshold, i.e. when D is before `add_business_days(today, -N)`.
Days are UTC days, so a sweep's cut-off is one instant and the query one index range.
"""

from __future__ import annotations

import ipaddress
import math
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ordertrail.domain.eta.calendar import BusinessCalendar
from ordertrail.domain.notices import Notice, NoticeType
from ordertrail.domain.statuses import ShipmentStatus

S = ShipmentStatus

DOMESTIC = "domestic"
INTERNATIONAL = "international"
ANY_CARRIER = "*"

# Statuses at which a parcel is expected to move again by itself; waiting too long at one is a stall.
# (pending/info_received belong to the no-first-scan check; terminal statuses never stall.)
WATCHED_FOR_STALL: tuple[ShipmentStatus, ...] = (
    S.IN_TRANSIT,
    S.OUT_FOR_DELIVERY,
    S.AVAILABLE_FOR_PICKUP,
    S.DELIVERY_ATTEMPTED,
    S.DELAYED,
    S.ACTION_REQUIRED,
    S.EXCEPTION,
    S.RETURNING_TO_SENDER,
)

# Statuses at which a delivery is still expected, so an estimate that passes must move.
EXPECTING_DELIVERY: tuple[ShipmentStatus, ...] = (
    S.PENDING,
    S.INFO_RECEIVED,
    S.IN_TRANSIT,
    S.OUT_FOR_DELIVERY,
    S.AVAILABLE_FOR_PICKUP,
    S.DELIVERY_ATTEMPTED,
    S.DELAYED,
    S.ACTION_REQUIRED,
    S.EXCEPTION,
)


@dataclass(frozen=True, slots=True)
class MonitoringPolicy:
    """The configurable knobs of the sweeps (settings `ORDERTRAIL_*`, see README)."""

    origin_country: str = "US"
    no_first_scan_business_days: int = 2
    stall_domestic_business_days: int = 3
    stall_international_business_days: int = 7
    stall_quantile: float = 0.95
    stall_min_samples: int = 50
    stall_history_weeks: int = 13
    ship_by_auto_cancel_business_days: int | None = None  # off unless configured
    lookback_days: int = 30  # conditions older than this are no longer looked at
    batch_size: int = 5000


def lane(destination_country: str | None, origin_country: str) -> str:
    if destination_country and destination_country.upper() != origin_country.upper():
        return INTERNATIONAL
    return DOMESTIC


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def waited_cutoff(now: datetime, business_days: int, calendar: BusinessCalendar) -> datetime:
    """Anything last seen before this instant has waited more than `business_days` business days."""
    today = now.astimezone(UTC).date()
    return day_start(calendar.add_business_days(today, -business_days))


def business_days_waited(since: datetime, now: datetime, calendar: BusinessCalendar) -> int:
    return calendar.business_days_between(since.astimezone(UTC).date(), now.astimezone(UTC).date())


def gap_quantile(histogram: Mapping[int, int], q: float) -> int | None:
    """The q-quantile (nearest rank) of a histogram {business days: count}; None when empty."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= rank:
            return days
    return max(histogram)


def stall_threshold(histogram: Mapping[int, int], policy: MonitoringPolicy) -> int | None:
    """Business days without a scan after which a parcel at this milestone counts as stalled.

    The policy's quantile of the gaps seen between consecutive scans; at least one business day, since
    a same-day quantile would flag every parcel the morning after its scan. None without enough history.
    """
    if sum(histogram.values()) < policy.stall_min_samples:
        return None
    value = gap_quantile(histogram, policy.stall_quantile)
    return None if value is None else max(1, value)


def default_stall_days(lane_name: str, policy: MonitoringPolicy) -> int:
    if lane_name == INTERNATIONAL:
        return policy.stall_international_business_days
    return policy.stall_domestic_business_days


def backoff(attempts: int, base_seconds: float = 30.0, cap_seconds: float = 6 * 3600) -> timedelta:
    """Exponential retry delay after `attempts` failed attempts: 30 s, 1 min, 2 min ... capped at 6 h."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1)))


def should_disable_webhook(
    consecutive_failures: int,
    failing_since: datetime | None,
    now: datetime,
    max_failures: int,
    min_failing: timedelta,
) -> bool:
    """An endpoint is switched off after `max_failures` failed attempts in a row spanning `min_failing`:
    a burst of failures during a short outage must not disable a subscription that recovers."""
    return (
        consecutive_failures >= max_failures
        and failing_since is not None
        and now - failing_since >= min_failing
    )


def _date(d: date) -> str:
    return d.strftime("%a %d %b %Y")


def ship_by_overdue(order_id: str, ship_by: datetime, to_seller: bool) -> Notice:
    when = ship_by.astimezone(UTC).strftime("%a %d %b %Y %H:%M UTC")
    if to_seller:
        body = (
            f"Order {order_id} was due to ship by {when} and has no tracking number yet. Ship it and add "
            f"the tracking number now, or cancel the order and tell the buyer why."
        )
    else:
        body = (
            f"The seller has not shipped your order {order_id} by the promised {when}. We have reminded "
            f"them; you can cancel the order from the order page if you no longer want to wait."
        )
    return Notice(
        NoticeType.SHIP_BY_OVERDUE,
        f"Order {order_id} has not shipped on time",
        body,
        {"ship_by": ship_by.astimezone(UTC).isoformat()},
    )


def no_first_scan(order_id: str, carrier: str, number: str, added_at: datetime, days: int) -> Notice:
    return Notice(
        NoticeType.NO_FIRST_SCAN,
        f"No carrier scan yet for order {order_id}",
        f"The tracking number {number} ({carrier}) was added on {_date(added_at.date())}, but the carrier "
        f"has not scanned the parcel in {days} business days. Hand the parcel over, or check that the "
        f"number is right and correct it on the order.",
        {"tracking_added_at": added_at.astimezone(UTC).isoformat(), "business_days": days},
    )


def shipment_stalled(
    order_id: str, carrier: str | None, number: str | None, status: str, last_scan: datetime, days: int
) -> Notice:
    what = f"{carrier} {number}" if number else "The parcel"
    return Notice(
        NoticeType.SHIPMENT_STALLED,
        f"Order {order_id}: no tracking update for {days} business days",
        f"{what} has had no carrier scan since {_date(last_scan.date())} ({status.replace('_', ' ')}), "
        f"which is unusually long for this carrier and step. We are watching it; if it does not move "
        f"soon, the buyer can report it from the order page and the seller can ask the carrier to trace it.",
        {"last_event_at": last_scan.astimezone(UTC).isoformat(), "business_days": days, "status": status},
    )


def delivery_delayed(
    order_id: str, promised: tuple[date, date], window: tuple[date, date], reason: str
) -> Notice:
    new = _date(window[0]) if window[0] == window[1] else f"{_date(window[0])} – {_date(window[1])}"
    return Notice(
        NoticeType.DELIVERY_DELAYED,
        f"Order {order_id} will arrive later than promised",
        f"Order {order_id} is now expected {new}, after the promised {_date(promised[1])}. Why: {reason}",
        {
            "estimated_delivery": {"earliest": window[0].isoformat(), "latest": window[1].isoformat()},
            "promised_delivery": {"earliest": promised[0].isoformat(), "latest": promised[1].isoformat()},
            "reason": reason,
        },
    )


_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal")


def address_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `host` spells, in any form a resolver takes: dotted quads, but also the old
    forms `127.1`, `2130706433` and `0x7f000001` (all 127.0.0.1); None for a name to look up."""
    name = host.strip("[]")
    try:
        return ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        pass
    try:  # inet_aton reads the old IPv4 forms the way getaddrinfo (and so the HTTP client) does
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        return None


def is_private_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything but a public internet address: loopback, private, link-local, shared, reserved,
    and an IPv4 address dressed as IPv6 (::ffff:127.0.0.1) by what it carries."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def is_private_host(host: str) -> bool:
    """Whether a URL's host names this machine or a private network by itself (a name that only
    resolves to one is caught when the webhook is sent: see adapters.notifiers.webhooks)."""
    name = host.strip("[]").lower().rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return True
    ip = address_of(name)
    return ip is not None and is_private_address(ip)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Retries of the outbox fan-out and of each e-mail and webhook delivery."""

    outbox_max_attempts: int = 8
    email_max_attempts: int = 8
    webhook_max_attempts: int = 12
    retry_base_seconds: float = 30.0
    lease_seconds: float = 300.0  # longer than a batch of sends can take with their timeouts
    batch_size: int = 20
    webhook_disable_after_failures: int = 10
    webhook_disable_after: timedelta = timedelta(hours=24)
    webhook_allow_private_targets: bool = False

    def max_attempts(self, channel: str) -> int:
        return self.webhook_max_attempts if channel == "webhook" else self.email_max_attempts
