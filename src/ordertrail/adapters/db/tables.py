"""SQLAlchemy Core table definitions: the one source the migrations are checked against.

Timestamps are stored as timezone-aware UTC (`UtcDateTime`) on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect

convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=convention)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; SQLite keeps no zone, so we normalise here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = String(32)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("role", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("api_key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("email_opt_out", JSON, nullable=False, default=list),
    Column("erased_at", UtcDateTime),
    Index("ix_users_email", "email"),  # stored lower-case
)

orders = Table(
    "orders",
    metadata,
    Column("id", ID, primary_key=True),
    Column("buyer_id", ID, ForeignKey("users.id"), nullable=False),
    Column("seller_id", ID, ForeignKey("users.id"), nullable=False),
    Column("status", String(24), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal", BigInteger, nullable=False),
    Column("shipping_fee", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("shipping_address", JSON, nullable=False),
    Column("shipping_service", String(32), nullable=False),
    Column("ship_by", UtcDateTime, nullable=False),
    Column("promised_earliest", Date, nullable=False),
    Column("promised_latest", Date, nullable=False),
    Column("cancelled_at", UtcDateTime),
    Column("cancel_reason", Text),
    Column("cancelled_by", String(16)),
    Column("delivered_at", UtcDateTime),
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),
    UniqueConstraint("buyer_id", "idempotency_key", name="uq_orders_idempotency"),
    Index("ix_orders_buyer", "buyer_id", "placed_at"),
    Index("ix_orders_seller", "seller_id", "placed_at"),
    Index("ix_orders_placed", "placed_at"),
    # The ship-by sweep reads only orders still waiting, by deadline.
    Index(
        "ix_orders_awaiting_ship_by",
        "ship_by",
        sqlite_where=text("status = 'awaiting_shipment'"),
        postgresql_where=text("status = 'awaiting_shipment'"),
    ),
)

order_items = Table(
    "order_items",
    metadata,
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(100), nullable=False),
    Column("title", String(300), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("carrier", String(32)),
    Column("tracking_number", String(64)),
    Column("items", JSON),  # [[sku, quantity], ...] or null for "everything left"
    Column("status", String(24), nullable=False),
    Column("substatus", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("tracking_added_at", UtcDateTime),
    Column("ship_by", UtcDateTime),  # replacements carry their own dispatch deadline
    Column("first_scan_at", UtcDateTime),
    Column("last_event_at", UtcDateTime),
    # Its UTC day: what the stall watch indexes (see tables_monitoring), so that a scan on the same
    # day as the last one leaves that index alone.
    Column("last_event_on", Date),
    Column("delivered_at", UtcDateTime),
    Column("carrier_estimated_delivery", Date),
    Column("estimated_earliest", Date),
    Column("estimated_latest", Date),
    Column("predicted_late", Boolean, nullable=False, default=False),
    Column("stalled", Boolean, nullable=False, default=False),
    Column("proof_of_delivery", JSON),
    Column("last_key", String(80)),  # sort key of the last event folded; see domain.events
    Column("event_count", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),  # not in a terminal status
    # The day its delivery estimate is next looked at (services.estimates); due at once when new.
    Column("estimate_due_on", Date, nullable=False, server_default=text("'1970-01-01'")),
    Index("ix_shipments_order", "order_id"),
    Index("ix_shipments_tracking", "tracking_number", "carrier"),
)

tracking_events = Table(
    "tracking_events",
    metadata,
    Column("shipment_id", ID, ForeignKey("shipments.id"), primary_key=True),
    Column("id", String(32), primary_key=True),  # the content hash: dedupe is the primary key
    Column("provider_event_id", String(128)),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("utc_offset_min", Integer, nullable=False),
    Column("offset_source", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("substatus", String(64)),
    Column("description", Text, nullable=False),
    Column("carrier_code", String(64)),
    Column("raw_status", String(128)),
    Column("city", String(120)),
    Column("region", String(120)),
    Column("postal_code", String(20)),
    Column("country_code", String(2)),
    Column("estimated_delivery", Date),
    Column("proof_of_delivery", JSON),
    Column("received_at", UtcDateTime, nullable=False),
    Column("source_id", BigInteger),  # the inbound webhook payload it came from, if any
    Index(
        "uq_tracking_events_provider_id",
        "shipment_id",
        "provider_event_id",
        unique=True,
        sqlite_where=text("provider_event_id IS NOT NULL"),
        postgresql_where=text("provider_event_id IS NOT NULL"),
    ),
)

shipment_status_history = Table(
    "shipment_status_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("shipment_id", ID, ForeignKey("shipments.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("old_status", String(24)),
    Column("new_status", String(24), nullable=False),
    Column("reason", String(200), nullable=False),
    Index("ix_shipment_status_history_shipment", "shipment_id", "id"),
)

order_status_history = Table(
    "order_status_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("old_status", String(24)),
    Column("new_status", String(24), nullable=False),
    Column("reason", String(200), nullable=False),
    Index("ix_order_status_history_order", "order_id", "id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("type", String(40), nullable=False),
    Column("recipient_id", ID, ForeignKey("users.id")),
    Column("order_id", ID),
    Column("payload", JSON, nullable=False),
    # "notify once": a condition that persists writes the same key, which is refused the second time.
    Column("dedupe_key", String(200), unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Column("state", String(12), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_until", UtcDateTime),
    Column("last_error", Text),
    Column("done_at", UtcDateTime),
    Index(
        "ix_outbox_due",
        "available_at",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("outbox_id", BigInteger, nullable=False, unique=True),  # exactly once per outbox row
    Column("type", String(40), nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("order_id", ID),
    Column("case_id", ID),  # a case's notice: the inbox page links to the case itself
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime),
    Index("ix_notifications_user", "user_id", "created_at"),
)

from ordertrail.adapters.db import tables_carriers as _tables_carriers  # noqa: E402,F401
from ordertrail.adapters.db import tables_cases as _tables_cases  # noqa: E402,F401
from ordertrail.adapters.db import tables_eta as _tables_eta  # noqa: E402,F401
from ordertrail.adapters.db import tables_monitoring as _tables_monitoring  # noqa: E402,F401
from ordertrail.adapters.db import tables_web as _tables_web  # noqa: E402,F401
