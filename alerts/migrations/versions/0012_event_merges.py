"""Events found to be one after both were raised: each absorbed event id and the event it now belongs to."""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_merges",
        sa.Column("event_id", sa.Text(), primary_key=True),
        sa.Column("into_event", sa.Text(), nullable=False),
        sa.Column("merged_at", sa.Text(), nullable=False),
    )
    op.create_index("event_merges_into", "event_merges", ["into_event"])


def downgrade() -> None:
    op.drop_index("event_merges_into", "event_merges")
    op.drop_table("event_merges")
