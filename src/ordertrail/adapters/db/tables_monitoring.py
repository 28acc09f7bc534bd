"""Tables of proactive monitoring and delivery: the sweep schedule, e-mail and webhook deliveries,
webhook subscriptions, and the learned scan-gap statistics behind stall detection.

Also the partial indexes on `shipments` and `tracking_events` that make every sweep a range read of
the few rows it may act on, whatever the number of active shipments.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from ordertrail.adapters.db.tables import ID, UtcDateTime, metadata, shipments, tracking_events

BIG_ID = BigInteger().with_variant(Integer, "sqlite")

# One row per scheduled sweep: a worker runs a sweep only after moving `next_run_at` past now in a
# guarded UPDATE, so any number of workers run each sweep once per period.
sweep_runs = Table(
    "sweep_runs",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_run_at", UtcDateTime, nullable=False),
    Column("running_until", UtcDateTime),
    Column("last_started_at", UtcDateTime),
    Column("last_finished_at", UtcDateTime),
    Column("last_counts", JSON),
    Column("last_error", Text),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", ID, primary_key=True),
    # Not a foreign key: the bootstrap admin (settings key) is not a stored user.
    Column("owner_id", ID, nullable=False),
    Column("owner_role", String(16), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime),
    Column("disabled_reason", Text),
    Column("failing_since", UtcDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Index("ix_webhook_subscriptions_owner", "owner_id", "created_at"),
)

# One row per (message, e-mail recipient) or (event, subscription), each with its own retry schedule
# so that a failing endpoint never holds up the inbox, e-mail or another endpoint.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BIG_ID, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("outbox_id", BigInteger),
    Column("subscription_id", ID, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=True),
    Column("user_id", ID),
    Column("event_id", String(64), nullable=False),
    Column("type", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("state", String(12), nullable=False),  # pending, done, failed, paused
    Column("attempts", Integer, nullable=False, default=0),
    Column("available_at", UtcDateTime, nullable=False),
    Column("claimed_until", UtcDateTime),
    Column("claim_token", String(32)),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("done_at", UtcDateTime),
    Index(
        "ix_deliveries_due",
        "channel",
        "available_at",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
    Index("ix_deliveries_subscription", "subscription_id", "state"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BIG_ID, primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger, ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("subscription_id", ID, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status_code", Integer),
    Column("duration_ms", Integer, nullable=False),
    Column("error", Text),
    Index("ix_delivery_attempts_subscription", "subscription_id", "id"),
    Index("ix_delivery_attempts_delivery", "delivery_id"),
)

# Completed gaps between consecutive scans, in the carrier's business days, counted per week so that
# old history can be dropped; the thresholds are a quantile of the recent weeks.
stall_gap_counts = Table(
    "stall_gap_counts",
    metadata,
    Column("carrier", String(32), primary_key=True),
    Column("status", String(24), primary_key=True),
    Column("lane", String(16), primary_key=True),
    Column("week", Date, primary_key=True),
    Column("business_days", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
)

stall_thresholds = Table(
    "stall_thresholds",
    metadata,
    Column("carrier", String(32), primary_key=True),  # "*" for all carriers of a status and lane
    Column("status", String(24), primary_key=True),
    Column("lane", String(16), primary_key=True),
    Column("business_days", Integer, nullable=False),
    Column("samples", Integer, nullable=False),
    Column("refreshed_at", UtcDateTime, nullable=False),
)

stall_learning = Table(
    "stall_learning",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("learned_until", UtcDateTime, nullable=False),
)

# The sweeps' range reads. SQLite uses a partial index only when the query repeats its predicate
# word for word, so these are written as SQLAlchemy renders `active` and `~stalled` per dialect.
# The stall watch is keyed by the day of the last scan, not its instant: stall thresholds are whole
# days, and most scans fall on the day of the one before, so most carrier events change no entry of
# it (on PostgreSQL their shipment update is then heap-only, touching no index at all). A parcel
# never scanned is not in it (`last_event_on < day` implies the condition, so the sweep can use it).
Index(
    "ix_shipments_watch_stalled",
    shipments.c.status,
    shipments.c.last_event_on,
    sqlite_where=text("active = 1 AND stalled = 0 AND last_event_on IS NOT NULL"),
    postgresql_where=text("active AND NOT stalled AND last_event_on IS NOT NULL"),
)
Index(
    "ix_shipments_watch_first_scan",
    shipments.c.tracking_added_at,
    sqlite_where=text("active = 1 AND first_scan_at IS NULL"),
    postgresql_where=text("active AND first_scan_at IS NULL"),
)
Index("ix_tracking_events_received", tracking_events.c.received_at)
