"""one estimate watch: the estimate sweeps read the shipments whose check is due, expired ones too

A parcel's first scan moved its entries in two indexes, (estimated_latest, id) for the overdue sweep
and (estimate_due_on, id) for the daily re-estimation: four random index pages, the largest share of
what a first scan writes besides the shipment itself. A shipment's next check now never falls after
the day its shown window ends (domain.eta.parcels.reassess), so a window that ended is always due as
well, and both sweeps read one index on (estimate_due_on, estimated_latest, id): the daily sweep a
range of it in that order, the overdue sweep the same range filtered on the index's own second
column.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
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
    op.drop_index("ix_shipments_watch_estimate", table_name="shipments")
    op.drop_index("ix_shipments_estimate_due", table_name="shipments")
    _partial("ix_shipments_estimate_due", ["estimate_due_on", "estimated_latest", "id"])


def downgrade() -> None:
    op.drop_index("ix_shipments_estimate_due", table_name="shipments")
    _partial("ix_shipments_estimate_due", ["estimate_due_on", "id"])
    _partial("ix_shipments_watch_estimate", ["estimated_latest", "id"])
