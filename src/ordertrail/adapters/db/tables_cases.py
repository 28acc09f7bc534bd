"""Tables of issue resolution: cases, their messages, evidence and history, and the refunds they pay.

Actor ids carry no foreign key: the bootstrap admin acts as support without a users row.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, text

from ordertrail.adapters.db.tables import ID, UtcDateTime, metadata

OPEN_CASE = "status IN ('awaiting_seller', 'awaiting_buyer', 'escalated')"

cases = Table(
    "cases",
    metadata,
    Column("id", ID, primary_key=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("buyer_id", ID, ForeignKey("users.id"), nullable=False),
    Column("seller_id", ID, ForeignKey("users.id"), nullable=False),
    Column("shipment_id", ID, ForeignKey("shipments.id")),
    Column("type", String(32), nullable=False),
    Column("status", String(24), nullable=False),
    Column("description", Text, nullable=False),
    Column("requested_resolution", String(24), nullable=False),
    Column("amount", BigInteger),
    Column("currency", String(3), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("respond_by", UtcDateTime, nullable=False),
    Column("escalate_until", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("escalated_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("offer_resolution", String(24)),
    Column("offer_amount", BigInteger),
    Column("offer_made_at", UtcDateTime),
    Column("outcome", String(24)),
    Column("outcome_amount", BigInteger),
    Column("decided_by", ID),
    Column("decided_by_role", String(16)),
    Column("decided_at", UtcDateTime),
    Column("resolution_note", Text),
    Column("replacement_shipment_id", ID, ForeignKey("shipments.id")),
    # One open case per type and order, even under concurrent requests.
    Index(
        "uq_cases_open_type",
        "order_id",
        "type",
        unique=True,
        sqlite_where=text(OPEN_CASE),
        postgresql_where=text(OPEN_CASE),
    ),
    Index("ix_cases_buyer", "buyer_id", "opened_at"),
    Index("ix_cases_seller", "seller_id", "opened_at"),
    Index("ix_cases_opened", "opened_at"),
    # The support queue, oldest escalation first.
    Index(
        "ix_cases_escalated",
        "escalated_at",
        sqlite_where=text("status = 'escalated'"),
        postgresql_where=text("status = 'escalated'"),
    ),
    # The deadline sweeps read only the cases still waiting on someone, by deadline.
    Index(
        "ix_cases_awaiting_seller",
        "respond_by",
        sqlite_where=text("status = 'awaiting_seller'"),
        postgresql_where=text("status = 'awaiting_seller'"),
    ),
    Index(
        "ix_cases_awaiting_buyer",
        "escalate_until",
        sqlite_where=text("status = 'awaiting_buyer'"),
        postgresql_where=text("status = 'awaiting_buyer'"),
    ),
)

case_messages = Table(
    "case_messages",
    metadata,
    Column("id", ID, primary_key=True),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("author_id", ID, nullable=False),
    Column("author_role", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_case_messages_case", "case_id", "created_at"),
)

case_attachments = Table(
    "case_attachments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("uploaded_by", ID, nullable=False),
    Column("uploader_role", String(16), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_case_attachments_case", "case_id", "created_at"),
)

case_history = Table(
    "case_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor_id", ID),
    Column("actor_role", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_case_history_case", "case_id", "id"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", ID, primary_key=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("case_id", ID, ForeignKey("cases.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("decided_by", ID),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_refunds_order", "order_id"),
    Index("ix_refunds_case", "case_id"),
)
