"""How long is left until a deadline (ship-by, respond-by), in the words a page shows. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta


def duration(delta: timedelta) -> str:
    """'2 days 3 h', '4 h 10 min', '25 min'."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def time_left(deadline: datetime, now: datetime) -> str:
    """'1 day 4 h left', '25 min left', or 'overdue by 3 h 10 min'."""
    if deadline > now:
        return f"{duration(deadline - now)} left"
    return f"overdue by {duration(now - deadline)}"


def is_overdue(deadline: datetime, now: datetime) -> bool:
    return now >= deadline
