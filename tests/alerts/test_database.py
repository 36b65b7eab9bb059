"""The alerts database's owner: a new file gets the versioned schema, a file made before versions were
recorded is recognised and brought up to it in place with every row kept, and reads create nothing."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from alerts import schema
from alerts.database import AlertsDatabase, OutboxBusy
from alerts.models import AlertKind
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from config.loader import load_config

ROOT = Path(__file__).resolve().parents[2]
# Made by the release before versioned migrations: an alert sent on the console, a silence, the case it
# opened claimed by a unit, two accounts and three audit rows.
BEFORE_VERSIONS = ROOT / "tests" / "data" / "alerts" / "outbox-before-versions.sqlite3"
NOW = datetime.fromisoformat("2026-11-23T09:10:00+08:00")

# The outbox as its first release wrote it: no idempotency keys, no event column, no silence records.
FIRST_SCHEMA = """
CREATE TABLE alerts (key TEXT PRIMARY KEY, created_at TEXT NOT NULL, level TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE deliveries (
    alert_key TEXT NOT NULL REFERENCES alerts(key), channel TEXT NOT NULL, recipient TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, sent_at TEXT,
    PRIMARY KEY (alert_key, channel, recipient)
);
CREATE TABLE silences (
    id INTEGER PRIMARY KEY AUTOINCREMENT, match TEXT NOT NULL, until TEXT NOT NULL, reason TEXT NOT NULL,
    created_by TEXT NOT NULL, created_at TEXT NOT NULL
);
"""


def structure(path: Path) -> dict[str, object]:
    """Every table's columns (name, type, not null, default, key) and its indexes: what queries rely on."""
    db = sqlite3.connect(path)
    try:
        tables = [
            n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        found: dict[str, object] = {}
        for table in tables:
            # A text primary key is nullable in SQLite whatever the DDL says; only its key role counts.
            columns = {
                (name, kind, bool(notnull) and not pk, default, pk)
                for _cid, name, kind, notnull, default, pk in db.execute(f"PRAGMA table_info({table})")
            }
            indexes = {
                (name, unique, tuple(c for (_s, _c, c) in db.execute(f"PRAGMA index_info({name})")))
                for _seq, name, unique, origin, _partial in db.execute(f"PRAGMA index_list({table})")
                if origin == "c"
            }
            found[table] = (columns, indexes)
        triggers = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ).fetchall()
        found["triggers"] = triggers
        return found
    finally:
        db.close()


def differences(database: AlertsDatabase) -> list[object]:
    """How the database differs from the tables the repositories query (alerts/schema.py)."""
    with database.transaction() as conn:
        found = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    # Besides: the migration bookkeeping, and on PostgreSQL the insertion order SQLite keeps unasked.
    return [
        d
        for d in found
        if not (d[0] == "remove_table" and d[1].name == "alembic_version")
        and not (d[0] == "remove_column" and d[3].name == "rowid")
    ]


@pytest.mark.usefixtures("alerts_backend")
def test_a_new_database_stands_at_the_newest_revision_with_the_tables_the_repositories_query(
    tmp_path: Path,
) -> None:
    database = AlertsDatabase(tmp_path / "alerts.sqlite3")
    try:
        assert database.revision() == "0012"
        assert differences(database) == []
    finally:
        database.close()
    assert (tmp_path / "alerts.sqlite3.created").exists() == (database.dialect == "sqlite")


def test_a_file_from_before_versions_is_recognised_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite3"
    shutil.copy(BEFORE_VERSIONS, path)
    before = sqlite3.connect(path)
    counts = {
        table: before.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("alerts", "deliveries", "silences", "cases", "case_history", "accounts", "audit")
    }
    before.close()
    assert counts["audit"] == 3
    assert counts["cases"] == 1

    outbox = Outbox(path)
    workflow = Workflow(outbox, load_config(), lambda: NOW)
    try:
        assert outbox.database.revision() == "0012"
        assert outbox.delivery_counts() == {"sent": 1}
        [case] = workflow.cases()
        assert case.state.value == "claimed"
        assert case.owner == "濮阳县委宣传部"
        assert [s.reason for s in outbox.silences()] == ["演练"]
        assert workflow.accounts.verify_trail() is None  # the hash chain runs on unbroken
        workflow.accounts.add("王芳", workflow.accounts.get("李四").role, "清丰县政府办", by="管理员")
        assert workflow.accounts.verify_trail() is None
    finally:
        workflow.close()
        outbox.close()
    after = sqlite3.connect(path)
    assert {t: after.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in counts} == {
        **counts,
        "accounts": counts["accounts"] + 1,
        "audit": counts["audit"] + 1,
    }
    after.close()
    fresh = tmp_path / "fresh.sqlite3"
    AlertsDatabase(fresh).close()
    assert structure(path) == structure(fresh)


def test_an_outbox_of_the_first_schema_gains_the_later_columns_and_its_rows_their_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "alerts.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(FIRST_SCHEMA)
    body = (BEFORE_VERSIONS.parent / "first-schema-alert.json").read_text(encoding="utf-8")
    old.execute(
        "INSERT INTO alerts VALUES ('event:sina:1@复杂敏感事件', '2026-11-23T09:00:00+08:00', '复杂敏感事件', ?)",
        (body,),
    )
    old.execute(
        "INSERT INTO deliveries (alert_key, channel, recipient, status, attempts) "
        "VALUES ('event:sina:1@复杂敏感事件', 'duty-screen', '市生态环境局濮阳县分局', 'failed', 2)"
    )
    old.commit()
    old.close()

    outbox = Outbox(path)
    try:
        [delivery] = outbox.deliveries()
        assert delivery.idem_key == "event:sina:1@复杂敏感事件|duty-screen|市生态环境局濮阳县分局"
        assert (delivery.chain, delivery.status, delivery.attempts) == (["duty-screen"], "failed", 2)
        assert delivery.alert is not None
        assert delivery.alert.title == "濮阳县一化工厂被指偷排废水"
        assert [k for k, _due in outbox.waiting()] == [delivery.idem_key]  # still to be made, as before
    finally:
        outbox.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT event_id FROM alerts").fetchone() == ("event:sina:1",)
    db.close()


def test_a_read_only_open_migrates_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite3"
    shutil.copy(BEFORE_VERSIONS, path)
    data = path.read_bytes()
    outbox = Outbox(path, read_only=True)
    try:
        assert outbox.database.revision() is None
        assert outbox.delivery_counts() == {"sent": 1}
        # Its alerts read with their kinds, though the file has no column for them yet.
        assert [(a.kind, a.realert) for a in outbox.alerts()] == [(AlertKind.EVENT, 0)]
        assert [d.alert.kind for d in outbox.deliveries() if d.alert] == [AlertKind.EVENT]
    finally:
        outbox.close()
    assert path.read_bytes() == data
    never = Outbox(tmp_path / "none" / "alerts.sqlite3", read_only=True)
    try:
        assert never.alerts() == []
        assert never.health() == []
    finally:
        never.close()
    assert not (tmp_path / "none").exists()


HOLD_THE_SENDER_LOCK = """
import sys, time
from pathlib import Path
from alerts.database import AlertsDatabase
database = AlertsDatabase(Path(sys.argv[1]))
with database.exclusive():
    print("holding", flush=True)
    time.sleep(120)
"""


@pytest.mark.usefixtures("alerts_backend")
def test_one_sender_at_a_time_and_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_SENDER_LOCK, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        database = AlertsDatabase(path)
        try:
            with pytest.raises(OutboxBusy), database.exclusive(timeout=0.5):
                pass
            holder.kill()  # no clean exit: the kernel or the server must let go
            holder.wait(10)
            with database.exclusive(timeout=10):
                pass
        finally:
            database.close()
    finally:
        holder.kill()
        holder.wait(10)


# Each process opens the new outbox of every round at that round's agreed instant, and stores its alert.
STORE_AT_ONCE = """
import sys, time
from pathlib import Path
import alembic.command, alembic.runtime.migration  # imported before the instant, as a long-running crawl has
from alerts.outbox import Outbox
from tests.alerts.conftest import make_alert
folder, n, start, rounds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
for round_ in range(rounds):
    while time.time() < start + round_ * 0.5:
        pass
    try:
        outbox = Outbox(folder / f"round{round_}" / "alerts.sqlite3")
        print(outbox.enqueue(make_alert(n)), flush=True)
        outbox.close()
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", flush=True)
"""


def test_crawls_ending_together_each_store_their_alert_in_a_new_outbox(tmp_path: Path) -> None:
    """Crawls of a patrol may end at once on a fresh data folder; every health alert must be kept. SQLite
    answers a second switch to WAL on a file still being made with "database is locked", without waiting."""
    rounds, start = 8, time.time() + 6  # time enough for every process to start and import
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", STORE_AT_ONCE, str(tmp_path), str(n), str(start), str(rounds)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    results = [process.communicate(timeout=120) for process in processes]
    for out, err in results:
        assert out.split() == ["True"] * rounds, (out, err[-2000:])
    for round_ in range(rounds):
        outbox = Outbox(tmp_path / f"round{round_}" / "alerts.sqlite3", read_only=True)
        assert len(outbox.alerts()) == 4
        outbox.close()
