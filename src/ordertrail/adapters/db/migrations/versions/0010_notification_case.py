"""notifications remember the case they are about, so that the inbox page links to the case

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("case_id", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "case_id")
