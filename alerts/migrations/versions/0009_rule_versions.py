"""The analysts' keyword rules, versioned: each save is a whole rules file with who saved it, when and why."""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *(
            sa.Column(name, sa.Text(), nullable=False)
            for name in ("saved_at", "account", "reason", "body", "digest")
        ),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("rule_versions")
