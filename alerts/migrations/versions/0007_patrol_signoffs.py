"""Patrol sign-offs: at each checkpoint the duty officer signs off the patrol (the sources seen healthy,
the alerts reviewed or a zero report, a note), once per checkpoint a day."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signoffs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        *(
            sa.Column(name, sa.Text(), nullable=False)
            for name in ("day", "checkpoint", "account", "signed_at")
        ),
        *(
            sa.Column(name, sa.Text(), nullable=False, server_default=sa.text("'[]'"))
            for name in ("healthy", "failed", "reviewed")
        ),
        sa.Column("zero_report", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("note", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.UniqueConstraint("day", "checkpoint", name="signoffs_once"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("signoffs")
