"""An alert's kind and its re-alert number become columns of their own, so nothing reads them out of its
key any more. Rows stored before are back-filled: the kind from the alert's stored text (a workflow notice
is also known by its old key prefix), the number from the `#n` ending of an event alert's key. This is the
one place that takes a key apart; from here on keys are only built (alerts.models.alert_key).
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The prefix workflow notices' keys began with; recognised here, for rows stored before this revision.
OLD_NOTICE_PREFIX = "工作流:"
KINDS = ("post", "health", "config", "workflow")

_alerts = sa.table(
    "alerts",
    sa.column("key", sa.Text),
    sa.column("body", sa.Text),
    sa.column("event_id", sa.Text),
    sa.column("level", sa.Text),
    sa.column("kind", sa.Text),
    sa.column("realert", sa.Integer),
)


def identity(key: str, body: str, event_id: str | None, level: str) -> tuple[str, int]:
    """(kind, re-alert number) of an alert stored under the old key grammar: `<event>@<level>` for the
    pipeline's alert of an event, `…#n` for its n-th growth re-alert, `工作流:…` for a workflow notice."""
    try:
        stored = json.loads(body).get("kind")
    except (ValueError, AttributeError):
        stored = None
    if key.startswith(OLD_NOTICE_PREFIX):
        return "workflow", 0
    kind = stored if stored in KINDS else "post"
    base, hashed, number = key.rpartition("#") if "#" in key else (key, "", "")
    if kind != "post" or base != f"{event_id}@{level}":
        # Not an event's alert by the old grammar: noise control never numbered it.
        return kind, 0
    return kind, int(number) if hashed and number.isdigit() else 0


def upgrade() -> None:
    op.add_column("alerts", sa.Column("kind", sa.Text(), nullable=False, server_default=sa.text("'post'")))
    op.add_column("alerts", sa.Column("realert", sa.Integer(), nullable=False, server_default=sa.text("0")))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_alerts.c.key, _alerts.c.body, _alerts.c.event_id, _alerts.c.level)).all()
    for key, body, event_id, level in rows:
        kind, realert = identity(key, body, event_id, level)
        if (kind, realert) != ("post", 0):
            bind.execute(sa.update(_alerts).where(_alerts.c.key == key).values(kind=kind, realert=realert))


def downgrade() -> None:
    op.drop_column("alerts", "realert")
    op.drop_column("alerts", "kind")
