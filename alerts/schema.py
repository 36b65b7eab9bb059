"""The tables of the alerts database as they stand at the newest migration, for the repositories that
query them (alerts/repositories/) and for the empty stand-ins a read-only open gives a file that lacks
some of them. Changing a table here needs a migration in alerts/migrations/versions/ beside it.
"""

from __future__ import annotations

from typing import Any

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
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.types import TypeEngine

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
    # What the alert is (alerts.models.AlertKind) and, for an event's growth re-alert, its number.
    _text("kind", null=False, default="post"),
    _int("realert", null=False, default=0),
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
    # The sender working on it (PostgreSQL, several senders): a live one's claim keeps the others off.
    Column("claimed_by", BigInteger),
    PrimaryKeyConstraint("alert_key", "channel", "recipient"),
    Index("deliveries_idem", "idem_key", unique=True),
    Index("deliveries_due", "status", "next_attempt_at"),
)

# Events the event stage found to be one (a post bridging them, or an earlier post naming the event): each
# absorbed event id, the event it now belongs to, and when. Its alerts and counted posts move to that event;
# a case already opened under the absorbed id keeps its id and receives the event's later alerts.
event_merges = Table(
    "event_merges",
    metadata,
    _text("event_id", primary=True),
    _text("into_event", null=False),
    _text("merged_at", null=False),
    Index("event_merges_into", "into_event"),
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
    _text(
        "notify_from"
    ),  # the lowest level the duty desk beeps and notifies for (NULL: 复杂敏感事件; off: none)
)

# Each checkpoint's patrol signed off by the duty officer (alerts/signoffs.py): one per checkpoint a day.
signoffs = Table(
    "signoffs",
    metadata,
    _serial(),
    *(_text(name, null=False) for name in ("day", "checkpoint", "account", "signed_at")),
    *(_text(name, null=False, default="[]") for name in ("healthy", "failed", "reviewed")),
    _int("zero_report", null=False, default=0),
    _text("note", null=False, default=""),
    UniqueConstraint("day", "checkpoint", name="signoffs_once"),
    sqlite_autoincrement=True,
)

# The analysts' keyword rules (alerts/rulebook.py): each saved version a whole rules file, the newest in force.
rule_versions = Table(
    "rule_versions",
    metadata,
    _serial(),
    *(_text(name, null=False) for name in ("saved_at", "account", "reason", "body", "digest")),
    _int("restored_from"),
    sqlite_autoincrement=True,
)

# Analysts' marks on rule hits (alerts/rulebook.py): each post's hit of a rule marked right or wrong, the
# latest mark kept.
rule_marks = Table(
    "rule_marks",
    metadata,
    *(_text(name, null=False) for name in ("post_id", "rule_id", "verdict", "account", "marked_at")),
    PrimaryKeyConstraint("post_id", "rule_id", name="rule_marks_once"),
)

# Analysts' corrections of a post's analysis (alerts/labels.py), every one kept; the latest per post and
# field is the label.
labels = Table(
    "labels",
    metadata,
    _serial(),
    *(
        _text(name, null=False)
        for name in ("post_id", "field", "value", "model_value", "text", "account", "labelled_at")
    ),
    Index("labels_post", "post_id"),
    sqlite_autoincrement=True,
)

# Console sessions ended before their time (logout): a replayed cookie of one is refused. A row can go
# once the session would have expired anyway (12 hours after it began).
ended_sessions = Table(
    "ended_sessions",
    metadata,
    _text("sid", primary=True),
    *(_text(name, null=False) for name in ("account", "ended_at", "expires_at")),
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
