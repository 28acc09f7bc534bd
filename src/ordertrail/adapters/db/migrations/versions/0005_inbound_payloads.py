"""inbound webhook payloads and carrier poll bookkeeping

Revision ID: 0005
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_payloads",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("delivery_id", sa.String(length=128), nullable=True),
        sa.Column("unknown_codes", sa.JSON(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=True),
        sa.Column("duplicates", sa.Integer(), nullable=True),
        sa.Column("rejected", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_payloads")),
        sa.UniqueConstraint("provider", "body_sha256", name="uq_inbound_payloads_body"),
    )
    op.create_index("ix_inbound_payloads_received", "inbound_payloads", ["received_at"], unique=False)
    op.create_table(
        "carrier_polls",
        sa.Column("shipment_id", sa.String(length=32), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_carrier_polls_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("shipment_id", name=op.f("pk_carrier_polls")),
    )
    op.create_index(
        "ix_carrier_polls_carrier_polled", "carrier_polls", ["carrier", "last_polled_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_carrier_polls_carrier_polled", table_name="carrier_polls")
    op.drop_table("carrier_polls")
    op.drop_index("ix_inbound_payloads_received", table_name="inbound_payloads")
    op.drop_table("inbound_payloads")
