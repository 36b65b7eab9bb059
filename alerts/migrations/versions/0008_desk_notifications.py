"""Each account's own choice of which alerts the duty desk beeps and notifies for."""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("notify_from", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "notify_from")
