"""delivery estimation: estimate history, fitted models, each shipment's next estimate check

Revision ID: 0006
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "eta_history",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("shipment_id", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_earliest", sa.Date(), nullable=True),
        sa.Column("old_latest", sa.Date(), nullable=True),
        sa.Column("new_earliest", sa.Date(), nullable=False),
        sa.Column("new_latest", sa.Date(), nullable=False),
        sa.Column("predicted_late", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("trigger", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_eta_history_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_eta_history_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eta_history")),
    )
    op.create_index("ix_eta_history_order", "eta_history", ["order_id", "id"], unique=False)
    op.create_table(
        "eta_models",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("shipments", sa.Integer(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eta_models")),
    )
    # Existing shipments get the default: due at once, so the first sweep estimates them all. A plain
    # ADD COLUMN (SQLite allows it with a constant default) keeps the table and its other indexes.
    op.add_column(
        "shipments",
        sa.Column("estimate_due_on", sa.Date(), nullable=False, server_default=sa.text("'1970-01-01'")),
    )
    op.create_index(
        "ix_shipments_estimate_due",
        "shipments",
        ["estimate_due_on"],
        unique=False,
        sqlite_where=sa.text("active = 1"),
        postgresql_where=sa.text("active"),
    )


def downgrade() -> None:
    op.drop_index("ix_shipments_estimate_due", table_name="shipments")
    op.drop_column("shipments", "estimate_due_on")
    op.drop_table("eta_models")
    op.drop_index("ix_eta_history_order", table_name="eta_history")
    op.drop_table("eta_history")
