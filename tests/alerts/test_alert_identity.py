"""An alert's identity is data: its kind and re-alert number are columns, keys are built by one function
and never taken apart, and a database of the revision before (0002) gets its rows' kinds and numbers
back-filled from their old keys when it is opened, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from alerts.cases import State
from alerts.database import MIGRATIONS, AlertsDatabase, configured_url
from alerts.models import Alert, AlertKind, alert_key
from alerts.outbox import Outbox
from alerts.repositories.outbox import alert_to_json
from alerts.workflow import Workflow
from classifiers.types import Level
from config.loader import load_config
from tests.alerts.conftest import NOW, make_alert

pytestmark = pytest.mark.usefixtures("alerts_backend")


def test_keys_are_built_from_the_event_the_level_and_the_number() -> None:
    assert alert_key("event:sina:1", Level.SENSITIVE) == "event:sina:1@复杂敏感事件"
    assert alert_key("event:sina:1", Level.SENSITIVE, 3) == "event:sina:1@复杂敏感事件#3"
    # An event id may hold the characters the key puts between its parts; nothing reads them back.
    assert alert_key("event:tieba:帖#12", Level.HOT_TOPIC, 2) == "event:tieba:帖#12@社会热点问题#2"


def old_body(alert: Alert, *, drop_kind: bool = False) -> str:
    """The alert's text as the revision before stored it: no re-alert number (and, oldest, no kind)."""
    data = json.loads(alert_to_json(alert))
    del data["realert"]
    if drop_kind:
        del data["kind"]
    return json.dumps(data, ensure_ascii=False)


def at_0002(path: Path) -> sa.Engine:
    """A new alerts database brought up to revision 0002 only, as the release before made it."""
    url = configured_url() or f"sqlite:///{path}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    return engine


def test_a_0002_database_gets_kinds_and_numbers_from_its_old_keys(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite3"
    engine = at_0002(path)
    first = make_alert(1, Level.SENSITIVE)
    tieba = replace(make_alert(2, Level.HOT_TOPIC), event_id="event:tieba:帖#12")
    rows = {
        # key: (stored text, what the back-fill must find)
        first.key: (old_body(first), ("post", 0)),
        f"{first.key}#2": (old_body(first), ("post", 2)),
        "event:tieba:帖#12@社会热点问题": (old_body(tieba), ("post", 0)),
        "event:tieba:帖#12@社会热点问题#2": (old_body(tieba), ("post", 2)),
        "工作流:event:sina:1:0:认领提醒:1:202611230930:10": (
            old_body(replace(first, kind=AlertKind.WORKFLOW)),
            ("workflow", 0),
        ),
        "health:sina_news:blocked:2026-11-23": (
            old_body(replace(first, kind=AlertKind.HEALTH, event_id="health:sina_news")),
            ("health", 0),
        ),
        "config:rules.yaml": (
            old_body(replace(first, kind=AlertKind.CONFIG, event_id="config")),
            ("config", 0),
        ),
        # Written before alerts said their kind at all.
        "event:sina:5@复杂敏感事件": (
            old_body(replace(make_alert(5, Level.SENSITIVE)), drop_kind=True),
            ("post", 0),
        ),
        "工作流:event:sina:5:0:认领提醒:1:202611230930:10": (
            old_body(replace(make_alert(5, Level.SENSITIVE), kind=AlertKind.WORKFLOW), drop_kind=True),
            ("workflow", 0),
        ),
    }
    with engine.begin() as conn:
        for key, (text, _expected) in rows.items():
            data = {**json.loads(text), "key": key}
            body = json.dumps(data, ensure_ascii=False)
            conn.execute(
                sa.text(
                    "INSERT INTO alerts (key, created_at, level, body, event_id, event_posts, event_reach) "
                    "VALUES (:key, :at, :level, :body, :event, 1, 100)"
                ),
                {
                    "key": key,
                    "at": data["created_at"],
                    "level": data["level"],
                    "body": body,
                    "event": data["event_id"],
                },
            )
    engine.dispose()

    if configured_url() is None:
        # Read-only, the file is not migrated: the kinds are read through a view, notices by their prefix too.
        before = Outbox(path, read_only=True)
        try:
            assert {a.key: (a.kind.value, a.realert) for a in before.alerts()} == {
                key: (kind, 0) for key, (_body, (kind, _number)) in rows.items()
            }
        finally:
            before.close()

    database = AlertsDatabase(path)  # opening migrates
    try:
        assert database.revision() == "0012"
        found = database.execute(sa.text("SELECT key, kind, realert FROM alerts")).all()
    finally:
        database.close()
    assert {key: (kind, realert) for key, kind, realert in found} == {
        key: expected for key, (_body, expected) in rows.items()
    }

    outbox = Outbox(path)
    try:
        read = {a.key: (a.kind, a.realert) for a in outbox.alerts()}
        assert read["event:sina:1@复杂敏感事件#2"] == (AlertKind.EVENT, 2)
        assert read["工作流:event:sina:1:0:认领提醒:1:202611230930:10"] == (AlertKind.WORKFLOW, 0)
        # Noise control counts the re-alerts the old rows hold: the next one for growth is number 3.
        grown = make_alert(1, Level.SENSITIVE, at=NOW.replace(hour=23), reach=10_000)
        assert outbox.enqueue(grown)
        assert (outbox.alerts()[-1].key, outbox.alerts()[-1].realert) == ("event:sina:1@复杂敏感事件#3", 3)
    finally:
        outbox.close()


def test_only_the_events_own_alerts_open_cases(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    workflow = Workflow(outbox, load_config(), lambda: NOW)
    try:
        event = make_alert(1, Level.SENSITIVE)
        assert outbox.enqueue(event)
        # Notices and health alerts carry an event's id or look like its key; their kind says what they are.
        assert outbox.enqueue(
            replace(event, key="notice-1", kind=AlertKind.WORKFLOW, event_id="event:sina:2")
        )
        assert outbox.enqueue(
            replace(event, key="event:sina:3@复杂敏感事件", kind=AlertKind.HEALTH, event_id="event:sina:3")
        )
        assert workflow.sync() == 1
        [case] = workflow.cases()
        assert (case.id, case.state) == ("event:sina:1", State.NEW)
    finally:
        workflow.close()
        outbox.close()
