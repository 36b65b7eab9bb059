"""Analysts' marks on keyword rule hits: a hit on a post marked right or 误报, which gives each rule its
precision."""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_marks",
        *(
            sa.Column(name, sa.Text(), nullable=False)
            for name in ("post_id", "rule_id", "verdict", "account", "marked_at")
        ),
        sa.PrimaryKeyConstraint("post_id", "rule_id", name="rule_marks_once"),
    )


def downgrade() -> None:
    op.drop_table("rule_marks")
