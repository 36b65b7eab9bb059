"""Analysts' corrections of the analysis of a post (sentiment, level, county, department), kept as labels:
what the model said, what the analyst says, who and when, and the post's text as it was then."""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *(
            sa.Column(name, sa.Text(), nullable=False)
            for name in ("post_id", "field", "value", "model_value", "text", "account", "labelled_at")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("labels_post", "labels", ["post_id"])


def downgrade() -> None:
    op.drop_index("labels_post", "labels")
    op.drop_table("labels")
