"""Tables of the carrier integrations: the raw inbound webhook payloads, and poll bookkeeping.

`inbound_payloads.id` is what `tracking_events.source_id` points at, so a wrong status can be traced
back to the bytes the provider sent. The link is deliberately not a foreign key: payloads are purged
after the retention period while the events they produced stay.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ordertrail.adapters.db.tables import ID, UtcDateTime, metadata

inbound_payloads = Table(
    "inbound_payloads",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("provider", String(16), nullable=False),
    # A replayed delivery has the same bytes: it finds this row instead of storing a second copy.
    Column("body_sha256", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),  # byte for byte, so the signature can be re-checked
    Column("received_at", UtcDateTime, nullable=False),
    Column("tracking_number", String(64)),
    Column("delivery_id", String(128)),  # the provider's id of the delivery, when it sends one
    Column("unknown_codes", JSON, nullable=False, default=list),
    # The outcome of the first ingestion (null until it finished).
    Column("accepted", Integer),
    Column("duplicates", Integer),
    Column("rejected", Integer),
    UniqueConstraint("provider", "body_sha256", name="uq_inbound_payloads_body"),
    Index("ix_inbound_payloads_received", "received_at"),
)

carrier_polls = Table(
    "carrier_polls",
    metadata,
    Column("shipment_id", ID, ForeignKey("shipments.id"), primary_key=True),
    Column("carrier", String(32), nullable=False),
    Column("last_polled_at", UtcDateTime, nullable=False),
    Column("polls", Integer, nullable=False, default=0),
    Column("last_error", Text),
    # Set when the poller gave up on the shipment (see services.polling); it is never retired twice.
    Column("retired_at", UtcDateTime),
    Index("ix_carrier_polls_carrier_polled", "carrier", "last_polled_at"),
)
