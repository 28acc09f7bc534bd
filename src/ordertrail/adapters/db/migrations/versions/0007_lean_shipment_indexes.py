"""leaner shipment indexes: no index on the last scan alone, and the estimate sweeps' indexes end
with the id they order by

ix_shipments_active_last_event served no query (the stall sweep reads ix_shipments_watch_stalled)
and cost every carrier event an index page. The estimate sweeps read `ORDER BY day, id LIMIT n`:
with the id in the index a batch is a range read instead of a sort of every row due that day.

Revision ID: 0007
Revises: 0002, 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = ("0002", "0006")
branch_labels = None
depends_on = None


def _partial(name: str, columns: list[str]) -> None:
    op.create_index(
        name,
        "shipments",
        columns,
        unique=False,
        sqlite_where=sa.text("active = 1"),
        postgresql_where=sa.text("active"),
    )


def upgrade() -> None:
    op.drop_index("ix_shipments_active_last_event", table_name="shipments")
    op.drop_index("ix_shipments_estimate_due", table_name="shipments")
    op.drop_index("ix_shipments_watch_estimate", table_name="shipments")
    _partial("ix_shipments_estimate_due", ["estimate_due_on", "id"])
    _partial("ix_shipments_watch_estimate", ["estimated_latest", "id"])


def downgrade() -> None:
    op.drop_index("ix_shipments_watch_estimate", table_name="shipments")
    op.drop_index("ix_shipments_estimate_due", table_name="shipments")
    _partial("ix_shipments_watch_estimate", ["estimated_latest"])
    _partial("ix_shipments_estimate_due", ["estimate_due_on"])
    op.create_index(
        "ix_shipments_active_last_event",
        "shipments",
        ["last_event_at"],
        unique=False,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
