"""The durable outbox: an alert is written here before anyone is told, and each delivery is recorded.

SQLite in WAL mode, one row per alert (its idempotency key is unique, so raising it twice is a no-op)
and one row per (alert, channel, recipient) delivery, so a restarted sender resends what was not
acknowledged and never what was.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from alerts.models import Alert
from classifiers.types import Level

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    level TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    alert_key TEXT NOT NULL REFERENCES alerts(key),
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT,
    PRIMARY KEY (alert_key, channel, recipient)
);
"""


def _alert_to_json(alert: Alert) -> str:
    data = asdict(alert)
    data["level"] = alert.level.value
    data["created_at"] = alert.created_at.isoformat()
    return json.dumps(data, ensure_ascii=False)


def _alert_from_json(body: str) -> Alert:
    data = json.loads(body)
    data["level"] = Level(data["level"])
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    return Alert(**data)


class Outbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def enqueue(self, alert: Alert) -> bool:
        """Persist an alert; False when the same key was raised before (nothing changes then)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO alerts (key, created_at, level, body) VALUES (?, ?, ?, ?)",
            (alert.key, alert.created_at.isoformat(), alert.level.value, _alert_to_json(alert)),
        )
        return cursor.rowcount == 1

    def plan(self, alert_key: str, channel: str, recipient: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO deliveries (alert_key, channel, recipient) VALUES (?, ?, ?)",
            (alert_key, channel, recipient),
        )

    def alerts(self, *, since: datetime | None = None) -> list[Alert]:
        rows = self.db.execute(
            "SELECT body FROM alerts WHERE created_at >= ? ORDER BY created_at, key",
            ((since.isoformat() if since else ""),),
        )
        return [_alert_from_json(body) for (body,) in rows]

    def undelivered(self) -> list[tuple[Alert, str, str]]:
        """(alert, channel, recipient) for every delivery not yet acknowledged."""
        rows = self.db.execute(
            "SELECT a.body, d.channel, d.recipient FROM deliveries d JOIN alerts a ON a.key = d.alert_key "
            "WHERE d.status != 'sent' ORDER BY a.created_at, a.key, d.channel, d.recipient"
        )
        return [(_alert_from_json(body), channel, recipient) for body, channel, recipient in rows]

    def unplanned(self) -> list[Alert]:
        rows = self.db.execute(
            "SELECT body FROM alerts WHERE key NOT IN (SELECT alert_key FROM deliveries) ORDER BY created_at, key"
        )
        return [_alert_from_json(body) for (body,) in rows]

    def mark(
        self, alert_key: str, channel: str, recipient: str, *, ok: bool, error: str | None, at: datetime
    ) -> None:
        self.db.execute(
            "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, sent_at = ? "
            "WHERE alert_key = ? AND channel = ? AND recipient = ?",
            (
                "sent" if ok else "failed",
                error,
                at.isoformat() if ok else None,
                alert_key,
                channel,
                recipient,
            ),
        )

    def delivery_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())

    def close(self) -> None:
        self.db.close()
