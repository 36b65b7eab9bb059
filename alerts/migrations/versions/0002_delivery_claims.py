"""Deliveries claimed by the sender working on them, so several senders on one PostgreSQL database never
take the same one; a claim by a sender that is gone counts for nothing."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("claimed_by", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "claimed_by")
