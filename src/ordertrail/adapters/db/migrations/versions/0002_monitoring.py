"""monitoring: sweep schedule, e-mail and webhook deliveries, webhook subscriptions, scan-gap statistics

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _big_id() -> sa.Column:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
    )


def _partial(name: str, table: str, columns: list[str], sqlite_where: str, pg_where: str) -> None:
    op.create_index(
        name, table, columns, sqlite_where=sa.text(sqlite_where), postgresql_where=sa.text(pg_where)
    )


def upgrade() -> None:
    op.create_table(
        "sweep_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        _at("next_run_at", nullable=False),
        _at("running_until"),
        _at("last_started_at"),
        _at("last_finished_at"),
        sa.Column("last_counts", sa.JSON(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sweep_runs")),
    )
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("owner_role", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        _at("created_at", nullable=False),
        _at("disabled_at"),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        _at("failing_since"),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index("ix_webhook_subscriptions_owner", "webhook_subscriptions", ["owner_id", "created_at"])
    op.create_table(
        "deliveries",
        _big_id(),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("subscription_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _at("created_at", nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("available_at", nullable=False),
        _at("claimed_until"),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _at("done_at"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_deliveries_dedupe_key")),
    )
    _partial(
        "ix_deliveries_due",
        "deliveries",
        ["channel", "available_at"],
        "state = 'pending'",
        "state = 'pending'",
    )
    op.create_index("ix_deliveries_subscription", "deliveries", ["subscription_id", "state"])
    op.create_table(
        "delivery_attempts",
        _big_id(),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", sa.String(length=32), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _at("attempted_at", nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_delivery_attempts_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index("ix_delivery_attempts_subscription", "delivery_attempts", ["subscription_id", "id"])
    op.create_index("ix_delivery_attempts_delivery", "delivery_attempts", ["delivery_id"])
    op.create_table(
        "stall_gap_counts",
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("business_days", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "carrier", "status", "lane", "week", "business_days", name=op.f("pk_stall_gap_counts")
        ),
    )
    op.create_table(
        "stall_thresholds",
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column("business_days", sa.Integer(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        _at("refreshed_at", nullable=False),
        sa.PrimaryKeyConstraint("carrier", "status", "lane", name=op.f("pk_stall_thresholds")),
    )
    op.create_table(
        "stall_learning",
        sa.Column("id", sa.Integer(), nullable=False),
        _at("learned_until", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stall_learning")),
    )
    _partial(
        "ix_shipments_watch_stalled",
        "shipments",
        ["status", "last_event_at"],
        "active = 1 AND stalled = 0",
        "active AND NOT stalled",
    )
    _partial(
        "ix_shipments_watch_first_scan",
        "shipments",
        ["tracking_added_at"],
        "active = 1 AND first_scan_at IS NULL",
        "active AND first_scan_at IS NULL",
    )
    _partial("ix_shipments_watch_estimate", "shipments", ["estimated_latest"], "active = 1", "active")
    op.create_index("ix_tracking_events_received", "tracking_events", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_tracking_events_received", table_name="tracking_events")
    for name in (
        "ix_shipments_watch_estimate",
        "ix_shipments_watch_first_scan",
        "ix_shipments_watch_stalled",
    ):
        op.drop_index(name, table_name="shipments")
    for table in (
        "stall_learning",
        "stall_thresholds",
        "stall_gap_counts",
        "delivery_attempts",
        "deliveries",
        "webhook_subscriptions",
        "sweep_runs",
    ):
        op.drop_table(table)
