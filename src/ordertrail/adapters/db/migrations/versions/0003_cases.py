"""cases: issue resolution, messages, evidence, history and refunds

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN_CASE = "status IN ('awaiting_seller', 'awaiting_buyer', 'escalated')"


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _partial(name: str, columns: list[str], where: str, unique: bool = False) -> None:
    op.create_index(
        name,
        "cases",
        columns,
        unique=unique,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("buyer_id", sa.String(length=32), nullable=False),
        sa.Column("seller_id", sa.String(length=32), nullable=False),
        sa.Column("shipment_id", sa.String(length=32), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("requested_resolution", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        _at("opened_at"),
        _at("respond_by"),
        _at("escalate_until"),
        _at("updated_at"),
        _at("escalated_at", True),
        _at("closed_at", True),
        sa.Column("offer_resolution", sa.String(length=24), nullable=True),
        sa.Column("offer_amount", sa.BigInteger(), nullable=True),
        _at("offer_made_at", True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("outcome_amount", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_by_role", sa.String(length=16), nullable=True),
        _at("decided_at", True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("replacement_shipment_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_cases_order_id_orders")),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_cases_buyer_id_users")),
        sa.ForeignKeyConstraint(["seller_id"], ["users.id"], name=op.f("fk_cases_seller_id_users")),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_cases_shipment_id_shipments")
        ),
        sa.ForeignKeyConstraint(
            ["replacement_shipment_id"],
            ["shipments.id"],
            name=op.f("fk_cases_replacement_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    _partial("uq_cases_open_type", ["order_id", "type"], OPEN_CASE, unique=True)
    op.create_index("ix_cases_buyer", "cases", ["buyer_id", "opened_at"], unique=False)
    op.create_index("ix_cases_seller", "cases", ["seller_id", "opened_at"], unique=False)
    op.create_index("ix_cases_opened", "cases", ["opened_at"], unique=False)
    _partial("ix_cases_escalated", ["escalated_at"], "status = 'escalated'")
    _partial("ix_cases_awaiting_seller", ["respond_by"], "status = 'awaiting_seller'")
    _partial("ix_cases_awaiting_buyer", ["escalate_until"], "status = 'awaiting_buyer'")

    op.create_table(
        "case_messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_messages_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_messages")),
    )
    op.create_index("ix_case_messages_case", "case_messages", ["case_id", "created_at"], unique=False)

    op.create_table(
        "case_attachments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("uploaded_by", sa.String(length=32), nullable=False),
        sa.Column("uploader_role", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_attachments_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_attachments")),
    )
    op.create_index("ix_case_attachments_case", "case_attachments", ["case_id", "created_at"], unique=False)

    op.create_table(
        "case_history",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        _at("at"),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_history_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_history")),
    )
    op.create_index("ix_case_history_case", "case_history", ["case_id", "id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        _at("created_at"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_refunds_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index("ix_refunds_order", "refunds", ["order_id"], unique=False)
    op.create_index("ix_refunds_case", "refunds", ["case_id"], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ("refunds", ["ix_refunds_case", "ix_refunds_order"]),
        ("case_history", ["ix_case_history_case"]),
        ("case_attachments", ["ix_case_attachments_case"]),
        ("case_messages", ["ix_case_messages_case"]),
        (
            "cases",
            [
                "ix_cases_awaiting_buyer",
                "ix_cases_awaiting_seller",
                "ix_cases_escalated",
                "ix_cases_opened",
                "ix_cases_seller",
                "ix_cases_buyer",
                "uq_cases_open_type",
            ],
        ),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
