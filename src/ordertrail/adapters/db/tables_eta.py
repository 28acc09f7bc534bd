"""Tables of delivery estimation: every change of an order's estimated delivery, the fitted models
the service estimates with, and the index the daily re-estimation reads."""

from __future__ import annotations

from sqlalchemy import (
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

from ordertrail.adapters.db.tables import ID, UtcDateTime, metadata, shipments

BIG_ID = BigInteger().with_variant(Integer, "sqlite")

# One row per change: the promise at checkout (no shipment), then each move of a shipment's window.
eta_history = Table(
    "eta_history",
    metadata,
    Column("id", BIG_ID, primary_key=True, autoincrement=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("shipment_id", ID, ForeignKey("shipments.id")),
    Column("at", UtcDateTime, nullable=False),
    Column("old_earliest", Date),
    Column("old_latest", Date),
    Column("new_earliest", Date, nullable=False),
    Column("new_latest", Date, nullable=False),
    Column("predicted_late", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("trigger", String(24), nullable=False),
    Index("ix_eta_history_order", "order_id", "id"),
)

# Fitted models (`ordertrail edd fit`); the newest is the one in use. The JSON is kept as text: it is
# only ever read whole.
eta_models = Table(
    "eta_models",
    metadata,
    Column("id", BIG_ID, primary_key=True, autoincrement=True),
    Column("fitted_at", UtcDateTime, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("shipments", Integer, nullable=False),
    Column("model", Text, nullable=False),
)

# Both estimate sweeps read the shipments whose check is due, in (day, latest day, id) order: the
# daily re-estimation a range of this index without a sort, the overdue sweep the same range filtered
# on its second column (a window that ended is always due: see domain.eta.parcels.reassess). One
# index, so a first scan moves one entry where it moved two.
Index(
    "ix_shipments_estimate_due",
    shipments.c.estimate_due_on,
    shipments.c.estimated_latest,
    shipments.c.id,
    sqlite_where=text("active = 1"),
    postgresql_where=text("active"),
)
