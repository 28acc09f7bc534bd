"""the stall watch indexes the day of the last scan; shipment pages keep room for updates in place

Every carrier event used to move its shipment's entry in ix_shipments_watch_stalled (status, instant
of the last scan): a delete and an insert on two random index pages, a third of the pages an
in-transit scan wrote on SQLite, and on PostgreSQL it made every shipment update write a new entry
into each of the table's indexes. Keyed by the UTC day, a scan on the day of the one before changes
no index entry. On PostgreSQL the table's pages are filled to 85 % so that such an update can stay
on its page (a heap-only tuple).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _watch(day_keyed: bool) -> None:
    column = "last_event_on" if day_keyed else "last_event_at"
    scanned = " AND last_event_on IS NOT NULL" if day_keyed else ""
    op.create_index(
        "ix_shipments_watch_stalled",
        "shipments",
        ["status", column],
        unique=False,
        sqlite_where=sa.text(f"active = 1 AND stalled = 0{scanned}"),
        postgresql_where=sa.text(f"active AND NOT stalled{scanned}"),
    )


def upgrade() -> None:
    op.drop_index("ix_shipments_watch_stalled", table_name="shipments")
    op.add_column("shipments", sa.Column("last_event_on", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE shipments SET last_event_on = (last_event_at AT TIME ZONE 'UTC')::date")
        op.execute("ALTER TABLE shipments SET (fillfactor = 85)")
    else:
        op.execute("UPDATE shipments SET last_event_on = date(last_event_at)")
    _watch(day_keyed=True)


def downgrade() -> None:
    op.drop_index("ix_shipments_watch_stalled", table_name="shipments")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE shipments RESET (fillfactor)")
    op.drop_column("shipments", "last_event_on")
    _watch(day_keyed=False)
