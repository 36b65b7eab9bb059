"""The alerts database as the first versioned release found it: alerts, deliveries, the channel ledger,
silences, cases, accounts and the append-only audit trail.

A file made before versions were recorded (no alembic_version table) is brought to this same shape in
place: the tables it lacks are made, the columns older releases did not have are added, rows written before
idempotency keys get theirs, and nothing is dropped. The tables are written out here rather than imported
from alerts/schema.py, which follows the newest revision.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import (
    REAL,
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.types import TypeEngine

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

metadata = MetaData()


def _text(name: str, *, null: bool = True, default: str | None = None, primary: bool = False) -> Column[Any]:
    return Column(
        name,
        Text,
        nullable=null and not primary,
        primary_key=primary,
        server_default=None if default is None else text(f"'{default}'"),
    )


def _int(name: str, *, null: bool = True, default: int | None = None, big: bool = False) -> Column[Any]:
    kind = Integer().with_variant(BigInteger(), "postgresql") if big else Integer()
    return Column(name, kind, nullable=null, server_default=None if default is None else text(str(default)))


# Epoch seconds: SQLite's REAL has 8 bytes, PostgreSQL's only 4 (minutes apart at today's epoch).
SECONDS: TypeEngine[float] = REAL().with_variant(DOUBLE_PRECISION(), "postgresql")


def _real(name: str) -> Column[Any]:
    return Column(name, SECONDS)


def _serial() -> Column[Any]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


# -- alerts and their deliveries ---------------------------------------------------------------------------

alerts = Table(
    "alerts",
    metadata,
    _text("key", primary=True),
    _text("created_at", null=False),
    _text("level", null=False),
    _text("body", null=False),
    _text("event_id"),
    _int("event_posts"),  # the event's size when this alert was raised (growth re-alerts)
    _int("event_reach", big=True),
    _int("silenced_by"),  # the silence that held it back, or that it went out despite
    _text("silence_state"),  # alerts.silences: held, released, superseded, overridden (NULL: held)
    _text("silence_note"),  # why, in the words the people reading the record see
    _text("silence_at"),  # when it was released or superseded
    Index("alerts_event", "event_id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    _text("alert_key", null=False),  # an alert's key, or a digest's (which has no alert row)
    _text("channel", null=False),
    _text("recipient", null=False),
    _text("status", null=False, default="pending"),
    _int("attempts", null=False, default=0),
    _text("last_error"),
    _text("sent_at"),
    _text("idem_key"),  # one per alert (or digest) and recipient
    _text("chain"),  # JSON list: the recipient's channels, then the fallbacks, in order
    _text("tries"),  # JSON {channel: failed attempts}
    _text("via"),  # the channel last tried, or that delivered
    _real("next_attempt_at"),  # epoch seconds; NULL is due now
    _text("updated_at"),
    _text("subject"),  # set for digests, which have no alert row of their own
    _text("body"),
    _text("digest"),  # for an alert held for a digest: the digest that carried it
    PrimaryKeyConstraint("alert_key", "channel", "recipient"),
    Index("deliveries_idem", "idem_key", unique=True),
    Index("deliveries_due", "status", "next_attempt_at"),
)

event_posts = Table(
    "event_posts",
    metadata,
    _text("event_id", primary=True),
    _text("post_id", primary=True),
    _int("reach", null=False, big=True),
)

# -- the channel ledger: health and the send times rate windows are counted on ----------------------------

channel_health = Table(
    "channel_health",
    metadata,
    _text("channel", primary=True),
    _int("failures", null=False, default=0),
    _text("last_error"),
    _real("last_failure_at"),
    _real("last_success_at"),
    _real("dead_since"),
    _real("resume_at"),
)

channel_sends = Table(
    "channel_sends",
    metadata,
    _text("channel", null=False),
    Column("at", SECONDS, nullable=False),
    Index("channel_sends_at", "channel", "at"),
)

silences = Table(
    "silences",
    metadata,
    _serial(),
    _text("match", null=False),
    _text("until", null=False),
    _text("reason", null=False),
    _text("created_by", null=False),
    _text("created_at", null=False),
    _text("lifted_at"),  # ended early with `yuqing silence lift`: when, by whom, why
    _text("lifted_by"),
    _text("lift_reason"),
    sqlite_autoincrement=True,
)

# -- cases ------------------------------------------------------------------------------------------------

cases = Table(
    "cases",
    metadata,
    _text("id", primary=True),
    *(_text(name, null=False) for name in ("alert_key", "post_id", "level", "title", "url", "source")),
    *(_text(name, null=False) for name in ("counties", "first_units", "claim_units", "opened_at", "state")),
    _text("prev_state"),
    _int("round", null=False, default=0),
    _text("round_started_at", null=False),
    _text("owner"),
    _text("assigned"),
    _text("updated_at", null=False),
    _text("watch_from"),
    _text("baseline", null=False, default="{}"),
)

case_alerts = Table(
    "case_alerts",
    metadata,
    _text("alert_key", primary=True),
    _text("case_id", null=False),
    _text("level", null=False),
    _text("created_at", null=False),
)

case_history = Table(
    "case_history",
    metadata,
    _serial(),
    *(_text(name, null=False) for name in ("case_id", "at", "action")),
    _text("from_state"),
    _text("to_state", null=False),
    _text("actor", null=False),
    _text("unit"),
    _text("note", null=False, default=""),
    sqlite_autoincrement=True,
)

case_deadlines = Table(
    "case_deadlines",
    metadata,
    _serial(),
    _text("case_id", null=False),
    _int("round", null=False),
    *(_text(name, null=False) for name in ("kind", "due_at", "original_due_at")),
    _text("status", null=False, default="open"),
    _text("units", null=False),
    _text("met_at"),
    _text("met_unit"),
    Index("case_deadlines_by_status", "status", "due_at"),
    sqlite_autoincrement=True,
)

case_lapses = Table(
    "case_lapses",
    metadata,
    Column("deadline_id", Integer, primary_key=True, autoincrement=False),
    _text("due_at", primary=True),
    *(_text(name, null=False) for name in ("case_id", "kind", "lapsed_at", "units")),
)

case_extensions = Table(
    "case_extensions",
    metadata,
    _serial(),
    _text("case_id", null=False),
    _int("deadline_id", null=False),
    *(_text(name, null=False) for name in ("unit", "requested_by", "requested_at", "until", "reason")),
    _text("status", null=False, default="pending"),
    _text("decided_by"),
    _text("decided_at"),
    sqlite_autoincrement=True,
)

case_notices = Table(
    "case_notices",
    metadata,
    _text("key", primary=True),
    *(_text(name, null=False) for name in ("case_id", "kind", "at")),
)

# -- who acts, and the hash-chained trail of what each did ------------------------------------------------

accounts = Table(
    "accounts",
    metadata,
    _text("name", primary=True),
    _text("role", null=False),
    _text("unit"),
    _text("created_at", null=False),
    _text("created_by", null=False),
    _text("disabled_at"),
    _text("disabled_by"),
    _text("password_hash"),
    _text("password_changed_at"),
    _text("password_history", null=False, default="[]"),
    _int("must_change_password", null=False, default=1),
    _int("failed_logins", null=False, default=0),
    _text("locked_until"),
)

audit = Table(
    "audit",
    metadata,
    _serial(),
    *(_text(name, null=False) for name in ("at", "account")),
    _text("role"),
    _text("unit"),
    *(_text(n, null=False) for n in ("origin", "action", "target", "outcome", "detail", "prev_hash", "hash")),
    sqlite_autoincrement=True,
)


# Rows written before idempotency keys were one per (alert, channel, recipient); alerts before event ids
# were columns kept them only in their JSON body.
_BACKFILL = (
    (
        "UPDATE deliveries SET idem_key = alert_key || '|' || channel || '|' || recipient, "
        "chain = json_array(channel) WHERE idem_key IS NULL"
    ),
    "UPDATE alerts SET event_id = json_extract(body, '$.event_id') WHERE event_id IS NULL",
)

_SQLITE_TRIGGERS = (
    (
        "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, '审计记录只能追加，不能修改'); END"
    ),
    (
        "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, '审计记录只能追加，不能删除'); END"
    ),
)

_POSTGRESQL_GUARD = (
    (
        "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION '审计记录只能追加，不能修改'; END IF; "
        "RAISE EXCEPTION '审计记录只能追加，不能删除'; END $$"
    ),
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    present = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in present:
            table.create(bind)
            continue
        have = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                op.add_column(table.name, column._copy())
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(bind)
    if bind.dialect.name == "sqlite":
        if "deliveries" in present:
            for statement in _BACKFILL:
                op.execute(statement)
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        # SQLite keeps rows in insertion order under a hidden row id, which the queries sort by; here
        # that order is a column of the same name.
        for name in ("alerts", "deliveries"):
            op.execute(f"ALTER TABLE {name} ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY")
        for statement in _POSTGRESQL_GUARD:
            op.execute(statement)
    else:
        raise NotImplementedError(f"the alerts database does not run on {bind.dialect.name}")


def downgrade() -> None:
    for table in reversed(metadata.sorted_tables):
        table.drop(op.get_bind())
